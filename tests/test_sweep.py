"""The invitation sweep: which repositories' pending invitations a run lists.

Pure tests of the turns (a simulated day of runs at irregular times), of what the plan
needs at once, and of never failing open; then runs on the sandbox that count requests
and try to get an invitation past the sweep.
"""

from __future__ import annotations

import copy
import json
import random
import urllib.request
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from grantops.access import Target
from grantops.actual import ActualState
from grantops.desired import desired_access
from grantops.load import Loaded, load_policy_text
from grantops.model import Invitations
from grantops.plan import UNLISTED, Change, Plan, make_plan
from grantops.planview import plan_text
from grantops.proof.review import Judgement
from grantops.run.live import apply_plan, plan_live
from grantops.sandbox import FaultRule
from grantops.sandbox.server import Sandbox
from grantops.sweep import SweepNote, due, last_turn, needed

from .builders import grant, policy, user
from .data import GRANT, NOW, POLICY
from .sandbox_fixtures import BASE_STATE, StartSandbox, access_env, client, live_repo
from .test_cli import run

DAY, HOUR = timedelta(hours=24), timedelta(hours=1)
SETTINGS = Invitations(sweep=DAY, window=HOUR)
REPOS = [Target.repo("acme", f"repo-{i:03d}") for i in range(96)]
LEDGER = Target.repo("acme", "ledger")


def _irregular_runs(start: datetime, until: datetime, longest: timedelta) -> list[datetime]:
    """Runs at random times, never more than ``longest`` apart (a fixed seed)."""
    rng = random.Random(13)
    runs = [start]
    while runs[-1] < until:
        runs.append(runs[-1] + timedelta(seconds=rng.randint(1, int(longest.total_seconds()))))
    return runs


def _served(target: Target, turn: datetime, runs: list[datetime]) -> bool:
    """A run listed ``target`` within its turn's window."""
    return any(turn <= run < turn + HOUR and due(target, SETTINGS, run) for run in runs)


def test_a_day_of_irregular_runs_lists_every_repository_at_each_turn() -> None:
    runs = _irregular_runs(NOW - DAY, NOW + 2 * DAY, HOUR)
    for target in REPOS:
        turn = last_turn(target, SETTINGS, NOW + DAY)
        assert NOW - HOUR <= turn <= NOW + DAY  # its turn in the simulated day
        assert _served(target, turn, runs) and _served(target, turn - DAY, runs)
        listed = [run for run in runs if due(target, SETTINGS, run)]
        assert max(b - a for a, b in pairwise(listed)) < DAY + HOUR
    listings = sum(due(t, SETTINGS, run) for t in REPOS for run in runs)
    # ~4 of 96 repositories per run (an hour's worth of turns), never all of them
    assert listings / len(runs) < 12


def test_runs_further_apart_than_the_window_miss_turns_until_the_next_period() -> None:
    """The promise needs a run at least every window; a longer gap delays a turn."""
    before = _irregular_runs(NOW - DAY, NOW, HOUR)
    after = _irregular_runs(NOW + 3 * HOUR, NOW + 2 * DAY, HOUR)
    missed = [t for t in REPOS if not _served(t, last_turn(t, SETTINGS, NOW + 2 * HOUR), before)]
    assert missed  # turns in the 3-hour gap were not served then...
    for target in missed:  # ...and are at the next one, a period later
        assert _served(target, last_turn(target, SETTINGS, NOW + 2 * HOUR) + DAY, after)


def test_turns_are_stable_and_a_window_equal_to_the_sweep_lists_every_run() -> None:
    every = Invitations(sweep=HOUR, window=HOUR)
    assert all(due(t, every, NOW + timedelta(minutes=m)) for t in REPOS for m in (0, 7, 59))
    assert last_turn(LEDGER, SETTINGS, NOW) == last_turn(
        Target.repo("ACME", "Ledger"), SETTINGS, NOW
    )
    assert last_turn(LEDGER, SETTINGS, NOW + DAY) == last_turn(LEDGER, SETTINGS, NOW) + DAY


def test_a_window_longer_than_the_sweep_is_an_error_at_its_line() -> None:
    text = POLICY + "invitations:\n  sweep: 1h\n  window: 2h\n"
    found, problems = load_policy_text("grants/policy.yaml", text.encode())
    assert found is None
    assert str(problems[0]).startswith("grants/policy.yaml:16: error: window 2h is longer")


OPEN = {"starts": "2026-11-30T09:00:00Z", "expires": "2026-11-30T18:00:00Z"}


def test_the_plan_needs_invitations_where_it_adds_and_where_grants_just_ended() -> None:
    scope = policy()
    grants = [
        grant("c.yaml", user="carol", repo="ledger", permission="push", **OPEN),
        grant("t.yaml", team="sre", repo="deploy-api", permission="pull", **OPEN),
        grant(
            "d.yaml",
            user="dana",
            repo="deploy-web",
            permission="pull",
            expires="2026-11-30T10:00:00Z",
        ),
        grant(
            "o.yaml",
            user="dana",
            repo="deploy-old",
            permission="pull",
            expires="2026-11-28T10:00:00Z",
        ),
        grant("x.yaml", user="mona", repo="outside", permission="pull", **OPEN),
    ]
    desired = desired_access(scope, grants, NOW)
    baseline = {(user("release-bot"), Target.repo("acme", "payments-api")): "push"}
    web, old = Target.repo("acme", "deploy-web"), Target.repo("acme", "deploy-old")
    sent = {(user("dana"), web, "grants/d.yaml"), (user("dana"), old, "grants/o.yaml")}
    assert needed(scope, grants, desired, baseline, NOW, sent) == {LEDGER, web}
    held = {**baseline, (user("carol"), LEDGER): "push"}
    assert needed(scope, grants, desired, held, NOW, sent) == {web}
    # an ended grant nobody was invited for (as the audit log says) needs nothing at once
    assert needed(scope, grants, desired, held, NOW) == frozenset()


def test_no_invitation_is_sent_where_pending_ones_were_not_listed() -> None:
    scope = policy()
    grants = [grant("c.yaml", user="carol", repo="ledger", permission="push", **OPEN)]
    unlisted = ActualState(
        "acme", access={(user("mona"), LEDGER): "pull"}, invitations_unlisted=frozenset({LEDGER})
    )
    plan = make_plan(scope, desired_access(scope, grants, NOW), unlisted, NOW)
    on_ledger = [(c.action, str(c.principal)) for c in plan.changes if c.target == LEDGER]
    assert on_ledger == [("remove", "user:mona")]  # collaborators were read: still reconciled
    assert [(str(k.principal), k.reason) for k in plan.kept] == [("user:carol", UNLISTED)]


def test_the_plan_says_when_an_unlisted_repository_has_its_turn() -> None:
    turn = datetime(2026, 11, 30, 3, 0, tzinfo=NOW.tzinfo)
    notes = (
        SweepNote(LEDGER, False, turn, turn + DAY),
        SweepNote(Target.repo("acme", "website"), True, NOW, NOW + DAY),
    )
    change = Change("remove", user("mona"), LEDGER, "pull", None, "undeclared", None)
    text = plan_text(Plan(NOW, "acme", (change,), sweep=notes))
    assert "Pending invitations listed on 1 of 2 managed repositories." in text
    assert "acme/ledger: last turn 2026-11-30T03:00:00Z, next 2026-12-01T03:00:00Z" in text
    assert "acme/website: last turn" not in text


# ----- on the sandbox ------------------------------------------------------------------


def _stats(sandbox: Sandbox) -> dict[str, int]:
    with urllib.request.urlopen(f"{sandbox.url}/_sandbox/stats") as answer:
        stats: dict[str, int] = json.loads(answer.read())
    return stats


def test_a_96_repository_org_lists_a_slice_plus_what_the_plan_needs(
    start_sandbox: StartSandbox,
) -> None:
    state: dict[str, Any] = {**copy.deepcopy(BASE_STATE), "repos": {t.name: {} for t in REPOS}}
    sandbox = start_sandbox(state)
    text = "org: acme\nmanaged: {repos: [repo-*]}\ninvitations: {sweep: 24h, window: 15m}\n"
    scope = policy(text)
    grants = (grant("c.yaml", user="carol", repo="repo-050", permission="push", **OPEN),)
    with client(sandbox) as github:
        live = plan_live(Loaded(scope, grants, ()), github, NOW)
    swept = {t for t in REPOS if due(t, scope.invitations, NOW)}
    stats = _stats(sandbox)
    assert stats["GET repos/list-collaborators"] == 96
    assert stats["GET repos/list-invitations"] == len(swept | {REPOS[50]}) < 6
    listed = [note.target for note in live.plan.sweep if note.listed]
    assert set(listed) == swept | {REPOS[50]}
    assert [(c.action, c.target) for c in live.plan.changes] == [("add", REPOS[50])]
    document = live.plan.to_json()["invitation_sweep"]
    assert len(document) == 96 and {"target", "listed", "last_turn", "next_turn"} <= set(
        document[0]
    )


def _off_turn() -> tuple[datetime, datetime]:
    """A time when ledger's invitations are not swept, and the start of its next turn."""
    turn = last_turn(LEDGER, SETTINGS, NOW) + DAY
    return turn - 6 * HOUR, turn


def test_an_undeclared_invitation_off_the_sweep_is_cancelled_at_its_turn(
    start_sandbox: StartSandbox,
) -> None:
    state = copy.deepcopy(BASE_STATE)
    state["repos"]["ledger"] = {"invitations": {"mallory": "admin"}}
    sandbox = start_sandbox(state)
    loaded = Loaded(policy(), (), ())
    off, turn = _off_turn()
    with client(sandbox) as github:
        early = plan_live(loaded, github, off)
        assert LEDGER in early.actual.invitations_unlisted
        assert not [c for c in early.plan.changes if c.target == LEDGER]
        live = plan_live(loaded, github, turn + timedelta(minutes=10))
        assert [(c.action, str(c.principal), c.cause) for c in live.plan.changes] == [
            ("cancel_invitation", "user:mallory", "undeclared")
        ]
        apply_plan(live.plan, github, live.invitation_ids)
    assert sandbox.state().repos["ledger"].invitations == {}


def test_a_pending_invitation_off_the_sweep_is_not_sent_twice(start_sandbox: StartSandbox) -> None:
    state = copy.deepcopy(BASE_STATE)
    state["repos"]["ledger"] = {"invitations": {"carol": "push"}}
    state["repos"]["deploy-api"] = {"expired_invitations": {"dana": "pull"}}
    sandbox = start_sandbox(state)
    off, _ = _off_turn()
    window = {"starts": _stamp(off - HOUR), "expires": _stamp(off + HOUR)}
    grants = (
        grant("c.yaml", user="carol", repo="ledger", permission="push", **window),
        grant("d.yaml", user="dana", repo="deploy-api", permission="pull", **window),
    )
    assert not due(LEDGER, SETTINGS, off)
    with client(sandbox) as github:
        live = plan_live(Loaded(policy(), grants, ()), github, off)
    assert (user("carol"), LEDGER) in live.actual.invitations
    assert [(c.action, c.target.name) for c in live.plan.changes] == [
        ("cancel_invitation", "deploy-api"),  # expired: replaced, as the plan needs
        ("add", "deploy-api"),
    ]


def test_a_failed_listing_the_plan_needs_makes_the_repository_unreadable(
    start_sandbox: StartSandbox,
) -> None:
    state = copy.deepcopy(BASE_STATE)
    state["repos"]["ledger"] = {"collaborators": {"mona": "pull"}, "invitations": {"carol": "push"}}
    fault = FaultRule("GET /repos/acme/ledger/invitations", 502, times=-1)
    sandbox = start_sandbox(state, faults=[fault])
    off, _ = _off_turn()
    window = {"starts": _stamp(off - HOUR), "expires": _stamp(off + HOUR)}
    grants = (grant("c.yaml", user="carol", repo="ledger", permission="push", **window),)
    with client(sandbox, attempts=2) as github:
        live = plan_live(Loaded(policy(), grants, ()), github, off)
    assert "HTTP 502" in live.actual.unreadable[LEDGER]
    assert not [c for c in live.plan.changes if c.target == LEDGER]  # no invitation, no removal
    assert not [key for key in live.actual.access if key[1] == LEDGER]


def test_an_unreviewed_grant_does_not_make_its_repositories_listed(
    start_sandbox: StartSandbox,
) -> None:
    """A pushed file naming many repositories must not spend requests on every run."""
    sandbox = start_sandbox(copy.deepcopy(BASE_STATE))
    off, _ = _off_turn()
    window = {"starts": _stamp(off - HOUR), "expires": _stamp(off + HOUR)}
    grants = (grant("c.yaml", user="carol", repo="ledger", permission="push", **window),)
    verdicts = {"grants/c.yaml": Judgement(False, "no approving review")}
    with client(sandbox) as github:
        live = plan_live(Loaded(policy(), grants, ()), github, off, verdicts)
    assert LEDGER in live.actual.invitations_unlisted
    assert not [e for e in sandbox.exchanges if e.path == "/repos/acme/ledger/invitations"]
    assert not [c for c in live.plan.changes if c.target == LEDGER]


def test_plan_says_where_invitations_were_listed_in_text_and_json(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, {"g.yaml": GRANT})
    at = ["plan", "--root", str(root), "--now", "2026-11-30T12:00:00Z"]
    code, out, err = run(*at, environ=access_env(sandbox.url))
    assert code == 0, err
    managed = [Target.repo("acme", n) for n in ("deploy-api", "ledger", "payments-api")]
    listed = {t for t in managed if due(t, SETTINGS, NOW)} | {managed[2]}  # octocat is added
    assert f"Pending invitations listed on {len(listed)} of 3 managed repositories." in out
    code, out, err = run(*at, "--json", environ=access_env(sandbox.url))
    sweep = json.loads(out)["invitation_sweep"]
    assert [(n["target"], n["listed"]) for n in sweep] == [(str(t), t in listed) for t in managed]
    turn = last_turn(LEDGER, SETTINGS, NOW)
    assert sweep[1]["next_turn"] == _stamp(turn + DAY)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
