"""Vendor the part of GitHub's GraphQL schema that grantops reads and its sandbox serves.

Source: the npm package ``@octokit/graphql-schema`` (GitHub's published schema, MIT),
file ``schema.graphql``. The output keeps, for each object and interface type listed in
``KEEP``, only the fields named there, with GitHub's own arguments, descriptions and
directives; enums, scalars and input objects those fields reach are kept whole, unions
keep only their members that are kept. The result is checked to be a valid schema, so the
sandbox can validate and execute queries exactly as GitHub's schema would.

Usage:
    python tests/contract/extract_graphql_schema.py              # fetches with npm pack
    python tests/contract/extract_graphql_schema.py schema.graphql  # a file you have
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from graphql import assert_valid_schema, build_ast_schema, parse, print_ast
from graphql.language import (
    DefinitionNode,
    DocumentNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    NamedTypeNode,
    ObjectTypeDefinitionNode,
    TypeDefinitionNode,
    TypeNode,
    UnionTypeDefinitionNode,
)
from npm_package import fetch  # a sibling file: these scripts are run as files

PACKAGE = "@octokit/graphql-schema@15.26.1"
MEMBER = "package/schema.graphql"
OUTPUT = Path(__file__).parents[2] / "src" / "grantops" / "sandbox" / "github-schema.graphql"

_BUILT_IN = frozenset({"Boolean", "Float", "ID", "Int", "String"})
_CONNECTION = ("edges", "nodes", "pageInfo", "totalCount")
_EDGE = ("cursor", "node")

KEEP: dict[str, tuple[str, ...]] = {
    "Query": ("id", "node", "nodes", "organization", "rateLimit"),
    "RateLimit": ("cost", "limit", "nodeCount", "remaining", "resetAt", "used"),
    "PageInfo": ("endCursor", "hasNextPage", "hasPreviousPage", "startCursor"),
    "Node": ("id",),
    "Actor": ("login", "url"),
    "Organization": (
        *("databaseId", "id", "login", "membersWithRole", "name", "repositories"),
        *("repository", "team", "teams", "url"),
    ),
    "OrganizationMemberConnection": _CONNECTION,
    "OrganizationMemberEdge": (*_EDGE, "role"),
    "Repository": (
        *("collaborators", "databaseId", "id", "isArchived", "name", "nameWithOwner"),
        *("object", "pullRequest", "pullRequests", "url", "visibility"),
    ),
    "RepositoryConnection": _CONNECTION,
    "RepositoryEdge": _EDGE,
    "RepositoryCollaboratorConnection": _CONNECTION,
    "RepositoryCollaboratorEdge": (*_EDGE, "permission", "permissionSources"),
    "PermissionSource": ("organization", "permission", "roleName", "source"),
    "User": ("databaseId", "id", "login", "name", "url"),
    "Team": (
        *("databaseId", "id", "invitations", "members", "name", "organization"),
        *("privacy", "repositories", "slug", "url"),
    ),
    "TeamConnection": _CONNECTION,
    "TeamEdge": _EDGE,
    "TeamRepositoryConnection": _CONNECTION,
    "TeamRepositoryEdge": (*_EDGE, "permission"),
    "TeamMemberConnection": _CONNECTION,
    "TeamMemberEdge": (*_EDGE, "role"),
    "OrganizationInvitationConnection": _CONNECTION,
    "OrganizationInvitationEdge": _EDGE,
    "OrganizationInvitation": ("createdAt", "email", "id", "invitee", "role"),
    "PullRequest": (
        *("author", "baseRefName", "commits", "createdAt", "files", "headRefName"),
        *("headRefOid", "id", "merged", "mergeCommit", "mergedAt", "mergedBy", "number"),
        *("reviews", "state", "title", "url"),
    ),
    "PullRequestConnection": _CONNECTION,
    "PullRequestEdge": _EDGE,
    "PullRequestReviewConnection": _CONNECTION,
    "PullRequestReviewEdge": _EDGE,
    "PullRequestReview": ("author", "commit", "id", "state", "submittedAt"),
    "PullRequestCommitConnection": _CONNECTION,
    "PullRequestCommitEdge": _EDGE,
    "PullRequestCommit": ("commit", "id"),
    "GitObject": ("id", "oid"),
    "Commit": (
        *("associatedPullRequests", "author", "committedDate", "committer", "id"),
        *("message", "oid"),
    ),
    "GitActor": ("date", "email", "name", "user"),
    "PullRequestChangedFileConnection": _CONNECTION,
    "PullRequestChangedFileEdge": _EDGE,
    "PullRequestChangedFile": ("additions", "changeType", "deletions", "path"),
}
"""Object and interface types, and the fields of each that grantops may ask for."""


def _named(type_node: TypeNode) -> str:
    """The name under a type's ``!`` and ``[...]`` wrappers."""
    inner: Any = type_node
    while not isinstance(inner, NamedTypeNode):
        inner = inner.type
    return str(inner.name.value)


def _copy(node: Any, **changes: Any) -> Any:
    """``node`` with some attributes replaced (graphql-core's nodes are not dataclasses)."""
    return type(node)(**{**{key: getattr(node, key) for key in node.keys}, **changes})


def _reached(types: dict[str, TypeDefinitionNode]) -> set[str]:
    """Every type name the kept fields reach, following arguments, inputs and unions."""
    seen: set[str] = set()
    todo = list(KEEP)
    while todo:
        name = todo.pop()
        if name in seen or name in _BUILT_IN:
            continue
        seen.add(name)
        node = types[name]
        if isinstance(node, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            if name not in KEEP:
                raise SystemExit(f"{name} is reached but KEEP lists none of its fields")
            for f in node.fields or ():
                if f.name.value in KEEP[name]:
                    todo += [_named(f.type), *(_named(a.type) for a in f.arguments or ())]
        elif isinstance(node, InputObjectTypeDefinitionNode):
            todo += [_named(f.type) for f in node.fields or ()]
        elif isinstance(node, UnionTypeDefinitionNode):
            todo += [t.name.value for t in node.types or () if t.name.value in KEEP]
    return seen


def _prune(node: TypeDefinitionNode, kept: set[str]) -> TypeDefinitionNode:
    """``node`` with only the fields, interfaces and union members the subset keeps."""
    name = node.name.value
    if isinstance(node, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
        fields = tuple(f for f in node.fields or () if f.name.value in KEEP[name])
        missing = set(KEEP[name]) - {f.name.value for f in fields}
        if missing:
            raise SystemExit(f"{name} has no field {', '.join(sorted(missing))}")
        interfaces = tuple(i for i in node.interfaces or () if i.name.value in kept)
        return _copy(node, fields=fields, interfaces=interfaces)  # type: ignore[no-any-return]
    if isinstance(node, UnionTypeDefinitionNode):
        members = tuple(t for t in node.types or () if t.name.value in kept)
        return _copy(node, types=members)  # type: ignore[no-any-return]
    return node


def extract(source: str) -> str:
    """The vendored subset of the schema text ``source``, as schema text."""
    document = parse(source)
    types = {d.name.value: d for d in document.definitions if isinstance(d, TypeDefinitionNode)}
    kept = _reached(types)
    definitions: list[DefinitionNode] = [
        d for d in document.definitions if not isinstance(d, TypeDefinitionNode)
    ]
    definitions += [_prune(types[name], kept) for name in sorted(kept)]
    subset = DocumentNode(definitions=tuple(definitions))
    assert_valid_schema(build_ast_schema(subset))  # raises if the subset is not a schema
    header = f"# GitHub's GraphQL schema, the part grantops uses: {PACKAGE} schema.graphql\n"
    header += "# Generated by tests/contract/extract_graphql_schema.py; do not edit.\n\n"
    return header + print_ast(subset) + "\n"


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(argv[1]) if len(argv) > 1 else fetch(PACKAGE, MEMBER, Path(tmp))
        subset = extract(source.read_text(encoding="utf-8"))
    OUTPUT.write_text(subset, encoding="utf-8")
    print(f"wrote {OUTPUT} ({subset.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
