"""``grantops plan`` and ``grantops apply``: compare, show, and (with ``--yes``) change.

``plan`` never mutates. ``apply`` prints the same plan and changes nothing unless
``--yes`` is given; then it applies exactly that plan, one change at a time.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from grantops import actions, render
from grantops.commands.common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    Io,
    add_api_options,
    github_client,
    show_warnings,
)
from grantops.errors import UsageError
from grantops.github import GitHub, Outcome
from grantops.load import Loaded, load_repo
from grantops.pipeline import build_plan
from grantops.plan import Plan
from grantops.reconcile import apply_plan, plan_live
from grantops.state import ActualState, actual_from_state, read_state_file


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    plan = sub.add_parser("plan", parents=[common], help="show what apply would change")
    plan.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="read actual access from this state file instead of GitHub",
    )
    plan.add_argument(
        "--detailed-exitcode", action="store_true", help="exit 4 when the plan has changes"
    )
    add_api_options(plan)
    apply = sub.add_parser("apply", parents=[common], help="change GitHub to match the plan")
    apply.add_argument("--yes", action="store_true", help="really change access (default: dry run)")
    add_api_options(apply)


@dataclass
class _Planned:
    loaded: Loaded
    plan: Plan
    actual: ActualState
    github: GitHub | None


def _make_plan(args: argparse.Namespace, now: datetime, io: Io) -> _Planned:
    loaded = load_repo(args.root, now)
    state_file = getattr(args, "state", None)
    if state_file is not None:
        state = read_state_file(state_file)
        if state.org.lower() != loaded.policy.org.lower():
            raise UsageError(
                f"the state file is for org '{state.org}' but the policy manages "
                f"'{loaded.policy.org}'"
            )
        actual = actual_from_state(state)
        return _Planned(loaded, build_plan(loaded, actual, now), actual, None)
    github = github_client(args, io)
    try:
        live = plan_live(loaded, github, now)
    except BaseException:
        github.close()
        raise
    return _Planned(loaded, live.plan, live.actual, github)


def _show(io: Io, args: argparse.Namespace, planned: _Planned, extra: dict[str, Any]) -> None:
    show_warnings(io, planned.loaded.warnings)
    unreadable = planned.actual.unreadable
    if args.json:
        document = planned.plan.to_json()
        document["unreadable"] = {str(t): reason for t, reason in sorted(unreadable.items())}
        io.json({**document, **extra})
        return
    io.out(render.plan_text(planned.plan))
    if unreadable:
        io.err(render.unreadable_text(unreadable))
    if io.in_actions:
        actions.append_summary(io.environ, render.plan_markdown(planned.plan))


def run_plan(args: argparse.Namespace, now: datetime, io: Io) -> int:
    planned = _make_plan(args, now, io)
    try:
        _show(io, args, planned, {})
    finally:
        if planned.github is not None:
            planned.github.close()
    if planned.actual.unreadable:
        return EXIT_ERROR
    if args.detailed_exitcode and planned.plan.changes:
        return EXIT_CHANGES
    return EXIT_OK


def run_apply(args: argparse.Namespace, now: datetime, io: Io) -> int:
    planned = _make_plan(args, now, io)
    assert planned.github is not None  # apply has no --state
    github = planned.github
    try:
        if not args.yes or not planned.plan.changes:
            _show(io, args, planned, {"applied": False})
            if planned.plan.changes and not args.json:
                count = len(planned.plan.changes)
                io.out(
                    f"\nDry run: nothing was changed. Run with --yes to apply {count} change(s)."
                )
            return EXIT_ERROR if planned.actual.unreadable else EXIT_OK
        if not args.json:
            _show(io, args, planned, {})
            io.out("\nApplying:")
        report = (lambda outcome: None) if args.json else (lambda o: io.out(render.outcome_line(o)))
        outcomes = apply_plan(
            planned.plan,
            github,
            report=report,
        )
    finally:
        github.close()
    if args.json:
        _show(
            io, args, planned, {"applied": True, "outcomes": [_outcome_json(o) for o in outcomes]}
        )
    else:
        io.out(render.outcomes_summary(outcomes))
    if io.in_actions:
        lines = "\n".join(f"- {render.outcome_line(o).strip()}" for o in outcomes)
        actions.append_summary(
            io.environ, f"### grantops apply\n\n{lines}\n\n{render.outcomes_summary(outcomes)}"
        )
    failed = any(o.result == "failed" for o in outcomes)
    return EXIT_ERROR if failed or planned.actual.unreadable else EXIT_OK


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {**outcome.change.to_json(), "result": outcome.result, "detail": outcome.detail}
