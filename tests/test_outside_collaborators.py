"""A grant to someone outside the org is marked in the plan: GitHub invites them as an
outside collaborator, which a reviewer must see. A member is not marked, and when GitHub
cannot say, the plan says membership is unknown rather than guessing."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from grantops.access import Principal, Target
from grantops.actual import ActualState
from grantops.desired import desired_access
from grantops.plan import Change, Kept, Plan, make_plan, membership
from grantops.planview import plan_markdown, plan_summary, plan_text
from grantops.sandbox import FaultRule

from .builders import actual, grant, policy
from .conftest import WriteRepo
from .data import GRANT, POLICY
from .sandbox_fixtures import StartSandbox, access_env, live_repo, reviewed, with_access_repo
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


def test_additions_to_repositories_and_teams_are_marked_each_as_github_treats_them() -> None:
    dana = _add("dana")
    on_team = _add("dana", Target.team("acme", "sre"))
    marks = {Principal.user("dana"): "outside collaborator"}
    plan = Plan(NOW, "acme", (dana, on_team), membership=marks)  # type: ignore[arg-type]
    assert plan.membership_of(dana) == "outside collaborator"
    assert plan.membership_of(on_team) == "not an org member: invited to the org"
    assert "+ add (outside collaborator)" in plan_text(plan)
    assert "+ add (not an org member: invited to the org)" in plan_text(plan)
    rows = [line for line in plan_markdown(plan).splitlines() if "`user:dana`" in line]
    assert [row.split("|")[1].strip() for row in rows] == [
        "+ add (outside collaborator)",
        "+ add (not an org member: invited to the org)",
    ]
    summary = "Plan: 2 to add (1 outside collaborator, 1 invited to the org),"
    assert plan_summary(plan).startswith(summary)
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


DENY = POLICY.replace("limits:\n", "limits:\n  outside_collaborators: deny\n")


def _apply(root: Path, url: str, *extra: str) -> tuple[int, str, str]:
    steps = ("--now", AT, "--yes", "--mutation-interval", "0", "--attempts", "1")
    return run("apply", "--root", str(root), *steps, *extra, environ=access_env(url))


def test_deny_refuses_an_outsider_whatever_the_spelling_and_adds_members(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    grants = {
        "octocat.yaml": GRANT.replace("octocat", "OctoCat"),  # a member, spelt differently
        "dana.yaml": GRANT.replace("octocat", "DANA"),  # "dana" is outside the org
    }
    repo = reviewed(tmp_path / "access", grants, policy=DENY)
    sandbox = start_sandbox(with_access_repo(repo))
    code, out, _ = _apply(repo.root, sandbox.url)
    assert code == 1  # a grant the policy refused is a part of the run not done
    assert "Refused by the policy (no access given):" in out
    assert (
        "user:DANA on repo:acme/payments-api (push): outside collaborator: "
        "the policy denies outside collaborators (limits.outside_collaborators)"
    ) in out
    payments = sandbox.state().repos["payments-api"]
    assert payments.collaborators["octocat"] == "push"
    assert payments.invitations == {}  # nobody was invited from outside


def test_deny_refuses_when_membership_cannot_be_read(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    repo = reviewed(tmp_path / "access", {"octocat.yaml": GRANT}, policy=DENY)
    fault = FaultRule("GET /orgs/acme/members/", 502, times=-1)
    sandbox = start_sandbox(with_access_repo(repo), faults=[fault])
    code, out, _ = _apply(repo.root, sandbox.url)
    assert code == 1
    assert "user:octocat on repo:acme/payments-api (push): membership unknown: " in out
    assert "octocat" not in sandbox.state().repos["payments-api"].collaborators


def test_deny_refuses_raising_an_outsider_the_baseline_already_lets_in(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """A grant cannot get around the rule by raising access an outsider already holds;
    the outsider's lower, declared access is neither raised nor removed."""
    baseline = DENY.replace(
        "baseline:\n", "baseline:\n  - {user: carol, repo: ledger, permission: pull}\n"
    )
    raise_carol = GRANT.replace("octocat", "Carol").replace("payments-api", "ledger")
    repo = reviewed(tmp_path / "access", {"carol.yaml": raise_carol}, policy=baseline)
    state = with_access_repo(repo)
    state["repos"]["ledger"] = {"collaborators": {"carol": "pull"}}
    sandbox = start_sandbox(state)
    code, out, _ = _apply(repo.root, sandbox.url, "--json")
    assert code == 1
    document = json.loads(out)
    assert document["changes"] == []
    refused = [(r["principal"].lower(), r["level"]) for r in document["refused"]]
    assert refused == [("user:carol", "push")]
    assert [m.lower() for m in document["membership"]] == ["user:carol"]
    assert list(document["membership"].values()) == ["outside collaborator"]
    assert sandbox.state().repos["ledger"].collaborators == {"carol": "pull"}


def test_deny_lets_access_end_for_an_outsider() -> None:
    """Lowering and removing never wait on membership: access still ends on time."""
    deny = policy(DENY)
    state = actual(
        users=["dana"],
        repos={"payments-api": {"collaborators": {"dana": "maintain", "eve": "push"}}},
    )
    baseline_pull = grant(
        "dana.yaml", user="dana", repo="payments-api", permission="pull", expires=AT
    )
    desired = desired_access(deny, [baseline_pull], NOW - timedelta(hours=1))
    plan = make_plan(deny, desired, replace(state, membership={"release-bot": True}), NOW)
    users = [c for c in plan.changes if c.principal.kind == "user"]
    assert {(c.action, c.principal.key) for c in users} == {
        ("update", "dana"),  # maintain -> pull: lowered, not refused
        ("remove", "eve"),
        ("add", "release-bot"),  # the baseline's, proven a member
    }
    assert plan.refused == ()


def test_a_policy_value_other_than_allow_or_deny_is_refused_by_name(
    write_repo: WriteRepo,
) -> None:
    root = write_repo({}, policy=DENY.replace(": deny", ": Deny"))
    code, _, err = run("validate", "--root", str(root), "--now", AT)
    assert code == 1
    assert (
        "grants/policy.yaml:11: error: limits.outside_collaborators: input should be "
        "'allow' or 'deny'"
    ) in err


def test_refused_access_is_shown_in_the_job_summary_and_the_json_plan() -> None:
    refused = Kept(Principal.user("dana"), LEDGER, "push", "outside collaborator: denied")
    plan = Plan(NOW, "acme", (), refused=(refused,))
    assert "**Refused by the policy** (no access given):" in plan_markdown(plan)
    assert "- user:dana on repo:acme/ledger (push): outside collaborator: denied" in (
        plan_markdown(plan)
    )
    assert plan.to_json()["refused"] == [
        {
            "principal": "user:dana",
            "target": "repo:acme/ledger",
            "level": "push",
            "reason": "outside collaborator: denied",
        }
    ]


def test_deny_refuses_a_team_place_for_someone_outside_the_org(
    start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    """GitHub answers a team membership for a non-member by inviting them to the org;
    once they accept they hold the team's repository access: deny must refuse it."""
    member = GRANT.replace("repo: payments-api\npermission: push\n", "team: prod-deployers\n")
    repo = reviewed(tmp_path / "access", {"dana.yaml": member.replace("octocat", "dana")}, DENY)
    state = with_access_repo(repo)
    state["repos"]["deploy-api"] = {"teams": {"prod-deployers": "push"}}
    sandbox = start_sandbox(state)
    code, out, _ = _apply(repo.root, sandbox.url)
    team = sandbox.state().teams["prod-deployers"]
    assert "dana" not in {**team.members, **team.pending}
    assert code == 1
    assert "user:dana on team:acme/prod-deployers (member): outside collaborator" in out
