"""A grant to someone outside the org is marked in the plan: GitHub invites them as an
outside collaborator, which a reviewer must see. A member is not marked, and when GitHub
cannot say, the plan says membership is unknown rather than guessing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from grantops.access import Principal, Target
from grantops.actual import ActualState
from grantops.plan import Change, Plan, membership
from grantops.planview import plan_markdown, plan_summary, plan_text
from grantops.sandbox import FaultRule

from .data import GRANT
from .sandbox_fixtures import StartSandbox, access_env, live_repo
from .test_cli import run

AT = "2026-11-30T12:00:00Z"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
LEDGER = Target.repo("acme", "ledger")
GRANTS = {
    "octocat.yaml": GRANT,  # a member
    "dana.yaml": GRANT.replace("octocat", "Dana"),  # outside the org, spelt differently
}


def _adds(out: str) -> dict[str, str]:
    """Who each plan row adds, and how the change column reads."""
    rows = [line.split("  ") for line in out.splitlines() if "user:" in line and "add" in line]
    cells = [[cell.strip() for cell in row if cell.strip()] for row in rows]
    return {
        next(c for c in row if c.startswith("user:")): next(c for c in row if c.startswith("+"))
        for row in cells
    }


def test_the_plan_marks_an_outside_collaborator_and_not_a_member(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, GRANTS)
    summary = tmp_path / "summary.md"
    environ = access_env(sandbox.url, GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    code, out, err = run("plan", "--root", str(root), "--now", AT, environ=environ)
    assert code == 0, err
    assert _adds(out) == {"user:Dana": "+ add (outside collaborator)", "user:octocat": "+ add"}
    assert "Plan: 2 to add (1 outside collaborator), 0 to change" in out
    shown = summary.read_text()
    assert "| + add (outside collaborator) | `user:Dana`" in shown
    assert "| + add                        | `user:octocat`" in shown
    assert sandbox.stats["GET orgs/check-membership-for-user"] == 2  # asked, not guessed


def test_the_json_plan_says_who_is_a_member(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    root, sandbox = live_repo(start_sandbox, tmp_path, GRANTS)
    code, out, err = run(
        "plan", "--root", str(root), "--now", AT, "--json", environ=access_env(sandbox.url)
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["membership"] == {
        "user:Dana": "outside collaborator",
        "user:octocat": "member",
    }
    # the changes keep their shape, so a plan written with --out still verifies
    assert all("membership" not in change for change in document["changes"])


def test_membership_github_does_not_give_is_unknown(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    fault = FaultRule("GET /orgs/acme/members/", 403, times=-1, message="Must have admin rights")
    root, sandbox = live_repo(start_sandbox, tmp_path, GRANTS, faults=[fault])
    code, out, err = run(
        "plan", "--root", str(root), "--now", AT, "--attempts", "1", environ=access_env(sandbox.url)
    )
    assert code == 0, err
    assert _adds(out) == {
        "user:Dana": "+ add (membership unknown)",
        "user:octocat": "+ add (membership unknown)",
    }
    assert "Plan: 2 to add (2 of unknown membership)" in out
    # one refusal is enough: the rest is not asked
    assert sandbox.stats["GET orgs/check-membership-for-user"] == 1


def test_an_offline_plan_takes_membership_from_the_state_file(tmp_path: Path) -> None:
    root = tmp_path / "access"
    (root / "grants").mkdir(parents=True)
    (root / "grants" / "policy.yaml").write_text("org: acme\nmanaged:\n  repos: [ledger]\n")
    (root / "grants" / "a.yaml").write_text(GRANT.replace("payments-api", "ledger"))
    (root / "grants" / "b.yaml").write_text(
        GRANT.replace("payments-api", "ledger").replace("octocat", "carol")
    )
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"org": "acme", "members": ["octocat"], "users": ["carol"]}))
    code, out, err = run("plan", "--root", str(root), "--state", str(state), "--now", AT)
    assert code == 0, err
    assert _adds(out) == {"user:carol": "+ add (outside collaborator)", "user:octocat": "+ add"}


def _add(login: str, target: Target = LEDGER) -> Change:
    return Change("add", Principal.user(login), target, None, "push", "grant", "g.yaml")


def test_membership_counts_owners_as_members_and_never_guesses() -> None:
    actual = ActualState(
        "acme", owners=frozenset({"root-admin"}), membership={"mona": True, "dana": False}
    )
    changes = [
        _add("Root-Admin"),
        _add("MONA"),
        _add("dana"),
        _add("stranger"),
        _add("dana", Target.team("acme", "sre")),  # joins the org: not a collaborator
        Change("add", Principal.team("sre"), LEDGER, None, "push", "grant", "g.yaml"),
        Change("remove", Principal.user("eve"), LEDGER, "push", None, "undeclared", None),
    ]
    assert membership(actual, changes) == {
        Principal.user("root-admin"): "member",
        Principal.user("mona"): "member",
        Principal.user("dana"): "outside collaborator",
        Principal.user("stranger"): "membership unknown",
    }


def test_only_additions_to_repositories_are_marked() -> None:
    dana = _add("dana")
    on_team = _add("dana", Target.team("acme", "sre"))
    marks = {Principal.user("dana"): "outside collaborator"}
    plan = Plan(NOW, "acme", (dana, on_team), membership=marks)  # type: ignore[arg-type]
    assert plan.membership_of(dana) == "outside collaborator"
    assert plan.membership_of(on_team) is None
    assert "+ add (outside collaborator)" in plan_text(plan)
    assert "| + add (outside collaborator) | `user:dana`" in plan_markdown(plan)
    assert plan_summary(plan).startswith("Plan: 2 to add (1 outside collaborator),")
    two = Plan(
        NOW,
        "acme",
        (dana, _add("eve")),
        membership={
            Principal.user("dana"): "outside collaborator",
            Principal.user("eve"): "outside collaborator",
        },
    )
    assert plan_summary(two).startswith("Plan: 2 to add (2 outside collaborators),")
