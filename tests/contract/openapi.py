"""Check sandbox answers against GitHub's own response schemas (vendored subset)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from grantops.sandbox.server import Exchange

SUBSET = Path(__file__).with_name("github-openapi-subset.json")


@cache
def operations() -> dict[str, Any]:
    return dict(json.loads(SUBSET.read_text(encoding="utf-8"))["operations"])


@cache
def _validator(operation: str, status: str) -> Draft202012Validator | None:
    schema = operations()[operation]["responses"][status]
    return None if schema is None else Draft202012Validator(schema)


def _error_shaped(body: Any) -> bool:
    return body is None or (isinstance(body, dict) and isinstance(body.get("message"), str))


def _graphql_shaped(body: Any) -> bool:
    """A GraphQL answer: ``data`` and/or a list of ``errors``, each with a message."""
    if not isinstance(body, dict) or not ({"data", "errors"} & set(body)):
        return False
    errors = body.get("errors", [])
    return isinstance(errors, list) and all(isinstance(e.get("message"), str) for e in errors)


def violations(exchange: Exchange) -> list[str]:
    """Why one answer does not match GitHub's description (empty when it does)."""
    if exchange.operation == "graphql":
        # GitHub answers queries with 200, and refuses a request as it refuses REST ones
        ok = _graphql_shaped if exchange.status == 200 else _error_shaped
        return [] if ok(exchange.body) else [f"POST {exchange.path}: not a GraphQL answer"]
    spec = operations().get(exchange.operation)
    where = f"{exchange.method} {exchange.path} -> {exchange.status}"
    if spec is None:
        return [f"{where}: operation {exchange.operation} is not in the vendored description"]
    if spec["method"] != exchange.method:
        return [f"{where}: {exchange.operation} is {spec['method']} in GitHub's description"]
    status = str(exchange.status)
    if status not in spec["responses"]:
        if exchange.status in (304, 401, 403, 404, 422, 429) or exchange.status >= 500:
            # documented once for every operation (authentication, rate limits, outages)
            return [] if _error_shaped(exchange.body) else [f"{where}: not an error body"]
        return [f"{where}: GitHub documents no {status} for {exchange.operation}"]
    validator = _validator(exchange.operation, status)
    if validator is None:
        if exchange.body is None or (exchange.status >= 400 and _error_shaped(exchange.body)):
            return []  # GitHub sends its usual error body even where none is described
        return [f"{where}: GitHub answers {status} with no body"]
    return [
        f"{where}: {error.message} at {list(error.absolute_path)}"
        for error in validator.iter_errors(exchange.body)
    ][:3]
