"""Grant file names that are not UTF-8: refused by name, and never the end of a run.

Anyone who can land one file under ``grants/`` (a direct push, or a reviewed pull
request whose odd name the approver does not notice) chooses its name, and a name may
hold any byte but ``/``. Python reads a byte that is not UTF-8 as a lone surrogate
(``surrogateescape``), which cannot be written as UTF-8: it crashed the audit log's
hash on the first line that named the file, before any change was made, so no expiry
was ever made while the file stayed. The loader now refuses such a name as a problem of
that file; every sink escapes lone surrogates; and the log writes them as escapes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from grantops.access import Principal, Target
from grantops.audit.log import AuditLog, verify
from grantops.constants import EVIDENCE_PATH, LOG_PATH, REPORT_PATH
from grantops.github.fake import FakeGitHub
from grantops.load import read_tree, scan
from grantops.proof.prover import AccessRepo
from grantops.run import Run, RunSettings
from grantops.sandbox.fixtures import SandboxState
from grantops.sandbox.reviewed import ReviewedRepo

from .conftest import WriteRepo
from .data import GRANT, NOW
from .sandbox_fixtures import BASE_STATE, reviewed, with_access_repo

ACCESS = AccessRepo("acme", "access", "main")
KEY = b"k" * 32
OCTOCAT = (Principal.user("octocat"), Target.repo("acme", "payments-api"))
ENDED = GRANT.replace("2026-11-30T09:00:00Z", "2026-11-29T09:00:00Z").replace(
    "2026-11-30T18:00:00Z", "2026-11-29T18:00:00Z"
)
MALLORY = GRANT.replace("octocat", "mallory")
ODD = "\udcff"
"""The byte ``\\xff`` in a name, as Python reads it from the file system and from git."""
REFUSED = "a name that is not UTF-8 (each byte that is not, shown as \\xNN), so it was not read"


def _with_octocat() -> dict[str, Any]:
    state = copy.deepcopy(BASE_STATE)
    state["repos"]["payments-api"]["collaborators"]["octocat"] = "push"
    return state


def _github(repo: ReviewedRepo) -> FakeGitHub:
    world = SandboxState.model_validate(with_access_repo(repo, _with_octocat()))
    return FakeGitHub.from_state(world, NOW)


def _run(repo: ReviewedRepo, github: FakeGitHub) -> Run:
    return Run(RunSettings(root=repo.root, now=NOW, repo=ACCESS, key=KEY), github)


def _log(root: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (root / LOG_PATH).read_text().splitlines()]


def _collaborators(github: FakeGitHub) -> dict[str, str]:
    return github.world.to_state().repos["payments-api"].collaborators


# ----- the loader ----------------------------------------------------------------------


def test_a_name_that_is_not_utf8_is_refused_by_name(write_repo: WriteRepo) -> None:
    """Shown with ``\\xff`` for the odd byte; names in UTF-8 still count, even one that
    reads the same."""
    grants = {"équipe/naïve.yaml": GRANT, "a\\xff.yaml": GRANT, f"a{ODD}.yaml": MALLORY}
    tree = read_tree(write_repo(grants), NOW)
    assert [str(p) for p in tree.errors] == [f"grants/a\\xff.yaml:1: error: {REFUSED}"]
    assert sorted(g.path for g in tree.grants) == ["grants/a\\xff.yaml", "grants/équipe/naïve.yaml"]
    assert {p for g in tree.grants for p, _t, _l in g.grantables("acme")} == {OCTOCAT[0]}


def test_a_folder_whose_name_is_not_utf8_is_refused_whole(write_repo: WriteRepo) -> None:
    """Nothing below it is listed, so no path that holds the odd byte is ever made."""
    root = write_repo({"ok.yaml": GRANT, f"team{ODD}/mallory.yaml": MALLORY})
    layout = scan(root)
    assert layout.grants == ("grants/ok.yaml",)
    assert [str(p) for p in layout.problems] == [f"grants/team\\xff:1: error: {REFUSED}"]


# ----- whole runs ----------------------------------------------------------------------


def test_an_unapproved_grant_with_such_a_name_does_not_stop_an_expiry(tmp_path: Path) -> None:
    """An open grant nobody approved is logged as ``grant-unapproved`` with its path:
    that line crashed the log before any change, so octocat's access never ended."""
    repo = reviewed(tmp_path / "access", {"octocat.yaml": ENDED})
    repo.commit({f"grants/mallory/{ODD}.yaml": MALLORY}, "mallory", "add a grant")
    github = _github(repo)
    run = _run(repo, github)
    planned = run.plan()
    assert [(c.action, c.cause) for c in planned.plan.changes] == [("remove", "expired")]
    assert [str(p) for p in planned.problems if p.severity == "error"] == [
        f"grants/mallory/\\xff.yaml:1: error: {REFUSED}"
    ]
    run.apply(planned)
    assert "octocat" not in _collaborators(github)
    assert verify(repo.root / LOG_PATH, KEY).trusted
    assert _log(repo.root)[-1]["event"] == "run-end"


def test_an_ended_grant_with_such_a_name_does_not_crash_the_aftermath(tmp_path: Path) -> None:
    """An ended grant is honoured without review, so its path reached the activity
    record and report.md after the changes: run-end, the report and the kept evidence
    were never written."""
    repo = reviewed(tmp_path / "access", {"octocat.yaml": ENDED})
    repo.commit({f"grants/mallory/{ODD}.yaml": ENDED.replace("octocat", "mallory")}, "mallory", "x")
    github = _github(repo)
    run = _run(repo, github)
    run.apply(run.plan())
    assert "octocat" not in _collaborators(github)
    assert (repo.root / REPORT_PATH).exists() and (repo.root / EVIDENCE_PATH).exists()
    assert _log(repo.root)[-1]["event"] == "run-end"
    assert verify(repo.root / LOG_PATH, KEY).trusted


# ----- the log's last line of defence ----------------------------------------------------


def test_the_log_writes_a_lone_surrogate_as_its_escape_and_still_verifies(tmp_path: Path) -> None:
    """Whatever reaches it, from a git path or a JSON answer, append never raises, and
    verify computes the same digest over the line that was written."""
    path = tmp_path / "audit" / "log.jsonl"
    log = AuditLog(path, KEY)
    log.append({"event": "grant-unapproved", "source": f"grants/{ODD}.yaml", "reason": "\ud800"})
    log.append({"event": "note", "nested": {f"k{ODD}": [f"a{ODD}", 1]}})
    assert path.read_bytes().decode("utf-8")  # text, all of it
    first, second = _log(tmp_path)
    assert first["source"] == "grants/\\udcff.yaml" and first["reason"] == "\\ud800"
    assert second["nested"] == {"k\\udcff": ["a\\udcff", 1]}
    result = verify(path, KEY)
    assert result.trusted and result.lines == 2
    AuditLog(path, KEY).append({"event": "note"})  # the chain goes on from what was written
    assert verify(path, KEY).trusted
