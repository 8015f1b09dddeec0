"""Output for GitHub Actions: workflow-command annotations and the job summary.

Annotations put each error on the file and line in the pull request's diff. They are
the only workflow commands grantops prints: each is a :class:`Command`, its values
escaped by :mod:`grantops.safetext`, and everything else a command prints is kept from
ever reading as one (see :meth:`grantops.commands.common.Io.out`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from grantops.errors import Problem
from grantops.safetext import (
    for_annotation,
    for_annotation_property,
    for_markdown,
    for_markdown_code,
)


class Command(str):
    """A workflow command line grantops built itself, every value escaped.

    The type is the mark of trust: output that starts with ``::`` is printed as it is
    only when it is a ``Command``; attacker text never becomes one.
    """

    __slots__ = ()


def in_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def annotation(problem: Problem) -> Command:
    """``::error file=PATH,line=N::message`` (or ``::warning``) for one problem."""
    return Command(
        f"::{problem.severity} file={for_annotation_property(problem.path)},line={problem.line}"
        f"::{for_annotation(problem.message)}"
    )


def annotation_lines(problems: Iterable[Problem]) -> list[Command]:
    return [annotation(p) for p in problems]


def problems_summary(problems: Iterable[Problem]) -> str:
    """Problems as a Markdown list for the job summary: paths and messages escaped."""
    return "\n".join(
        f"- {for_markdown_code(f'{p.path}:{p.line}')} {p.severity}: {for_markdown(p.message)}"
        for p in problems
    )


def append_summary(environ: Mapping[str, str], markdown: str) -> bool:
    """Append to ``$GITHUB_STEP_SUMMARY`` when it is set; say whether it was.

    ``markdown`` is trusted as it is: its renderer has escaped every untrusted part.
    """
    target = environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    with Path(target).open("a", encoding="utf-8") as handle:
        handle.write(markdown.rstrip("\n") + "\n\n")
    return True
