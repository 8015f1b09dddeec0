"""The file formats: grants (``grants/**/*.yaml``) and the policy (``grants/policy.yaml``).

Models are frozen and forbid unknown keys, so a typo such as ``expire:`` is an error
instead of a grant that never ends. A grant names its target in exactly one of three
forms, chosen by the keys present (the "target form"):

* ``user`` + ``repo``/``repos`` + ``permission``: a direct collaborator;
* ``user`` + ``team`` (+ ``role``): team membership;
* ``team`` + ``repo``/``repos`` + ``permission``: a team's access to repositories.

Checks that need the policy (scope, allowed permissions, durations) live in
:mod:`grantops.rules`, because a grant file alone cannot know them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    Tag,
    model_validator,
)

from grantops.access import REPO_PERMISSIONS, Levels, Principal, Target, TargetKind
from grantops.values import (
    Duration,
    Login,
    Reason,
    RepoGlob,
    RepoName,
    RoleName,
    TeamSlug,
    Timestamp,
    format_duration,
    largest_unit,
)

TeamRole = Literal["member", "maintainer"]
BuiltinPermission = Literal["pull", "triage", "push", "maintain", "admin"]

Grantable = tuple[Principal, Target, str]
"""One (principal, target, level) that a grant or baseline entry gives."""


def window_open(starts: datetime | None, expires: datetime, now: datetime) -> bool:
    """The one rule of a grant's window: ``starts <= now < expires`` (no ``starts``:
    already open). Grant files and grants known only from the audit log both use it."""
    return (starts is None or starts <= now) and now < expires


class KeyConflict(ValueError):
    """A cross-field rule broken at one key; the loader reports that key's line."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _RepoTargets(_Strict):
    repo: RepoName | None = None
    repos: Annotated[list[RepoName], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one_repo_key(self) -> _RepoTargets:
        if self.repo is not None and self.repos is not None:
            raise KeyConflict("repos", "give either 'repo' or 'repos', not both")
        if self.repo is None and self.repos is None:
            raise KeyConflict("", "missing 'repo' (or 'repos'): which repository is this for?")
        if self.repos is not None and len({r.lower() for r in self.repos}) != len(self.repos):
            raise KeyConflict("repos", "'repos' lists a repository twice")
        return self

    @property
    def repo_names(self) -> tuple[str, ...]:
        return (self.repo,) if self.repo is not None else tuple(self.repos or ())


class UserRepoAccess(_RepoTargets):
    """A user as a direct collaborator on one or more repositories."""

    form: ClassVar[str] = "user-repo"
    user: Login
    permission: RoleName

    def grantables(self, org: str) -> list[Grantable]:
        who = Principal.user(self.user)
        return [(who, Target.repo(org, r), self.permission) for r in self.repo_names]


class UserTeamAccess(_Strict):
    """A user as a member (or maintainer) of a team."""

    form: ClassVar[str] = "user-team"
    user: Login
    team: TeamSlug
    role: TeamRole = "member"

    def grantables(self, org: str) -> list[Grantable]:
        return [(Principal.user(self.user), Target.team(org, self.team), self.role)]


class TeamRepoAccess(_RepoTargets):
    """A team's access to one or more repositories."""

    form: ClassVar[str] = "team-repo"
    team: TeamSlug
    permission: RoleName

    def grantables(self, org: str) -> list[Grantable]:
        who = Principal.team(self.team)
        return [(who, Target.repo(org, r), self.permission) for r in self.repo_names]


class Window(_Strict):
    """When the access is open: a fixed end (``expires``, opening at ``starts`` or at
    once), or a ``duration`` counted from the approving merge, so review time does not
    eat the window. ``starts`` never goes with ``duration``: a window that opens at the
    merge has no other start."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["expires"]}, {"required": ["duration"]}],
            "not": {"required": ["starts", "duration"]},
        }
    )
    expires: Timestamp | None = None
    duration: Duration | None = Field(
        default=None, description="How long the access lasts from the approving merge."
    )
    starts: Timestamp | None = None
    reason: Reason

    @model_validator(mode="after")
    def _one_end(self) -> Window:
        if self.expires is not None and self.duration is not None:
            raise KeyConflict("duration", "give either 'expires' or 'duration', not both")
        if self.expires is None and self.duration is None:
            raise KeyConflict("", "missing 'expires' (or 'duration'): when does the access end?")
        if self.duration is not None and self.starts is not None:
            raise KeyConflict(
                "starts",
                "'starts' cannot go with 'duration': a duration counts from the approving "
                "merge; give 'starts' with 'expires' for a fixed window",
            )
        if self.starts is not None and self.expires is not None and self.starts >= self.expires:
            raise KeyConflict("expires", "'expires' must be later than 'starts'")
        return self


class UserRepoGrant(UserRepoAccess, Window):
    """Temporary collaborator access."""


class UserTeamGrant(UserTeamAccess, Window):
    """Temporary team membership."""


class TeamRepoGrant(TeamRepoAccess, Window):
    """Temporary team access to repositories."""


def _target_form(value: Any) -> str | None:
    """Pick the target form from which of ``user`` and ``team`` are present."""
    if isinstance(value, dict):
        has_user, has_team = value.get("user") is not None, value.get("team") is not None
    else:
        has_user, has_team = hasattr(value, "user"), hasattr(value, "team")
    if has_user and has_team:
        return "user-team"
    if has_user:
        return "user-repo"
    if has_team:
        return "team-repo"
    return None


_FORM_ERROR = {
    "custom_error_type": "target_form",
    "custom_error_message": (
        "missing 'user' or 'team': say who gets access (user + repo, user + team, or team + repo)"
    ),
}

GrantSpec = Annotated[
    Annotated[UserRepoGrant, Tag("user-repo")]
    | Annotated[UserTeamGrant, Tag("user-team")]
    | Annotated[TeamRepoGrant, Tag("team-repo")],
    Discriminator(_target_form, **_FORM_ERROR),
]
"""The content of one grant file."""

BaselineEntry = Annotated[
    Annotated[UserRepoAccess, Tag("user-repo")]
    | Annotated[UserTeamAccess, Tag("user-team")]
    | Annotated[TeamRepoAccess, Tag("team-repo")],
    Discriminator(_target_form, **_FORM_ERROR),
]
"""One permanent access in the policy's baseline."""


class Managed(_Strict):
    """The scope grantops reconciles: nothing outside it is read for removal or touched."""

    repos: list[RepoGlob] = []
    teams: list[TeamSlug] = []


class Limits(_Strict):
    max_duration: Duration = timedelta(hours=72)
    permissions: list[RoleName] = ["pull", "triage", "push", "maintain"]
    outside_collaborators: Literal["allow", "deny"] = "allow"
    """``deny``: no repository access for anyone not proven an org member (GitHub would
    invite them as an outside collaborator); see :func:`grantops.plan.make_plan`."""
    _unit: str = PrivateAttr("h")
    """The largest unit ``max_duration`` is written in: messages speak the policy's units."""

    @model_validator(mode="wrap")
    @classmethod
    def _keep_unit(cls, data: Any, handler: ModelWrapValidatorHandler[Limits]) -> Limits:
        limits = handler(data)
        if isinstance(data, dict) and "max_duration" in data:
            limits._unit = largest_unit(data["max_duration"])
        return limits

    @property
    def duration_unit(self) -> str:
        return self._unit


class ApprovalPolicy(_Strict):
    required: Annotated[int, Field(ge=0, le=10)] = 1
    approvers: TeamSlug | None = None


class Safety(_Strict):
    max_removals: Annotated[int, Field(ge=0)] = 10
    max_removal_fraction: Annotated[float, Field(gt=0, le=1)] = 0.25


ChatKind = Literal["opened", "started", "ending", "ended", "refused"]
"""The notices that can go to chat: a grant pull request opened, access started, ending
soon, ended, and access refused (by the policy, or for want of a valid review)."""

CHAT_KINDS: tuple[ChatKind, ...] = get_args(ChatKind)


class Notify(_Strict):
    """Comments on each grant's pull request, mentioning the grantee, and chat notices."""

    before: Duration = Field(
        default=timedelta(hours=1), description="Warn this long before the end."
    )
    mention_teams: bool = Field(
        default=False,
        description="Mention a granted team on its notices, notifying every member; "
        "otherwise the team is named, not mentioned.",
    )
    chat: list[ChatKind] = Field(
        default=list(CHAT_KINDS),
        description="The notices also posted to the chat webhook in the "
        "GRANTOPS_CHAT_WEBHOOK_URL secret, when it is set; [] posts none.",
    )


class Requests(_Strict):
    """Requests filed through the access request issue form (``request --from-issue``)."""

    on_behalf: bool = Field(
        default=False,
        description="Let an issue ask for someone other than its author; otherwise an "
        "issue may ask only for its author.",
    )


class Invitations(_Strict):
    """How often pending repository invitations are listed (one REST listing each).

    An invitation gives nothing until accepted, and an accepted one is a collaborator on
    the next read, so each run lists the invitations of only the repositories whose turn
    came within the last ``window`` (see :mod:`grantops.sweep`), plus those the plan needs.
    """

    sweep: Duration = Field(
        default=timedelta(hours=24),
        description="Every managed repository's invitations are listed once in this period.",
    )
    window: Duration = Field(
        default=timedelta(hours=1),
        description="Each run lists the repositories whose turn came within this long; "
        "runs at least this often keep the sweep's promise.",
    )

    @model_validator(mode="after")
    def _window_within_sweep(self) -> Invitations:
        if self.window > self.sweep:
            raise KeyConflict(
                "window",
                f"window {format_duration(self.window)} is longer than the sweep "
                f"{format_duration(self.sweep)}; give at most the sweep (equal to it lists "
                "every repository on every run)",
            )
        return self


class Policy(_Strict):
    """``grants/policy.yaml``: the org, its managed scope, permanent access and limits."""

    org: Login
    managed: Managed
    baseline: list[BaselineEntry] = []
    roles: dict[RoleName, BuiltinPermission] = Field(
        default={}, description="Custom repository roles of the org, each with its base role."
    )
    limits: Limits = Limits()
    approval: ApprovalPolicy = ApprovalPolicy()
    protected: list[Login] = Field(default=[], description="Accounts never removed or changed.")
    safety: Safety = Safety()
    notify: Notify | None = Field(
        default=None, description="Comment on grant PRs when access starts, nears its end, ends."
    )
    invitations: Invitations = Invitations()
    requests: Requests = Requests()

    @model_validator(mode="after")
    def _custom_roles_are_new(self) -> Policy:
        for name in self.roles:
            if name.lower() in REPO_PERMISSIONS:
                raise KeyConflict(
                    "roles", f"'{name}' is a built-in role; custom roles need new names"
                )
        return self

    @cached_property
    def levels(self) -> Levels:
        return Levels(tuple(sorted((k.lower(), v) for k, v in self.roles.items())))

    @property
    def protected_keys(self) -> frozenset[str]:
        return frozenset(login.lower() for login in self.protected)

    @cached_property
    def _repo_matcher(self) -> re.Pattern[str]:
        patterns = [fnmatch.translate(p.lower()) for p in self.managed.repos] or ["(?!)"]
        return re.compile("|".join(f"(?:{p})" for p in patterns))

    @cached_property
    def _team_keys(self) -> frozenset[str]:
        return frozenset(t.lower() for t in self.managed.teams)

    @cached_property
    def _grantable_keys(self) -> frozenset[str]:
        return frozenset(p.lower() for p in self.limits.permissions)

    def repo_in_scope(self, name: str) -> bool:
        return self._repo_matcher.match(name.lower()) is not None

    def team_in_scope(self, slug: str) -> bool:
        return slug.lower() in self._team_keys

    def in_scope(self, target: Target) -> bool:
        if target.kind == "repo":
            return self.repo_in_scope(target.name)
        return self.team_in_scope(target.name)

    def focused(self, targets: Iterable[Target]) -> Policy:
        """This policy reconciling only ``targets`` (those of them in its scope).

        ``grantops watch`` plans a window's start or end with it, so only the targets
        whose access changes are read and compared. Baseline and grants elsewhere stay
        declared; they are simply outside the narrowed scope, which nothing touches.
        """
        wanted = [target for target in targets if self.in_scope(target)]
        managed = Managed(
            repos=sorted({t.name for t in wanted if t.kind == "repo"}),
            teams=sorted({t.name for t in wanted if t.kind == "team"}),
        )
        narrowed = self.model_copy(update={"managed": managed})
        for cached in ("_repo_matcher", "_team_keys"):  # computed for the whole scope
            narrowed.__dict__.pop(cached, None)
        return narrowed

    def permission_allowed(self, kind: TargetKind, level: str) -> bool:
        if kind == "team":
            return True
        return level.lower() in self._grantable_keys


@dataclass(frozen=True)
class Grant:
    """One grant file, loaded: where it came from and what it says.

    A ``duration:`` grant's window is known only once its approving merge is:
    ``merged_at`` is when GitHub merged the first pull request that approved the file
    (see :meth:`grantops.proof.prover.Prover.prove`). Until then the grant is *pending*:
    it gives no access and has not ended.
    """

    path: str
    spec: UserRepoGrant | UserTeamGrant | TeamRepoGrant
    merged_at: datetime | None = None

    @property
    def duration(self) -> timedelta | None:
        return self.spec.duration

    @property
    def pending(self) -> bool:
        """A ``duration:`` grant whose approving merge is not (yet) known."""
        return self.spec.duration is not None and self.merged_at is None

    @property
    def starts(self) -> datetime | None:
        if self.spec.duration is not None:
            return self.merged_at
        return self.spec.starts

    @property
    def expires(self) -> datetime | None:
        """The end of the window; None while the grant is pending."""
        if self.spec.duration is None:
            return self.spec.expires
        if self.merged_at is None:
            return None
        try:
            return self.merged_at + self.spec.duration
        except OverflowError:  # a duration no policy allows: it ends at the end of time
            return datetime.max.replace(tzinfo=self.merged_at.tzinfo)

    def opened(self, merged_at: datetime) -> Grant:
        """This grant with its window counted from ``merged_at`` (a ``duration:`` grant)."""
        return replace(self, merged_at=merged_at) if self.spec.duration is not None else self

    def grantables(self, org: str) -> list[Grantable]:
        return self.spec.grantables(org)

    def active_at(self, now: datetime) -> bool:
        """Inside its window at ``now`` (:func:`window_open`); never while pending."""
        expires = self.expires
        return expires is not None and window_open(self.starts, expires, now)

    def ended_at(self, now: datetime) -> bool:
        """Its window has closed by ``now`` (never while pending)."""
        expires = self.expires
        return expires is not None and expires <= now
