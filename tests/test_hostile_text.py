"""Hostile text through the real commands: every sink stays what grantops wrote.

Anyone who can open a pull request chooses grant file names and reasons, and validate
runs on every pull request; commit and pull request titles reach the audit report; the
audit log can be edited by anyone who can push. Logins, repository and team names are
held to GitHub's rules by the schema, so the attacker's text travels in the fields that
are free: ``reason`` (any text of 3 to 1000 characters, escapes included, as YAML's
double quotes allow), file and folder names under ``grants/`` (anything but ``/``), and
commit and pull request titles. Each sink is checked for what an attacker wants from it:

* the Actions log (stdout, stderr): no line the runner would read as a workflow command
  but our own annotations, no ``##[``, no control character;
* Markdown (job summary, ``audit/report.md``, notices, ``audit report --format md``):
  no heading, HTML, link, mention or table cell that came from the text;
* CSV: no cell a spreadsheet would run as a formula; JSON: the text reads back exactly.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from grantops import actions, notify
from grantops.audit.events import parse_principal, parse_target
from grantops.audit.report import GrantRecord
from grantops.errors import Problem
from grantops.safetext import for_csv, one_line
from grantops.sandbox import Sandbox

from .data import POLICY
from .sandbox_fixtures import StartSandbox, access_env, reviewed, with_access_repo
from .test_cli import run

OPEN, ENDED = "2026-11-30T12:00:00Z", "2026-11-30T19:00:00Z"

FORGED = "Reviewed by @acme/security"
CORPUS = [
    f"INC-1\n::warning file=grants/policy.yaml,line=1::{FORGED}",
    "\r::add-mask::x",
    "::stop-commands::x",
    "##[error]forged",
    "\x1b]0;title\x07 and \x1b[8m",
    "INC-2 \u202eevil\u2066",
    "INC-3\n## Approved by the CISO\n<img src=x onerror=alert(1)>",
    "a|b|c",
    "@acme/security please",
    "[click](http://evil)",
    '=HYPERLINK("http://evil","x")',
    # A reason has at least 3 characters, so the short formulas carry a digit more.
    "+12",
    "-12",
    "@SUM(1)",
    "\tab",
    "\rab",
]
USERS = ["octocat", "hubot", "mona", "dana", "carol"]
REPOS = ["payments-api", "ledger", "deploy-api"]

# File and folder names: anything but "/" (so the team mention spans two folders).
HOSTILE_NAMES = [
    f"x\n::warning file=grants/policy.yaml,line=1::{FORGED}.yaml",
    "\x1b]0;title\x07\u202e.yaml",
    "##[error] a|b` <img src=x onerror=alert(1)> `c\n## Approved by the CISO.yaml",
]
CR_NAME = "\r::add-mask::x.yaml"
"""Only for validate: git's output, read in text mode, turns CR into LF, so a name with a
CR is never proven and its grant stays unapproved."""
TITLES = [
    "a|b|c <img src=x onerror=alert(1)> @acme/security [click](http://evil)",
    # GitHub keeps titles on one line, but the audit log that stores them can be edited.
    "Fix\n## Approved by the CISO\n::add-mask::x",
]

_RUNNER_LINES = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_ANNOTATION = re.compile(r"::(error|warning) file=[^:,\r\n]*,line=\d+::[^\r\n]*")
_MENTION = re.compile(r"(?<![A-Za-z0-9])@[A-Za-z0-9][A-Za-z0-9-]*(?:/[A-Za-z0-9_-]+)?")
_OUR_HEADINGS = ("# Access report: ", "# Access history ", "## ", "### grantops ", "### `")
_FORMULA = tuple("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def _grant(user: str, repo: str, reason: str) -> str:
    return (
        f"user: {user}\nrepo: {repo}\npermission: push\n"
        "starts: 2026-11-30T09:00:00Z\nexpires: 2026-11-30T18:00:00Z\n"
        f"reason: {json.dumps(reason)}\n"  # a JSON string is a YAML double-quoted scalar
    )


def _grants() -> dict[str, str]:
    """One grant per hostile reason, each for its own user and repository, so each
    reason has its own access period; the first few under hostile file names."""
    pairs = [(u, r) for r in REPOS for u in USERS]
    names = [*HOSTILE_NAMES, *(f"g{i}.yaml" for i in range(len(CORPUS)))]
    grants = {names[i]: _grant(*pairs[i], reason) for i, reason in enumerate(CORPUS[:-1])}
    team = _grant("x", "ledger", CORPUS[-1]).replace("user: x", "team: sre")
    return {**grants, "teams/sre.yaml": team}


def assert_log_safe(text: str, annotations: int = 0) -> None:
    """As the runner reads it: only our ``annotations`` are workflow commands."""
    commands = []
    for line in _RUNNER_LINES.split(text):
        assert not _CONTROL.search(line), f"a control character in {line!r}"
        assert "##[" not in line, f"a legacy workflow command in {line!r}"
        if line.lstrip().startswith("::"):
            commands.append(line)
            assert _ANNOTATION.fullmatch(line), f"a forged workflow command: {line!r}"
    assert len(commands) == annotations, commands


def _active(line: str) -> str:
    """What Markdown reads as markup: the line without escaped characters and code spans."""
    kept, i = [], 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line):
            i += 2
            continue
        if line[i] == "`":
            run = re.match("`+", line[i:])
            assert run is not None
            closing = re.compile(rf"(?<!`){run.group()}(?!`)").search(line, i + len(run.group()))
            if closing:
                i = closing.end()
                continue
            i += len(run.group())
            continue
        kept.append(line[i])
        i += 1
    return "".join(kept)


def assert_markdown_safe(text: str, mentions: frozenset[str] = frozenset()) -> None:
    """No heading, HTML, link, mention or table cell that our renderer did not write."""
    assert not _CONTROL.search(text.replace("\n", "")), "a control character"
    lines = text.split("\n")
    for line in lines:
        active = _active(line)
        assert "<" not in active, f"HTML in {line!r}"
        assert "[" not in active, f"a link in {line!r}"
        assert set(_MENTION.findall(active)) <= mentions, f"a mention in {line!r}"
        if re.match(r" {0,3}#{1,6}(\s|$)", line):
            assert line.startswith(_OUR_HEADINGS) and "CISO" not in active, line
    table: list[int] = []
    for line in [*lines, ""]:
        if line.startswith("|"):
            table.append(re.sub(r"\\.", "", line).count("|"))
        elif table:
            assert len(set(table)) == 1, f"rows with extra cells: {table}"
            table = []


def _actions_env(url: str, summary: Path) -> dict[str, str]:
    return {**access_env(url), "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}


@pytest.fixture
def hostile(start_sandbox: StartSandbox, tmp_path: Path) -> tuple[Path, Sandbox]:
    """An access repository whose reviewed grants carry the corpus, and a sandbox with
    hostile commit and pull request titles by a grantee inside the window."""
    repo = reviewed(tmp_path / "access", _grants(), policy=POLICY + "notify:\n  before: 1h\n")
    state = with_access_repo(repo)
    state["repos"]["payments-api"]["commits"] = [
        {"sha": "c" * 40, "author": "octocat", "date": "2026-11-30T10:00:00Z", "message": TITLES[0]}
    ]
    state["repos"]["payments-api"]["pulls"] = [
        {
            "number": 40 + i,
            "author": "octocat",
            "title": title,
            "head_sha": str(i) * 40,
            "merged_at": "2026-11-30T15:00:00Z",
            "merge_commit_sha": "e" * 40,
        }
        for i, title in enumerate(TITLES)
    ]
    return repo.root, start_sandbox(state)


def _cli(root: Path, *argv: str, at: str, environ: dict[str, str]) -> tuple[int, str, str]:
    return run(*argv, "--root", str(root), "--now", at, environ=environ)


def test_validate_with_hostile_names_and_reasons(
    hostile: tuple[Path, Sandbox], tmp_path: Path
) -> None:
    root, sandbox = hostile
    (root / "grants" / CR_NAME).write_text(_grant("hubot", "ledger", CORPUS[1]))
    summary = tmp_path / "summary.md"
    # At ENDED every grant is a warning naming its file: printed, and annotated.
    code, out, err = _cli(root, "validate", at=ENDED, environ=_actions_env(sandbox.url, summary))
    assert code == 0, err
    assert_log_safe(out, annotations=len(CORPUS) + 1)
    assert_log_safe(err)
    assert len(err.splitlines()) == len(CORPUS) + 1  # one line per warning, whatever the name
    assert_markdown_safe(summary.read_text())

    code, out, _ = _cli(
        root, "validate", "--json", at=ENDED, environ=_actions_env(sandbox.url, summary)
    )
    assert_log_safe(out)
    paths = {problem["path"] for problem in json.loads(out)["problems"]}
    assert {f"grants/{name}" for name in [*HOSTILE_NAMES, CR_NAME]} <= paths  # exactly as named


def _validate_invalid(
    hostile: tuple[Path, Sandbox], tmp_path: Path, name: str, reason: str
) -> tuple[str, str, str]:
    """validate in Actions with one more grant, invalid (a bad login), named ``name``."""
    root, sandbox = hostile
    (root / "grants" / name).write_text(_grant("x-", "ledger", reason))
    summary = tmp_path / "summary.md"
    code, out, err = _cli(root, "validate", at=OPEN, environ=_actions_env(sandbox.url, summary))
    assert code == 1
    return out, err, summary.read_text()


def test_validate_errors_keep_the_log_safe(hostile: tuple[Path, Sandbox], tmp_path: Path) -> None:
    out, err, _ = _validate_invalid(hostile, tmp_path, HOSTILE_NAMES[0], CORPUS[0])
    assert_log_safe(out, annotations=1)
    assert_log_safe(err)


def test_problems_summary_escapes_paths_and_messages() -> None:
    problems = [Problem(f"grants/{name}", 1, reason) for name in HOSTILE_NAMES for reason in CORPUS]
    assert_markdown_safe(actions.problems_summary(problems))


def test_validate_errors_keep_the_summary_safe(
    hostile: tuple[Path, Sandbox], tmp_path: Path
) -> None:
    _, _, summary = _validate_invalid(hostile, tmp_path, HOSTILE_NAMES[2], CORPUS[6])
    assert_markdown_safe(summary)


def test_plan_apply_report_and_notices(hostile: tuple[Path, Sandbox], tmp_path: Path) -> None:
    root, sandbox = hostile
    summary = tmp_path / "summary.md"
    env = _actions_env(sandbox.url, summary)

    code, out, err = _cli(root, "plan", at=OPEN, environ=env)
    assert code == 0, err
    assert sum("+ add" in line for line in out.splitlines()) == len(CORPUS)
    assert_log_safe(out)
    assert_log_safe(err)

    for at, ended in ((OPEN, 0), (ENDED, len(CORPUS))):
        code, out, err = _cli(
            root, "apply", "--yes", "--mutation-interval", "0", at=at, environ=env
        )
        assert code == 0, err
        assert f"{len(CORPUS)} notice(s) posted" in out
        assert_log_safe(out, annotations=ended)  # a warning for each ended grant
        assert_log_safe(err)
    assert_markdown_safe(summary.read_text())

    report = (root / "audit" / "report.md").read_text()
    assert_markdown_safe(report)
    ended = report.split("## Recently ended grants")[1]
    assert ended.count("### `") == len(CORPUS)  # every reason shown, none made a heading
    assert "a\\|b\\|c &lt;img" in ended  # the commit title, escaped

    comments = sandbox.state().repos["access"].comments
    assert len(comments) == 2 * len(CORPUS)  # started, then ended
    # only the grantee users and the pull request's author are ever mentioned
    wanted = frozenset(f"@{user}" for user in USERS) | {"@requester"}
    for comment in comments:
        assert_markdown_safe(comment.body, mentions=wanted)
        assert comment.body.count("@requester") == 1  # cc'd once, at the end
    team = [c.body for c in comments if "sre" in c.body]
    assert team and all(body.startswith("team acme/sre ") for body in team)


def _audit_report(root: Path, fmt: str) -> str:
    code, out, err = _cli(
        # The log is stamped with the wall clock, not --now: report on all of it.
        *(root, "audit", "report", "--since", "2000-01-01T00:00:00Z"),
        *("--until", "2100-01-01T00:00:00Z", "--format", fmt),
        at=ENDED,
        environ={},
    )
    assert code == 0, err
    assert_log_safe(out)
    return out


@pytest.fixture
def audited(hostile: tuple[Path, Sandbox]) -> Path:
    root, sandbox = hostile
    for at in (OPEN, ENDED):
        code, _, err = _cli(
            root,
            "apply",
            "--yes",
            "--mutation-interval",
            "0",
            at=at,
            environ=access_env(sandbox.url),
        )
        assert code == 0, err
    return root


def test_audit_report_markdown(audited: Path) -> None:
    assert_markdown_safe(_audit_report(audited, "md"))


def test_audit_report_csv(audited: Path) -> None:
    rows = list(csv.reader(io.StringIO(_audit_report(audited, "csv"))))
    assert len(rows) == 1 + len(CORPUS)
    for row in rows:
        for cell in row:
            assert not cell.lstrip(" ").startswith(_FORMULA), f"a formula: {cell!r}"
    # Each reason as it is, behind a quote if it would be a formula. It is printed to
    # the log, so its control characters but line breaks are shown as escapes, and a
    # zero-width space breaks what would read as a workflow command.
    why = rows[0].index("why")
    shown = {row[why].replace("\u200b", "") for row in rows[1:]}
    assert shown == {"\n".join(map(one_line, for_csv(r).split("\n"))) for r in CORPUS}


def test_audit_report_json(audited: Path) -> None:
    document = json.loads(_audit_report(audited, "json"))
    periods = document["sections"]["periods"]["rows"]
    assert {p["reason"] for p in periods} == set(CORPUS)


def _notice(grantables: list[tuple[str, str, str]], author: object, mention_teams: bool) -> str:
    typed = [(parse_principal(p), parse_target(t), level) for p, t, level in grantables]
    assert all(p and t for p, t, _ in typed), "each one as the audit log's parser reads it"
    record = GrantRecord(
        "grants/g.yaml",
        tuple(typed),  # type: ignore[arg-type]  # not None, as asserted
        None,
        datetime(2026, 11, 30, 18, tzinfo=UTC),
        "INC-4821",
        pull=2,
        author=author,  # type: ignore[arg-type]  # an edited log may hold anything
    )
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    [started] = notify.due(
        [record], [], now, timedelta(hours=1), "acme", frozenset(), mention_teams
    )
    return started.text.split(" access is open")[0] + " |" + started.text.split(").")[-1]


@pytest.mark.parametrize(
    ("grantables", "author", "mention_teams", "addressed"),
    [
        ([("user:octocat", "repo:acme/a", "push")], "requester", False, "@octocat | cc @requester"),
        ([("user:octocat", "repo:acme/a", "push")], "OctoCat", False, "@octocat |"),
        (
            [("user:octocat", "repo:acme/a", "push"), ("user:octocat", "repo:acme/b", "push")],
            None,
            False,
            "@octocat |",
        ),
        (
            [("team:sre", "repo:acme/a", "push")],
            "requester",
            False,
            "team acme/sre | cc @requester",
        ),
        ([("team:sre", "repo:acme/a", "push")], None, True, "@acme/sre |"),
        # Names from an edited log are never mentioned, and never start a heading.
        ([("user:x\n# y", "repo:acme/a", "push")], "@acme/security", False, "user:x\\\\n# y |"),
        ([("team:# @acme/all", "repo:acme/a", "push")], 7, False, "team:# @\u200dacme/all |"),
    ],
)
def test_notices_mention_grantee_users_and_the_author_never_a_team_unasked(
    grantables: list[tuple[str, str, str]], author: object, mention_teams: bool, addressed: str
) -> None:
    assert _notice(grantables, author, mention_teams) == addressed


def test_a_crash_quoting_input_still_prints_safely(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug's traceback may quote a file's value; it goes out through the same guard."""

    def crash(*_: object) -> int:
        raise ValueError("bad value 'x\n::warning file=a::Reviewed by @acme/security'")

    monkeypatch.setattr("grantops.commands.validate.run", crash)
    code, out, err = run("validate", "--root", "/nonexistent")
    assert code == 1
    assert out == ""
    assert "grantops: internal error (a bug)" in err
    assert "Reviewed by @acme/security" in err  # shown, but defused
    assert_log_safe(err)
