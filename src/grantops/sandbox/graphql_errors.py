"""GraphQL errors as GitHub writes them.

GitHub runs graphql-ruby, whose validation messages differ from graphql-core's; the
common ones are reworded here to GitHub's text, with the ``extensions.code`` GitHub adds,
so a client's handling of a rejected query is tested against what GitHub really says.
GitHub's own kinds of error (``NOT_FOUND``, ``FORBIDDEN``, ``RATE_LIMITED``...) carry a
top-level ``type``.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import GraphQLError

Json = dict[str, Any]

_REWORDED: list[tuple[re.Pattern[str], str, str, tuple[str, ...]]] = [
    (
        re.compile(r"Cannot query field '(\w+)' on type '(\w+)'\."),
        "Field '{0}' doesn't exist on type '{1}'",
        "undefinedField",
        ("fieldName", "typeName"),
    ),
    (
        re.compile(r"Unknown argument '(\w+)' on field '\w+\.(\w+)'\."),
        "Field '{1}' doesn't accept argument '{0}'",
        "argumentNotAccepted",
        ("argumentName", "name"),
    ),
    (
        re.compile(r"Argument '\w+\.(\w+)\((\w+):\)' of type '\S+' is required"),
        "Field '{0}' is missing required arguments: {1}",
        "missingRequiredArguments",
        ("name", "arguments"),
    ),
]
"""graphql-core's message, GitHub's for the same mistake, its code, and what the code's
details call each part the message names."""


def github_error(kind: str, message: str) -> GraphQLError:
    """An error of one of GitHub's own kinds (``NOT_FOUND``, ``FORBIDDEN``...)."""
    return GraphQLError(message, extensions={"type": kind})


def _reworded(error: GraphQLError) -> Json:
    for pattern, template, code, names in _REWORDED:
        found = pattern.match(error.message)
        if found:
            details = dict(zip(names, found.groups(), strict=True))
            return {
                "message": template.format(*found.groups()),
                "extensions": {"code": code, **details},
            }
    return {"message": error.message}


def to_json(error: GraphQLError) -> Json:
    """One error as GitHub writes it: message, ``type`` or ``extensions``, path, locations."""
    out = _reworded(error)
    kind = (error.extensions or {}).get("type")
    if kind:
        out = {"type": kind, "message": error.message}
    if error.path:
        out["path"] = list(error.path)
    if error.locations:
        out["locations"] = [{"line": at.line, "column": at.column} for at in error.locations]
    return out


def error_body(errors: list[GraphQLError]) -> Json:
    """An answer refused before it ran: only ``errors``, no ``data``."""
    return {"errors": [to_json(e) for e in errors]}
