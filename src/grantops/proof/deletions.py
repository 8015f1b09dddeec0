"""Grant files deleted from the branch, and when a deletion is a revoke (pure).

Deleting a grant file ends the access it gave. When a reviewed pull request did it,
that is a *revoke*: meant, like an expiry, so the removal brakes let it pass. Which
deletions to look at and whether one came while its grant was open are plain questions
about git's history and GitHub's merge times, answered here; whether the deletion and
the deleted version were reviewed is judged by :mod:`grantops.proof.review`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from itertools import pairwise
from typing import NamedTuple

from grantops.githistory import History, Step
from grantops.model import Grant
from grantops.proof.review import Evidence
from grantops.values import parse_timestamp


class Deletion(NamedTuple):
    """A grant file's deletion on the first-parent chain, and the version it deleted."""

    path: str
    version: Step
    """The step that put the deleted content on the branch."""
    removal: Step
    """The step that deleted it."""


def deletions(history: History, paths: Collection[str]) -> list[Deletion]:
    """Every deletion of one of ``paths`` on the first-parent chain, newest first.

    A deletion counts only with the step before it on the chain putting exactly the
    deleted content there: content the chain never shows arriving was never judged.
    """
    found = []
    for path in sorted(set(paths)):
        steps = history.steps.get(path, ())
        for removal, version in pairwise(steps):
            gone = removal.before
            if (
                removal.after is None
                and gone is not None
                and gone.regular
                and version.after == gone
            ):
                found.append(Deletion(path, version, removal))
    found.sort(key=lambda d: history.position(d.removal.commit) or 0)
    return found


def revoked_while_open(grant: Grant, version: Evidence | None, removal: Evidence | None) -> bool:
    """Whether GitHub merged the deletion while the deleted version's window was open.

    By GitHub's ``merged_at`` for both pull requests, never a commit's date (whoever
    pushes a commit sets that): the version was merged, its window had opened, and the
    deletion was merged after both and before the window closed. A deletion after the
    window closed ends nothing (an expiry did); one before it opened, or before the
    version was merged, took away nothing that version gave.
    """
    merged, deleted, expires = _merged_at(version), _merged_at(removal), grant.expires
    if merged is None or deleted is None or expires is None:  # pending: it never opened
        return False
    opened = max(merged, grant.starts) if grant.starts is not None else merged
    return opened <= deleted < expires


def _merged_at(evidence: Evidence | None) -> datetime | None:
    try:
        return parse_timestamp(evidence.merged_at) if evidence and evidence.merged_at else None
    except ValueError:
        return None
