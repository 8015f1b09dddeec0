"""A grant file deleted while the invitation it sent is still pending: the invitation is
cancelled on the next run, not left for the invitee to accept until the repository's
turn in the invitation sweep."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grantops.sandbox import Sandbox

from .data import GRANT
from .sandbox_fixtures import StartSandbox, access_env, restarted, reviewed, with_access_repo
from .test_cli import run

OPEN_AT = "2026-11-30T12:00:00Z"
REVOKED_AT = "2026-11-30T13:00:00Z"
STILL_OPEN = "2026-11-30T15:00:00Z"
"""payments-api's sweep turn is at 03:48 each day: not due between 12:00 and 18:00."""
FAST = ["--yes", "--json", "--mutation-interval", "0", "--attempts", "1"]
OUTSIDER = GRANT.replace("octocat", "carol")


def _apply(sandbox: Sandbox, root: Path, now: str) -> tuple[int, Any, str]:
    argv = ["apply", "--root", str(root), "--now", now, *FAST]
    code, out, err = run(*argv, environ=access_env(sandbox.url))
    return code, json.loads(out), err


def test_a_revoked_grants_pending_invitation_is_cancelled_at_once(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = reviewed(tmp_path / "access", {"g.yaml": OUTSIDER})
    sandbox = start_sandbox(with_access_repo(repo))
    code, first, err = _apply(sandbox, repo.root, OPEN_AT)
    assert code == 0, (err, first)
    assert "carol" in sandbox.state().repos["payments-api"].invitations  # sent, pending
    repo.merge({}, "requester", ["alice"], remove=["grants/g.yaml"], merged_at=REVOKED_AT)
    sandbox = restarted(start_sandbox, sandbox, repo)
    code, document, err = _apply(sandbox, repo.root, STILL_OPEN)
    assert code == 0, err
    pending = "carol" in sandbox.state().repos["payments-api"].invitations
    # the revoked invitee accepts (she can until payments-api's turn, 03:48 next day)
    sandbox.world.accept_invitations("carol")
    gained = sandbox.state().repos["payments-api"].collaborators.get("carol")
    assert (pending, gained) == (False, None), document
