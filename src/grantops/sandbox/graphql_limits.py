"""GitHub's limits on a GraphQL query, checked before it runs: pagination and node count,
and the query's cost in rate-limit points.

GitHub documents them under "Rate limits and query limits for the GraphQL API": every
connection needs ``first`` or ``last``, between 1 and 100 (0 passes, to ask for
``totalCount`` only); a query may request at most 500,000 nodes, counting each connection's
page size times the page sizes of the connections around it; and a query costs the number
of requests it needs (one per connection, times the page sizes around it) divided by 100,
rounded, at least 1. A query that breaks a limit is refused before any data is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInt,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    value_from_ast,
)
from graphql.type import GraphQLInterfaceType, GraphQLNamedType, GraphQLObjectType

MAX_PAGE = 100
MAX_NODES = 500_000


@dataclass
class Measure:
    """A query's size: requests (for the cost), nodes (for the node limit), refusals."""

    requests: int = 0
    nodes: int = 0
    errors: list[GraphQLError] = field(default_factory=list)

    @property
    def cost(self) -> int:
        """GitHub's points: requests / 100, rounded half up, at least 1."""
        return max(1, (self.requests + 50) // 100)


class _Walk:
    """One pass over an operation's selections, multiplying page sizes as it goes down."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.measure = Measure()

    def selections(
        self, node: SelectionSetNode | None, parent: GraphQLNamedType, outer: int
    ) -> None:
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                self.field(selection, parent, outer)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                self.selections(selection.selection_set, inner or parent, outer)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                inner = self.schema.get_type(fragment.type_condition.name.value)
                self.selections(fragment.selection_set, inner or parent, outer)

    def field(self, node: FieldNode, parent: GraphQLNamedType, outer: int) -> None:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return  # a union's own fields are only __typename
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return  # __typename and other introspection
        returned = get_named_type(definition.type)
        if not returned.name.endswith("Connection"):
            self.selections(node.selection_set, returned, outer)
            return
        size = self.page_size(node)
        self.measure.requests += outer
        self.measure.nodes += outer * size
        if self.measure.nodes > MAX_NODES and not self.measure.errors:
            self.refuse(
                node,
                "MAX_NODE_LIMIT_EXCEEDED",
                f"By the time this query traverses to the {node.name.value} connection, "
                f"it is requesting up to {self.measure.nodes:,} possible nodes which "
                f"exceeds the maximum limit of {MAX_NODES:,}.",
            )
        self.selections(node.selection_set, returned, outer * max(size, 1))

    def page_size(self, node: FieldNode) -> int:
        """The connection's ``first`` or ``last``; a missing or excessive one is refused."""
        name = node.name.value
        sizes: list[tuple[str, int]] = [
            (a.name.value, value_from_ast(a.value, GraphQLInt, self.variables))
            for a in node.arguments or ()
            if a.name.value in ("first", "last")
        ]
        sizes = [(argument, size) for argument, size in sizes if size is not None]
        if not sizes:
            message = (
                "You must provide a `first` or `last` value to properly paginate "
                f"the `{name}` connection."
            )
            self.refuse(node, "MISSING_PAGINATION_BOUNDARIES", message)
            return MAX_PAGE
        for argument, size in sizes:
            if size > MAX_PAGE or size < 0:
                message = (
                    f"Requesting {size} records on the `{name}` connection exceeds "
                    f"the `{argument}` limit of {MAX_PAGE} records."
                )
                self.refuse(node, "EXCESSIVE_PAGINATION", message)
        return max(0, min(max(size for _, size in sizes), MAX_PAGE))

    def refuse(self, node: FieldNode, kind: str, message: str) -> None:
        self.measure.errors.append(GraphQLError(message, node, extensions={"type": kind}))


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
) -> Measure:
    """The size of ``operation`` (already validated), and why GitHub would refuse it."""
    walk = _Walk(schema, document, variables)
    root = schema.query_type
    if root is not None:
        walk.selections(operation.selection_set, root, 1)
    return walk.measure
