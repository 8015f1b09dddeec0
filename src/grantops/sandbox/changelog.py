"""The sandbox's record of every mutation it accepted, with the server's own time.

A client's idea of when it changed access is not evidence that access changed then:
its clock, its queue and the network all sit in between. The sandbox therefore keeps
its own log, written under the same lock as the state change, so that the order of the
entries is the order of the changes and each time is the moment the change was made.
``GET /_sandbox/changes`` serves it; lateness is measured against it from outside.

A mutation is a PUT, POST, PATCH or DELETE that reached a route handler, whatever the
handler answered (a 422 is listed as 422). Requests refused before a handler runs
(authentication, rate limit, an injected fault, an outage) changed nothing and are not
listed. A GraphQL POST is listed only when its operation is a ``mutation``: queries
only read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError, OperationType, get_operation_ast, parse

MUTATING = frozenset({"PUT", "POST", "PATCH", "DELETE"})


def rfc3339_ms(value: datetime) -> str:
    """UTC with milliseconds and a ``Z``: precise enough to measure lateness in seconds."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Change:
    """One accepted mutation: when the handler made it, the request, and its answer."""

    at: datetime
    method: str
    path: str
    status: int

    def to_json(self) -> dict[str, Any]:
        return {
            "at": rfc3339_ms(self.at),
            "method": self.method,
            "path": self.path,
            "status": self.status,
        }


def is_mutation(method: str, body: Any, graphql: bool) -> bool:
    """Whether a request that reached a handler is one the log lists.

    ``graphql``: the request went to the GraphQL endpoint, where only a document whose
    chosen operation is a mutation changes anything (an unparsable one changes nothing).
    """
    if method not in MUTATING:
        return False
    if not graphql:
        return True
    query = body.get("query") if isinstance(body, dict) else None
    if not isinstance(query, str) or "mutation" not in query:
        return False  # a mutation operation needs the keyword: most queries stop here
    try:
        document = parse(query)
    except GraphQLError:
        return False
    name = body.get("operationName")
    operation = get_operation_ast(document, name if isinstance(name, str) else None)
    return operation is not None and operation.operation == OperationType.MUTATION


class ChangeLog:
    """The accepted mutations in the order they were made; callers hold the sandbox lock."""

    def __init__(self) -> None:
        self.entries: list[Change] = []

    def record(self, method: str, path: str, status: int, at: datetime) -> None:
        self.entries.append(Change(at, method, path, status))

    def since(self, start: datetime | None = None) -> list[dict[str, Any]]:
        """The entries made at or after ``start`` (all without one), as the API lists them."""
        return [c.to_json() for c in self.entries if start is None or c.at >= start]

    def clear(self) -> int:
        """Forget every entry; how many there were."""
        count = len(self.entries)
        self.entries.clear()
        return count


def parse_since(value: str | None) -> datetime | None:
    """``?since=`` as a time; ValueError when it is not RFC 3339 with a zone."""
    if value is None:
        return None
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:
        raise ValueError(f"since={value!r} has no time zone")
    return when
