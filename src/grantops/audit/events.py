"""The lines of ``audit/log.jsonl`` as values: one frozen dataclass per kind, one parser.

Each kind writes exactly the JSON fields the log has always held (``to_json``): the hash
chain and the MACs are computed over them, so logs written before this module still
verify. Fields that are None are left out, as they always were.

:func:`parse_event` is the only place a line is read into a value, with the types the
rest of grantops uses (:class:`~grantops.access.Principal`, :class:`~grantops.access.Target`,
datetimes, :class:`~grantops.plan.Change`). Anyone who can push can write a line, so the
parser fails closed: a line of a kind grantops does not write, or missing or misshaping
a field its readers act on, becomes :class:`Unknown`, which no reader acts on. Fields no
reader acts on (counts, notes, who approved) may be missing and read as None: lines
written by hand or by earlier versions are still read for what they do say. Whether a
line belongs in the log at all (its hash, its MAC, the JSON type of each field) is
:func:`grantops.audit.log.verify`'s to decide, before any line is parsed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar, get_args

from grantops.access import Principal, Target
from grantops.github.activity import Activity
from grantops.model import Grantable
from grantops.plan import ACTIONS, Action, Cause, Change
from grantops.values import format_timestamp, parse_timestamp

Fields = dict[str, Any]
"""One log line as JSON: what is hashed, MACed and written."""

Done = tuple[tuple[Target, tuple[Activity, ...]], ...]
"""What grantees did in a grant's window: per repository, commits and pull requests."""

_ACTIONS: dict[str, Action] = {action: action for action in ACTIONS}
_CAUSES: dict[str, Cause] = {cause: cause for cause in get_args(Cause)}


class _Malformed(ValueError):
    """A field a reader acts on is missing, or has a shape grantops never writes."""


@dataclass(frozen=True, kw_only=True)
class Event(ABC):
    """What every line carries: when it was written and by which run."""

    name: ClassVar[str]
    """The line's ``event`` field: its kind."""
    ts: datetime
    run: str

    @abstractmethod
    def to_json(self) -> Fields:
        """The line as it is written to the log (before ``prev``, ``hash`` and ``mac``)."""

    @classmethod
    @abstractmethod
    def _read(cls, line: _Reader, ts: datetime, run: str) -> Event:
        """The event of this kind that ``line`` holds; raises _Malformed when it holds none."""

    def _line(self, fields: Mapping[str, object]) -> Fields:
        """The common fields and ``fields``, without the None ones, as always written."""
        line: Fields = {"ts": format_timestamp(self.ts), "run": self.run, "event": self.name}
        line.update((key, value) for key, value in fields.items() if value is not None)
        return line

    def describe(self) -> str:
        """Which line this is, for people (``audit verify`` names the anchoring one)."""
        return f"{self.name}, run {self.run} at {format_timestamp(self.ts)}"


@dataclass(frozen=True)
class Unknown:
    """A line no reader acts on: another kind, or a field its readers need is unusable."""

    fields: Mapping[str, Any]

    def describe(self) -> str:
        fields = self.fields
        return f"{fields.get('event')}, run {fields.get('run')} at {fields.get('ts')}"


Entry = Event | Unknown
"""One line of the log, as read."""


@dataclass(frozen=True, kw_only=True)
class RunStart(Event):
    """Opens a run that changes or learns something (idle runs write nothing)."""

    name: ClassVar[str] = "run-start"
    now: datetime
    """The time the run planned for: whether a grant it proved was open then."""
    org: str | None = None
    planned: Mapping[str, int] | None = None
    mass_removal_override: tuple[str, ...] | None = None
    notes: tuple[str, ...] | None = None

    def to_json(self) -> Fields:
        return self._line(
            {
                "now": format_timestamp(self.now),
                "org": self.org,
                "planned": _dict(self.planned),
                "mass_removal_override": _list(self.mass_removal_override),
                "notes": _list(self.notes),
            }
        )

    @classmethod
    def _read(cls, line: _Reader, ts: datetime, run: str) -> RunStart:
        return cls(
            ts=ts,
            run=run,
            now=line.timestamp("now"),
            org=line.maybe_text("org"),
            planned=line.counts("planned"),
            mass_removal_override=line.texts("mass_removal_override"),
            notes=line.texts("notes"),
        )


@dataclass(frozen=True, kw_only=True)
class RunEnd(Event):
    """Closes a run: how many of its changes were done, invited or failed."""

    name: ClassVar[str] = "run-end"
    results: Mapping[str, int] | None = None

    def to_json(self) -> Fields:
        return self._line({"results": _dict(self.results)})

    @classmethod
    def _read(cls, line: _Reader, ts: datetime, run: str) -> RunEnd:
        return cls(ts=ts, run=run, results=line.counts("results"))


@dataclass(frozen=True, kw_only=True)
class LogAnchored(Event):
    """The first run with the key vouches, once, for the lines written before it."""

    name: ClassVar[str] = "log-anchored"
    lines: int | None = None

    def to_json(self) -> Fields:
        return self._line({"lines": self.lines})

    @classmethod
    def _read(cls, line: _Reader, ts: datetime, run: str) -> LogAnchored:
        return cls(ts=ts, run=run, lines=line.number("lines"))


@dataclass(frozen=True, kw_only=True)
class GrantApproved(Event):
    """A grant file's version proven reviewed: written once per version (commit)."""

    name: ClassVar[str] = "grant-approved"
    source: str
    expires: datetime
    grantables: tuple[Grantable, ...] = ()
    starts: datetime | None = None
    commit: str | None = None
    pull: int | None = None
    approvers: tuple[str, ...] = ()
    merge_commit: str | None = None
    author: str | None = None
    """Who opened the pull request: the version's requester."""
    merged_at: str | None = None
    """When GitHub merged the pull request, as GitHub said it."""
    merged_by: str | None = None
    """Who merged it, as GitHub said."""
    approved_at: str | None = None
    """When the last approval that counts was given."""
    reason: str | None = None

    def to_json(self) -> Fields:
        return self._line(
            {
                "source": self.source,
                "commit": self.commit,
                "pull": self.pull,
                "approvers": list(self.approvers),
                "merge_commit": self.merge_commit,
                "author": self.author,
                "merged_at": self.merged_at,
                "merged_by": self.merged_by,
                "approved_at": self.approved_at,
                "grantables": [[str(p), str(t), level] for p, t, level in self.grantables],
                "starts": format_timestamp(self.starts) if self.starts else None,
                "expires": format_timestamp(self.expires),
                "reason": self.reason,
            }
        )

    @classmethod
    def _read(cls, line: _Reader, ts: datetime, run: str) -> GrantApproved:
        return cls(
            ts=ts,
            run=run,
            source=line.text("source"),
            expires=line.timestamp("expires"),
            grantables=line.grantables("grantables"),
            starts=line.maybe_timestamp("starts"),
            commit=line.maybe_text("commit"),
            pull=line.number("pull"),
            approvers=line.texts("approvers") or (),
            merge_commit=line.maybe_text("merge_commit"),
            author=line.maybe_text("author"),
            merged_at=line.maybe_text("merged_at"),
            merged_by=line.maybe_text("merged_by"),
            approved_at=line.maybe_text("approved_at"),
            reason=line.maybe_text("reason"),
        )


@dataclass(frozen=True, kw_only=True)
class GrantUnapproved(Event):
    """A grant file's version that gives nothing, and why: written once per reason."""

    name: ClassVar[str] = "grant-unapproved"
    source: str
    commit: str | None = None
    reason: str | None = None

    def to_json(self) -> Fields:
        return self._line({"source": self.source, "commit": self.commit, "reason": self.reason})

    @classmethod
    def _read(cls, line: _Reader, ts: datetime, run: str) -> GrantUnapproved:
        return cls(
            ts=ts,
            run=run,
            source=line.text("source"),
            commit=line.maybe_text("commit"),
            reason=line.maybe_text("reason"),
        )


@dataclass(frozen=True, kw_only=True)
class ChangeEvent(Event):
    """A line about one change: its intent, or what came of it (the same ``change_id``)."""

    change_id: str
    change: Change
    pull: int | None = None
    """The pull request of the grant behind the change."""

    @property
    def source(self) -> str | None:
        return self.change.source

    def _change_line(self, detail: str | None = None) -> Fields:
        fields = {"change_id": self.change_id, "pull": self.pull, **self.change.to_json()}
        return self._line({**fields, "detail": detail})


@dataclass(frozen=True, kw_only=True)
class ChangeStarted(ChangeEvent):
    """Written and synced before the change is made: a crash leaves it without outcome."""

    name: ClassVar[str] = "change-started"

    def to_json(self) -> Fields:
        return self._change_line()

    @classmethod
    def _read(cls, line: _Reader, ts: datetime, run: str) -> ChangeStarted:
        change_id, change, pull = line.text("change_id"), line.change(), line.number("pull")
        return cls(ts=ts, run=run, change_id=change_id, change=change, pull=pull)


@dataclass(frozen=True, kw_only=True)
class OutcomeEvent(ChangeEvent):
    """What came of a change; each kind below says what (see :mod:`grantops.audit.record`)."""

    detail: str | None = None
    """GitHub's answer, for a change that failed."""

    def to_json(self) -> Fields:
        return self._change_line(self.detail)

    @classmethod
    def _read(cls, line: _Reader, ts: datetime, run: str) -> OutcomeEvent:
        change_id, change, pull = line.text("change_id"), line.change(), line.number("pull")
        detail = line.maybe_text("detail")
        return cls(ts=ts, run=run, change_id=change_id, change=change, pull=pull, detail=detail)


@dataclass(frozen=True, kw_only=True)
class AccessAdded(OutcomeEvent):
    name: ClassVar[str] = "access-added"


@dataclass(frozen=True, kw_only=True)
class InvitationSent(OutcomeEvent):
    """Access starts once the user accepts; counted, so an ignored one is not sent forever."""

    name: ClassVar[str] = "invitation-sent"


@dataclass(frozen=True, kw_only=True)
class AccessChanged(OutcomeEvent):
    name: ClassVar[str] = "access-changed"


@dataclass(frozen=True, kw_only=True)
class InvitationCancelled(OutcomeEvent):
    name: ClassVar[str] = "invitation-cancelled"


@dataclass(frozen=True, kw_only=True)
class AccessRemoved(OutcomeEvent):
    """Access that a grant or the baseline no longer gives (an expiry, for one)."""

    name: ClassVar[str] = "access-removed"


@dataclass(frozen=True, kw_only=True)
class DriftRemoved(OutcomeEvent):
    """Access nothing declared: a kind of its own, since someone added it by hand."""

    name: ClassVar[str] = "drift-removed"


@dataclass(frozen=True, kw_only=True)
class ChangeFailed(OutcomeEvent):
    name: ClassVar[str] = "change-failed"


NoticeKey = tuple[str | None, str, int | None, str]
"""A notice's channel, grant file, pull request and kind."""


@dataclass(frozen=True, kw_only=True)
class NoticeEvent(Event):
    """A line about one notice, on one channel: ``channel`` None is a comment on the
    grant's pull request (lines written before there was chat have none); ``chat`` is
    the chat webhook, where a refusal of a grant not yet reviewed has no pull request."""

    source: str
    pull: int | None
    kind: str
    channel: str | None = None

    @property
    def key(self) -> NoticeKey:
        """What makes a notice the same one: delivered once per channel."""
        return (self.channel, self.source, self.pull, self.kind)

    def _notice_line(self, more: Mapping[str, object]) -> Fields:
        fields = {"source": self.source, "pull": self.pull, "kind": self.kind}
        return self._line({**fields, **more, "channel": self.channel})

    @staticmethod
    def _notice_fields(line: _Reader) -> dict[str, Any]:
        channel, pull = line.maybe_text("channel"), line.number("pull")
        if channel is None:
            pull = _required("pull", pull)  # a comment is always on a pull request
        return {
            "source": line.text("source"),
            "pull": pull,
            "kind": line.text("kind"),
            "channel": channel,
        }


@dataclass(frozen=True, kw_only=True)
class NotificationSent(NoticeEvent):
    """A notice delivered: remembered per channel, so it is never delivered there again."""

    name: ClassVar[str] = "notification-sent"
    text: str | None = None

    def to_json(self) -> Fields:
        return self._notice_line({"text": self.text})

    @classmethod
    def _read(cls, line: _Reader, ts: datetime, run: str) -> NotificationSent:
        return cls(ts=ts, run=run, text=line.maybe_text("text"), **cls._notice_fields(line))


@dataclass(frozen=True, kw_only=True)
class NotificationFailed(NoticeEvent):
    """A notice that could not be delivered, and why: written once until it is, so a
    webhook that stays down adds no line per run. The notice is tried again each run."""

    name: ClassVar[str] = "notification-failed"
    detail: str | None = None

    def to_json(self) -> Fields:
        return self._notice_line({"detail": self.detail})

    @classmethod
    def _read(cls, line: _Reader, ts: datetime, run: str) -> NotificationFailed:
        return cls(ts=ts, run=run, detail=line.maybe_text("detail"), **cls._notice_fields(line))


@dataclass(frozen=True, kw_only=True)
class ActivityRecorded(Event):
    """What grantees did in an ended grant's window: asked of GitHub once, then kept here."""

    name: ClassVar[str] = "activity-recorded"
    source: str
    pull: int | None
    activity: Done

    def to_json(self) -> Fields:
        done = [[str(target), [asdict(a) for a in items]] for target, items in self.activity]
        return self._line({"source": self.source, "pull": self.pull, "activity": done})

    @classmethod
    def _read(cls, line: _Reader, ts: datetime, run: str) -> ActivityRecorded:
        source, pull, activity = line.text("source"), line.number("pull"), line.activity()
        return cls(ts=ts, run=run, source=source, pull=pull, activity=activity)


@dataclass(frozen=True, kw_only=True)
class OrgFactsRecorded(Event):
    """The org's owners, base role and coverage, written when they differ from the last
    such line: the log then says what held at any time without a line per run."""

    name: ClassVar[str] = "org-facts"
    org: str
    owners: tuple[str, ...]
    base_permission: str
    repositories: int
    """All of the org's repositories."""
    managed: int
    """Those in the policy's managed scope."""
    unmanaged: tuple[str, ...] | None = None
    """The others by name, when few enough to list; else None."""

    def to_json(self) -> Fields:
        return self._line(
            {
                "org": self.org,
                "owners": list(self.owners),
                "base_permission": self.base_permission,
                "repositories": self.repositories,
                "managed": self.managed,
                "unmanaged": _list(self.unmanaged),
            }
        )

    @classmethod
    def _read(cls, line: _Reader, ts: datetime, run: str) -> OrgFactsRecorded:
        return cls(
            ts=ts,
            run=run,
            org=line.text("org"),
            owners=_required("owners", line.texts("owners")),
            base_permission=line.text("base_permission"),
            repositories=_required("repositories", line.number("repositories")),
            managed=_required("managed", line.number("managed")),
            unmanaged=line.texts("unmanaged"),
        )


Sourced = GrantApproved | GrantUnapproved | ChangeEvent | NoticeEvent | ActivityRecorded
"""The kinds of line that name a grant file (``source``)."""

_KINDS: dict[str, type[Event]] = {
    kind.name: kind
    for kind in (
        RunStart,
        RunEnd,
        LogAnchored,
        GrantApproved,
        GrantUnapproved,
        ChangeStarted,
        AccessAdded,
        InvitationSent,
        AccessChanged,
        InvitationCancelled,
        AccessRemoved,
        DriftRemoved,
        ChangeFailed,
        NotificationSent,
        NotificationFailed,
        ActivityRecorded,
        OrgFactsRecorded,
    )
}


def parse_event(fields: Mapping[str, Any]) -> Entry:
    """The line as a typed event, or :class:`Unknown` when no reader may act on it."""
    name = fields.get("event")
    kind = _KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        return Unknown(fields)
    line = _Reader(fields)
    try:
        return kind._read(line, line.timestamp("ts"), line.text("run"))
    except _Malformed:
        return Unknown(fields)


def parse_principal(text: object) -> Principal | None:
    """``user:login`` or ``team:slug``, as the log writes them; None for anything else."""
    kind, _, name = text.partition(":") if isinstance(text, str) else ("", "", "")
    if kind == "user" and name:
        return Principal.user(name)
    return Principal.team(name) if kind == "team" and name else None


def parse_target(text: object) -> Target | None:
    """``repo:org/name`` or ``team:org/slug``, as the log writes them; None for anything else."""
    kind, _, full = text.partition(":") if isinstance(text, str) else ("", "", "")
    org, _, name = full.partition("/")
    if kind == "repo" and org and name:
        return Target.repo(org, name)
    return Target.team(org, name) if kind == "team" and org and name else None


def _dict(counts: Mapping[str, int] | None) -> dict[str, int] | None:
    return None if counts is None else dict(counts)


def _list(texts: tuple[str, ...] | None) -> list[str] | None:
    return None if texts is None else list(texts)


_T = TypeVar("_T")


class _Reader:
    """The fields of one line, read into typed values: what cannot be raises _Malformed.

    ``maybe_`` readers and the collection readers take a missing field (or null) as
    None; the others require the field.
    """

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.fields = fields

    def _value(self, key: str, kind: type[_T]) -> _T | None:
        value = self.fields.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, kind):
            raise _Malformed(key)
        return value

    def maybe_text(self, key: str) -> str | None:
        return self._value(key, str)

    def text(self, key: str) -> str:
        return _required(key, self.maybe_text(key))

    def number(self, key: str) -> int | None:
        return self._value(key, int)

    def maybe_timestamp(self, key: str) -> datetime | None:
        """Empty text is no time either (a grant without ``starts``)."""
        value = self.maybe_text(key)
        try:
            return parse_timestamp(value) if value else None
        except ValueError:
            raise _Malformed(key) from None

    def timestamp(self, key: str) -> datetime:
        return _required(key, self.maybe_timestamp(key))

    def texts(self, key: str) -> tuple[str, ...] | None:
        items = self._value(key, list)
        if items is not None and not all(isinstance(item, str) for item in items):
            raise _Malformed(key)
        return None if items is None else tuple(items)

    def counts(self, key: str) -> Mapping[str, int] | None:
        counts = self._value(key, dict)
        if counts is not None and not all(
            isinstance(n, int) and not isinstance(n, bool) for n in counts.values()
        ):
            raise _Malformed(key)
        return counts

    def grantables(self, key: str) -> tuple[Grantable, ...]:
        """``[[principal, target, level], ...]``: each must be whole, or the line is."""
        found = []
        for entry in self._value(key, list) or []:
            if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[2], str)):
                raise _Malformed(key)
            principal, target = parse_principal(entry[0]), parse_target(entry[1])
            found.append((_required(key, principal), _required(key, target), entry[2]))
        return tuple(found)

    def change(self) -> Change:
        return Change(
            action=_required("action", _ACTIONS.get(self.text("action"))),
            principal=_required("principal", parse_principal(self.fields.get("principal"))),
            target=_required("target", parse_target(self.fields.get("target"))),
            before=self.maybe_text("from"),
            after=self.maybe_text("to"),
            cause=_required("cause", _CAUSES.get(self.text("cause"))),
            source=self.maybe_text("source"),
        )

    def activity(self) -> Done:
        """``[[target, [{kind, ref, title, at}, ...]], ...]``, as :class:`Activity` holds."""
        done = []
        for entry in self._value("activity", list) or []:
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], list)):
                raise _Malformed("activity")
            target = _required("activity", parse_target(entry[0]))
            done.append((target, tuple(_activity(item) for item in entry[1])))
        return tuple(done)


_ACTIVITY_FIELDS = frozenset(("kind", "ref", "title", "at"))


def _activity(item: object) -> Activity:
    if not (
        isinstance(item, dict)
        and item.keys() == _ACTIVITY_FIELDS
        and all(isinstance(value, str) for value in item.values())
    ):
        raise _Malformed("activity")
    return Activity(**item)


def _required(key: str, value: _T | None) -> _T:
    if value is None:
        raise _Malformed(key)
    return value
