"""Who merged a grant's pull request and when its review was complete, for the audit."""

from __future__ import annotations

import json
from pathlib import Path

from grantops.audit.keyed import sign
from grantops.constants import EVIDENCE_PATH
from grantops.proof import evidence
from grantops.proof.review import Evidence, PullRequest, Review, approved_at

PULL = PullRequest(
    number=6,
    author="octocat",
    head_sha="b" * 40,
    merge_commit_sha="c" * 40,
    merged_at="2026-11-21T08:00:00Z",
    merged_by="bob",
    reviews=(
        Review("alice", "APPROVED", "a" * 40, submitted_at="2026-11-21T06:00:00Z"),
        Review("Bob", "APPROVED", "b" * 40, submitted_at="2026-11-21T07:30:00Z"),
        Review("mallory", "APPROVED", "b" * 40, submitted_at="2026-11-21T07:59:00Z"),
        Review("bob", "COMMENTED", "b" * 40, submitted_at="2026-11-21T07:45:00Z"),
    ),
)


def test_review_is_complete_at_the_last_approval_that_counts() -> None:
    # mallory's later approval did not count (say, no write access): it completes nothing
    assert approved_at(PULL, ["bob"]) == "2026-11-21T07:30:00Z"
    assert approved_at(PULL, ["alice", "bob"]) == "2026-11-21T07:30:00Z"
    assert approved_at(PULL, []) is None


def _kept(root: Path, entry: dict[str, object], key: bytes) -> dict[tuple[str, str], Evidence]:
    (root / EVIDENCE_PATH).parent.mkdir(parents=True)
    (root / EVIDENCE_PATH).write_text(json.dumps({"proven": [entry]}), encoding="utf-8")
    return evidence.load(root, key)


def test_evidence_signed_before_merger_and_approval_times_keeps_its_mac(tmp_path: Path) -> None:
    """Evidence kept by an earlier version has neither field: it must stay trusted, not be
    re-judged (and re-queried) for every grant after an upgrade."""
    key = b"k" * 32
    old = Evidence("grants/g.yaml", "1" * 40, "2" * 40, 2, ("alice",), "3" * 40, "r", "octocat")
    entry = old.to_json()
    assert "merged_by" not in entry and "approved_at" not in entry
    entry["mac"] = sign(key, json.dumps(old.to_json(), sort_keys=True).encode())
    assert _kept(tmp_path, entry, key) == {("grants/g.yaml", "1" * 40): old}


def test_merger_and_approval_time_are_kept_and_signed(tmp_path: Path) -> None:
    key = b"k" * 32
    new = Evidence(
        "grants/g.yaml", "1" * 40, "2" * 40, 6, ("bob",), "3" * 40, "r", "octocat",
        "2026-11-21T08:00:00Z", "bob", "2026-11-21T07:30:00Z",
    )  # fmt: skip
    entry = new.to_json()
    entry["mac"] = sign(key, json.dumps(new.to_json(), sort_keys=True).encode())
    assert _kept(tmp_path, entry, key) == {("grants/g.yaml", "1" * 40): new}
    entry["merged_by"] = "mallory"  # who merged is signed too
    assert _kept(tmp_path / "again", entry, key) == {}
