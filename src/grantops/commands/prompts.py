"""Asking a person at a terminal for what a request leaves out, within the policy.

Each question offers only what ``grants/policy.yaml`` allows: its managed repositories
and teams, its grantable permissions, its longest window. An answer outside that is
refused on the spot, before any file is written, and the question is asked again; the
end of input (or no terminal at all) is a usage error naming the missing option.
"""

from __future__ import annotations

from collections.abc import Callable

from grantops.commands.common import Io
from grantops.errors import UsageError
from grantops.model import Policy
from grantops.values import format_duration, parse_duration

Check = Callable[[str], str | None]
"""Why an answer is refused, or None to take it."""


def choose(io: Io, question: str, flag: str, check: Check) -> str:
    """Ask until an answer passes ``check``; no answer is a usage error naming ``flag``."""
    while True:
        answer = io.ask(question)
        if answer is None:
            raise UsageError(f"missing {flag} (or run in a terminal to be asked)")
        refusal = check(answer)
        if refusal is None:
            return answer
        io.err(f"{refusal}; try again")


def _listed(names: list[str]) -> str:
    return ", ".join(names) or "none"


def repo(io: Io, policy: Policy) -> str | None:
    """A managed repository, or None (an empty answer, or no terminal): ask for a team."""
    if not policy.managed.repos:
        return None
    question = f"Repository ({_listed(policy.managed.repos)}; leave empty for a team)"
    while (answer := io.ask(question)) is not None:
        if policy.repo_in_scope(answer):
            return answer
        io.err(f"'{answer}' is not in managed.repos ({_listed(policy.managed.repos)}); try again")
    return None


def team(io: Io, policy: Policy) -> str:
    """A managed team, for membership of it."""
    teams = policy.managed.teams

    def check(answer: str) -> str | None:
        return None if policy.team_in_scope(answer) else f"'{answer}' is not in managed.teams"

    return choose(io, f"Team ({_listed(teams)})", "--repo or --team", check)


def permission(io: Io, policy: Policy) -> str:
    """A permission the policy lets a grant give, spelt as the policy spells it."""
    allowed = policy.limits.permissions
    answer = choose(
        io,
        f"Permission ({_listed(allowed)})",
        "--permission",
        lambda a: None if policy.permission_allowed("repo", a) else f"'{a}' is not grantable",
    )
    return next(p for p in allowed if p.lower() == answer.lower())


def duration(io: Io, policy: Policy) -> str:
    """How long, as a duration no longer than ``limits.max_duration``."""
    longest = policy.limits.max_duration
    shown = format_duration(longest, policy.limits.duration_unit)

    def check(answer: str) -> str | None:
        try:
            length = parse_duration(answer)
        except ValueError as exc:
            return str(exc)
        if length > longest:
            return f"'{answer}' is longer than limits.max_duration {shown}"
        return None

    return choose(io, f"For how long (e.g. 4h; at most {shown})", "--for or --until", check)
