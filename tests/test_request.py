"""Self-service: request, extend and revoke write exactly the files CI will accept."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grantops.cli import main
from grantops.drafts import Request, inside_grants, render
from grantops.load import load_grant_text
from grantops.sandbox.reviewed import ReviewedRepo

from .builders import policy
from .data import DURATION, GRANT, NOW, POLICY
from .sandbox_fixtures import StartSandbox, access_env, with_access_repo
from .test_cli import run

AT = "2026-11-30T12:00:00Z"
REQUEST = [
    "request",
    "--now",
    AT,
    "--repo",
    "payments-api",
    "--permission",
    "push",
    "--for",
    "4h",
    "--user",
    "octocat",
    "--reason",
    "INC-4821 hotfix for payment retries",
]


def _repo(tmp_path: Path) -> ReviewedRepo:
    repo = ReviewedRepo.create(tmp_path / "access")
    repo.merge({"grants/policy.yaml": POLICY}, author="security-lead", approvers=["ciso"])
    return repo


def test_request_writes_a_valid_grant_and_says_what_it_will_do(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    code, out, err = run(*REQUEST, "--root", str(root))
    assert code == 0, err
    written = root / "grants" / "octocat" / "2026-11-30-payments-api.yaml"
    assert written.read_text() == (
        "# yaml-language-server: $schema=../../schema/grant.schema.json\n"
        "user: octocat\nrepo: payments-api\npermission: push\n"
        "duration: 4h\nreason: INC-4821 hotfix for payment retries\n"
    )
    assert "Wrote grants/octocat/2026-11-30-payments-api.yaml" in out
    assert (
        "+ add user:octocat push on repo:acme/payments-api "
        "(starts at the approving merge, ends 4h after)" in out
    )
    code, out, _ = run("validate", "--root", str(root), "--now", AT)
    assert code == 0
    assert "0 active, 0 upcoming, 1 pending, 0 ended" in out
    assert (
        "grants/octocat/2026-11-30-payments-api.yaml: 4h, "
        "starts at the approving merge, ends 4h after" in out
    )
    # a second request for the same day and target gets its own file
    assert run(*REQUEST, "--root", str(root))[0] == 0
    assert (root / "grants" / "octocat" / "2026-11-30-payments-api-2.yaml").exists()


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (
            [
                "--team",
                "prod-deployers",
                "--role",
                "maintainer",
                "--starts",
                "2026-12-01T09:00:00Z",
                "--until",
                "2026-12-01T17:00:00Z",
            ],
            "user: octocat\nteam: prod-deployers\nrole: maintainer\nstarts: 2026-12-01T09:00:00Z\nexpires: 2026-12-01T17:00:00Z\n",
        ),
    ],
)
def test_request_team_membership(tmp_path: Path, extra: list[str], fragment: str) -> None:
    root = _repo(tmp_path).root
    argv = [
        "request",
        "--root",
        str(root),
        "--now",
        AT,
        "--user",
        "octocat",
        "--reason",
        "CHG-1 release",
        *extra,
    ]
    code, _, err = run(*argv)
    assert code == 0, err
    assert fragment in (root / "grants" / "octocat" / "2026-12-01-prod-deployers.yaml").read_text()


def test_a_team_repo_request_with_a_reason_that_needs_quoting(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    argv = [
        "request",
        "--root",
        str(root),
        "--now",
        AT,
        "--team",
        "sre",
        "--repo",
        "ledger",
        "--repo",
        "deploy-api",
        "--permission",
        "maintain",
        "--for",
        "1d",
        "--reason",
        'INC-9: "urgent" # not a comment',
    ]
    assert run(*argv)[0] == 0
    text = (root / "grants" / "sre" / "2026-11-30-ledger-and-1-more.yaml").read_text()
    assert 'reason: "INC-9: \\"urgent\\" # not a comment"\n' in text
    assert "repos: [ledger, deploy-api]\n" in text and "user:" not in text
    assert run("validate", "--root", str(root), "--now", AT)[0] == 0


def test_a_request_the_policy_refuses_leaves_nothing_behind(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    argv = [a if a != "push" else "admin" for a in REQUEST]
    code, _, err = run(*argv, "--root", str(root))
    assert code == 1
    assert (
        "grants/octocat/2026-11-30-payments-api.yaml:4: error: permission 'admin' is not grantable"
        in err
    )
    assert not (root / "grants" / "octocat").exists() or not any(
        (root / "grants" / "octocat").iterdir()
    )


def test_missing_values_without_a_terminal_are_a_usage_error(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    code, _, err = run(
        "request",
        "--root",
        str(root),
        "--repo",
        "ledger",
        "--permission",
        "pull",
        "--for",
        "2h",
        "--user",
        "octocat",
    )
    assert code == 2
    assert "missing --reason (or run in a terminal to be asked)" in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_request_joins_the_grantee_folder_whatever_its_case(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    repo.merge({"grants/OctoCat/old.yaml": GRANT}, author="octocat", approvers=["alice"])
    code, _, err = run(*REQUEST, "--root", str(repo.root))
    assert code == 0, err
    assert sorted(p.name for p in (repo.root / "grants").iterdir()) == ["OctoCat", "policy.yaml"]
    assert (repo.root / "grants" / "OctoCat" / "2026-11-30-payments-api.yaml").is_file()


def _asked(root: Path, answers: str, *argv: str) -> tuple[int, str, str]:
    """A request run at a terminal that answers each question with the next line."""
    out, err = io.StringIO(), io.StringIO()
    argv = ("request", "--root", str(root), "--now", AT, *argv)
    code = main(list(argv), {}, out, err, _Terminal(answers))
    return code, out.getvalue(), err.getvalue()


def test_a_person_at_a_terminal_is_asked(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    answers = "ledger\ntriage\n3h\nCHG-77 read the ledger export\n"
    code, out, err = _asked(root, answers, "--user", "dana")
    assert code == 0, err
    assert "Repository (payments-api, ledger, deploy-*; leave empty for a team): " in err
    assert "Permission (pull, triage, push, maintain, security-auditor): " in err
    assert "For how long (e.g. 4h; at most 72h): " in err
    assert out.startswith("Wrote grants/dana/2026-11-30-ledger.yaml")  # questions: not stdout
    text = (root / "grants" / "dana" / "2026-11-30-ledger.yaml").read_text()
    assert (
        "repo: ledger\npermission: triage\nduration: 3h\nreason: CHG-77 read the ledger export\n"
        in text
    )


def test_a_person_is_offered_only_what_the_policy_allows(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    before = _listing(tmp_path)
    # each refused answer is asked again; the input ends before a valid permission
    code, out, err = _asked(root, "website\nledger\nadmin\nwrite\n", "--user", "dana")
    assert (code, out) == (2, "")
    assert "admin" not in err.split("Permission (")[1].split(")")[0]
    assert "'website' is not in managed.repos (payments-api, ledger, deploy-*); try again" in err
    assert "'admin' is not grantable; try again" in err
    assert "'write' is not grantable; try again" in err
    assert "missing --permission (or run in a terminal to be asked)" in err
    assert _listing(tmp_path) == before


@pytest.mark.parametrize(
    ("answers", "refusal"),
    [
        ("prod-deployers\n4d\n", "'4d' is longer than limits.max_duration 72h; try again"),
        ("prod-deployers\nsoon\n", "'soon' is not a duration such as 30m"),
        ("platform\n", "'platform' is not in managed.teams; try again"),
    ],
)
def test_a_window_or_team_outside_the_policy_is_refused_at_the_prompt(
    tmp_path: Path, answers: str, refusal: str
) -> None:
    root = _repo(tmp_path).root
    before = _listing(tmp_path)
    code, _, err = _asked(root, "\n" + answers, "--user", "dana", "--reason", "CHG-1 x")
    assert code == 2 and refusal in err
    assert "Team (prod-deployers): " in err
    assert _listing(tmp_path) == before


def test_answers_are_compared_as_github_compares_names(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    code, _, err = _asked(root, "Ledger\nTRIAGE\n2h\n", "--user", "Dana", "--reason", "CHG-1 x")
    assert code == 0, err
    text = (root / "grants" / "dana" / "2026-11-30-ledger.yaml").read_text()
    assert "user: Dana\nrepo: Ledger\npermission: triage\n" in text  # the policy's spelling
    code, _, err = _asked(root, "\nPROD-deployers\n2h\n", "--user", "DANA", "--reason", "CHG-1 x")
    assert code == 0, err
    assert (root / "grants" / "dana" / "2026-11-30-prod-deployers.yaml").exists()


def test_extend_changes_only_the_end(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    grant = root / "grants" / "g.yaml"
    grant.write_text(
        "# why: INC-4821\n"
        + GRANT.replace("expires: 2026-11-30T18:00:00Z", "expires: 2026-11-30T18:00:00Z  # end")
    )
    code, out, err = run("extend", str(grant), "--by", "2h", "--root", str(root), "--now", AT)
    assert code == 0, err
    assert "expires 2026-11-30T18:00:00Z -> 2026-11-30T20:00:00Z" in out
    assert grant.read_text() == "# why: INC-4821\n" + GRANT.replace(
        "expires: 2026-11-30T18:00:00Z", "expires: 2026-11-30T20:00:00Z  # end"
    )


def test_an_extension_past_the_limit_is_refused_and_undone(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    grant = root / "grants" / "g.yaml"
    grant.write_text(GRANT)
    code, _, err = run("extend", str(grant), "--by", "3d", "--root", str(root), "--now", AT)
    assert code == 1
    assert "longer than limits.max_duration 72h" in err
    assert grant.read_text() == GRANT


def test_revoke_removes_the_file(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    grant = root / "grants" / "g.yaml"
    grant.write_text(GRANT)
    code, out, _ = run("revoke", str(grant), "--root", str(root))
    assert code == 0
    assert not grant.exists()
    assert "its access ends on the first reconcile run after this is merged" in out
    assert run("revoke", str(root / "grants" / "policy.yaml"), "--root", str(root))[0] == 2


def _with_remote(repo: ReviewedRepo, tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    for args in (
        ["remote", "add", "origin", str(remote)],
        ["push", "--quiet", "origin", "main"],
        ["config", "user.name", "Octo Cat"],
        ["config", "user.email", "octocat@example.com"],
    ):
        subprocess.run(["git", "-C", str(repo.root), *args], check=True)
    return remote


def test_open_pr_pushes_a_branch_and_opens_the_pull_request(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    remote = _with_remote(repo, tmp_path)
    sandbox = start_sandbox(with_access_repo(repo))
    env = access_env(sandbox.url)
    code, out, err = run(*REQUEST, "--root", str(repo.root), "--open-pr", environ=env)
    assert code == 0, err
    assert "Opened pull request #2: https://github.com/acme/access/pull/2" in out
    branch = "grant/octocat/2026-11-30-payments-api"
    pushed = subprocess.run(
        ["git", "-C", str(remote), "branch", "--list", branch],
        capture_output=True,
        text=True,
        check=True,
    )
    assert pushed.stdout.strip() == branch
    current = subprocess.run(
        ["git", "-C", str(repo.root), "branch", "--show-current"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert current.stdout.strip() == "main"
    pull = sandbox.state().repos["access"].pulls[-1]
    assert pull.head_ref == branch and pull.base == "main"
    assert pull.title == "Grant user octocat: push on acme/payments-api for 4h from merge"
    for line in (
        "**Who:** @octocat",
        "**From:** when merged",
        "**Until:** 4h later",
        "**Why:** INC-4821 hotfix for payment retries",
        "Needs 1 approval(s) from a teammate",
    ):
        assert line in pull.body
    files = subprocess.run(
        ["git", "-C", str(repo.root), "show", "--name-only", "--format=", branch],
        capture_output=True,
        text=True,
        check=True,
    )
    assert files.stdout.split() == ["grants/octocat/2026-11-30-payments-api.yaml"]


def test_request_json_says_what_was_written_planned_and_opened(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    _with_remote(repo, tmp_path)
    sandbox = start_sandbox(with_access_repo(repo))
    argv = [*REQUEST, "--root", str(repo.root), "--open-pr", "--json"]
    code, out, err = run(*argv, environ=access_env(sandbox.url))
    assert code == 0, err
    document = json.loads(out)
    assert "user: octocat\nrepo: payments-api\npermission: push\n" in document.pop("content")
    assert document == {
        "file": "grants/octocat/2026-11-30-payments-api.yaml",
        "plan": [
            {
                "action": "add",
                "principal": "user:octocat",
                "target": "repo:acme/payments-api",
                "to": "push",
                "starts": None,
                "expires": None,
                "duration": "4h",
            }
        ],
        "pull_request": {"number": 2, "url": "https://github.com/acme/access/pull/2"},
    }


def test_starts_takes_a_duration_from_now_and_until_only_a_time(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    argv = ["request", "--root", str(root), "--now", AT, "--user", "octocat", "--repo", "ledger"]
    argv += ["--permission", "pull", "--reason", "INC-1 x"]
    code, _, err = run(*argv, "--starts", "2h", "--for", "4h")
    assert code == 0, err
    text = (root / "grants" / "octocat" / "2026-11-30-ledger.yaml").read_text()
    assert "starts: 2026-11-30T14:00:00Z\nexpires: 2026-11-30T18:00:00Z\n" in text
    before = _listing(tmp_path)
    code, _, err = run(*argv, "--until", "4h")
    assert code == 2 and "--until 4h: a time is needed here; for a length, use --for 4h" in err
    code, _, err = run(*argv, "--starts", "soon", "--for", "1h")
    assert code == 2 and "--starts: 'soon' is neither an RFC 3339 time nor a duration" in err
    assert _listing(tmp_path) == before


def test_extend_and_revoke_open_pull_requests_too(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    repo.merge({"grants/g.yaml": GRANT}, author="octocat", approvers=["alice"])
    _with_remote(repo, tmp_path)
    sandbox = start_sandbox(with_access_repo(repo))
    env = access_env(sandbox.url)
    grant = str(repo.root / "grants" / "g.yaml")
    assert (
        run(
            "extend",
            grant,
            "--by",
            "1h",
            "--root",
            str(repo.root),
            "--now",
            AT,
            "--open-pr",
            environ=env,
        )[0]
        == 0
    )
    assert run("revoke", grant, "--root", str(repo.root), "--open-pr", environ=env)[0] == 0
    titles = [p.title for p in sandbox.state().repos["access"].pulls if p.merged_at is None]
    assert titles == [
        "Extend grants/g.yaml by 1h until 2026-11-30T19:00:00Z",
        "Revoke grants/g.yaml",
    ]


REASONS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=3, max_size=80
).filter(lambda text: text.strip() == text and text.strip())


@settings(max_examples=300, deadline=None)
@example(reason="Null", repos=[], hours=1, permission="pull", as_team=False)
@given(
    reason=REASONS,
    repos=st.lists(
        st.sampled_from(["payments-api", "ledger", "deploy-api", "deploy-x"]),
        min_size=0,
        max_size=3,
        unique=True,
    ),
    hours=st.integers(min_value=1, max_value=72),
    permission=st.sampled_from(["pull", "triage", "push", "maintain", "security-auditor"]),
    as_team=st.booleans(),
)
def test_every_file_request_writes_passes_validation(
    reason: str, repos: list[str], hours: int, permission: str, as_team: bool
) -> None:
    request = Request(
        user=None if as_team and repos else "octocat",
        team="sre" if as_team and repos else (None if repos else "prod-deployers"),
        repos=tuple(repos),
        permission=permission if repos else None,
        role=None if repos else "maintainer",
        starts=None,
        expires=NOW + timedelta(hours=hours),
        reason=reason,
    )
    text = render(request)
    grant, problems = load_grant_text("grants/x/new.yaml", text.encode(), policy(), NOW)
    assert problems == [] and grant is not None, (text, problems)
    assert grant.spec.reason == reason  # the reason survives quoting exactly


def _listing(top: Path) -> list[tuple[str, int]]:
    """Every path below ``top`` with its size: what a request could have written."""
    return sorted((str(p.relative_to(top)), p.lstat().st_size) for p in top.rglob("*"))


# (flag, value): each must be refused before anything is written anywhere ({tmp}: tmp_path)
HOSTILE_NAMES = [
    ("--user", "../../../x"),
    ("--user", "../.."),
    ("--user", "{tmp}/elsewhere"),
    ("--user", "a/b"),
    ("--user", "a\\b"),
    ("--user", ".hidden"),
    ("--user", "a\x00b"),
    ("--user", "octocat\n"),
    ("--user", "octo\ncat"),
    ("--user", "-octocat"),
    ("--user", "octo--cat"),
    ("--user", "a" * 40),
    ("--team", "../../../x"),
    ("--team", "a/b"),
    ("--team", "{tmp}/elsewhere"),
    ("--team", "sre\x00"),
    ("--team", "sre\n"),
    ("--repo", "../../../x"),
    ("--repo", ".."),
    ("--repo", "."),
    ("--repo", "a/b"),
    ("--repo", "{tmp}/elsewhere"),
    ("--repo", "ledger\x00"),
    ("--repo", "ledger\nuser: mallory"),
    ("--repo", "r" * 101),
    ("--permission", "push\nuser: mallory"),
    ("--permission", "push\x00"),
]


@pytest.mark.parametrize(("flag", "value"), HOSTILE_NAMES)
def test_every_name_is_checked_before_anything_is_written(
    tmp_path: Path, flag: str, value: str
) -> None:
    # deep enough that even ../../../ from grants/ stays inside what is compared
    root = _repo(tmp_path / "a" / "b" / "c").root
    before = _listing(tmp_path)
    value = value.replace("{tmp}", str(tmp_path))
    options = {"--user": "octocat", "--repo": "ledger", "--permission": "pull", flag: value}
    if flag == "--team":
        del options["--repo"], options["--permission"]
    argv = [f"{option}={given}" for option, given in options.items()]  # "=": "-x" is a value
    code, out, err = run(
        "request", "--root", str(root), "--now", AT, "--for", "2h", "--reason", "INC-1 x", *argv
    )
    assert (code, out) == (2, ""), err
    assert f"grantops: error: {flag} {value!r}"[:40] in err
    assert _listing(tmp_path) == before


def test_a_bad_access_repo_is_refused_before_the_file_is_written(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _with_remote(repo, tmp_path)
    before = _listing(tmp_path)
    code, _, err = run(
        *REQUEST, "--root", str(repo.root), "--open-pr", "--access-repo", "acme/../../orgs/x"
    )
    assert code == 2
    assert "the access repository 'acme/../../orgs/x': repository '../../orgs/x' is not" in err
    assert _listing(tmp_path) == before


def test_a_grantee_folder_that_links_elsewhere_gets_nothing(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "grants" / "octocat").symlink_to(outside, target_is_directory=True)
    code, _, err = run(*REQUEST, "--root", str(root))
    assert code == 1 and "grants/octocat:1: error: a symbolic link" in err
    assert list(outside.iterdir()) == []


def test_the_written_path_must_resolve_to_a_folder_of_grants(tmp_path: Path) -> None:
    grants = tmp_path / "grants"
    (grants / "octocat").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (grants / "link").symlink_to(tmp_path / "outside", target_is_directory=True)
    assert inside_grants(tmp_path, grants / "octocat" / "g.yaml")
    assert inside_grants(tmp_path, grants / "new" / "g.yaml")
    assert not inside_grants(tmp_path, grants / "link" / "g.yaml")
    assert not inside_grants(tmp_path, grants / ".." / "x" / "g.yaml")
    assert not inside_grants(tmp_path, grants / "g.yaml")
    assert not inside_grants(tmp_path, grants / "a" / "b" / "g.yaml")
    assert not inside_grants(tmp_path, Path("/tmp/x/g.yaml"))


def test_a_refused_request_removes_the_folder_it_made(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    before = _listing(tmp_path)
    argv = [a if a != "payments-api" else "website" for a in REQUEST]
    code, _, err = run(*argv, "--root", str(root))
    assert code == 1 and "repository 'website' is not in managed.repos" in err
    assert _listing(tmp_path) == before


@pytest.mark.parametrize(
    "extra",
    [
        ["--starts", "9999-12-31T22:00:00Z", "--for", "4h"],
        ["--until", "9999-12-31T23:00:00-05:00"],
    ],
)
def test_a_window_past_the_calendar_is_a_usage_error(tmp_path: Path, extra: list[str]) -> None:
    root = _repo(tmp_path).root
    before = _listing(tmp_path)
    argv = ["request", "--root", str(root), "--now", AT, "--user", "octocat", "--repo", "ledger"]
    code, _, err = run(*argv, "--permission", "pull", "--reason", "INC-1 x", *extra)
    assert code == 2 and "grantops: error: --" in err
    assert _listing(tmp_path) == before


def test_extend_past_the_calendar_is_a_usage_error(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    grant = root / "grants" / "g.yaml"
    grant.write_text(GRANT)
    code, _, err = run("extend", str(grant), "--by", "999999999d", "--root", str(root), "--now", AT)
    assert code == 2 and "the grant would end after the year 9999" in err
    assert grant.read_text() == GRANT


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (GRANT.replace("INC", "IN\x00C"), "grants/g.yaml:6: error: character U+0000"),
        (GRANT.replace("expires: ", "expire: "), "grants/g.yaml:5: error: unknown key 'expire'"),
        ("- a list\n", "grants/g.yaml:1: error: the file must be a mapping"),
    ],
)
def test_extend_of_an_invalid_file_reports_it(tmp_path: Path, text: str, problem: str) -> None:
    root = _repo(tmp_path).root
    grant = root / "grants" / "g.yaml"
    grant.write_text(text)
    code, _, err = run("extend", str(grant), "--by", "1h", "--root", str(root), "--now", AT)
    assert code == 1 and problem in err
    assert grant.read_text() == text


def test_for_with_starts_writes_a_fixed_window(tmp_path: Path) -> None:
    """A window that opens at a given time cannot also open at the merge."""
    root = _repo(tmp_path).root
    code, _, err = run(*REQUEST, "--starts", "2026-12-01T09:00:00Z", "--root", str(root))
    assert code == 0, err
    text = (root / "grants" / "octocat" / "2026-12-01-payments-api.yaml").read_text()
    assert "starts: 2026-12-01T09:00:00Z\nexpires: 2026-12-01T13:00:00Z\n" in text
    assert "duration" not in text


def test_for_longer_than_the_policy_allows_writes_nothing(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    before = _listing(tmp_path)
    argv = [*REQUEST, "--root", str(root)]
    code, _, err = run(*[("4d" if a == "4h" else a) for a in argv])
    assert code == 1
    assert "duration 96h is longer than limits.max_duration 72h" in err
    assert _listing(tmp_path) == before


def test_extend_lengthens_a_duration_in_its_own_units(tmp_path: Path) -> None:
    root = _repo(tmp_path).root
    grant = root / "grants" / "g.yaml"
    grant.write_text(DURATION.replace("duration: 48h", "duration: 48h  # two days"))
    code, out, err = run("extend", str(grant), "--by", "1d", "--root", str(root), "--now", AT)
    assert code == 0, err
    assert "Extended grants/g.yaml: duration 48h -> 72h." in out
    assert "Its window still opens at the first approving merge of this file." in out
    assert grant.read_text() == DURATION.replace("duration: 48h", "duration: 72h  # two days")
    code, _, err = run("extend", str(grant), "--by", "1m", "--root", str(root), "--now", AT)
    assert code == 1 and "duration 72h1m is longer than limits.max_duration 72h" in err
    assert "duration: 72h  # two days" in grant.read_text()  # refused, and undone
