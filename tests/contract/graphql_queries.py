"""Check a GraphQL query against GitHub's schema (the vendored part) and its limits.

For contract tests of the queries grantops sends: a query that passes here is one
GitHub's schema accepts, with pagination bounds and a node count GitHub allows. The
sandbox runs the same check on every query it is sent.
"""

from __future__ import annotations

from typing import Any

from grantops.sandbox.graphql_api import Checked, check


def problems(query: str, variables: dict[str, Any] | None = None) -> list[str]:
    """Why GitHub would refuse ``query`` with ``variables`` (empty when it would not)."""
    checked = check(query, None, variables)
    return [] if isinstance(checked, Checked) else [e.message for e in checked]
