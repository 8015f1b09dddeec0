"""Brakes see through decoys: a grant file that says it has ended proves nothing alone.

Removing expired access never counts toward the removal brakes. Someone with push
access to the access repository could push, without review, grant files that are
already expired and name people nobody declared, so that removing them passes as a
routine wave of expiries. With approval proof on, a removal is an expiry only when a
run proved that grant while it held (the audit log's ``grant-approved``); everything
else is undeclared and counts. A real git repository, the sandbox GitHub, the CLI.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from grantops.audit.log import AuditLog, verify
from grantops.constants import LOG_PATH
from grantops.sandbox import FaultRule, Sandbox
from grantops.sandbox.reviewed import ReviewedRepo

from .data import GRANT
from .sandbox_fixtures import BASE_STATE, StartSandbox, access_env, reviewed, with_access_repo
from .test_cli import run

OPEN_AT = "2026-11-30T12:00:00Z"
"""GRANT's window is 2026-11-30 09:00 to 18:00."""
LATER = "2026-12-01T12:00:00Z"
INTRUDERS = [f"intruder{i:02d}" for i in range(12)]
CREW = [f"crew{i:02d}" for i in range(12)]
FAST = ["--yes", "--json", "--mutation-interval", "0"]
MAX_REMOVALS = "12 undeclared removals > max 10 (safety.max_removals)"


def _on_ledger(login: str) -> str:
    return GRANT.replace("octocat", login).replace("payments-api", "ledger")


def _expired(login: str) -> str:
    """A grant file whose window closed before anyone could have reviewed it."""
    return _on_ledger(login).replace("2026-11-30T", "2026-11-29T")


def _state(on_ledger: list[str]) -> dict[str, Any]:
    state = copy.deepcopy(BASE_STATE)
    state["members"] = [*state["members"], *INTRUDERS, *CREW]
    state["repos"]["ledger"] = {"collaborators": dict.fromkeys(on_ledger, "push")}
    return state


def _apply(sandbox: Sandbox, root: Path, now: str, *extra: str) -> tuple[int, Any, str]:
    argv = ["apply", "--root", str(root), "--now", now, *FAST, *extra]
    code, out, err = run(*argv, environ=access_env(sandbox.url))
    return code, json.loads(out), err


def _removals(document: Any) -> dict[str, str]:
    """Who the plan removes from ledger (or would, but withholds), and with which cause."""
    return {
        c["principal"].removeprefix("user:"): c["cause"]
        for c in (*document["changes"], *document["withheld"])
        if c["action"] == "remove" and c["target"] == "repo:acme/ledger"
    }


BRAKED = "the removal brakes refused the plan (12 undeclared removals > max 10"


def _refusals(document: Any) -> list[str]:
    return [r["message"] for r in document["safety"]["refusals"]]


def _assert_decoys_refused(sandbox: Sandbox, root: Path) -> None:
    """Every decoy's removal counts as undeclared: the brakes refuse, nothing changes."""
    before = sandbox.state()
    code, document, err = _apply(sandbox, root, OPEN_AT)
    assert code == 3, err
    assert MAX_REMOVALS in _refusals(document)
    assert document["limits"][0].startswith(BRAKED)  # expiries only, and there are none
    assert document["changes"] == []
    assert _removals(document) == dict.fromkeys(INTRUDERS, "undeclared")
    assert sandbox.state() == before


def test_expired_grants_pushed_without_review_do_not_hide_removals_from_the_brakes(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = reviewed(tmp_path / "access", {})
    repo.commit(
        {f"grants/{login}/old.yaml": _expired(login) for login in INTRUDERS},
        "mallory",
        "Record some old grants",
    )
    sandbox = start_sandbox(with_access_repo(repo, _state(INTRUDERS)))
    _assert_decoys_refused(sandbox, repo.root)


def _proven_crew(start_sandbox: StartSandbox, tmp_path: Path) -> tuple[ReviewedRepo, Sandbox]:
    """Twelve reviewed grants, honoured by an apply while open: the log holds their proof."""
    grants = {f"{login}/ledger.yaml": _on_ledger(login) for login in CREW}
    repo = reviewed(tmp_path / "access", grants)
    sandbox = start_sandbox(with_access_repo(repo, _state([])))
    code, _, err = _apply(sandbox, repo.root, OPEN_AT)
    assert code == 0, err
    assert sandbox.state().repos["ledger"].collaborators == dict.fromkeys(CREW, "push")
    return repo, sandbox


def test_a_wave_of_proven_grants_expiring_does_not_trip_the_brakes(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, sandbox = _proven_crew(start_sandbox, tmp_path)
    code, document, err = _apply(sandbox, repo.root, LATER)
    assert code == 0, err
    assert _refusals(document) == []
    assert _removals(document) == dict.fromkeys(CREW, "expired")
    assert sandbox.state().repos["ledger"].collaborators == {}


def test_decoys_among_a_wave_of_proven_expiries_still_count(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo, first = _proven_crew(start_sandbox, tmp_path)
    # After that run, twelve people get push on ledger by hand, and someone pushes
    # expired grant files naming them, hoping they go out with the crew's expiries.
    state = first.state().model_dump()
    state["repos"]["ledger"]["collaborators"].update(dict.fromkeys(INTRUDERS, "push"))
    sandbox = start_sandbox(state)
    repo.commit(
        {f"grants/{login}/old.yaml": _expired(login) for login in INTRUDERS},
        "mallory",
        "Record some old grants",
    )
    code, document, err = _apply(sandbox, repo.root, LATER)
    assert code == 3, err
    assert MAX_REMOVALS in _refusals(document)
    assert _removals(document) == {
        **dict.fromkeys(CREW, "expired"),
        **dict.fromkeys(INTRUDERS, "undeclared"),
    }
    # the brakes hold the decoys back, but the crew's access still ends on time
    assert [c["cause"] for c in document["changes"]] == ["expired"] * len(CREW)
    remaining = sandbox.state().repos["ledger"].collaborators
    assert remaining == dict.fromkeys(INTRUDERS, "push")


def test_a_decoy_on_a_repo_that_could_not_be_read_removes_nobody(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """Only proven expiries are removed blindly; this one is undeclared, so it waits."""
    repo = reviewed(tmp_path / "access", {})
    repo.commit({"grants/old.yaml": _expired("intruder00")}, "mallory", "Record an old grant")
    fault = FaultRule("GET /repos/acme/ledger/collaborators", 502, times=-1)
    state = with_access_repo(repo, _state(["intruder00"]))
    # GraphQL refuses ledger, so its collaborators are listed through REST
    sandbox = start_sandbox(state, faults=[fault], graphql_forbidden=["repository:ledger"])
    code, document, _ = _apply(sandbox, repo.root, OPEN_AT, "--attempts", "1")
    assert code == 1
    assert list(document["unreadable"]) == ["repo:acme/ledger"]
    assert document["changes"] == []
    assert sandbox.state().repos["ledger"].collaborators == {"intruder00": "push"}


def test_forged_grant_approved_lines_in_the_log_do_not_make_decoys_expiries(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """The log's hash chain has no key: a pushed run claiming the decoys were proven
    gives nothing, because an expiry needs a version of the grant file proven reviewed."""
    repo = reviewed(tmp_path / "access", {})
    log = AuditLog(repo.root / LOG_PATH)
    at = "2026-11-29T08:00:00Z"
    log.append({"ts": at, "run": "r1", "event": "run-start", "now": at, "org": "acme"})
    for login in INTRUDERS:
        log.append(
            {
                "ts": at,
                "run": "r1",
                "event": "grant-approved",
                "source": f"grants/{login}/old.yaml",
                "commit": "0" * 40,
                "pull": 7,
                "approvers": ["alice"],
                "expires": "2026-11-29T18:00:00Z",
                "grantables": [[f"user:{login}", "repo:acme/ledger", "push"]],
            }
        )
    assert verify(repo.root / LOG_PATH).ok  # a well-chained forgery
    repo.git("add", "audit")
    repo.commit(
        {f"grants/{login}/old.yaml": _expired(login) for login in INTRUDERS},
        "mallory",
        "Backfill old grants",
    )
    sandbox = start_sandbox(with_access_repo(repo, _state(INTRUDERS)))
    _assert_decoys_refused(sandbox, repo.root)
