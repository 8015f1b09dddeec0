"""Output for GitHub Actions: workflow-command annotations and the job summary.

Annotations put each error on the file and line in the pull request's diff. Messages
are escaped as the runner requires, so a grant's text cannot inject workflow commands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from grantops.errors import Problem


def in_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(problem: Problem) -> str:
    """``::error file=PATH,line=N::message`` (or ``::warning``) for one problem."""
    return (
        f"::{problem.severity} file={_escape_property(problem.path)},line={problem.line}"
        f"::{_escape_data(problem.message)}"
    )


def annotation_lines(problems: Iterable[Problem]) -> list[str]:
    return [annotation(p) for p in problems]


def append_summary(environ: Mapping[str, str], markdown: str) -> bool:
    """Append to ``$GITHUB_STEP_SUMMARY`` when it is set; say whether it was."""
    target = environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    with Path(target).open("a", encoding="utf-8") as handle:
        handle.write(markdown.rstrip("\n") + "\n\n")
    return True
