"""``grants/policy.yaml`` written from today's access, for ``grantops init`` (pure).

The way ``terraform import`` brings existing resources under code: every access found
becomes a baseline line, so the first plan of the new policy changes nothing, and the
people reviewing it see, line by line, what will stay permanent. What the policy must
not bless without a decision is written as comments instead: pending invitations (the
first plan cancels them unless a line is uncommented) and org owners (whom every run
leaves alone anyway).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from grantops.access import REPO_PERMISSIONS
from grantops.errors import GrantopsError
from grantops.statefile import StateFile

_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_RESOLVES = re.compile(r"y|n|yes|no|true|false|on|off|null|[-+]?[0-9][0-9_.:eE+-]*")
"""Plain words some YAML readers (editors, not grantops) would take for a bool or number."""


def scalar(text: str) -> str:
    """``text`` as a YAML scalar that every reader takes for that text."""
    if _PLAIN.fullmatch(text) and not _RESOLVES.fullmatch(text.lower()):
        return text
    return json.dumps(text)


def _flow(pairs: Iterable[tuple[str, str | list[str]]]) -> str:
    """``{user: alice, repos: [a, b], permission: push}``, each value quoted as needed."""
    parts = []
    for key, value in pairs:
        shown = scalar(value) if isinstance(value, str) else f"[{', '.join(map(scalar, value))}]"
        parts.append(f"{key}: {shown}")
    return "{" + ", ".join(parts) + "}"


@dataclass(frozen=True)
class Origin:
    """Where the access came from and when, for the policy's opening comment."""

    source: str
    """e.g. ``the GitHub API at https://api.github.com`` or ``the state file today.json``."""
    at: str
    """The time of the read, RFC 3339."""


class UnknownRole(GrantopsError):
    """Access at a custom role whose base role the read did not reveal."""


def _key(text: str) -> str:
    return text.lower()


def _repo_entries(who: str, grouped: dict[tuple[str, str], list[str]]) -> list[str]:
    """One line per (principal, permission), its repositories in one list."""
    lines = []
    for (name, permission), repos in sorted(grouped.items(), key=lambda i: tuple(map(_key, i[0]))):
        repos = sorted(repos, key=_key)
        target: tuple[str, str | list[str]] = (
            ("repo", repos[0]) if len(repos) == 1 else ("repos", repos)
        )
        lines.append("  - " + _flow([(who, name), target, ("permission", permission)]))
    return lines


def _collaborators(state: StateFile) -> dict[tuple[str, str], list[str]]:
    owners = {_key(o) for o in state.owners}
    grouped: dict[tuple[str, str], list[str]] = {}
    for repo, found in state.repos.items():
        for login, permission in found.collaborators.items():
            if _key(login) not in owners:
                grouped.setdefault((login, permission), []).append(repo)
    return grouped


def _team_access(state: StateFile) -> dict[tuple[str, str], list[str]]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for repo, found in state.repos.items():
        for slug, permission in found.teams.items():
            grouped.setdefault((slug, permission), []).append(repo)
    return grouped


def managed_teams(state: StateFile, extra: Iterable[str] = ()) -> list[str]:
    """Teams with access to a repository, every team the state lists, and ``extra``."""
    found: dict[str, str] = {}
    for slug in [*(s for r in state.repos.values() for s in r.teams), *state.teams, *extra]:
        found.setdefault(_key(slug), slug)
    return sorted(found.values(), key=_key)


def _members(state: StateFile, teams: list[str]) -> list[str]:
    lines = []
    for slug in teams:
        found = state.teams.get(slug)
        for login, role in sorted(
            (found.members if found else {}).items(), key=lambda i: _key(i[0])
        ):
            lines.append("  - " + _flow([("user", login), ("team", slug), ("role", role)]))
    return lines


def _roles_used(state: StateFile) -> dict[str, str]:
    """Custom roles the baseline uses, each with its base role; refuses an unknown base."""
    bases = {_key(name): base for name, base in state.custom_roles.items()}
    used = {p for r in state.repos.values() for p in [*r.collaborators.values(), *r.teams.values()]}
    roles = {}
    for name in sorted(used - set(REPO_PERMISSIONS), key=_key):
        if _key(name) not in bases:
            raise UnknownRole(
                f"custom role '{name}' is in use, but not which built-in role it extends; "
                "add it to the state file's custom_roles"
            )
        roles[name] = bases[_key(name)]
    return roles


def _pending(state: StateFile, teams: list[str]) -> list[str]:
    """Invitations not accepted yet, as commented-out baseline lines."""
    lines = []
    for repo, found in sorted(state.repos.items(), key=lambda i: _key(i[0])):
        for login, permission in sorted(found.invitations.items(), key=lambda i: _key(i[0])):
            entry = [("user", login), ("repo", repo), ("permission", permission)]
            lines.append("#   - " + _flow(entry))
    for slug in teams:
        found_team = state.teams.get(slug)
        for login, role in sorted((found_team.pending if found_team else {}).items()):
            lines.append("#   - " + _flow([("user", login), ("team", slug), ("role", role)]))
    return lines


def _owners_note(state: StateFile) -> list[str]:
    if not state.owners:
        return []
    return [
        "",
        "# Org owners are not in the baseline: every run leaves them alone (the plan lists",
        '# them under "Left alone"), and GitHub gives them admin on every repository anyway:',
        "#   " + ", ".join(sorted(state.owners, key=_key)),
    ]


def _baseline(state: StateFile, teams: list[str]) -> list[str]:
    sections = [
        ("# Direct collaborators on repositories.", _repo_entries("user", _collaborators(state))),
        ("# Teams' access to repositories.", _repo_entries("team", _team_access(state))),
        ("# Members and maintainers of the managed teams.", _members(state, teams)),
    ]
    body = [line for title, entries in sections if entries for line in [f"  {title}", *entries]]
    return ["baseline:", *body] if body else ["baseline: []"]


def _block(key: str, values: list[str]) -> list[str]:
    if not values:
        return [f"  {key}: []"]
    return [f"  {key}:", *(f"    - {scalar(v)}" for v in values)]


def render_policy(state: StateFile, origin: Origin, extra_teams: Iterable[str] = ()) -> str:
    """The policy text: today's access as baseline, everything explained in comments."""
    teams = managed_teams(state, extra_teams)
    repos = sorted(state.repos, key=_key)
    roles = _roles_used(state)
    lines = [
        "# yaml-language-server: $schema=../schema/policy.schema.json",
        f"# The access policy of the GitHub organisation {state.org}, written by `grantops init`",
        f"# from the access it had at {origin.at} ({origin.source}).",
        "# Review every line before merging: the baseline is permanent access that every run",
        "# keeps, and anything else in managed scope goes unless a reviewed grant gives it.",
        f"org: {scalar(state.org)}",
        "",
        "# Managed scope: only these repositories and teams are reconciled; nothing outside",
        "# them is ever read for removal or changed. Every repository of the org is here;",
        "# teams are those with access to one, and any named to `grantops init --team` (GitHub's",
        "# list of teams was not read: add a team that only groups people, with its members).",
        "managed:",
        *_block("repos", repos),
        *_block("teams", teams),
        "",
        "# Baseline: who has what, permanently, as found. Delete a line to have the first",
        "# enforced run remove that access; move access meant to be temporary to grant files.",
        "# GitHub lists a collaborator at the highest level any source gives them (a team, the",
        "# base role): a line may show that level rather than the direct one, so check it.",
        *_baseline(state, teams),
        *_invitations_note(_pending(state, teams)),
        *_owners_note(state),
        "",
        f"# The org's base role for its members on every repository: {state.base_permission}.",
        "# It is GitHub's setting, not grantops': change it in the org's settings if needed.",
        "",
        *_tail(roles),
    ]
    return "\n".join(lines) + "\n"


def _invitations_note(pending: list[str]) -> list[str]:
    if not pending:
        return []
    return [
        "",
        "# Invitations not accepted yet are not access, so they are not in the baseline: the",
        "# first plan cancels them. To keep one, move its line into the baseline above.",
        *pending,
    ]


def _tail(roles: dict[str, str]) -> Iterator[str]:
    """Roles, limits, approval, protected accounts and brakes, with the defaults written out."""
    yield "# The org's custom repository roles the baseline uses, with the role each extends."
    if roles:
        yield "roles:"
        yield from (f"  {scalar(name)}: {base}" for name, base in roles.items())
    else:
        yield "roles: {}"
    yield from (
        "",
        "# What a grant file may ask for, and for how long (admin only if listed here).",
        "limits:",
        "  max_duration: 72h",
        "  permissions: [pull, triage, push, maintain]",
        "",
        "# Approvals a grant needs from people other than its grantee and its pull request's",
        "# author; `approvers: TEAM` would require them to be members of that team.",
        "approval:",
        "  required: 1",
        "",
        "# Accounts never removed or lowered, whatever the files say (e.g. a break-glass admin).",
        "protected: []",
        "",
        "# Brakes: a plan that removes more undeclared access than this is refused.",
        "safety:",
        "  max_removals: 10",
        "  max_removal_fraction: 0.25",
    )
