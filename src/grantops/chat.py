"""Chat notices: which are due, and the message each posts to a chat webhook (pure).

The same notices grantops comments on grant pull requests (access started, ending soon,
ended), plus a grant pull request opened and access refused, can also go to a
Slack-compatible incoming webhook. Each is delivered there once: the audit log
remembers each delivery per channel (``notification-sent`` with ``channel: chat``), so
a notice that could not be delivered is tried again on the next run, and one that was
is never repeated.

A message follows Slack's incoming-webhook format: ``text``, the fallback shown in
notifications, and the same line as a ``section`` block of ``mrkdwn``. Everything in it
that comes from a grant file or the audit log (names, reasons, file names), which
anyone who can push may write, goes through :func:`grantops.safetext.for_mrkdwn`: it
mentions nobody, links nowhere and formats nothing. Chat names no GitHub login as a
mention either: a login means nothing to the chat's users.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from grantops import notify
from grantops.audit.events import Entry, NoticeKey, NotificationSent
from grantops.audit.report import GrantRecord
from grantops.constants import POLICY_PATH
from grantops.model import ChatKind
from grantops.plan import Plan
from grantops.safetext import for_mrkdwn
from grantops.values import format_duration, format_timestamp

SECTION_LIMIT = 3000
"""The most characters Slack takes in a section's text: a longer message is refused."""

CHANNEL = "chat"
"""How the audit log names the chat webhook as a notice's channel."""

_PULL_URL = re.compile(r"https://[A-Za-z0-9.-]+(?::\d+)?/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+/pull/\d+")
"""A pull request's address as GitHub gives it: the only text a message links, and only
when it has this exact shape, so no ``|`` or ``>`` can end the link early."""


@dataclass(frozen=True)
class ChatNotice:
    kind: ChatKind
    source: str
    """The grant file it is about (the policy, for refused baseline access)."""
    pull: int | None
    """The grant's pull request; None for a grant not yet reviewed."""
    text: str
    """The message, in mrkdwn, with every untrusted field escaped."""

    @property
    def key(self) -> NoticeKey:
        """What the log remembers it by: one delivery per grant version, kind and channel."""
        return (CHANNEL, self.source, self.pull, self.kind)


def payload(notice: ChatNotice) -> dict[str, Any]:
    """The JSON body for the webhook. ``verbatim`` stops Slack from turning anything in
    the text into a link or a mention on its own."""
    section = {"type": "mrkdwn", "text": notice.text, "verbatim": True}
    return {"text": notice.text, "blocks": [{"type": "section", "text": section}]}


def _who(record: GrantRecord) -> str:
    return ", ".join(for_mrkdwn(str(p)) for p in sorted({p for p, _, _ in record.grantables}))


def _grant_text(kind: ChatKind, record: GrantRecord, now: datetime) -> str:
    what, ends = for_mrkdwn(record.what), format_timestamp(record.expires)
    ref = f"{for_mrkdwn(record.source)}, pull request #{record.pull}"
    if kind == "started":
        reason = for_mrkdwn(record.reason)
        return f"*Access started* for {_who(record)}: {what} until {ends}, for {reason} ({ref})."
    if kind == "ending":
        left = format_duration(record.expires - now)
        return f"*Access ending* for {_who(record)}: {what} ends at {ends}, in {left} ({ref})."
    return f"*Access ended* for {_who(record)}: {what} was removed at {ends} ({ref})."


def refusals(plan: Plan, pulls: Mapping[str, int]) -> list[ChatNotice]:
    """One notice per grant file whose access the plan refused: given by nothing, as
    the policy forbids it, or not at all, as it is on the protected branch without a
    valid review. ``pulls`` maps proven grant files to their pull requests."""
    refused: dict[str, list[str]] = {}
    for kept in plan.refused:
        what = f"{kept.level} on {kept.target} for {kept.principal}: {kept.reason}"
        refused.setdefault(kept.source or POLICY_PATH, []).append(for_mrkdwn(what))
    notices = [
        ChatNotice(
            "refused",
            source,
            pulls.get(source),
            _listed(f"*Access refused* by the policy ({for_mrkdwn(source)}): ", items),
        )
        for source, items in sorted(refused.items())
    ]
    notices += [
        ChatNotice(
            "refused",
            u.source,
            None,
            f"*Access refused*: {for_mrkdwn(u.source)} is on the protected branch without "
            f"a valid review, so it gives nothing: {for_mrkdwn(u.reason)}.",
        )
        for u in plan.unreviewed
    ]
    return notices


def _listed(start: str, items: Sequence[str]) -> str:
    """``start`` and as many of ``items`` as fit one section, then how many more."""
    room = SECTION_LIMIT - len(start) - len("; and 9999 more.")
    shown: list[str] = []
    for item in items:
        room -= len(item) + 2
        if room < 0:
            break
        shown.append(item)
    more = f"; and {len(items) - len(shown)} more" if len(shown) < len(items) else ""
    return f"{start}{'; '.join(shown)}{more}."


def opened(source: str, pull: int, url: str, title: str) -> ChatNotice:
    """A grant pull request just opened, linked when GitHub's address has its usual shape."""
    link = f"<{url}|pull request #{pull}>" if _PULL_URL.fullmatch(url) else f"pull request #{pull}"
    text = f"*Access requested*: {for_mrkdwn(title)} ({for_mrkdwn(source)}), {link}."
    return ChatNotice("opened", source, pull, text)


def delivered(events: Sequence[Entry]) -> set[NoticeKey]:
    """The chat notices the log says were delivered."""
    return {e.key for e in events if isinstance(e, NotificationSent) and e.channel == CHANNEL}


@dataclass(frozen=True)
class Asked:
    """What the run can tell about its grants and plan, for :func:`due`."""

    records: Sequence[GrantRecord]
    events: Sequence[Entry]
    plan: Plan
    pulls: Mapping[str, int]
    failed_sources: frozenset[str] = frozenset()


def due(asked: Asked, now: datetime, before: timedelta, kinds: Sequence[str]) -> list[ChatNotice]:
    """The chat notices of ``kinds`` due now and not yet delivered, in the order of
    :func:`grantops.notify.wanted`, refusals last."""
    wanted = notify.wanted(asked.records, asked.events, now, before, asked.failed_sources)
    notices = [
        ChatNotice(kind, record.source, record.pull, _grant_text(kind, record, now))
        for record, kind in wanted
    ]
    notices += refusals(asked.plan, asked.pulls)
    sent = delivered(asked.events)
    return [n for n in notices if n.kind in kinds and n.key not in sent]
