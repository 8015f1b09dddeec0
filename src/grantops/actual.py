"""Access that exists on GitHub now, as the planner sees it (read from GitHub or a state file)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from grantops.access import AccessKey, Target

UNMANAGED_NAMED = 10
"""Up to this many repositories outside managed scope are named in the org's facts;
beyond it, only counted (an auditor asks how much is covered, not for a long list)."""


@dataclass(frozen=True)
class OrgFacts:
    """What an auditor asks of the org itself, beside who holds access: who owns it,
    what every member gets on every repository, and how much of it grantops manages."""

    owners: tuple[str, ...]
    base_permission: str
    """The org's base role (default repository permission): ``none`` ... ``admin``."""
    repositories: int
    """All of the org's repositories."""
    managed: int
    """Those in the policy's managed scope."""
    unmanaged: tuple[str, ...] | None
    """The others by name, when there are at most :data:`UNMANAGED_NAMED`; else None."""


def org_facts(
    owners: Iterable[str],
    base_permission: str,
    repositories: Iterable[str],
    in_scope: Callable[[str], bool],
) -> OrgFacts:
    """The facts as a read found them, in a fixed order so two reads compare equal."""
    names = sorted(repositories, key=str.lower)
    outside = tuple(name for name in names if not in_scope(name))
    return OrgFacts(
        owners=tuple(sorted(owners, key=str.lower)),
        base_permission=base_permission,
        repositories=len(names),
        managed=len(names) - len(outside),
        unmanaged=outside if len(outside) <= UNMANAGED_NAMED else None,
    )


@dataclass(frozen=True)
class ActualState:
    """Access that exists now, keyed like desired access.

    ``access`` holds what is in force (collaborators, team access to repos, team
    members); ``invitations`` holds repository invitations not yet accepted, which
    grant nothing until accepted but must still be cancelled when undeclared.
    """

    org: str
    access: dict[AccessKey, str] = field(default_factory=dict)
    invitations: dict[AccessKey, str] = field(default_factory=dict)
    owners: frozenset[str] = frozenset()
    expired_invitations: dict[AccessKey, str] = field(default_factory=dict)
    """Repository invitations GitHub marks expired: no access, and no longer pending."""
    inherited: dict[AccessKey, str] = field(default_factory=dict)
    """For direct collaborators: a level the user also holds through a team or the org's
    base role. GitHub reports only the highest level of all sources, so when that equals
    the inherited level the direct grant itself cannot be seen."""
    unreadable: dict[Target, str] = field(default_factory=dict)
    """Targets whose access could not be read completely, with the reason."""
    viewer: str | None = None
    """The token's own account (lower-cased): grantops never removes itself."""
    membership: Mapping[str, bool] = field(default_factory=dict)
    """Whether each user a plan adds to a repository is an org member (lower-cased
    login -> answer), as far as GitHub was asked: GitHub invites anyone else as an
    outside collaborator. A login not here (nor among ``owners``) is unknown."""
    invitations_unlisted: frozenset[Target] = frozenset()
    """Repositories read whose pending invitations were not listed (see
    :mod:`grantops.sweep`): none is known there, which is not the same as none there."""


@dataclass
class ReadResult:
    """What a read found, plus the ids later mutations need (invitation ids)."""

    actual: ActualState
    invitation_ids: dict[AccessKey, int] = field(default_factory=dict)
    members: frozenset[str] = frozenset()
    base_permission: str = "none"
    repos: tuple[str, ...] = ()
    """Every repository of the org, by name, as its listing gave them (``grantops init``
    writes them as managed scope, including those where nobody holds direct access)."""
    role_bases: dict[str, str] = field(default_factory=dict)
    """Each custom repository role seen on a managed repository, with the built-in role it
    extends: GitHub reports that role's permissions beside the custom role's name."""
    limits: tuple[str, ...] = ()
    """What the read could not establish that a run must not guess: it then makes only
    expiries (see :func:`grantops.planning.build_plan`)."""
    facts: OrgFacts | None = None
    """The org's owners, base role and coverage; None when the org could not be read."""

    def with_invitations(self, listed: Listed) -> ReadResult:
        """This read plus invitations listed afterwards. A repository whose listing failed
        is unreadable, as when any of its listings fails in the read: nothing half-read
        is kept, and nothing is added or removed there but what has ended."""
        actual, failed = self.actual, listed.failed
        kept = {key: at for key, at in actual.access.items() if key[1] not in failed}
        merged = replace(
            actual,
            access=kept,
            invitations={**actual.invitations, **listed.pending},
            expired_invitations={**actual.expired_invitations, **listed.expired},
            invitations_unlisted=actual.invitations_unlisted - frozenset(listed.listed),
            unreadable={**actual.unreadable, **failed},
        )
        return replace(self, actual=merged, invitation_ids={**self.invitation_ids, **listed.ids})


@dataclass(frozen=True)
class Listed:
    """Pending invitations of some repositories, listed apart from the main read."""

    listed: tuple[Target, ...] = ()
    """The repositories whose listing completed."""
    pending: dict[AccessKey, str] = field(default_factory=dict)
    expired: dict[AccessKey, str] = field(default_factory=dict)
    ids: dict[AccessKey, int] = field(default_factory=dict)
    failed: dict[Target, str] = field(default_factory=dict)
    """Repositories whose listing failed, with GitHub's answer: they become unreadable."""
