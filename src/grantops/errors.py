"""One exception family for grantops, and the problems that input validation reports.

Library code raises; only :mod:`grantops.cli` turns exceptions into exit codes and text,
so every command fails the same way and tests can assert on structured errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """Something wrong (or worth a look) in one input file, at one line.

    ``line`` is 1-based: the line of the offending key, or 1 for whole-file problems,
    so editors and GitHub annotations can jump straight to it.
    """

    path: str
    line: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


class GrantopsError(Exception):
    """Base of every error grantops raises on purpose; ``exit_code`` is what the CLI returns."""

    exit_code = 1


class UsageError(GrantopsError):
    """The command line itself is wrong (a bad flag value, a missing file)."""

    exit_code = 2


class InvalidInput(GrantopsError):
    """Grant, policy or state files failed validation; carries every problem found.

    Validation collects all problems of all files before raising, so one run shows a
    person everything to fix rather than one error at a time.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        super().__init__(f"{len(errors)} error(s) in input files")


class UnsafePlan(GrantopsError):
    """A plan broke a safety rule; nothing was changed."""

    exit_code = 3
