"""The words of the health issue and of ``grantops health`` (pure).

The issue is Markdown in the access repository, read by the people who own access, so
every value from outside goes through :mod:`grantops.safetext`: the workflow's name,
GitHub's conclusions and events, and the audit log's run id (anyone who can push may
write the log). A run's link is shown only when it is a plain https address.
"""

from __future__ import annotations

import re
from datetime import timedelta

from grantops.health import Health, WorkflowRun
from grantops.safetext import for_markdown_code
from grantops.values import format_duration, format_timestamp

_PLAIN_URL = re.compile(r"https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~/-]*)?")
_WHY = (
    "Until a run succeeds, nothing is reconciled: expired grants keep their access and "
    "approved ones are not given."
)
_PROMISE = (
    "grantops comments here while the problem lasts and closes this issue once a run "
    "succeeds (`grantops health`)."
)


def title(health: Health, max_age: timedelta) -> str:
    """The issue's title; the workflow is named in the body, not here (titles are not
    Markdown, and stay plain)."""
    if health.state == "missing":
        return f"grantops: no successful reconcile run for over {format_duration(max_age)}"
    return "grantops: the reconcile run failed"


def text(health: Health, workflow: str, max_age: timedelta) -> str:
    """What the issue, a comment on it, or the closing comment says."""
    name = for_markdown_code(workflow)
    headline = _headline(health, name, max_age)
    if health.state == "healthy":
        return headline
    return "\n".join([headline, "", _WHY, "", *_facts(health), "", _PROMISE])


def _headline(health: Health, name: str, max_age: timedelta) -> str:
    last = health.last_run
    if health.state == "healthy" and last is not None:
        return f"**The {name} workflow is healthy again:** {_run(last)} succeeded. Closing."
    if health.state == "missing":
        return (
            f"**No run of the {name} workflow has succeeded for over {format_duration(max_age)}.**"
        )
    if last is not None and last.conclusion != "success":
        return f"**The last run of the {name} workflow failed:** {_run(last)}."
    return f"**The last run the audit log records did not finish its work** ({name})."


def _facts(health: Health) -> list[str]:
    facts = []
    if health.last_run is not None:
        facts.append(f"- Last run: {_run(health.last_run)}")
    success = health.last_success
    facts.append(f"- Last successful run: {_run(success) if success else 'none found'}")
    recorded = health.recorded
    if recorded is not None:
        ended = (
            f"{recorded.failed} change(s) failed" if recorded.ended else "it never recorded its end"
        )
        started = format_timestamp(recorded.started)
        facts.append(
            f"- Audit log: run {for_markdown_code(recorded.run)} started {started}; {ended}"
        )
    return facts


def _run(run: WorkflowRun) -> str:
    """``run 42 (schedule, `failure`, at ...)``, linked when the address is plain."""
    name = f"run {run.number}"
    shown = f"[{name}]({run.url})" if _PLAIN_URL.fullmatch(run.url) else name
    conclusion = for_markdown_code(run.conclusion or run.status)
    event = for_markdown_code(run.event)
    return f"{shown} ({event}, {conclusion}, {format_timestamp(run.updated_at)})"


def summary(health: Health) -> str:
    """One line for the terminal and the job log (which :class:`Io` keeps safe)."""
    last, success = health.last_run, health.last_success
    if health.state == "unknown":
        return f"health unknown: {health.why}"
    parts = [f"health: {health.state}"]
    if last is not None:
        parts.append(f"last run {last.number}: {last.conclusion} at {_at(last)}")
    parts.append(f"last success: {_at(success) if success else 'none found'}")
    if health.recorded is not None and health.recorded.troubled:
        parts.append(f"audit log run {health.recorded.run} did not finish its work")
    return "; ".join(parts)


def _at(run: WorkflowRun) -> str:
    return format_timestamp(run.updated_at)
