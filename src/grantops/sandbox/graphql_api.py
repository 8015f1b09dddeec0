"""``POST /graphql``: GitHub's GraphQL API over the sandbox world.

A query is parsed, validated and executed by graphql-core against the vendored part of
GitHub's published schema (``github-schema.graphql``, extracted by
``tests/contract/extract_graphql_schema.py``), so a query GitHub would reject is rejected
here too. Before it runs, GitHub's pagination and node limits are checked and its cost in
points is charged to the ``graphql`` budget, apart from the REST one. Answers have
GitHub's shape: status 200 with ``data`` and/or ``errors``, each error with its
``message``, ``locations``, ``path`` and, for GitHub's own kinds, a ``type``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    build_schema,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from grantops.sandbox.graphql_errors import error_body, github_error, to_json
from grantops.sandbox.graphql_limits import Measure, measure
from grantops.sandbox.graphql_objects import (
    Context,
    Info,
    Organization,
    PullRequest,
    Repository,
    TeamNode,
    User,
    node_id,
    parse_node_id,
)
from grantops.sandbox.ratelimit import RateBudget
from grantops.values import format_timestamp

if TYPE_CHECKING:
    from grantops.sandbox.routes import Call

Json = dict[str, Any]
SCHEMA_FILE = Path(__file__).with_name("github-schema.graphql")


@cache
def schema() -> GraphQLSchema:
    """GitHub's schema, the part grantops uses (built once: it takes a moment)."""
    return build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))


@dataclass
class Query:
    """The root object: ``organization``, ``node``/``nodes`` and ``rateLimit``."""

    ctx: Context
    size: Measure
    budget: RateBudget
    id: str = node_id("Q", "query")

    def organization(self, info: Info, login: str) -> Organization:
        if login.lower() != self.ctx.world.org.lower():
            message = f"Could not resolve to an Organization with the login of '{login}'."
            raise github_error("NOT_FOUND", message)
        self.ctx.check("organization", login)
        return Organization(self.ctx)

    def node(self, info: Info, id: str) -> object:
        found = _lookup(self.ctx, id)
        if found is None:
            message = f"Could not resolve to a node with the global id of '{id}'"
            raise github_error("NOT_FOUND", message)
        return found

    def nodes(self, info: Info, ids: list[str]) -> list[object]:
        """Each id's object; an unknown id is null with a ``NOT_FOUND`` error at its index."""
        found: list[object] = []
        for one in ids:
            try:
                found.append(self.node(info, one))
            except GraphQLError as exc:
                found.append(exc)  # graphql-core reports it at this item's path
        return found

    def rateLimit(self, info: Info, dryRun: bool = False) -> Json:  # noqa: N802, N803
        report = self.budget.report()
        return {
            "cost": self.size.cost,
            "limit": report["limit"],
            "nodeCount": self.size.nodes,
            "remaining": report["remaining"],
            "resetAt": format_timestamp(datetime.fromtimestamp(report["reset"], UTC)),
            "used": report["used"],
        }


def _lookup(ctx: Context, ident: str) -> object | None:
    """The object a global id names, if the world has it."""
    kind, key = parse_node_id(ident) or ("", "")
    world = ctx.world
    if kind == "O" and key == "1":
        return Organization(ctx)
    if kind == "U":
        keys = [k for k, v in world.user_ids.items() if str(v) == key]
        return User(ctx, keys[0]) if keys else None
    if kind == "T":
        teams = [t for t in world.teams.values() if str(t.id) == key]
        return TeamNode(ctx, teams[0]) if teams else None
    repo_id, _, number = key.partition(":")
    repos = [r for r in world.repos.values() if str(r.id) == repo_id]
    if kind == "R" and repos:
        return Repository(ctx, repos[0])
    pulls = [p for p in repos[0].pulls if str(p.number) == number] if repos else []
    if kind == "PR" and pulls:
        return PullRequest(Repository(ctx, repos[0]), pulls[0])
    return None


@dataclass(frozen=True)
class Checked:
    """A query GitHub would run: its document, and its size (cost and nodes)."""

    document: DocumentNode
    size: Measure


def check(
    query: str, operation_name: str | None = None, variables: dict[str, Any] | None = None
) -> Checked | list[GraphQLError]:
    """``query`` parsed, validated against the schema and measured against GitHub's
    limits, or why GitHub would refuse it before running it."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        return [exc]
    errors = validate(schema(), document)
    operation = get_operation_ast(document, operation_name)
    if errors or operation is None:
        return errors or [GraphQLError("An operation name is required for a document of many.")]
    coerced = get_variable_values(schema(), operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        return coerced
    size = measure(schema(), document, operation, coerced.coerced)
    return size.errors or Checked(document, size)


def answer(call: Call, budget: RateBudget) -> Json:
    """The body for a GraphQL request, whose cost is charged to ``budget``."""
    body = call.body or {}
    if not isinstance(body.get("query"), str):
        message = "A query attribute must be specified and must be a string."
        return {"errors": [{"message": message}]}
    checked = check(body["query"], body.get("operationName"), body.get("variables"))
    if not isinstance(checked, Checked):
        return error_body(checked)
    if not budget.spend(checked.size.cost):
        viewer_id = call.world.user_ids[call.world.person(call.viewer)]
        message = f"API rate limit exceeded for user ID {viewer_id}."
        return {"errors": [{"type": "RATE_LIMITED", "message": message}]}
    ctx = Context(call.world, {t.lower() for t in call.sandbox.settings.graphql_forbidden})
    result = execute_sync(
        schema(),
        checked.document,
        root_value=Query(ctx, checked.size, budget),
        variable_values=body.get("variables") or {},
        operation_name=body.get("operationName"),
    )
    out: Json = {"data": result.data}
    if result.errors:
        out["errors"] = [to_json(e) for e in result.errors]
    return out
