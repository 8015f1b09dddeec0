"""Access ends on time, whatever else is wrong that day; a flaky API takes nothing away.

Each test builds a real access repository in git (reviewed pull requests through the
sandbox), runs ``apply`` while a grant is open (so the audit log proves and honours
it), then breaks something and runs again once the grant has ended: an invalid file,
a policy change nobody reviewed, a review lookup answering 502, or the grantee
editing or breaking their own grant file. The expiry still happens, and the run says
what it could not do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grantops.audit.log import AuditLog
from grantops.gitrepo import Blobs, blob_sizes
from grantops.sandbox import FaultRule, Sandbox
from grantops.sandbox.fixtures import CommitState, PullState, ReviewState
from grantops.sandbox.reviewed import ReviewedRepo
from grantops.yamlfile import MAX_FILE_BYTES

from .data import GRANT, POLICY
from .sandbox_fixtures import (
    BASE_STATE,
    StartSandbox,
    access_env,
    new_access_repo,
    restarted,
    reviewed,
    with_access_repo,
)
from .test_cli import run

OPEN_AT = "2026-11-30T12:00:00Z"
"""GRANT's window is 2026-11-30 09:00 to 18:00."""
STILL_OPEN = "2026-11-30T15:00:00Z"
LATER = "2026-12-01T12:00:00Z"
FAST = ["--yes", "--json", "--mutation-interval", "0", "--attempts", "1"]
HUBOT = GRANT.replace("octocat", "hubot").replace("payments-api", "ledger")
TOMORROW = GRANT.replace("2026-11-30T", "2026-12-01T")
"""A grant open at LATER."""
EXTENDED = GRANT.replace("2026-11-30T18:00:00Z", "2026-12-02T18:00:00Z")


REST = ("--read-api", "rest")
"""For faults on REST's lookup of a commit's pull request, which GraphQL reads otherwise."""


def _apply(sandbox: Sandbox, root: Path, now: str, *args: str, **env: str) -> tuple[int, Any, str]:
    argv = ["apply", "--root", str(root), "--now", now, *FAST, *args]
    code, out, err = run(*argv, environ=access_env(sandbox.url, **env))
    return code, json.loads(out), err


def _changes(document: Any) -> list[tuple[str, str, str, str]]:
    return [(c["action"], c["principal"], c["target"], c["cause"]) for c in document["changes"]]


def _pushers(sandbox: Sandbox, repo: str = "payments-api") -> dict[str, str]:
    return sandbox.state().repos[repo].collaborators


OCTOCAT_ENDS = ("remove", "user:octocat", "repo:acme/payments-api", "expired")
KEY = {"GRANTOPS_EVIDENCE_KEY": "the-workflow-secret"}


def _honoured(
    start_sandbox: StartSandbox, tmp_path: Path, **env: str
) -> tuple[ReviewedRepo, Sandbox]:
    """octocat's reviewed grant, applied while open: the audit log holds its proof."""
    repo = reviewed(tmp_path / "access", {"g.yaml": GRANT})
    sandbox = start_sandbox(with_access_repo(repo))
    code, document, err = _apply(sandbox, repo.root, OPEN_AT, **env)
    assert code == 0, err
    assert _changes(document) == [("add", "user:octocat", "repo:acme/payments-api", "grant")]
    assert _pushers(sandbox)["octocat"] == "push"
    return repo, sandbox


_again = restarted


# ----- one broken thing never keeps access open -----------------------------------------


def test_an_invalid_file_elsewhere_does_not_stop_an_expiry(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    repo.merge(
        {"grants/typo.yaml": GRANT + "expire: soon\n"}, author="requester", approvers=["alice"]
    )
    code, document, err = _apply(_again(start_sandbox, sandbox, repo), repo.root, LATER)
    assert code == 1, err  # done, and still not fine: a file has an error
    assert _changes(document) == [OCTOCAT_ENDS]
    assert "grants/typo.yaml:7: error: unknown key 'expire'" in err
    assert [p["path"] for p in document["problems"] if p["severity"] == "error"] == [
        "grants/typo.yaml"
    ]


def test_an_unreviewed_policy_change_limits_the_run_to_expiries(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    push = repo.commit({"grants/policy.yaml": POLICY + "# tidy\n"}, "mallory", "Tidy")
    hubot = TOMORROW.replace("octocat", "hubot").replace("payments-api", "ledger")
    repo.merge({"grants/hubot.yaml": hubot}, author="requester", approvers=["alice"])
    sandbox = _again(start_sandbox, sandbox, repo)
    code, document, err = _apply(sandbox, repo.root, LATER)
    assert code == 3, err
    assert _changes(document) == [OCTOCAT_ENDS]
    assert document["limits"] == [
        f"grants/policy.yaml is not proven reviewed (direct push: commit {push[:7]} put this "
        "content on the branch without a merged pull request); only expiries were planned, "
        "with its newest proven version"
    ]
    # hubot's grant is reviewed, but nothing new is decided under an unproven policy
    assert [(c["action"], c["principal"]) for c in document["withheld"]] == [("add", "user:hubot")]
    assert "octocat" not in _pushers(sandbox)
    assert "hubot" not in sandbox.state().repos["ledger"].collaborators


def test_a_policy_whose_review_cannot_be_looked_up_still_lets_access_end(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    pull = repo.merge(
        {"grants/policy.yaml": POLICY + "# reviewed tidy\n"},
        author="security-lead",
        approvers=["ciso"],
    )
    fault = FaultRule(f"GET /repos/acme/access/commits/{pull.merge_commit_sha}/pulls", 502, -1)
    sandbox = _again(start_sandbox, sandbox, repo, faults=[fault])
    code, document, err = _apply(sandbox, repo.root, LATER, *REST)
    assert code == 3, err
    assert _changes(document) == [OCTOCAT_ENDS]
    assert "could not check the review" in document["limits"][0]
    assert "octocat" not in _pushers(sandbox)


@pytest.mark.parametrize(
    ("content", "with_policy_push", "exit_code"),
    [
        (EXTENDED, False, 1),  # "extended" to 2 December, pushed without review: loud
        (EXTENDED, True, 3),  # ... and the policy touched too, so the run is limited
        (GRANT + "expire: never\n", False, 1),  # broken on purpose
        (GRANT + "expire: never\n", True, 3),
    ],
    ids=["extended", "extended-and-policy", "broken", "broken-and-policy"],
)
def test_changing_ones_own_grant_file_does_not_stop_its_expiry(
    start_sandbox: StartSandbox,
    tmp_path: Path,
    content: str,
    with_policy_push: bool,
    exit_code: int,
) -> None:
    """The window that ends access is the proven version's, read from git by its commit."""
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    repo.commit({"grants/g.yaml": content}, "octocat", "Need a bit longer")
    if with_policy_push:
        repo.commit({"grants/policy.yaml": POLICY + "# tidy\n"}, "octocat", "Tidy")
    sandbox = _again(start_sandbox, sandbox, repo)
    code, document, err = _apply(sandbox, repo.root, LATER)
    assert code == exit_code, err
    assert ("remove", "user:octocat", "repo:acme/payments-api", "expired") in _changes(document)
    assert "octocat" not in _pushers(sandbox)
    # both steps of the proof share one listing of the access repository's pull requests
    listings = [e for e in sandbox.exchanges if e.path == "/repos/acme/access/pulls"]
    assert len(listings) == 1


def test_a_version_the_log_names_must_itself_be_proven(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """A forged log line naming an unreviewed commit does not make its removal an expiry."""
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    decoy = HUBOT.replace("2026-11-30T", "2026-11-29T")
    sneak = repo.commit({"grants/decoy.yaml": decoy}, "mallory", "Old grant")
    log = repo.root / "audit" / "log.jsonl"
    events = [json.loads(line) for line in log.read_text().splitlines()]
    approved = next(e for e in events if e["event"] == "grant-approved")
    forged = {**approved, "source": "grants/decoy.yaml", "commit": sneak}
    forged["grantables"] = [["user:hubot", "repo:acme/ledger", "push"]]
    forged["expires"] = "2026-11-29T18:00:00Z"
    from grantops.audit.log import AuditLog

    AuditLog(log).append({k: v for k, v in forged.items() if k not in ("prev", "hash", "mac")})
    state = sandbox.state().model_dump()
    state["repos"]["ledger"]["collaborators"] = {"hubot": "push"}
    state["repos"]["access"] = repo.repo_state().model_dump()
    sandbox.stop()
    sandbox = start_sandbox(state)
    _, document, err = _apply(sandbox, repo.root, LATER)
    assert ("remove", "user:hubot", "repo:acme/ledger", "undeclared") in _changes(document), err


# ----- a flaky API never takes access away ----------------------------------------------


def _lookup_fails(repo: ReviewedRepo, number: int) -> FaultRule:
    return FaultRule(f"GET /repos/acme/access/pulls/{number}/files", 502, times=-1)


def test_a_failed_review_lookup_keeps_a_proven_unchanged_grant(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """The log, anchored by the key, vouches for the proof the lookup cannot repeat."""
    repo, sandbox = _honoured(start_sandbox, tmp_path, **KEY)
    (repo.root / "audit" / "approvals.json").unlink()  # the kept evidence is gone
    sandbox = _again(start_sandbox, sandbox, repo, faults=[_lookup_fails(repo, 2)])
    code, document, err = _apply(sandbox, repo.root, STILL_OPEN, **KEY)
    assert code == 1, err  # access kept, and the run says it could not check
    assert _changes(document) == []
    assert _pushers(sandbox)["octocat"] == "push"
    kept = {(k["principal"], k["target"]): k["reason"] for k in document["kept"]}
    assert kept[("user:octocat", "repo:acme/payments-api")].startswith(
        "kept: the review of grants/g.yaml could not be checked (could not check the review"
    )


def test_without_the_key_a_log_line_alone_keeps_nothing(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Anyone who can push can write a grant-approved line; unvouched, it keeps nothing."""
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    sandbox = _again(start_sandbox, sandbox, repo, faults=[_lookup_fails(repo, 2)])
    code, document, err = _apply(sandbox, repo.root, STILL_OPEN)
    assert code == 1, err
    assert _changes(document) == [
        ("remove", "user:octocat", "repo:acme/payments-api", "undeclared")
    ]


def test_a_failed_lookup_keeps_a_proven_grant_while_its_extension_waits(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    extension = repo.merge({"grants/g.yaml": EXTENDED}, author="requester", approvers=["alice"])
    sandbox = _again(start_sandbox, sandbox, repo, faults=[_lookup_fails(repo, extension.number)])
    code, document, err = _apply(sandbox, repo.root, STILL_OPEN)
    assert code == 1, err
    assert _changes(document) == []
    assert _pushers(sandbox)["octocat"] == "push"
    # once the first version's window closes, the unproven extension gives nothing
    code, document, err = _apply(sandbox, repo.root, LATER)
    assert _changes(document) == [OCTOCAT_ENDS], err


def test_a_refused_grant_is_not_kept_by_its_history(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Only a lookup that failed keeps access; a version refused outright does not."""
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    repo.commit({"grants/g.yaml": EXTENDED}, "octocat", "Need a bit longer")
    code, document, err = _apply(_again(start_sandbox, sandbox, repo), repo.root, STILL_OPEN)
    assert code == 1, err  # the pushed version is on the branch without a valid review
    assert _changes(document) == [
        ("remove", "user:octocat", "repo:acme/payments-api", "undeclared")
    ]


# ----- what must end is read and changed first ------------------------------------------


def test_targets_where_access_ends_are_read_and_changed_first(
    start_sandbox: StartSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one listing at a time, so the order of reads is the order of requests
    monkeypatch.setattr("grantops.github.read.READ_CONCURRENCY", 1)
    repo = reviewed(tmp_path / "access", {"hubot.yaml": HUBOT})
    sandbox = start_sandbox(with_access_repo(repo, BASE_STATE))
    code, _, err = _apply(sandbox, repo.root, OPEN_AT)
    assert code == 0, err
    # payments-api sorts after ledger, deploy-api before it: the expiry must not wait
    repo.merge({"grants/g.yaml": TOMORROW}, author="requester", approvers=["alice"])
    sandbox = _again(start_sandbox, sandbox, repo)
    # REST reads one target a listing at a time (GraphQL reads a hundred in one query)
    code, document, err = _apply(sandbox, repo.root, LATER, "--read-api", "rest")
    assert code == 0, err
    assert [c[:2] for c in _changes(document)] == [
        ("remove", "user:hubot"),
        ("add", "user:octocat"),
    ]
    listings = [
        e.path for e in sandbox.exchanges if e.method == "GET" and e.path.endswith("/collaborators")
    ]
    assert listings[0] == "/repos/acme/ledger/collaborators"


def test_a_short_rate_limit_still_ends_access_on_time(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Reading 80 more repositories would spend the budget the expiry needs: they wait."""
    repo = reviewed(tmp_path / "access", {"g.yaml": GRANT})
    state = with_access_repo(repo)
    state["repos"].update({f"deploy-{n:02d}": {} for n in range(80)})
    sandbox = start_sandbox(state)
    code, _, err = _apply(sandbox, repo.root, OPEN_AT)
    assert code == 0, err
    sandbox = _again(start_sandbox, sandbox, repo, rate_limit=230)
    # the REST budget: a listing per repository (GraphQL's points are tested apart)
    code, document, err = _apply(sandbox, repo.root, LATER, "--read-api", "rest")
    assert code == 1, err  # access ended; the rest was not read and the run says so
    assert _changes(document) == [OCTOCAT_ENDS]
    assert "octocat" not in _pushers(sandbox)
    skipped = [t for t, why in document["unreadable"].items() if "kept for changes" in why]
    assert len(skipped) > 20
    assert "repo:acme/payments-api" not in document["unreadable"]


def test_an_org_that_cannot_be_read_still_has_its_expiries_removed(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    owners_fail = FaultRule("GET /orgs/acme/members", 502, times=-1)
    sandbox = _again(start_sandbox, sandbox, repo, faults=[owners_fail])
    code, document, err = _apply(sandbox, repo.root, LATER)
    assert code == 1, err
    assert _changes(document) == [OCTOCAT_ENDS]
    assert "octocat" not in _pushers(sandbox)
    reasons = set(document["unreadable"].values())
    assert len(reasons) == 1 and reasons.pop().startswith("the org could not be read")
    # repositories the policy names only by glob cannot be named without the listing
    assert "repo:acme/deploy-api" not in document["unreadable"]


def test_when_grantops_cannot_tell_its_own_account_it_only_makes_expiries(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    state = sandbox.state().model_dump()
    state["repos"]["ledger"]["collaborators"] = {"mona": "push"}  # drift, left for later
    state["repos"]["access"] = repo.repo_state().model_dump()
    sandbox = start_sandbox(state, faults=[FaultRule("GET /user", 502, times=-1)])
    code, document, err = _apply(sandbox, repo.root, LATER)
    assert code == 3, err
    assert _changes(document) == [OCTOCAT_ENDS]
    assert [(c["action"], c["principal"]) for c in document["withheld"]] == [
        ("remove", "user:mona")
    ]
    assert document["limits"][0].startswith("the token's own account could not be read")


# ----- what an attacker with push access tried ------------------------------------------

TIDY = {"grants/policy.yaml": POLICY + "# tidy\n"}
"""A one-line policy change pushed without review: the run is limited to expiries."""


def _log(repo: ReviewedRepo) -> Path:
    return repo.root / "audit" / "log.jsonl"


@pytest.mark.parametrize("tamper", ["delete", "truncate", "forge"])
def test_no_edit_of_the_log_keeps_access_past_its_reviewed_window(
    start_sandbox: StartSandbox, tmp_path: Path, tamper: str
) -> None:
    """Expiries rest on git and the reviews: the log can be cut, deleted or forged."""
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    sneak = repo.commit({"grants/g.yaml": EXTENDED}, "octocat", "Need a bit longer")
    repo.commit(TIDY, "octocat", "Tidy")
    lines = _log(repo).read_text().splitlines(keepends=True)
    if tamper == "delete":
        _log(repo).unlink()
    elif tamper == "truncate":
        cut = next(i for i, line in enumerate(lines) if '"grant-approved"' in line)
        _log(repo).write_text("".join(lines[:cut]))
    else:  # a well-chained line naming the pushed version as the newest proven one
        approved = next(json.loads(line) for line in lines if '"grant-approved"' in line)
        body = {k: v for k, v in approved.items() if k not in ("prev", "hash", "mac")}
        AuditLog(_log(repo)).append({**body, "commit": sneak})
    sandbox = _again(start_sandbox, sandbox, repo)
    for now in (LATER, "2027-06-01T12:00:00Z"):
        code, document, err = _apply(sandbox, repo.root, now)
        assert code == 3, err
        assert "octocat" not in _pushers(sandbox)
    assert document["changes"] == [] or _changes(document) == [OCTOCAT_ENDS]


CREW = [f"crew{i:02d}" for i in range(11)]


def test_tripping_the_brakes_does_not_stop_an_expiry(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Deleting eleven colleagues' open grants trips the brakes; one's own grant still ends."""
    long = GRANT.replace("2026-11-30T18:00:00Z", "2026-12-03T08:00:00Z")
    grants = {"g.yaml": GRANT}
    grants |= {
        f"{c}.yaml": long.replace("octocat", c).replace("payments-api", "ledger") for c in CREW
    }
    repo = reviewed(tmp_path / "access", grants)
    state = with_access_repo(repo)
    state["members"] = [*state["members"], *CREW]
    sandbox = start_sandbox(state)
    assert _apply(sandbox, repo.root, OPEN_AT)[0] == 0
    repo.commit({}, "octocat", "Tidy", remove=[f"grants/{c}.yaml" for c in CREW])
    sandbox = _again(start_sandbox, sandbox, repo)
    code, document, err = _apply(sandbox, repo.root, LATER)
    assert code == 3, err
    assert document["limits"][0].startswith("the removal brakes refused the plan (11 undeclared")
    assert _changes(document) == [OCTOCAT_ENDS]
    assert "octocat" not in _pushers(sandbox)
    assert sandbox.state().repos["ledger"].collaborators == dict.fromkeys(CREW, "push")


def test_a_held_grant_is_not_ended_by_another_grant_of_the_same_access(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """a.yaml has ended, b.yaml still gives the same access but cannot be checked."""
    repo = reviewed(tmp_path / "access", {"a.yaml": GRANT, "b.yaml": EXTENDED})
    sandbox = start_sandbox(with_access_repo(repo))
    assert _apply(sandbox, repo.root, OPEN_AT, **KEY)[0] == 0
    (repo.root / "audit" / "approvals.json").unlink()
    sandbox = _again(start_sandbox, sandbox, repo, faults=[_lookup_fails(repo, 3)])
    code, document, err = _apply(sandbox, repo.root, LATER, **KEY)
    assert code == 1, err
    assert _changes(document) == []
    assert _pushers(sandbox)["octocat"] == "push"


def test_with_no_proven_policy_its_protected_list_shields_nobody(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    shield = POLICY.replace("protected: [acme-admin-bot]", "protected: [acme-admin-bot, octocat]")
    repo.commit({"grants/policy.yaml": shield}, "octocat", "Protect")
    # the policy's one review cannot be looked up, and no evidence was kept
    policy_merge = repo.pulls[0].merge_commit_sha
    fault = FaultRule(f"GET /repos/acme/access/commits/{policy_merge}/pulls", 502, times=-1)
    sandbox = _again(start_sandbox, sandbox, repo, faults=[fault])
    code, document, err = _apply(sandbox, repo.root, LATER, *REST)
    assert code == 3, err
    assert "without its protected accounts and baseline" in document["limits"][0]
    assert _changes(document) == [OCTOCAT_ENDS]
    assert "octocat" not in _pushers(sandbox)


def test_a_flood_of_unreviewed_grant_files_cannot_spend_the_budget_expiries_need(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Each pushed file costs a lookup to judge; judging stops with budget to spare."""
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    decoy = TOMORROW.replace("octocat", "mallory").replace("payments-api", "ledger")
    for n in range(300):  # one commit each: every one is its own lookup
        repo.commit({f"grants/flood/{n:04d}.yaml": decoy}, "mallory", f"decoy {n}")
    sandbox = _again(start_sandbox, sandbox, repo, rate_limit=400)
    code, document, err = _apply(sandbox, repo.root, LATER)
    assert code == 1, err  # most decoys are left undecided, and the run says so
    assert "kept for changes" in json.dumps(document["unapproved"])
    assert _changes(document) == [OCTOCAT_ENDS]
    assert "octocat" not in _pushers(sandbox)


ESCAPED = {
    "hex": GRANT.replace("user: octocat", 'user: "octo\\x63at"'),
    "unicode": GRANT.replace("user: octocat", 'user: "\\u006fctocat"'),
    "continuation": GRANT.replace("user: octocat", 'user: "octo\\\n  cat"'),
}


@pytest.mark.parametrize("form", sorted(ESCAPED))
def test_a_login_spelt_with_escapes_still_ends_on_time(
    start_sandbox: StartSandbox, tmp_path: Path, form: str
) -> None:
    """Versions are skipped unread only when no escape could spell the name."""
    repo = reviewed(tmp_path / "access", {"g.yaml": ESCAPED[form]})
    sandbox = start_sandbox(with_access_repo(repo))
    assert _apply(sandbox, repo.root, OPEN_AT)[0] == 0
    repo.commit(TIDY, "octocat", "Tidy")  # the run is limited: only expiries
    sandbox = _again(start_sandbox, sandbox, repo)
    code, document, err = _apply(sandbox, repo.root, LATER)
    assert code == 3, err
    assert _changes(document) == [OCTOCAT_ENDS]


INTRUDERS = [f"intruder{n:02d}" for n in range(12)]


def _merged_late(repo: ReviewedRepo, files: dict[str, str]) -> None:
    repo.merge(files, author="mallory", approvers=["alice"], merged_at="2026-11-30T08:00:00Z")


def _pushed_backdated(repo: ReviewedRepo, files: dict[str, str]) -> None:
    _fast_forwarded(repo, files, "2026-11-29T10:00:00Z", "2026-11-30T08:00:00Z")


@pytest.mark.parametrize("land", [_merged_late, _pushed_backdated], ids=["merged", "backdated"])
def test_a_reviewed_grant_merged_after_its_window_ended_gave_nothing(
    start_sandbox: StartSandbox,
    tmp_path: Path,
    land: Callable[[ReviewedRepo, dict[str, str]], None],
) -> None:
    """A harmless-looking PR of old, ended grants does not wave removals past the brakes,
    nor does its commit backdated into their windows: GitHub's merged_at decides."""
    old = HUBOT.replace("2026-11-30T", "2026-11-29T")  # ended 29 November, 18:00
    repo = reviewed(tmp_path / "access", {})
    land(repo, {f"grants/{login}/old.yaml": old.replace("hubot", login) for login in INTRUDERS})
    state = with_access_repo(repo)
    state["members"] = [*state["members"], *INTRUDERS]
    state["repos"]["ledger"] = {"collaborators": dict.fromkeys(INTRUDERS, "push")}
    sandbox = start_sandbox(state)
    code, document, err = _apply(sandbox, repo.root, OPEN_AT)
    assert code == 3, err
    assert document["limits"][0].startswith("the removal brakes refused the plan (12 undeclared")
    assert {c["cause"] for c in document["withheld"]} == {"undeclared"}
    assert sandbox.state().repos["ledger"].collaborators == dict.fromkeys(INTRUDERS, "push")


def test_pushed_decoy_versions_are_judged_after_reviewed_ones(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Sixty ended decoys naming the grantee, each a lookup, cannot crowd out the expiry."""
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    repo.commit(TIDY, "octocat", "Tidy")
    decoy = GRANT.replace("2026-11-30T", "2026-11-29T")
    for n in range(60):
        repo.commit({"grants/aaa.yaml": decoy.replace("hotfix", f"hotfix {n}")}, "octocat", "d")
    repo.commit({}, "octocat", "rm", remove=["grants/aaa.yaml"])
    sandbox = _again(start_sandbox, sandbox, repo, rate_limit=60)
    code, document, err = _apply(sandbox, repo.root, LATER)
    assert code == 3, err
    assert _changes(document) == [OCTOCAT_ENDS]
    assert "octocat" not in _pushers(sandbox)


def test_history_blobs_are_sized_before_any_is_read(tmp_path: Path) -> None:
    """Sizes come first, so a version bigger than any grant file is never read."""
    repo = new_access_repo(tmp_path / "access")
    small = repo.commit({"grants/a.yaml": GRANT}, "x", "small")
    big = repo.commit({"grants/a.yaml": "x" * (MAX_FILE_BYTES + 1)}, "x", "big")
    blobs = {sha: repo.git("rev-parse", f"{sha}:grants/a.yaml").strip() for sha in (small, big)}
    sizes = blob_sizes(repo.root, [*blobs.values(), "0" * 40])
    assert sizes == {blobs[small]: len(GRANT), blobs[big]: MAX_FILE_BYTES + 1}
    with Blobs(repo.root) as reader:
        assert reader.read(blobs[small]) == GRANT.encode()


def test_an_expiry_that_cannot_be_checked_is_said_and_counts_as_drift(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, sandbox = _honoured(start_sandbox, tmp_path)
    sandbox = _again(start_sandbox, sandbox, repo, faults=[_lookup_fails(repo, 2)])
    code, document, err = _apply(sandbox, repo.root, LATER)
    assert code == 1, err
    assert "WARNING: could not check whether access ended: grants/g.yaml at" in err
    assert _changes(document) == [
        ("remove", "user:octocat", "repo:acme/payments-api", "undeclared")
    ]


def _fast_forwarded(
    repo: ReviewedRepo, files: dict[str, str], committed: str, merged_at: str
) -> None:
    """A reviewed PR 'merged' by pushing its approved head to main: GitHub marks it
    merged (at ``merged_at``, by its clock) with its head as the merge commit, whose
    date is whatever the pusher set (``committed``)."""
    number = len(repo.pulls) + 1
    repo.git("switch", "--quiet", "-c", f"pr-{number}")
    head = repo.commit(files, "mallory", f"Grant request #{number}", date=committed)
    repo.git("switch", "--quiet", "main")
    repo.git("merge", "--quiet", "--ff-only", head)
    repo.pulls.append(
        PullState(
            number=number,
            author="mallory",
            head_ref=f"pr-{number}",
            head_sha=head,
            merged_at=merged_at,
            merge_commit_sha=head,
            commits=[CommitState(sha=head, author="mallory", committer="mallory")],
            reviews=[ReviewState(user="alice", state="APPROVED", commit_id=head)],
            files={path: repo.git("rev-parse", f"{head}:{path}").strip() for path in files},
        )
    )
    repo.writers.add("alice")


def test_a_commit_dated_after_the_window_does_not_stop_the_expiry(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """When a version reached the branch is GitHub's merged_at, never a commit's date."""
    repo = reviewed(tmp_path / "access", {})
    mine = GRANT.replace("octocat", "hubot")
    _fast_forwarded(repo, {"grants/g.yaml": mine}, "2026-12-31T00:00:00Z", "2026-11-30T08:00:00Z")
    sandbox = start_sandbox(with_access_repo(repo))
    assert _apply(sandbox, repo.root, OPEN_AT)[0] == 0
    assert _pushers(sandbox)["hubot"] == "push"
    repo.commit(TIDY, "hubot", "Tidy")
    sandbox = _again(start_sandbox, sandbox, repo)
    code, document, err = _apply(sandbox, repo.root, LATER)
    assert code == 3, err
    assert _changes(document) == [("remove", "user:hubot", "repo:acme/payments-api", "expired")]
