"""Read an access repository's files into validated models, or report every problem.

All files are read and checked before anything is returned: a run either gets a
policy and grants it can trust, or an :class:`InvalidInput` listing each problem of
each file as ``PATH:LINE: message``. Nothing downstream (and no GitHub read) happens
on invalid input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from grantops import rules
from grantops.errors import InvalidInput, Problem
from grantops.explain import explain
from grantops.model import Grant, GrantSpec, Policy
from grantops.yamlfile import YamlDocument, YamlError, decode, parse

POLICY_PATH = "grants/policy.yaml"
GRANTS_DIR = "grants"

_GRANT_ADAPTER: TypeAdapter[Any] = TypeAdapter(GrantSpec)


@dataclass(frozen=True)
class Loaded:
    """A valid policy and its grants, plus warnings worth showing (never errors)."""

    policy: Policy
    grants: tuple[Grant, ...]
    warnings: tuple[Problem, ...]


def grant_paths(root: Path) -> list[Path]:
    """Every grant file below ``grants/`` (``.yaml``/``.yml``), sorted, policy excluded."""
    base = root / GRANTS_DIR
    if not base.is_dir():
        return []
    found = [
        path
        for pattern in ("*.yaml", "*.yml")
        for path in base.rglob(pattern)
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(base).parts)
    ]
    policy = root / POLICY_PATH
    return sorted(p for p in found if p != policy)


def load_repo(root: Path, now: datetime) -> Loaded:
    """Load ``grants/policy.yaml`` and every grant under ``root``; raise on any error."""
    problems: list[Problem] = []
    policy = _load_policy(root, problems)
    grants: list[Grant] = []
    for path in grant_paths(root):
        relative = path.relative_to(root).as_posix()
        loaded = load_grant_text(relative, path.read_bytes(), policy, now)
        problems.extend(loaded[1])
        if loaded[0] is not None:
            grants.append(loaded[0])
    if any(p.severity == "error" for p in problems):
        raise InvalidInput(problems)
    assert policy is not None  # a missing or invalid policy is an error above
    return Loaded(policy, tuple(grants), tuple(sorted(problems)))


def load_policy_text(relative: str, raw: bytes) -> tuple[Policy | None, list[Problem]]:
    """Validate the bytes of a policy file."""
    doc, problems = _parse(relative, raw)
    if doc is None:
        return None, problems
    try:
        policy = Policy.model_validate(doc.data)
    except ValidationError as exc:
        return None, _problems(relative, doc, ((loc, msg, "error") for loc, msg in explain(exc)))
    return policy, _problems(relative, doc, rules.check_policy(policy))


def load_grant_text(
    relative: str, raw: bytes, policy: Policy | None, now: datetime
) -> tuple[Grant | None, list[Problem]]:
    """Validate the bytes of one grant file; policy checks only run when ``policy`` is valid."""
    doc, problems = _parse(relative, raw)
    if doc is None:
        return None, problems
    try:
        spec = _GRANT_ADAPTER.validate_python(doc.data)
    except ValidationError as exc:
        return None, _problems(relative, doc, ((loc, msg, "error") for loc, msg in explain(exc)))
    if policy is None:
        return Grant(relative, spec), []
    found = _problems(relative, doc, rules.check_grant(policy, spec, now))
    if any(p.severity == "error" for p in found):
        return None, found
    return Grant(relative, spec), found


def _load_policy(root: Path, problems: list[Problem]) -> Policy | None:
    path = root / POLICY_PATH
    if not path.is_file():
        problems.append(Problem(POLICY_PATH, 1, "the policy file is missing"))
        return None
    policy, found = load_policy_text(POLICY_PATH, path.read_bytes())
    problems.extend(found)
    if any(p.severity == "error" for p in found):
        return None
    return policy


def _parse(relative: str, raw: bytes) -> tuple[YamlDocument | None, list[Problem]]:
    try:
        doc = parse(decode(raw))
    except YamlError as exc:
        return None, [Problem(relative, exc.line, exc.message)]
    if not isinstance(doc.data, dict):
        return None, [Problem(relative, 1, "the file must be a mapping of keys to values")]
    return doc, []


def _problems(relative: str, doc: YamlDocument, findings: Iterable[rules.Finding]) -> list[Problem]:
    return [Problem(relative, doc.line_of(loc), msg, severity) for loc, msg, severity in findings]
