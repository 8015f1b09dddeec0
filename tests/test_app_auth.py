"""grantops as a GitHub App: its own installation tokens, minted and renewed over real HTTP.

The sandbox plays GitHub's side: it checks the App's JWT against the public key and
GitHub's rules, issues ``ghs_`` tokens that expire, and refuses expired ones. Time is
a shared clock both sides read, moved by the test instead of slept through.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from functools import cache
from pathlib import Path
from typing import Any

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from grantops.github import GitHub, GitHubError, RetryPolicy
from grantops.github.appauth import PERMISSIONS, AppCredentials, AppTokens
from grantops.load import load_policy_text
from grantops.sandbox import Sandbox
from grantops.sandbox.appauth import AppSettings
from grantops.sandbox.server import FaultRule

from .conftest import GRANT
from .data import POLICY
from .sandbox_fixtures import StartSandbox, live_repo
from .test_cli import run

AT = "2026-11-30T12:00:00Z"
APP_ID = 4242
START = 1_800_000_000.0


@cache
def keys(which: int = 0) -> tuple[str, str]:
    """A fresh RSA key pair (PEM private, PEM public); ``which`` picks another pair."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class Clock:
    """Time both the sandbox and the client read; each reading moves it on by ``tick``."""

    def __init__(self, tick: float = 0.0) -> None:
        self.now, self.tick = START, tick
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self.now += self.tick
            return self.now


def app(lifetime: int = 3600) -> AppSettings:
    return AppSettings(APP_ID, keys()[1], installation=7, token_lifetime=lifetime)


def app_env(url: str, key: str | None = None, **extra: str) -> dict[str, str]:
    return {
        "GRANTOPS_APP_ID": str(APP_ID),
        "GRANTOPS_APP_PRIVATE_KEY": keys()[0] if key is None else key,
        "GITHUB_API_URL": url,
        "GITHUB_REPOSITORY": "acme/access",
        **extra,
    }


def tokens_for(sandbox: Sandbox, clock: Clock, key: str | None = None) -> AppTokens:
    credentials = AppCredentials(str(APP_ID), keys()[0] if key is None else key)
    return AppTokens(sandbox.url, credentials, "acme", clock=clock)


def minted(sandbox: Sandbox) -> list[Any]:
    return [e for e in sandbox.exchanges if e.operation == "apps/create-installation-access-token"]


def refused(sandbox: Sandbox) -> list[str]:
    return [f"{e.method} {e.path} {e.status}" for e in sandbox.exchanges if e.status == 401]


# ----- the CLI, end to end ------------------------------------------------------------


@pytest.mark.parametrize("key_in", ["text", "file"])
def test_plan_runs_as_the_app(start_sandbox: StartSandbox, tmp_path: Path, key_in: str) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT}, app=app())
    environ = app_env(sandbox.url)
    if key_in == "file":
        (tmp_path / "app.pem").write_text(environ.pop("GRANTOPS_APP_PRIVATE_KEY"))
        environ["GRANTOPS_APP_PRIVATE_KEY_FILE"] = str(tmp_path / "app.pem")
    code, out, err = run(
        "plan", "--root", str(root), "--now", AT, "--detailed-exitcode", environ=environ
    )
    assert code == 4, err
    assert "user:octocat" in out
    [token] = minted(sandbox)
    assert token.status == 201 and token.body["permissions"] == PERMISSIONS
    assert refused(sandbox) == []
    assert keys()[0] not in out + err and token.body["token"] not in out + err


def test_a_wrong_key_is_refused_clearly_and_changes_nothing(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT}, app=app())
    before = sandbox.state()
    other = keys(1)[0]
    code, out, err = run(
        "apply", "--yes", "--root", str(root), "--now", AT, environ=app_env(sandbox.url, other)
    )
    assert (code, out) == (1, "")  # stopped before reading anything
    assert err.count("A JSON web token could not be decoded") == 1
    assert "the App's JWT was refused" in err
    assert sandbox.state() == before and minted(sandbox) == []
    assert other not in out + err


def test_an_unreadable_key_is_named_and_never_shown(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT}, app=app())
    garbage = (
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ1dC1ub3QtYS1rZXk=\n-----END PRIVATE KEY-----\n"
    )
    code, out, err = run(
        "plan", "--root", str(root), "--now", AT, environ=app_env(sandbox.url, garbage)
    )
    assert (code, out) == (2, "")
    assert f"the GitHub App {APP_ID}'s private key is not a readable RSA key" in err
    assert "c2VjcmV0" not in out + err
    assert sandbox.exchanges == []


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"GITHUB_TOKEN": "t"}, "both GITHUB_TOKEN/GH_TOKEN and GRANTOPS_APP_ID"),
        ({"GH_TOKEN": "t"}, "set one, a token or the GitHub App's credentials"),
        ({"GRANTOPS_APP_ID": "my-app"}, "GRANTOPS_APP_ID must be the GitHub App's numeric id"),
        ({"GRANTOPS_APP_PRIVATE_KEY": ""}, "set GRANTOPS_APP_PRIVATE_KEY to the App's private"),
        ({"GRANTOPS_APP_PRIVATE_KEY_FILE": "k.pem"}, "not both"),
    ],
)
def test_credentials_that_do_not_add_up_are_usage_errors(
    tmp_path: Path, change: dict[str, str], said: str
) -> None:
    environ = {**app_env("http://127.0.0.1:9"), **change}
    code, out, err = run("plan", "--root", str(tmp_path), "--now", AT, environ=environ)
    assert (code, out) == (2, "")
    assert said in err
    assert keys()[0] not in err


def test_an_unreadable_key_file_is_a_usage_error(tmp_path: Path) -> None:
    environ = app_env("http://127.0.0.1:9", GRANTOPS_APP_PRIVATE_KEY_FILE=str(tmp_path / "no.pem"))
    del environ["GRANTOPS_APP_PRIVATE_KEY"]
    code, _, err = run("plan", "--root", str(tmp_path), "--now", AT, environ=environ)
    assert (
        code == 2 and f"GRANTOPS_APP_PRIVATE_KEY_FILE {tmp_path / 'no.pem'}: cannot read it" in err
    )


def test_the_org_comes_from_a_readable_policy(tmp_path: Path) -> None:
    environ = app_env("http://127.0.0.1:9")
    code, _, err = run("plan", "--root", str(tmp_path), "--now", AT, environ=environ)
    assert code == 2 and "cannot read the policy" in err and "--root DIR" in err
    (tmp_path / "grants").mkdir()
    (tmp_path / "grants" / "policy.yaml").write_text("version: 1\norg: [\n")
    code, _, err = run("plan", "--root", str(tmp_path), "--now", AT, environ=environ)
    assert code == 2 and "the policy names no org the GitHub App can act on" in err
    assert "grants/policy.yaml:" in err


# ----- tokens kept fresh --------------------------------------------------------------


def test_a_token_is_renewed_before_it_expires(start_sandbox: StartSandbox) -> None:
    clock = Clock()
    sandbox = start_sandbox(app=app(lifetime=8), clock=clock)
    with GitHub(sandbox.url, tokens_for(sandbox, clock)) as github:
        assert github.is_org_member("acme", "alice")
        clock.now += 5  # 3 s left of 8: more than a quarter of its life
        assert github.is_org_member("acme", "bob")
        assert len(minted(sandbox)) == 1
        clock.now += 1.5  # 1.5 s left: under a quarter, so a new one before it expires
        assert github.is_org_member("acme", "alice")
    assert len(minted(sandbox)) == 2
    assert refused(sandbox) == []


def test_a_long_run_spans_many_token_lives(start_sandbox: StartSandbox) -> None:
    """Each token the client asks for moves the clock a second on: three whole reads of
    the org, eight listings at a time, outlive several 12-second tokens and read it all.
    (A request that raced a renewal and was refused is sent again with the new token.)"""
    clock = Clock()

    def ticking() -> float:
        clock.now += 1
        return clock.now

    sandbox = start_sandbox(app=app(lifetime=12), clock=clock)
    policy, problems = load_policy_text("grants/policy.yaml", POLICY.encode())
    assert policy is not None, problems
    credentials = AppCredentials(str(APP_ID), keys()[0])
    tokens = AppTokens(sandbox.url, credentials, "acme", clock=ticking)
    retry = RetryPolicy(mutation_interval=0.0)
    with GitHub(sandbox.url, tokens, retry=retry, clock=clock) as github:
        results = [github.read(policy, with_members=True) for _ in range(3)]
    assert [result.limits for result in results] == [(), (), ()]
    assert results[0].actual == results[2].actual
    assert clock.now - START > 3 * 12 and len(minted(sandbox)) >= 4, clock.now - START


def test_a_revoked_token_is_replaced_once_and_the_request_retried(
    start_sandbox: StartSandbox,
) -> None:
    clock = Clock()
    sandbox = start_sandbox(app=app(), clock=clock)
    tokens = tokens_for(sandbox, clock)
    with GitHub(sandbox.url, tokens) as github:
        assert github.is_org_member("acme", "alice")
        assert sandbox.app is not None
        sandbox.app.tokens.clear()  # revoked on GitHub's side
        assert github.is_org_member("acme", "alice")
        assert tokens.refresh("ghs_replaced_meanwhile")  # another request already renewed it
    assert len(minted(sandbox)) == tokens.minted == 2
    assert refused(sandbox) == ["GET /orgs/acme/members/alice 401"]


def test_a_token_for_an_org_without_the_app_says_so(start_sandbox: StartSandbox) -> None:
    clock = Clock()
    sandbox = start_sandbox(app=app(), clock=clock)
    credentials = AppCredentials(str(APP_ID), keys()[0])
    tokens = AppTokens(sandbox.url, credentials, "elsewhere", clock=clock)
    with GitHub(sandbox.url, tokens) as github, pytest.raises(GitHubError) as caught:
        github.is_org_member("elsewhere", "alice")
    assert "no installation for org elsewhere: is the App installed there?" in str(caught.value)
    assert repr(tokens) == f"AppTokens(app {APP_ID}, org elsewhere)"


# ----- the sandbox holds the App to GitHub's rules ------------------------------------


def signed(key: str = "", **claims: Any) -> str:
    now = int(START)
    body = {"iat": now - 60, "exp": now + 540, "iss": str(APP_ID), **claims}
    return jwt.encode(body, key or keys()[0], algorithm="RS256")


@pytest.mark.parametrize(
    ("credential", "status", "message"),
    [
        (signed(), 200, None),
        (
            signed(exp=int(START) + 660),
            401,
            "'Expiration time' claim ('exp') is too far in the future",
        ),
        (signed(iat=int(START) - 600, exp=int(START) + 60), 401, "is too far in the future"),
        (signed(exp=int(START) - 1), 401, "must be a numeric value representing the future"),
        (signed(iat=int(START) + 120), 401, "'Issued at' claim ('iat')"),
        (signed(iss="99"), 401, "Integration not found"),
        ("not.a.jwt", 401, "A JSON web token could not be decoded"),
        ("ghs_neverissued", 401, "A JSON web token could not be decoded"),
    ],
)
def test_the_sandbox_checks_the_apps_jwt(
    start_sandbox: StartSandbox, credential: str, status: int, message: str | None
) -> None:
    sandbox = start_sandbox(app=app(), clock=Clock())
    with httpx2.Client(base_url=sandbox.url) as http:
        answer = http.get(
            "/orgs/acme/installation", headers={"Authorization": f"Bearer {credential}"}
        )
    assert answer.status_code == status
    if message is None:
        assert answer.json()["id"] == 7 and answer.json()["app_id"] == APP_ID
    else:
        assert message in answer.json()["message"]


def test_the_sandbox_refuses_other_keys_orgs_and_installations(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(app=app(), clock=Clock())
    bearer = {"Authorization": f"Bearer {signed()}"}
    with httpx2.Client(base_url=sandbox.url) as http:
        other_key = {"Authorization": f"Bearer {signed(keys(1)[0])}"}
        assert http.get("/orgs/acme/installation", headers=other_key).status_code == 401
        assert http.get("/orgs/other/installation", headers=bearer).status_code == 404
        assert http.post("/app/installations/8/access_tokens", headers=bearer).status_code == 404
        too_much = {"permissions": {"organization_administration": "write"}}
        answer = http.post("/app/installations/7/access_tokens", headers=bearer, json=too_much)
        assert answer.status_code == 422
        assert http.get("/orgs/acme", headers=bearer).json()["message"] == "Bad credentials"


def test_issued_tokens_expire_and_act_only_as_an_installation(start_sandbox: StartSandbox) -> None:
    clock = Clock()
    sandbox = start_sandbox(app=app(lifetime=60), clock=clock)
    with httpx2.Client(base_url=sandbox.url) as http:
        bearer = {"Authorization": f"Bearer {signed()}"}
        issued = http.post("/app/installations/7/access_tokens", headers=bearer).json()
        token = {"Authorization": f"token {issued['token']}"}
        assert issued["token"].startswith("ghs_") and issued["permissions"]["members"] == "write"
        assert http.get("/orgs/acme", headers=token).status_code == 200
        assert http.get("/user", headers=token).status_code == 403
        unknown = {"Authorization": "token ghs_" + "0" * 36}
        assert http.get("/orgs/acme", headers=unknown).json()["message"] == "Bad credentials"
        clock.now += 60
        expired = http.get("/orgs/acme", headers=token)
        assert (expired.status_code, expired.json()["message"]) == (401, "Bad credentials")
        # the sandbox's own tokens still work beside the App's
        assert http.get("/orgs/acme", headers={"Authorization": "token any"}).status_code == 200


def test_sandbox_serve_runs_an_app(tmp_path: Path) -> None:
    state, public = tmp_path / "state.json", tmp_path / "app.pub"
    state.write_text(json.dumps({"org": "acme", "members": ["alice"]}))
    public.write_text(keys()[1])
    command = [sys.executable, "-m", "grantops", "sandbox", "serve", "--state", str(state)]
    command += ["--app-id", str(APP_ID), "--app-public-key", str(public), "--app-installation", "9"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            url = server.stdout.readline().rsplit(" ", 1)[-1].strip()
            now = int(__import__("time").time())
            credential = signed(iat=now - 60, exp=now + 540)
            with httpx2.Client(base_url=url) as http:
                answer = http.get(
                    "/orgs/acme/installation", headers={"Authorization": f"Bearer {credential}"}
                )
            assert answer.status_code == 200 and answer.json()["id"] == 9
        finally:
            server.terminate()
            server.wait(timeout=10)


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--app-id", "1"], "--app-id and --app-public-key go together"),
        (["--app-id", "1", "--app-public-key", "missing.pem"], "cannot read it"),
        (["--app-id", "1", "--app-public-key", "x", "--token-lifetime", "0"], "at least 1 second"),
    ],
)
def test_sandbox_serve_app_flags_are_checked(tmp_path: Path, flags: list[str], said: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"org": "acme"}))
    code, _, err = run("sandbox", "serve", "--state", str(state), *flags)
    assert code == 2 and said in err


def test_a_token_that_cannot_be_had_is_never_taken_for_an_answer(
    start_sandbox: StartSandbox,
) -> None:
    """A failed mint (here a 502) fails the request that needed it: an org membership
    check does not read it as GitHub's 404, "not a member"."""
    clock = Clock()
    fault = FaultRule("POST /app/installations/.*", status=502)
    sandbox = start_sandbox(app=app(), clock=clock, faults=[fault])
    with GitHub(sandbox.url, tokens_for(sandbox, clock)) as github:
        with pytest.raises(GitHubError) as caught:
            github.is_org_member("acme", "alice")
        assert "mint an installation token for org acme: HTTP 502: Server Error" in str(
            caught.value
        )
        assert caught.value.status is None
        assert github.is_org_member("acme", "alice")  # the next request mints anew


def test_no_answer_while_minting_says_so() -> None:
    tokens = AppTokens("http://127.0.0.1:9", AppCredentials(str(APP_ID), keys()[0]), "acme")
    with pytest.raises(GitHubError, match=r"installation on org acme: no answer \(Connect"):
        tokens.token()
    tokens.close()
