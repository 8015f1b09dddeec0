"""The GraphQL queries grantops sends to read access, as text.

Every query selects ``rateLimit`` (see :mod:`grantops.github.graphql`) and reads at most
100 items per connection (GitHub's limit for ``first``); a connection with more is
continued by a query of its own with the ``endCursor`` it ended at.

Repositories are read by name, 100 to a query, as aliases ``r0 ... r99`` of
``organization.repository(name:)``. Under GitHub's cost formula (each connection asks
for ``first`` items of each parent, summed and divided by 100) that query costs
``(100 x 100) / 100 / 100 = 1`` point, the same as a page of
``organization.repositories(first: 100)`` with the same nested collaborators; but the
aliases read only the managed repositories (a policy managing 3 repositories of an org
of 10,000 costs one point, not a hundred), and an error names the repository it is
about, so one forbidden repository does not spoil the other 99.
"""

from __future__ import annotations

from grantops.github import gqlpulls
from grantops.github.graphql import RATE_LIMIT

BATCH = 100
"""Repositories per query, and items per page of every connection (GitHub's maximum)."""

PAGE = "pageInfo { hasNextPage endCursor }"

COLLABORATOR_EDGES = "edges { permission permissionSources { roleName } node { login } }"
"""A direct collaborator: the highest built-in level of all their sources
(``permission``), and each source's role by name (custom roles included)."""

COLLABORATORS_PAGE = f"""
query($org: String!, $name: String!, $after: String) {{
  {RATE_LIMIT}
  organization(login: $org) {{
    repository(name: $name) {{
      collaborators(first: {BATCH}, affiliation: DIRECT, after: $after) {{
        {PAGE}
        {COLLABORATOR_EDGES}
      }}
    }}
  }}
}}
"""
"""The next page of one repository's direct collaborators."""

TEAM_REPOSITORY_EDGES = "edges { permission node { name } }"

TEAMS = f"""
query($org: String!, $after: String) {{
  {RATE_LIMIT}
  organization(login: $org) {{
    teams(first: {BATCH}, after: $after) {{
      {PAGE}
      nodes {{
        slug
        repositories(first: {BATCH}) {{ {PAGE} {TEAM_REPOSITORY_EDGES} }}
      }}
    }}
  }}
}}
"""
"""Every team of the org with the repositories it has access to (first page of each)."""

TEAM_REPOSITORIES_PAGE = f"""
query($org: String!, $slug: String!, $after: String) {{
  {RATE_LIMIT}
  organization(login: $org) {{
    team(slug: $slug) {{
      repositories(first: {BATCH}, after: $after) {{ {PAGE} {TEAM_REPOSITORY_EDGES} }}
    }}
  }}
}}
"""
"""The next page of one team's repositories."""

TEAM_MEMBERS_PAGE = f"""
query($org: String!, $slug: String!, $after: String) {{
  {RATE_LIMIT}
  organization(login: $org) {{
    team(slug: $slug) {{
      members(first: {BATCH}, after: $after) {{ {PAGE} edges {{ role node {{ login }} }} }}
    }}
  }}
}}
"""
"""A page of one team's members with their role (``MAINTAINER`` or ``MEMBER``)."""


def repositories_query(count: int) -> str:
    """The query reading the first page of direct collaborators of ``count`` (at most
    :data:`BATCH`) repositories, named by the variables ``$n0 ...``."""
    names = ", ".join(f"$n{i}: String!" for i in range(count))
    aliases = "\n".join(
        f"    r{i}: repository(name: $n{i}) {{ ...Collaborators }}" for i in range(count)
    )
    return f"""
query($org: String!, {names}) {{
  {RATE_LIMIT}
  organization(login: $org) {{
{aliases}
  }}
}}
fragment Collaborators on Repository {{
  collaborators(first: {BATCH}, affiliation: DIRECT) {{
    {PAGE}
    {COLLABORATOR_EDGES}
  }}
}}
"""


def all_queries() -> list[str]:
    """Every query text grantops sends (the batch query at its smallest and largest
    size), so a contract test can validate each against GitHub's schema."""
    return [
        repositories_query(1),
        repositories_query(BATCH),
        COLLABORATORS_PAGE,
        TEAMS,
        TEAM_REPOSITORIES_PAGE,
        TEAM_MEMBERS_PAGE,
        *gqlpulls.all_queries(),
    ]
