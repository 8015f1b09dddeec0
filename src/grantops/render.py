"""Human-readable text for plans and validation results (pure: returns strings).

A reviewer should see at a glance what will change and why: one table grouped by
target, arrows for changes of level, and a summary line a person can quote.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from tabulate import tabulate

from grantops.access import Target
from grantops.github.write import Outcome
from grantops.plan import Change, Plan
from grantops.values import format_timestamp

_SYMBOL = {"add": "+", "update": "~", "remove": "-", "cancel_invitation": "x"}
_VERB = {"add": "add", "update": "change", "remove": "remove", "cancel_invitation": "cancel invite"}


def plan_summary(plan: Plan) -> str:
    s = plan.summary
    if not plan.changes:
        return "No changes: access matches the policy and grants."
    invitations = "invitation" if s["cancel_invitation"] == 1 else "invitations"
    parts = [
        f"{s['add']} to add",
        f"{s['update']} to change",
        f"{s['remove']} to remove",
        f"{s['cancel_invitation']} {invitations} to cancel",
    ]
    return "Plan: " + ", ".join(parts) + "."


def plan_text(plan: Plan) -> str:
    """The plan as a table grouped by target, then what was left alone, then a summary."""
    header = f"Plan for org {plan.org} at {format_timestamp(plan.now)}"
    lines = [header, ""]
    if plan.changes:
        rows = []
        previous = None
        for change in plan.changes:
            shown_target = "" if change.target == previous else str(change.target)
            previous = change.target
            rows.append(
                [
                    shown_target,
                    f"{_SYMBOL[change.action]} {_VERB[change.action]}",
                    str(change.principal),
                    _levels(change),
                    change.cause,
                    change.source or "",
                ]
            )
        headers = ["target", "change", "who", "access", "cause", "source"]
        lines += [tabulate(rows, headers=headers, tablefmt="simple"), ""]
    if plan.unapproved:
        lines.append("Unapproved grants (no access until their review is proven):")
        lines += [f"  {u.source}: {u.reason}" for u in plan.unapproved]
        lines.append("")
    if plan.kept:
        lines.append("Left alone:")
        lines += [f"  {k.principal} on {k.target} ({k.level}): {k.reason}" for k in plan.kept]
        lines.append("")
    lines.append(plan_summary(plan))
    return "\n".join(lines)


def plan_markdown(plan: Plan) -> str:
    """The same plan for a GitHub job summary or PR comment."""
    lines = [f"### grantops plan for `{plan.org}` at {format_timestamp(plan.now)}", ""]
    if plan.changes:
        rows = [
            [
                _SYMBOL[c.action] + " " + _VERB[c.action],
                f"`{c.principal}`",
                f"`{c.target}`",
                _levels(c),
                c.cause,
                f"`{c.source}`" if c.source else "",
            ]
            for c in plan.changes
        ]
        headers = ["change", "who", "target", "access", "cause", "source"]
        lines += [tabulate(rows, headers=headers, tablefmt="github"), ""]
    if plan.unapproved:
        lines += ["", "**Unapproved grants** (no access until their review is proven):", ""]
        lines += [f"- `{u.source}`: {u.reason}" for u in plan.unapproved]
        lines.append("")
    lines.append(plan_summary(plan))
    return "\n".join(lines) + "\n"


def outcome_line(outcome: Outcome) -> str:
    """One applied change: what, on whom, and how it went."""
    change = outcome.change
    mark = {"done": "ok     ", "invited": "invited", "failed": "FAILED "}[outcome.result]
    text = (
        f"  {mark} {_VERB[change.action]} {change.principal} on {change.target} ({_levels(change)})"
    )
    return f"{text}: {outcome.detail}" if outcome.detail else text


def outcomes_summary(outcomes: Sequence[Outcome]) -> str:
    counts = Counter(o.result for o in outcomes)
    return (
        f"Applied {len(outcomes)} change(s): {counts['done']} done, "
        f"{counts['invited']} awaiting acceptance, {counts['failed']} failed."
    )


def unreadable_text(unreadable: Mapping[Target, str]) -> str:
    lines = ["Not read completely, so left untouched this run:"]
    lines += [f"  {target}: {reason}" for target, reason in sorted(unreadable.items())]
    return "\n".join(lines)


def _levels(change: Change) -> str:
    if change.action == "update":
        return f"{change.before} -> {change.after}"
    return change.after or change.before or ""
