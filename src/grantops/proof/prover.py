"""Approval proof at the edge: git history plus GitHub's pull requests and reviews.

The steps, for the policy and every grant inside its window (rules in
:mod:`grantops.proof.review`):

1. read the first-parent history of ``grants/`` once (:func:`grantops.gitrepo.read_history`);
2. walk the policy's versions oldest first, judging each by the rules of the last
   proven version before it (the first by :data:`grantops.proof.review.FLOOR`): a chain of
   trust, so no policy change can approve itself by lowering ``approval.required`` or
   changing ``approval.approvers``;
3. judge each grant by the rules of the last proven policy version;
4. open the window of each ``duration:`` grant at the merge of the first approved
   version of its file (GitHub's ``merged_at``, never a commit's date), so an approved
   edit keeps the window where the first approval opened it;
5. judge the newest version of each grant file that the audit log shows proven, when
   that is no longer the version at HEAD: its window, read from git, decides whether
   its access has ended, whatever the file says now.

Each judgement asks GitHub for the merged pull request behind the commit that put the
content on the branch, its commits and reviews, the file at its reviewed head, and who
may approve. Evidence already proven for the same commit, blob and rules is reused when
its MAC checks out (see :mod:`grantops.proof.evidence`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import NamedTuple

from grantops import gitrepo
from grantops.access import AccessKey, Principal, Target
from grantops.constants import GRANTS_DIR, POLICY_PATH
from grantops.githistory import History, Step
from grantops.github.api import ReviewFacts
from grantops.github.transport import GitHubError
from grantops.load import GRANT_SUFFIXES, Tree, load_grant_text, load_policy_text
from grantops.model import Grant, Policy, TeamRepoGrant, UserRepoGrant, UserTeamGrant
from grantops.proof import evidence
from grantops.proof.deletions import Deletion, deletions, revoked_while_open
from grantops.proof.review import (
    FLOOR,
    Checks,
    Evidence,
    Grantee,
    Judgement,
    PullRequest,
    Rules,
    judge,
    judge_removal,
    kept,
    placement,
    short,
)
from grantops.values import parse_timestamp
from grantops.yamlfile import MAX_FILE_BYTES


@dataclass(frozen=True)
class AccessRepo:
    """Where the grant files are reviewed: ``owner/name`` and the protected branch."""

    owner: str
    name: str
    branch: str | None = None

    @classmethod
    def parse(cls, slug: str, branch: str | None = None) -> AccessRepo:
        owner, _, name = slug.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"'{slug}' is not OWNER/NAME")
        return cls(owner, name, branch)


@dataclass(frozen=True)
class Logged:
    """The newest version of a grant file that the audit log shows proven, judged now.

    ``grant`` is that version's content as git holds it (None when it cannot be read):
    a version is named by its commit, and git's objects cannot be changed after the
    fact, so its window cannot be moved by editing the file or the log.
    """

    commit: str
    verdict: Judgement
    grant: Grant | None


@dataclass(frozen=True)
class Proof:
    policy: Judgement
    grants: dict[str, Judgement] = field(default_factory=dict)
    rules: Rules = FLOOR
    """The rules grants were judged by: those of the last proven policy version."""
    history: tuple[Evidence, ...] = ()
    """Evidence for every proven version of the policy, oldest first."""
    trusted: Policy | None = None
    """The newest proven version of the policy: what a run plans with when the current
    one is not proven. None when no version is proven."""
    logged: dict[str, Logged] = field(default_factory=dict)
    """Per grant file, the newest version the audit log shows proven (see :class:`Logged`)."""
    opened: dict[str, datetime] = field(default_factory=dict)
    """Per ``duration:`` grant file, when its window opened: the merge of its first
    approved version. A pending grant not named here gives nothing."""

    def windows(self, grants: Iterable[Grant]) -> tuple[Grant, ...]:
        """``grants`` with each ``duration:`` window counted from its proven merge."""
        return tuple(g.opened(self.opened[g.path]) if g.path in self.opened else g for g in grants)

    @property
    def off(self) -> bool:
        """A proven policy says ``approval.required: 0``: grants need no review."""
        return self.policy.approved and self.rules.required == 0

    @property
    def proven(self) -> dict[str, Evidence]:
        found = {path: a.evidence for path, a in self.grants.items() if a.approved and a.evidence}
        for path, logged in self.logged.items():
            if logged.verdict.approved and logged.verdict.evidence and path not in found:
                found[path] = logged.verdict.evidence
        if self.policy.approved and self.policy.evidence:
            found[POLICY_PATH] = self.policy.evidence
        return found


def rules_of(policy: Policy) -> Rules:
    return Rules(policy.approval.required, policy.approval.approvers)


def grantee_of(grant: Grant) -> Grantee:
    spec = grant.spec
    if isinstance(spec, UserRepoGrant | UserTeamGrant):
        return Grantee(user=spec.user)
    if isinstance(spec, TeamRepoGrant):
        return Grantee(team=spec.team)
    return Grantee()


PROOF_RESERVE = 200
"""Requests of the rate-limit budget that judging the grants at HEAD leaves for reading
and changing access: past it, a grant not yet judged stays undecided. Anyone who can
push could otherwise spend the budget with a flood of unreviewed grant files."""

EXPIRY_RESERVE = 20
"""The same for judging ended versions, which expiries wait on: only the removals
themselves need what is left."""


class _Judge:
    """Judges files against one history, asking GitHub each question at most once."""

    def __init__(self, root: Path, github: ReviewFacts, repo: AccessRepo, key: bytes | None):
        self.root = root
        self.history = gitrepo.read_history(root, GRANTS_DIR)
        self.trusted = evidence.load(root, key)
        self.org = ""
        """The org whose teams are asked about; set once the policy chain is judged."""

        self.reserve = PROOF_RESERVE
        """Requests of the rate limit to leave unspent: set per step of the proof."""

        def budget(what: str) -> None:
            left = github.budget_left(self.reserve)
            if left is not None:
                reason = f"only {left} requests of the rate limit are left, kept for changes"
                raise GitHubError(what, None, reason)

        @cache
        def pull_for(sha: str) -> PullRequest | None:
            budget(f"find the pull request of {sha[:7]}")
            return github.merged_pull_for_commit(repo.owner, repo.name, sha, repo.branch)

        @cache
        def diff_of(number: int) -> dict[str, str | None]:
            budget(f"list the files of PR #{number}")
            return github.changed_files(repo.owner, repo.name, number)

        @cache
        def writes(login: str) -> bool:
            budget(f"check whether {login} may write")
            return github.can_write(repo.owner, repo.name, login)

        @cache
        def member(team: str, login: str) -> bool:
            what = f"check {login} in team {team}"
            if not self.org:
                raise GitHubError(what, None, "no proven policy names the org")
            budget(what)
            return github.is_team_member(self.org, team, login)

        @cache
        def merges() -> dict[int, str]:
            budget("list recently merged pull requests")
            return github.recent_merges(repo.owner, repo.name, repo.branch or "")

        self.pull_for, self.diff_of, self.recent_merges = pull_for, diff_of, merges
        try:
            budget("read pull requests ahead")
            github.prefetch_pulls(repo.owner, repo.name, self._asked_soon(), repo.branch)
        except GitHubError:
            pass  # each is read when asked, within the budget then
        self.checks = Checks(
            can_write=lambda login: writes(login.lower()),
            in_team=lambda team, login: member(team.lower(), login.lower()),
        )

    def _asked_soon(self) -> set[str]:
        """The commits proof will ask GitHub about, known from git alone: where each
        file at HEAD and each policy version got its content, unless kept evidence
        already answers for it."""
        history = self.history
        steps = [(path, history.arrival(path)) for path in history.tree]
        steps += [(POLICY_PATH, step) for step in history.steps.get(POLICY_PATH, ())]
        return {
            step.commit
            for path, step in steps
            if step is not None and (path, step.commit) not in self.trusted
        }

    def current(self, path: str, rules: Rules, grantee: Grantee) -> Judgement:
        """The verdict on ``path`` as it is at HEAD."""
        step = placement(self.history, path)
        if isinstance(step, str):
            local = path in self.history.dirty or path not in self.history.tree
            return Judgement(False, step, uncommitted=local)
        return self.version(path, step, rules, grantee)

    def version(self, path: str, step: Step, rules: Rules, grantee: Grantee) -> Judgement:
        """The verdict on the content ``step`` gave ``path``."""
        entry = step.after
        if entry is None:
            return Judgement(False, f"{path} was deleted at {short(step.commit)}")
        if not entry.regular:
            return Judgement(False, f"not a regular file: git mode {entry.mode}")
        reuse = kept(self.trusted.get((path, step.commit)), entry, step, rules)
        if reuse is not None:
            return reuse
        return self._asked(
            step,
            lambda pull, diff: judge(
                path=path,
                entry=entry,
                step=step,
                history=self.history,
                pull=pull,
                reviewed=diff.get(path),
                rules=rules,
                grantee=grantee,
                checks=self.checks,
            ),
        )

    def removal(self, path: str, step: Step, rules: Rules, grantee: Grantee) -> Judgement:
        """The verdict on ``step``'s deletion of ``path``: was it reviewed like content?"""
        return self._asked(
            step,
            lambda pull, diff: judge_removal(
                path=path,
                step=step,
                history=self.history,
                pull=pull,
                removed=path in diff and diff[path] is None,
                rules=rules,
                grantee=grantee,
                checks=self.checks,
            ),
        )

    def _asked(
        self,
        step: Step,
        decide: Callable[[PullRequest | None, Mapping[str, str | None]], Judgement],
    ) -> Judgement:
        """``decide`` on the pull request that merged ``step`` and its reviewed diff;
        undecided when GitHub could not tell (a failed read is never a refusal)."""
        try:
            pull = self.pull_for(step.commit)
            diff = self.diff_of(pull.number) if pull is not None else {}
        except GitHubError as exc:
            return Judgement(False, f"could not check the review: {exc}", undecided=True)
        try:
            return decide(pull, diff)
        except GitHubError as exc:
            return Judgement(False, f"could not check who may approve: {exc}", undecided=True)

    def first_merge(self, path: str, upto: Step, rules: Rules, now: datetime) -> Merged:
        """When GitHub first merged a version of ``path`` up to ``upto`` through a pull
        request: where a ``duration:`` window opens (or why that cannot be proven).

        Versions since the file was created count, oldest first, and so do those of a
        grant file it replaced in the same commit (a rename), so an approved edit (48h
        to 50h) or a move keeps the window instead of restarting the clock. A version
        that came through a merged pull request opens the window whether or not its
        review counts today: an approver who has since lost write access, or tighter
        rules, must never move the start later, only the current version's own review
        decides whether the grant gives anything at all. A version pushed without a
        pull request has no merge time and is passed over; one that cannot be judged (a
        read failed) leaves the start unproven. The time is GitHub's ``merged_at``: a
        commit's date is whatever its pusher set.
        """
        for version_path, step in self.lineage(path, upto, now):
            grant = _version_grant(self.root, version_path, step, now)
            if grant is None:
                continue  # not a grant file then: it gave nothing
            verdict = self.version(version_path, step, rules, grantee_of(grant))
            if verdict.undecided:
                why = f"could not prove when the window of {path} opened: {verdict.reason}"
                return Judgement(False, why, undecided=True)
            if verdict.evidence is not None and verdict.evidence.merged_at is not None:
                return _merge_time(verdict)
        return Judgement(False, f"no version of {path} was merged through a pull request")

    def lineage(self, path: str, upto: Step, now: datetime) -> list[tuple[str, Step]]:
        """The versions of ``path`` since it was created, oldest first, after those of a
        grant file for the same access that the creating commit deleted (a move)."""
        steps = _since_created(self.history, path, upto)
        if not steps or steps[0].before is not None:
            return [(path, step) for step in steps]
        created = _version_grant(self.root, path, steps[0], now)
        moved_from = self._replaced(path, steps[0], created, now) if created else None
        earlier = self.lineage(*moved_from, now) if moved_from else []
        return earlier + [(path, step) for step in steps]

    def _replaced(
        self, path: str, created: Step, grant: Grant, now: datetime
    ) -> tuple[str, Step] | None:
        """A grant file that ``created``'s commit deleted and that gave the same principal
        access to one of the same targets: its last version (None: there is none)."""
        gives = {(p, t) for p, t, _ in grant.grantables(self.org)}
        for other, steps in self.history.steps.items():
            for index, step in enumerate(steps):  # newest first
                if step.commit != created.commit or step.after is not None or other == path:
                    continue
                last = steps[index + 1] if index + 1 < len(steps) else None
                if last is None or last.after is None or not last.after.regular:
                    continue
                old = _version_grant(self.root, other, last, now)
                if old and gives & {(p, t) for p, t, _ in old.grantables(self.org)}:
                    return other, last
        return None


Merged = datetime | Judgement
"""When a window opened, or why that cannot be proven."""


def _since_created(history: History, path: str, upto: Step) -> list[Step]:
    """The regular versions of ``path`` since it was last created, up to ``upto``."""
    run: list[Step] = []
    for step in history.versions(path):
        if step.after is None:
            run = []  # deleted: what comes after is a new grant, reviewed as one
        elif step.after.regular:
            run.append(step)
        if step.commit == upto.commit:
            break
    return run


def _version_grant(root: Path, path: str, step: Step, now: datetime) -> Grant | None:
    """The grant a version holds (None: too big to be one, or not valid)."""
    assert step.after is not None
    blob = step.after.blob
    if not 0 <= gitrepo.blob_sizes(root, [blob]).get(blob, -1) <= MAX_FILE_BYTES:
        return None
    return load_grant_text(path, gitrepo.read_blob(root, blob), None, now)[0]


def _merge_time(verdict: Judgement) -> Merged:
    found = verdict.evidence
    try:
        if found is not None and found.merged_at is not None:
            return parse_timestamp(found.merged_at)
    except ValueError:
        pass
    pull = f"PR #{found.pull}" if found else "its pull request"
    return Judgement(False, f"GitHub gave no merge time for {pull}", undecided=True)


@dataclass(frozen=True)
class Expiries:
    """Access whose reviewed grant has ended (each with its file), and what was unsure."""

    ended: dict[AccessKey, str]
    unchecked: tuple[str, ...] = ()
    """Ended versions that could not be judged (a lookup failed): their access stays."""


class Prover:
    """Proof for one access repository: its history read once, each question asked once.

    A run first judges the policy and the grants at HEAD (:meth:`prove`), then, for
    access it would otherwise remove as drift, the ended versions that may have given it
    (:meth:`expiries`); the second step reuses everything git and GitHub answered for
    the first.
    """

    def __init__(self, root: Path, github: ReviewFacts, repo: AccessRepo, key: bytes | None):
        self.root, self.repo = root, repo
        self._judge = _Judge(root, github, repo, key)

    def prove(self, tree: Tree, now: datetime, logged: Mapping[str, str] | None = None) -> Proof:
        """Judge the policy's chain of versions, then every grant open at ``now``.

        ``logged`` gives, per grant file, the commit of the newest version the audit log
        shows proven; each is judged again (see :class:`Logged`).

        A history that looks rewritten, or cannot be checked, leaves the current policy
        unproven, but grants are still judged: a run that may not add anything can still
        remove access whose proven grant has ended.
        """
        root, judge_ = self.root, self._judge
        judge_.reserve = PROOF_RESERVE
        policy, rules, history, trusted = _policy_chain(root, judge_)
        judge_.org = trusted.org if trusted else tree.policy.org if tree.policy else ""
        rewritten = _rewritten(judge_, self.repo)
        if rewritten is not None:
            policy = rewritten
        elif policy.approved and rules.required == 0:
            opened = _open_windows(judge_, tree.grants, None, rules, now)
            return Proof(policy, {}, rules, history, trusted, opened=opened)
        grants = {
            g.path: judge_.current(g.path, rules, grantee_of(g))
            for g in tree.grants
            if g.active_at(now) or g.pending
        }
        opened = _open_windows(judge_, tree.grants, grants, rules, now)
        at_head = {g.path: g.opened(opened[g.path]) if g.path in opened else g for g in tree.grants}
        versions = {
            path: _logged(judge_, path, commit, rules, grants, at_head, now)
            for path, commit in (logged or {}).items()
        }
        return Proof(policy, grants, rules, history, trusted, versions, opened)

    def current(self) -> bool:
        """Whether the grant files are still those of the history this prover read: once
        new commits or local edits changed them, its answers are about other content and
        must not be reused. Commits elsewhere (``audit/``) change nothing it judged."""
        history = self._judge.history
        return gitrepo.unchanged_since(self.root, history.head, GRANTS_DIR, history.dirty)

    def verdicts(self, rules: Rules, grants: Iterable[Grant]) -> dict[str, Judgement]:
        """``grants`` at HEAD judged now, whether or not their windows are open.

        ``grantops watch`` asks this for grants that start later, so that a file nobody
        reviewed never schedules a read, and the start itself asks GitHub nothing more:
        :meth:`prove` then finds every answer already given.
        """
        judge_ = self._judge
        judge_.reserve = PROOF_RESERVE
        return {g.path: judge_.current(g.path, rules, grantee_of(g)) for g in grants}

    def expiries(
        self,
        rules: Rules,
        org: str,
        wanted: Collection[AccessKey],
        now: datetime,
        logged: Collection[str] = (),
    ) -> Expiries:
        """Which of ``wanted`` a proven grant version gave that has since ended.

        Every version of every grant file on the branch counts, not only the one at HEAD,
        so an expiry rests on what git and the reviews say, never on a file or a log anyone
        can edit: a grantee who edits, breaks or deletes their own grant file, or cuts the
        audit log, cannot move the window a reviewed version set. A version counts when it
        is proven reviewed, GitHub merged its pull request before its window closed, and it
        gave that access; one such version per access is enough.

        Cheap steps first: versions are read from git in two calls (none over the loader's
        size limit), and only those that could name someone in ``wanted`` are parsed (the
        name appears, or an escape could spell it). Then the judging, which may cost
        requests: versions with kept evidence first (free), then those the audit log names
        (``logged`` commits), then pull requests' merge commits, newest first, so a flood
        of pushed decoys is judged last, if at all.
        """
        if not wanted:
            return Expiries({})
        judge_ = self._judge
        judge_.reserve, judge_.org = EXPIRY_RESERVE, org
        candidates = _ended_versions(self.root, judge_.history, org, wanted, now)
        merges = _merge_commits(judge_, self.repo) if candidates else frozenset()
        candidates.sort(
            key=lambda c: (
                (c.path, c.step.commit) not in judge_.trusted,  # kept evidence: free to judge
                c.step.commit not in logged,
                c.step.commit not in merges,
                judge_.history.position(c.step.commit) or 0,
            )
        )
        return _judge_ended(judge_, candidates, rules, now)

    def revokes(
        self,
        rules: Rules,
        org: str,
        wanted: Collection[AccessKey],
        now: datetime,
        known: Collection[tuple[str, Principal, Target]],
    ) -> Expiries:
        """Which of ``wanted`` a proven grant version gave until a reviewed pull request
        deleted its file while its window was open (a revoke), each with that file.

        The audit log only says where to look: ``known`` holds (file, principal, target)
        for the grants runs logged as honoured, and only those files' deletions are
        judged. A line anyone can push can add a file to look at but proves nothing:
        the deleted version must be proven reviewed and have given that access, and its
        deletion must be proven as content is (merged by its pull request, removed in the
        reviewed diff, approved on the final head by someone other than the author), with
        GitHub's merge times inside the window (:func:`revoked_while_open`). A deletion
        that cannot be judged (a lookup failed) proves nothing, and is said in
        ``unchecked``.
        """
        paths = {path for path, principal, target in known if (principal, target) in wanted}
        if not paths:
            return Expiries({})
        judge_ = self._judge
        judge_.reserve, judge_.org = EXPIRY_RESERVE, org
        found: dict[AccessKey, str] = {}
        unchecked: list[str] = []
        for deletion in deletions(judge_.history, paths):
            grant = _version_grant(self.root, deletion.path, deletion.version, now)
            keys = [(p, t) for p, t, _ in grant.grantables(org)] if grant else []
            keys = [k for k in keys if k in wanted and k not in found]
            if grant is None or not keys:
                continue
            why = _revoked(judge_, deletion, grant, rules, now)
            if why is None:
                found.update(dict.fromkeys(keys, deletion.path))
            elif why:
                unchecked.append(
                    f"{deletion.path}, deleted at {short(deletion.removal.commit)}: {why}"
                )
        return Expiries(found, tuple(unchecked))


def _revoked(
    judge_: _Judge, deletion: Deletion, grant: Grant, rules: Rules, now: datetime
) -> str | None:
    """None when ``deletion`` is a proven revoke of ``grant``; else why it could not be
    judged, or "" when it was judged and is not one. A ``duration:`` window opens where
    its file's first approved version was merged, as for an expiry."""
    grantee = grantee_of(grant)
    version = judge_.version(deletion.path, deletion.version, rules, grantee)
    if version.approved and grant.pending:
        opened = judge_.first_merge(deletion.path, deletion.version, rules, now)
        if isinstance(opened, Judgement):
            version = opened
        else:
            grant = grant.opened(opened)
    if not version.approved:
        return version.reason if version.undecided else ""
    removal = judge_.removal(deletion.path, deletion.removal, rules, grantee)
    if not removal.approved:
        return removal.reason if removal.undecided else ""
    return None if revoked_while_open(grant, version.evidence, removal.evidence) else ""


class _Ended(NamedTuple):
    """A version of a grant file whose window has closed, and the access it names."""

    path: str
    step: Step
    grant: Grant
    keys: list[AccessKey]
    """Those of the access asked about that the version gave."""


def _ended_versions(
    root: Path, history: History, org: str, wanted: Collection[AccessKey], now: datetime
) -> list[_Ended]:
    """Every version on the branch of a grant file that ended and gave some of ``wanted``.

    Costs no request: blob sizes come from one git call and the blobs from another, and
    a blob bigger than any grant file may be is never read. Each distinct blob is parsed
    once, and only when it could name someone in ``wanted`` (see :func:`_naming`).
    """
    names = {principal.name.lower() for principal, _ in wanted}
    versions = [
        (path, step, step.after.blob)
        for path, steps in history.steps.items()
        if path != POLICY_PATH and path.endswith(GRANT_SUFFIXES)
        for step in steps
        if step.after is not None and step.after.regular
    ]
    sizes = gitrepo.blob_sizes(root, (blob for _, _, blob in versions))
    found: list[_Ended] = []
    parsed: dict[str, Grant | None] = {}
    with gitrepo.Blobs(root) as reader:
        for path, step, blob in versions:
            if not 0 <= sizes.get(blob, -1) <= MAX_FILE_BYTES:
                continue  # missing, or bigger than any grant file may be: never read
            if blob not in parsed:
                parsed[blob] = _naming(path, reader.read(blob), names, now)
            grant = parsed[blob]
            if grant is None or not (grant.pending or grant.ended_at(now)):
                continue  # a duration's end is known once its approving merge is
            keys = [(p, t) for p, t, _level in grant.grantables(org) if (p, t) in wanted]
            if keys:
                found.append(_Ended(path, step, grant, keys))
    return found


def _judge_ended(judge_: _Judge, candidates: list[_Ended], rules: Rules, now: datetime) -> Expiries:
    """Per access, the file of the first of ``candidates`` proven to have given it.

    A candidate is judged only for access no earlier one proved, so one that names
    nothing new costs no request. A ``duration:`` version has ended only once the
    window its file's first approved version opened has closed.
    """
    found: dict[AccessKey, str] = {}
    unchecked: list[str] = []
    for path, step, grant, keys in candidates:
        keys = [k for k in keys if k not in found]
        if not keys:
            continue
        verdict = judge_.version(path, step, rules, grantee_of(grant))
        if verdict.approved and grant.pending:
            opened = judge_.first_merge(path, step, rules, now)
            if isinstance(opened, Judgement):
                verdict = opened
            elif not (grant := grant.opened(opened)).ended_at(now):
                continue
        if verdict.approved and _merged_before(verdict.evidence, grant.expires):
            found.update(dict.fromkeys(keys, path))
        elif verdict.undecided:
            unchecked.append(f"{path} at {short(step.commit)}: {verdict.reason}")
    return Expiries(found, tuple(unchecked))


def _naming(path: str, raw: bytes, names: Collection[str], now: datetime) -> Grant | None:
    """The grant in ``raw`` when its text could name one of ``names`` (or an escape could
    spell one); else None without parsing it."""
    text = raw.decode("utf-8", "replace").lower()
    if "\\" not in text and not any(name in text for name in names):
        return None
    return load_grant_text(path, raw, None, now)[0]


def _merged_before(evidence: Evidence | None, expires: datetime | None) -> bool:
    """Whether GitHub merged the version's pull request before its window closed.

    GitHub's ``merged_at``, not the commit's date: whoever pushes a commit sets that.
    A grant merged only after it ended gave nobody anything.
    """
    if evidence is None or expires is None:
        return False
    try:
        return parse_timestamp(evidence.merged_at) < expires
    except ValueError:
        return False


def _merge_commits(judge_: _Judge, repo: AccessRepo) -> frozenset[str]:
    """The merge commits of recently merged pull requests (none when that cannot be read)."""
    if repo.branch is None:
        return frozenset()
    try:
        return frozenset(judge_.recent_merges().values())
    except GitHubError:
        return frozenset()


def _open_windows(
    judge_: _Judge,
    grants: Iterable[Grant],
    verdicts: dict[str, Judgement] | None,
    rules: Rules,
    now: datetime,
) -> dict[str, datetime]:
    """When each approved pending grant's window opened (``verdicts`` None: proof is
    off, so every grant that came through a merged pull request counts).

    A start that cannot be proven replaces the grant's approval in ``verdicts`` with
    why: it gives nothing new (fail closed), and a failed read is *undecided*, so the
    access its logged window gave is held only until that window's end.
    """
    opened: dict[str, datetime] = {}
    for grant in grants:
        verdict = verdicts.get(grant.path) if verdicts is not None else None
        if not grant.pending or (verdicts is not None and not (verdict and verdict.approved)):
            continue
        step = placement(judge_.history, grant.path)
        if isinstance(step, str):
            continue
        merged = judge_.first_merge(grant.path, step, rules, now)
        if isinstance(merged, datetime):
            opened[grant.path] = merged
        elif verdicts is not None:
            verdicts[grant.path] = merged
    return opened


def _logged(
    judge_: _Judge,
    path: str,
    commit: str,
    rules: Rules,
    judged: Mapping[str, Judgement],
    at_head: Mapping[str, Grant],
    now: datetime,
) -> Logged:
    """Judge the version of ``path`` that ``commit`` put on the branch."""
    step = next((s for s in judge_.history.steps.get(path, ()) if s.commit == commit), None)
    if step is None or step.after is None or not step.after.regular:
        return Logged(commit, Judgement(False, f"{short(commit)} gave {path} no file"), None)
    current = placement(judge_.history, path)
    if isinstance(current, Step) and current.commit == commit and path in judged:
        return Logged(commit, judged[path], at_head.get(path))
    raw = gitrepo.read_blob(judge_.root, step.after.blob)
    grant, problems = load_grant_text(path, raw, None, now)
    if grant is None:
        reason = problems[0].message if problems else "cannot be read"
        return Logged(commit, Judgement(False, f"the version of {short(commit)}: {reason}"), None)
    verdict = judge_.version(path, step, rules, grantee_of(grant))
    if verdict.approved and grant.pending:
        merged = judge_.first_merge(path, step, rules, now)
        grant = grant.opened(merged) if isinstance(merged, datetime) else grant
    return Logged(commit, verdict, grant)


def _rewritten(judge_: _Judge, repo: AccessRepo) -> Judgement | None:
    """Why the branch's history looks rewritten (or cannot be checked), or None.

    Every pull request merged into the branch put its merge commit on the first-parent
    chain. A force push, or a merge commit whose first parent is an old commit (a
    "foxtrot" merge), takes recent ones off it: revocations and policy changes would
    silently be undone, so nothing is proven until the history is repaired.
    """
    if repo.branch is None:
        return Judgement(False, "the protected branch is unknown (set --branch)")
    try:
        merges = judge_.recent_merges()
    except GitHubError as exc:
        reason = f"could not check the branch's history against its pull requests: {exc}"
        return Judgement(False, reason, undecided=True)
    history = judge_.history
    for number, sha in sorted(merges.items(), reverse=True):
        if history.position(sha) is None:
            return Judgement(
                False,
                f"history rewritten: PR #{number}'s merge {short(sha)} is not on the "
                f"first-parent chain of {short(history.head)} (a force push or a merge "
                "commit that restores an older state)",
            )
    return None


def _policy_chain(
    root: Path, judge_: _Judge
) -> tuple[Judgement, Rules, tuple[Evidence, ...], Policy | None]:
    """Judge each version of the policy by the rules of the last proven one before it.

    Returns the verdict on the current version, the rules grants are judged by, the
    evidence of every proven version, and the newest proven version itself. A version
    grantops cannot read is not proven, so its rules never judge anything.
    """
    rules = FLOOR
    trusted: Policy | None = None
    proven: list[Evidence] = []
    verdict = Judgement(False, "the policy has no commit on the branch")
    for step in judge_.history.versions(POLICY_PATH):
        if step.after is None:
            verdict = Judgement(False, f"{POLICY_PATH} was deleted at {short(step.commit)}")
            continue
        verdict = judge_.version(POLICY_PATH, step, rules.for_policy(), Grantee())
        found = verdict.evidence
        if not verdict.approved or found is None:
            continue
        policy, problems = load_policy_text(POLICY_PATH, gitrepo.read_blob(root, step.after.blob))
        if policy is None or any(p.severity == "error" for p in problems):
            verdict = Judgement(False, f"the version of {short(step.commit)} cannot be read")
            continue
        proven.append(found)
        rules = rules_of(policy)
        trusted = policy
        judge_.org = policy.org  # approver teams are asked of the org a proven version names
    current = placement(judge_.history, POLICY_PATH)
    if isinstance(current, str):  # uncommitted, a symlink, or no version at all
        verdict = Judgement(False, current)
    return verdict, rules, tuple(proven), trusted
