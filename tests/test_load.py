"""Loading an access repository: every bad input is an error at PATH:LINE, all at once."""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from grantops import load
from grantops.errors import InvalidInput
from grantops.load import load_repo, read_regular, scan
from grantops.model import TeamRepoGrant, UserRepoGrant, UserTeamGrant

from .conftest import GRANT, NOW, POLICY, WriteRepo
from .data import DURATION

G = "grants/g.yaml"


def _errors(
    write_repo: WriteRepo, grants: dict[str, str | bytes], policy: str = POLICY
) -> list[str]:
    root = write_repo(grants, policy)
    with pytest.raises(InvalidInput) as caught:
        load_repo(root, NOW)
    return [str(p) for p in caught.value.problems if p.severity == "error"]


def test_valid_repository_loads_every_form(write_repo: WriteRepo) -> None:
    root = write_repo(
        {
            "a/collaborator.yaml": GRANT,
            "b/team-member.yml": "user: hubot\nteam: prod-deployers\nrole: maintainer\n"
            "expires: 2026-12-01T09:00:00Z\nreason: on-call release\n",
            "c/team-repo.yaml": "team: sre\nrepos: [ledger, deploy-x]\npermission: maintain\n"
            "expires: 2026-12-01T09:00:00+01:00\nreason: ledger migration\n",
        }
    )
    loaded = load_repo(root, NOW)
    kinds = {type(g.spec) for g in loaded.grants}
    assert kinds == {UserRepoGrant, UserTeamGrant, TeamRepoGrant}
    assert [g.path for g in loaded.grants] == [
        "grants/a/collaborator.yaml",
        "grants/b/team-member.yml",
        "grants/c/team-repo.yaml",
    ]
    assert loaded.warnings == ()


BAD_GRANTS = [
    # YAML 1.1 surprises and name rules
    (
        "user: no\nrepo: payments-api\npermission: push\nexpires: 2026-11-30T18:00:00Z\nreason: x y z",
        None,
    ),  # 'no' is a valid login, kept as the string "no"
    (
        "user: -bob\n" + GRANT.split("\n", 1)[1],
        "g.yaml:1: error: user: '-bob' is not a GitHub login",
    ),
    (
        "user: bo--b\n" + GRANT.split("\n", 1)[1],
        "g.yaml:1: error: user: 'bo--b' is not a GitHub login",
    ),
    (
        "user: " + "a" * 40 + "\n" + GRANT.split("\n", 1)[1],
        "g.yaml:1: error: user: string should have at most 39",
    ),
    (
        GRANT.replace("repo: payments-api", "repo: ../x"),
        "g.yaml:2: error: repo: '../x' is not a repository name",
    ),
    (
        GRANT.replace("repo: payments-api", "repo: 1.10"),
        "g.yaml:2: error: repository '1.10' is not in managed.repos",
    ),
    # timestamps
    (
        GRANT.replace("2026-11-30T18:00:00Z", "2026-11-30"),
        "g.yaml:5: error: expires: '2026-11-30' is a date without a time",
    ),
    (
        GRANT.replace("2026-11-30T18:00:00Z", "2026-11-30T18:00:00"),
        "g.yaml:5: error: expires: '2026-11-30T18:00:00' has no UTC offset",
    ),
    (
        GRANT.replace("2026-11-30T18:00:00Z", "2026-02-30T18:00:00Z"),
        "g.yaml:5: error: expires: '2026-02-30T18:00:00Z' is not a real date",
    ),
    (
        GRANT.replace("starts: 2026-11-30T09:00:00Z", "starts: 2026-11-30T19:00:00Z"),
        "g.yaml:5: error: 'expires' must be later than 'starts'",
    ),
    # shape
    (
        GRANT.replace("expires: 2026-11-30T18:00:00Z\n", ""),
        "g.yaml:1: error: missing 'expires' (or 'duration'): when does the access end?",
    ),
    (
        DURATION.replace("duration: 48h\n", "duration: 48h\nexpires: 2026-11-30T18:00:00Z\n"),
        "g.yaml:4: error: give either 'expires' or 'duration', not both",
    ),
    (
        DURATION.replace("duration: 48h\n", "starts: 2026-11-30T09:00:00Z\nduration: 48h\n"),
        "g.yaml:4: error: 'starts' cannot go with 'duration': a duration counts from the "
        "approving merge",
    ),
    (DURATION.replace("48h", "2 days"), "g.yaml:4: error: duration: '2 days' is not a duration"),
    (DURATION.replace("48h", "0h"), "g.yaml:4: error: duration: a duration must be longer"),
    (
        GRANT + "expire: 2026-11-30T18:00:00Z\n",
        "g.yaml:7: error: unknown key 'expire' in a user + repo grant (did you mean 'expires'?)",
    ),
    (GRANT + "role: maintainer\n", "g.yaml:7: error: unknown key 'role' in a user + repo grant"),
    (GRANT + "repos: [ledger]\n", "g.yaml:7: error: give either 'repo' or 'repos', not both"),
    (GRANT.replace("repo: payments-api\n", ""), "g.yaml:1: error: missing 'repo' (or 'repos')"),
    (GRANT.replace("user: octocat\n", ""), "g.yaml:1: error: missing 'user' or 'team'"),
    (
        "user: hubot\nteam: prod-deployers\nrole: owner\nexpires: 2026-11-30T18:00:00Z\nreason: abc",
        "g.yaml:3: error: role: input should be 'member' or 'maintainer'",
    ),
    (
        "user: hubot\nteam: prod-deployers\nrepo: ledger\nexpires: 2026-11-30T18:00:00Z\nreason: abc",
        "g.yaml:3: error: unknown key 'repo' in a user + team grant",
    ),
    (
        GRANT.replace("reason: INC-4821 hotfix", "reason: [a, b]"),
        "g.yaml:6: error: reason: expected a string, got a list",
    ),
    (
        GRANT.replace("reason: INC-4821 hotfix", "reason:"),
        "g.yaml:6: error: reason: expected a string, got nothing",
    ),
    (
        GRANT.replace("repos", "x").replace("repo: payments-api", "repos: [ledger, Ledger]"),
        "g.yaml:2: error: 'repos' lists a repository twice",
    ),
    # policy rules
    (
        GRANT.replace("repo: payments-api", "repo: website"),
        "g.yaml:2: error: repository 'website' is not in managed.repos",
    ),
    (
        "team: sre\nrepos: [ledger, website]\npermission: push\nexpires: 2026-11-30T18:00:00Z\nreason: abc",
        "g.yaml:2: error: repository 'website' is not in managed.repos",
    ),
    (
        GRANT.replace("permission: push", "permission: admin"),
        "g.yaml:3: error: permission 'admin' is not grantable",
    ),
    (
        GRANT.replace("permission: push", "permission: auditor"),
        "g.yaml:3: error: unknown permission 'auditor'",
    ),
    (
        "user: hubot\nteam: sre\nexpires: 2026-11-30T18:00:00Z\nreason: abc",
        "g.yaml:2: error: team 'sre' is not in managed.teams",
    ),
    (
        GRANT.replace("2026-11-30T18:00:00Z", "2026-12-04T18:00:00Z"),
        "g.yaml:5: error: the access window is 105h, longer than limits.max_duration 72h",
    ),
    (
        DURATION.replace("48h", "3d1m"),
        "g.yaml:4: error: duration 72h1m is longer than limits.max_duration 72h",
    ),
    (
        GRANT.replace("starts: 2026-11-30T09:00:00Z\n", "").replace(
            "2026-11-30T18:00:00Z", "2026-12-04T12:00:01Z"
        ),
        "g.yaml:4: error: the access window is 96h, longer than",
    ),
    # whole-file problems
    ("- user: octocat", "g.yaml:1: error: the file must be a mapping"),
    ("just text", "g.yaml:1: error: the file must be a mapping"),
    (GRANT + "---\nuser: x\n", "g.yaml:7: error: only one YAML document per file is allowed"),
    (GRANT.replace("permission: push", "permission: !!str push"), "g.yaml:3: error: tags"),
    (GRANT + "user: mallory\n", "g.yaml:7: error: duplicate key 'user' (first on line 1)"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_GRANTS)
def test_bad_grant_is_reported_at_its_line(
    write_repo: WriteRepo, text: str, expected: str | None
) -> None:
    if expected is None:
        loaded = load_repo(write_repo({"g.yaml": text}), NOW)
        assert loaded.grants[0].spec.user == "no"  # type: ignore[union-attr]
        return
    errors = _errors(write_repo, {"g.yaml": text})
    assert len(errors) == 1, errors
    assert errors[0].startswith("grants/" + expected), errors


def test_binary_and_oversize_files(write_repo: WriteRepo) -> None:
    errors = _errors(
        write_repo,
        {
            "latin1.yaml": GRANT.replace("hotfix", "caf\xe9").encode("latin-1"),
            "big.yaml": GRANT + "#" * 70000,
        },
    )
    assert errors == [
        "grants/big.yaml:1: error: file is 70133 bytes; the limit is 65536",
        "grants/latin1.yaml:6: error: file is not valid UTF-8 (byte 129)",
    ]


def test_all_errors_of_all_files_in_one_run(write_repo: WriteRepo) -> None:
    errors = _errors(
        write_repo,
        {
            "a.yaml": GRANT.replace("permission: push", "permission: admin"),
            "b.yaml": GRANT.replace("user: octocat", "user: -x").replace(
                "repo: payments-api", "repo: website"
            ),
            "ok.yaml": GRANT,
        },
    )
    assert errors == [
        "grants/a.yaml:3: error: permission 'admin' is not grantable; limits.permissions: "
        "pull, triage, push, maintain, security-auditor",
        "grants/b.yaml:1: error: user: '-x' is not a GitHub login (1-39 letters, digits or single "
        "hyphens, not starting or ending with a hyphen)",
    ]


def test_expired_grant_is_a_warning(write_repo: WriteRepo) -> None:
    text = GRANT.replace("2026-11-30T09:00:00Z", "2026-11-29T09:00:00Z").replace(
        "2026-11-30T18:00:00Z", "2026-11-29T18:00:00Z"
    )
    loaded = load_repo(write_repo({"old.yaml": text}), NOW)
    assert [str(w) for w in loaded.warnings] == [
        "grants/old.yaml:5: warning: expired at 2026-11-29T18:00:00Z; it gives no access and can be deleted"
    ]


BAD_POLICIES = [
    (
        POLICY.replace("org: acme", "org: -acme"),
        "policy.yaml:1: error: org: '-acme' is not a GitHub login",
    ),
    (
        POLICY.replace("max_duration: 72h", "max_duration: 3 days"),
        "policy.yaml:11: error: limits.max_duration: '3 days' is not a duration",
    ),
    (
        POLICY.replace("permission: maintain}", "permission: owner}"),
        "policy.yaml:6: error: unknown permission 'owner'",
    ),
    (
        POLICY.replace(
            "repo: payments-api, permission: maintain", "repo: website, permission: maintain"
        ),
        "policy.yaml:6: error: repository 'website' is not in managed.repos",
    ),
    (
        POLICY.replace("security-auditor: triage", "security-auditor: superuser"),
        "policy.yaml:9: error: roles.security-auditor: input should be",
    ),
    (
        POLICY.replace("security-auditor: triage", "push: triage"),
        "policy.yaml:8: error: 'push' is a built-in role",
    ),
    (
        POLICY.replace("  permissions: [pull,", "  permissions: [owner, pull,"),
        "policy.yaml:12: error: unknown permission 'owner'",
    ),
    (
        POLICY + "safety:\n  max_removals: ten\n",
        "policy.yaml:15: error: safety.max_removals: input should be a valid integer",
    ),
    (
        POLICY + "approval:\n  required: -1\n",
        "policy.yaml:15: error: approval.required: input should be greater than or equal to 0",
    ),
    (POLICY.replace("org: acme\n", ""), "policy.yaml:1: error: missing required key 'org'"),
    (POLICY + "owner: me\n", "policy.yaml:14: error: unknown key 'owner'"),
]


@pytest.mark.parametrize(("policy", "expected"), BAD_POLICIES)
def test_bad_policy_is_reported_at_its_line(
    write_repo: WriteRepo, policy: str, expected: str
) -> None:
    errors = _errors(write_repo, {}, policy)
    assert len(errors) == 1, errors
    assert errors[0].startswith("grants/" + expected), errors


def test_missing_policy(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_repo(tmp_path, NOW)
    assert [str(p) for p in caught.value.problems] == [
        "grants/policy.yaml:1: error: the policy file is missing"
    ]


def test_policy_values_are_typed(write_repo: WriteRepo) -> None:
    policy = (
        POLICY + "safety:\n  max_removals: '5'\napproval:\n  required: 2\n  approvers: security\n"
    )
    loaded = load_repo(write_repo({}, policy), NOW)
    assert loaded.policy.safety.max_removals == 5
    assert loaded.policy.approval.required == 2
    assert loaded.policy.approval.approvers == "security"


def test_parallel_loading_matches_serial(
    write_repo: WriteRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    grants: dict[str, str | bytes] = {
        f"u{i:02d}/g.yaml": GRANT.replace("octocat", f"user{i}") for i in range(40)
    }
    grants["u07/g.yaml"] = GRANT.replace("permission: push", "permission: admin")
    grants["u31/g.yaml"] = GRANT + "expire: x\n"
    root = write_repo(grants)
    with pytest.raises(InvalidInput) as serial:
        load_repo(root, NOW)
    monkeypatch.setattr(load, "PARALLEL_THRESHOLD", 10)
    with pytest.raises(InvalidInput) as parallel:
        load_repo(root, NOW)
    assert parallel.value.problems == serial.value.problems
    assert [str(p) for p in parallel.value.problems] == [
        "grants/u07/g.yaml:3: error: permission 'admin' is not grantable; limits.permissions: "
        "pull, triage, push, maintain, security-auditor",
        "grants/u31/g.yaml:7: error: unknown key 'expire' in a user + repo grant (did you mean 'expires'?)",
    ]
    del grants["u07/g.yaml"], grants["u31/g.yaml"]
    (root / "grants" / "u07" / "g.yaml").unlink()
    (root / "grants" / "u31" / "g.yaml").unlink()
    loaded = load_repo(root, NOW)
    monkeypatch.setattr(load, "PARALLEL_THRESHOLD", 10**9)
    assert load_repo(root, NOW) == loaded
    assert len(loaded.grants) == 38


# Only regular files count under grants/. Each case adds one odd entry next to a valid
# grant, as someone with push access to the access repository could; the entry is
# refused by name at line 1, and never opened (a FIFO would block, /dev/zero never ends).
SKIPPED = "only regular files count under grants/, so it was not read"
Make = Callable[[Path], None]


def _symlink(name: str, to: str) -> Make:
    return lambda grants: (grants / name).symlink_to(to)


def _outside_grant(grants: Path) -> None:
    """A valid grant outside grants/, linked in: still not honoured."""
    (grants.parent / "elsewhere.yaml").write_text(GRANT.replace("octocat", "mallory"))
    (grants / "borrowed.yaml").symlink_to(grants.parent / "elsewhere.yaml")


def _linked_folder(grants: Path) -> None:
    outside = grants.parent / "outside"
    outside.mkdir()
    (outside / "g.yaml").write_text(GRANT.replace("octocat", "mallory"))
    (grants / "team").symlink_to(outside, target_is_directory=True)


def _socket(grants: Path) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(grants / "s.yaml"))


def _device(grants: Path) -> None:
    try:  # /dev/zero's numbers: reading it would never end
        os.mknod(grants / "dev.yaml", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")


ODD_ENTRIES: list[tuple[str, Make, str]] = [
    (
        "to /dev/zero",
        _symlink("zero.yaml", "/dev/zero"),
        f"grants/zero.yaml:1: error: a symbolic link: {SKIPPED}",
    ),
    (
        "to a grant outside",
        _outside_grant,
        f"grants/borrowed.yaml:1: error: a symbolic link: {SKIPPED}",
    ),
    (
        "to a grant inside",
        _symlink("again.yaml", "ok.yaml"),
        f"grants/again.yaml:1: error: a symbolic link: {SKIPPED}",
    ),
    (
        "dangling",
        _symlink("gone.yaml", "nowhere.yaml"),
        f"grants/gone.yaml:1: error: a symbolic link: {SKIPPED}",
    ),
    ("to a folder", _linked_folder, f"grants/team:1: error: a symbolic link: {SKIPPED}"),
    (
        "fifo",
        lambda grants: os.mkfifo(grants / "pipe.yaml"),
        f"grants/pipe.yaml:1: error: a named pipe (FIFO): {SKIPPED}",
    ),
    ("socket", _socket, f"grants/s.yaml:1: error: a socket: {SKIPPED}"),
    ("device", _device, f"grants/dev.yaml:1: error: a character device: {SKIPPED}"),
    (
        "stray file",
        lambda grants: (grants / "notes.txt").write_text("remember to renew"),
        "grants/notes.txt:1: error: not a grant file: grants/ may hold only policy.yaml and grant files (*.yaml, *.yml)",
    ),
    (
        "backup copy",
        lambda grants: (grants / "ok.yaml~").write_text(GRANT),
        "grants/ok.yaml~:1: error: not a grant file: grants/ may hold only policy.yaml and grant files (*.yaml, *.yml)",
    ),
    (
        "hidden grant",
        lambda grants: (grants / ".quiet.yaml").write_text(GRANT),
        "grants/.quiet.yaml:1: error: a file that is hidden: nothing hidden may be under grants/",
    ),
    (
        "hidden folder",
        lambda grants: (grants / ".stash").mkdir(),
        "grants/.stash:1: error: a folder that is hidden: nothing hidden may be under grants/",
    ),
]


def _load_quickly(root: Path) -> list[str]:
    """Load in a daemon thread, so a read that blocks fails the test instead of hanging it."""
    result: list[str] = []

    def run() -> None:
        try:
            load_repo(root, NOW)
            result.append("loaded")
        except InvalidInput as exc:
            result.extend(str(p) for p in exc.problems if p.severity == "error")

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "loading blocked on a file it should not have opened"
    return result


@pytest.mark.parametrize(
    ("make", "expected"),
    [pytest.param(make, expected, id=case) for case, make, expected in ODD_ENTRIES],
)
def test_only_regular_files_with_grant_names_count(
    write_repo: WriteRepo, monkeypatch: pytest.MonkeyPatch, make: Make, expected: str
) -> None:
    root = write_repo({"ok.yaml": GRANT})
    monkeypatch.chdir(root)  # keeps a socket's path short
    make(root / "grants")
    assert _load_quickly(root) == [expected]


def test_every_odd_entry_is_named_in_one_run(
    write_repo: WriteRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_repo({"ok.yaml": GRANT, "deep/er/ok.yaml": GRANT})
    monkeypatch.chdir(root)
    for _case, make, _expected in ODD_ENTRIES:
        if make is not _device:
            make(root / "grants")
    errors = _load_quickly(root)
    assert errors == sorted(e for c, _m, e in ODD_ENTRIES if c != "device")
    assert scan(root).grants == ("grants/deep/er/ok.yaml", "grants/ok.yaml")


def test_a_linked_policy_is_refused_not_followed(write_repo: WriteRepo) -> None:
    root = write_repo({"ok.yaml": GRANT})
    (root / "policy-elsewhere.yaml").write_text(POLICY)
    (root / "grants" / "policy.yaml").unlink()
    (root / "grants" / "policy.yaml").symlink_to(root / "policy-elsewhere.yaml")
    assert _load_quickly(root) == [f"grants/policy.yaml:1: error: a symbolic link: {SKIPPED}"]


def test_a_linked_grants_folder_is_refused_whole(tmp_path: Path, write_repo: WriteRepo) -> None:
    real = write_repo({"ok.yaml": GRANT}) / "grants"
    root = tmp_path / "checkout"
    root.mkdir()
    (root / "grants").symlink_to(real, target_is_directory=True)
    assert _load_quickly(root) == [
        "grants:1: error: a symbolic link: grants/ must be a real folder, so nothing in it was read"
    ]
    (root / "grants").unlink()
    (root / "grants").write_text("org: acme\n")
    assert _load_quickly(root) == [
        "grants:1: error: a file: grants/ must be a real folder, so nothing in it was read"
    ]


def test_read_regular_refuses_what_was_swapped_in_after_listing(tmp_path: Path) -> None:
    """Defence in depth: the reader itself neither follows a link nor waits on a FIFO."""
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "link").symlink_to("/dev/zero")
    (tmp_path / "plain").write_bytes(b"user: octocat\n")
    with pytest.raises(OSError, match="not a regular file"):
        read_regular(str(tmp_path / "pipe"))
    with pytest.raises(OSError):
        read_regular(str(tmp_path / "link"))
    assert read_regular(str(tmp_path / "plain")) == b"user: octocat\n"


def test_a_duration_grant_is_pending_until_its_approving_merge(write_repo: WriteRepo) -> None:
    """Loaded from the file alone, a duration has no start or end: it gives nothing yet,
    has not ended, and is never warned about as expired, however late it is read."""
    later = NOW.replace(year=2030)
    loaded = load_repo(write_repo({"g.yaml": DURATION}), later)
    (grant,) = loaded.grants
    assert loaded.warnings == ()
    assert grant.pending and grant.starts is None and grant.expires is None
    assert not grant.active_at(later) and not grant.ended_at(later)
    merged = NOW.replace(hour=10)
    opened = grant.opened(merged)
    assert (opened.starts, opened.expires) == (merged, merged.replace(day=2, month=12))
    assert opened.active_at(NOW) and not opened.pending
    assert opened.ended_at(merged.replace(day=2, month=12))
