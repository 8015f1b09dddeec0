"""Human-readable text for plans and validation results (pure: returns strings).

A reviewer should see at a glance what will change and why: one table grouped by
target, arrows for changes of level, and a summary line a person can quote. File
names, reasons and GitHub's messages are untrusted: each is escaped for its sink by
:mod:`grantops.safetext` (the terminal, or Markdown for job summaries).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from tabulate import tabulate

from grantops.access import Target
from grantops.errors import Problem
from grantops.plan import (
    INVITED_TO_ORG,
    Change,
    Kept,
    MergeWindow,
    Outcome,
    Plan,
    Standing,
    Unapproved,
)
from grantops.safetext import for_markdown, for_markdown_cell, for_markdown_code, for_terminal
from grantops.values import format_timestamp

_SYMBOL = {"add": "+", "update": "~", "remove": "-", "cancel_invitation": "x"}
_VERB = {"add": "add", "update": "change", "remove": "remove", "cancel_invitation": "cancel invite"}


class Spanned(Protocol):
    """A window to describe: a grant, or a plan's :class:`~grantops.plan.MergeWindow`."""

    @property
    def starts(self) -> datetime | None: ...
    @property
    def expires(self) -> datetime | None: ...


def window_text(window: Spanned, length: str = "") -> str:
    """``from START until END`` (``merge`` when it opens on merge), or, for a pending
    ``duration:`` grant, that it starts at the approving merge and ends ``length`` after."""
    if window.expires is None:
        return f"starts at the approving merge, ends {length} after"
    opens = format_timestamp(window.starts) if window.starts else "merge"
    return f"from {opens} until {format_timestamp(window.expires)}"


def window_lines(windows: Sequence[MergeWindow]) -> list[str]:
    """One line per ``duration:`` grant: its computed window, or that it is pending."""
    return [f"{w.source}: {w.duration}, {window_text(w, w.duration)}" for w in windows]


def plan_summary(plan: Plan) -> str:
    s = plan.summary
    if not plan.changes:
        return "No changes: access matches the policy and grants."
    invitations = "invitation" if s["cancel_invitation"] == 1 else "invitations"
    parts = [
        f"{s['add']} to add{_newcomers(plan)}",
        f"{s['update']} to change",
        f"{s['remove']} to remove",
        f"{s['cancel_invitation']} {invitations} to cancel",
    ]
    return "Plan: " + ", ".join(parts) + "."


def plan_text(plan: Plan) -> str:
    """The plan as a table grouped by target, then what was left alone, then a summary."""
    header = f"Plan for org {for_terminal(plan.org)} at {format_timestamp(plan.now)}"
    lines = [header, ""]
    if plan.changes:
        rows = []
        previous = None
        for change in plan.changes:
            shown_target = "" if change.target == previous else str(change.target)
            previous = change.target
            rows.append(
                [
                    for_terminal(shown_target),
                    _action(plan, change),
                    for_terminal(str(change.principal)),
                    for_terminal(_levels(change)),
                    change.cause,
                    for_terminal(change.source or ""),
                ]
            )
        headers = ["target", "change", "who", "access", "cause", "source"]
        lines += [_table(rows, headers, "simple"), ""]
    for heading, found in _unapproved(plan):
        lines.append(f"{heading}:")
        lines += [f"  {for_terminal(u.source)}: {for_terminal(u.reason)}" for u in found]
        lines.append("")
    if plan.windows:
        lines.append("Windows counted from the approving merge:")
        lines += [f"  {for_terminal(line)}" for line in window_lines(plan.windows)]
        lines.append("")
    for title, items in (
        ("Refused by the policy (no access given):", plan.refused),
        ("Left alone:", plan.kept),
    ):
        if items:
            lines.append(title)
            lines += [f"  {for_terminal(_kept(k))}" for k in items]
            lines.append("")
    lines += sweep_lines(plan)
    lines += deferred_lines(plan)
    lines.append(plan_summary(plan))
    return "\n".join(lines)


def deferred_lines(plan: Plan) -> list[str]:
    """The changes left for the next run by GitHub's write limits, and why."""
    if plan.deferral is None:
        return []
    lines = [f"{plan.deferral}:"]
    lines += [
        f"  {for_terminal(f'{c.action} {c.principal} on {c.target} ({c.cause})')}"
        for c in plan.deferred
    ]
    return [*lines, ""]


def sweep_lines(plan: Plan) -> list[str]:
    """How many repositories' pending invitations were listed, and for each repository
    the plan touches whose invitations were not, when its turn in the sweep came and comes."""
    if not plan.sweep:
        return []
    listed = sum(note.listed for note in plan.sweep)
    lines = [f"Pending invitations listed on {listed} of {len(plan.sweep)} managed repositories."]
    touched = {c.target for c in plan.changes} | {k.target for k in plan.kept}
    for note in plan.sweep:
        if note.target in touched and not note.listed:
            last, coming = format_timestamp(note.last_turn), format_timestamp(note.next_turn)
            lines.append(f"  {for_terminal(str(note.target))}: last turn {last}, next {coming}")
    return [*lines, ""]


def plan_markdown(plan: Plan) -> str:
    """The same plan for a GitHub job summary or PR comment."""
    org = for_markdown_code(plan.org)
    lines = [f"### grantops plan for {org} at {format_timestamp(plan.now)}", ""]
    if plan.changes:
        rows = [
            [
                _action(plan, c),
                for_markdown_code(str(c.principal), cell=True),
                for_markdown_code(str(c.target), cell=True),
                for_markdown_cell(_levels(c)),
                c.cause,
                for_markdown_code(c.source, cell=True) if c.source else "",
            ]
            for c in plan.changes
        ]
        headers = ["change", "who", "target", "access", "cause", "source"]
        lines += [_table(rows, headers, "github"), ""]
    for heading, found in _unapproved(plan):
        lines += ["", f"**{heading}**:", ""]
        lines += [f"- {for_markdown_code(u.source)}: {for_markdown(u.reason)}" for u in found]
        lines.append("")
    if plan.windows:
        lines += ["", "**Windows counted from the approving merge:**", ""]
        lines += [f"- {for_markdown(line)}" for line in window_lines(plan.windows)]
        lines.append("")
    if plan.refused:
        lines += ["", "**Refused by the policy** (no access given):", ""]
        lines += [f"- {for_markdown(_kept(k))}" for k in plan.refused]
        lines.append("")
    lines.append(plan_summary(plan))
    return "\n".join(lines) + "\n"


UNAPPROVED: tuple[tuple[Standing, str], ...] = (
    (
        "unreviewed",
        "Merged without a valid review (no access; branch protection may have been bypassed)",
    ),
    ("unchecked", "Review not checked (no new access until a run can check it)"),
    ("uncommitted", "Unapproved grants (no access until their review is proven)"),
)
"""The plan's headings for grants that give nothing, by why (most serious first)."""


def _unapproved(plan: Plan) -> list[tuple[str, list[Unapproved]]]:
    grouped = [(h, [u for u in plan.unapproved if u.status == s]) for s, h in UNAPPROVED]
    return [(heading, found) for heading, found in grouped if found]


def review_problems(plan: Plan) -> tuple[Problem, ...]:
    """Grants that gave nothing because of their review, as problems on their files.

    An error for a grant on the protected branch without a valid review: someone
    bypassed branch protection, or merged without the approvals the policy asks, and
    that is to be looked into, not just waited out. A warning for one whose review
    could not be read: a later run checks it again.
    """
    problems = []
    for u in plan.unapproved:
        if u.status == "unreviewed":
            message = (
                f"merged to the protected branch without a valid review ({u.reason}); it gave "
                "no access. Branch protection may have been bypassed: find out who merged it"
            )
            problems.append(Problem(u.source, 1, message, "error"))
        elif u.status == "unchecked":
            message = (
                f"its review could not be checked ({u.reason}); it gives no new access until "
                "a run can check it"
            )
            problems.append(Problem(u.source, 1, message, "warning"))
    return tuple(problems)


def outcome_line(outcome: Outcome) -> str:
    """One applied change: what, on whom, and how it went."""
    change = outcome.change
    mark = {"done": "ok     ", "invited": "invited", "failed": "FAILED "}[outcome.result]
    what = f"{change.principal} on {change.target} ({_levels(change)})"
    text = f"  {mark} {_VERB[change.action]} {for_terminal(what)}"
    return f"{text}: {for_terminal(outcome.detail)}" if outcome.detail else text


def outcomes_summary(outcomes: Sequence[Outcome]) -> str:
    counts = Counter(o.result for o in outcomes)
    return (
        f"Applied {len(outcomes)} change(s): {counts['done']} done, "
        f"{counts['invited']} awaiting acceptance, {counts['failed']} failed."
    )


def unreadable_text(unreadable: Mapping[Target, str]) -> str:
    lines = ["Not read completely, so left untouched this run:"]
    lines += [
        f"  {for_terminal(str(target))}: {for_terminal(reason)}"
        for target, reason in sorted(unreadable.items())
    ]
    return "\n".join(lines)


def _table(rows: list[list[str]], headers: list[str], tablefmt: str) -> str:
    """Cells as given: tabulate would otherwise read ``1e3`` or ``+1`` as numbers."""
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def _kept(item: Kept) -> str:
    return f"{item.principal} on {item.target} ({item.level}): {item.reason}"


def _action(plan: Plan, change: Change) -> str:
    """``+ add``, marked when it makes GitHub invite someone from outside the org (or
    when nobody could say whether it does)."""
    shown = f"{_SYMBOL[change.action]} {_VERB[change.action]}"
    mark = plan.membership_of(change)
    return f"{shown} ({mark})" if mark else shown


def _newcomers(plan: Plan) -> str:
    """`` (1 outside collaborator)`` for the summary line: who the adds bring in."""
    counts = Counter(plan.membership_of(c) for c in plan.changes)
    outside, unknown = counts["outside collaborator"], counts["membership unknown"]
    invited = counts[INVITED_TO_ORG]
    parts = [f"{outside} outside collaborator{'s' if outside != 1 else ''}"] if outside else []
    parts += [f"{invited} invited to the org"] if invited else []
    parts += [f"{unknown} of unknown membership"] if unknown else []
    return f" ({', '.join(parts)})" if parts else ""


def _levels(change: Change) -> str:
    if change.action == "update":
        return f"{change.before} -> {change.after}"
    return change.after or change.before or ""
