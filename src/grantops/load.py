"""Read an access repository's files into validated models, or report every problem.

All files are read and checked before anything is returned: a run either gets a
policy and grants it can trust, or an :class:`InvalidInput` listing each problem of
each file as ``PATH:LINE: message``. Nothing downstream (and no GitHub read) happens
on invalid input.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
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

PARALLEL_THRESHOLD = 2000
"""From this many grant files on, loading is spread over the machine's cores."""

_GRANT_ADAPTER: TypeAdapter[Any] = TypeAdapter(GrantSpec)


@dataclass(frozen=True)
class Loaded:
    """A valid policy and its grants, plus warnings worth showing (never errors)."""

    policy: Policy
    grants: tuple[Grant, ...]
    warnings: tuple[Problem, ...]


def grant_paths(root: Path) -> list[str]:
    """Every grant file below ``grants/`` (``.yaml``/``.yml``), as sorted relative paths.

    The policy and anything in a hidden directory are left out. ``os.walk`` on plain
    strings keeps listing fast for repositories with many thousands of grants.
    """
    found = []
    top = root / GRANTS_DIR
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        relative_folder = os.path.relpath(folder, root).replace(os.sep, "/")
        found += [
            f"{relative_folder}/{name}"
            for name in files
            if name.endswith((".yaml", ".yml")) and not name.startswith(".")
        ]
    return sorted(path for path in found if path != POLICY_PATH)


def load_repo(root: Path, now: datetime) -> Loaded:
    """Load ``grants/policy.yaml`` and every grant under ``root``; raise on any error."""
    problems: list[Problem] = []
    policy = _load_policy(root, problems)
    grants: list[Grant] = []
    for grant, found in _load_grants(root, grant_paths(root), policy, now):
        problems.extend(found)
        if grant is not None:
            grants.append(grant)
    if any(p.severity == "error" for p in problems):
        raise InvalidInput(problems)
    assert policy is not None  # a missing or invalid policy is an error above
    return Loaded(policy, tuple(grants), tuple(sorted(problems)))


def _load_grants(
    root: Path, paths: list[str], policy: Policy | None, now: datetime
) -> Iterator[tuple[Grant | None, list[Problem]]]:
    """Load grant files in order; large repositories use every core.

    Parsing dominates validation time, and each file is independent, so past
    ``PARALLEL_THRESHOLD`` files the work is split into chunks across processes.
    Results come back in path order either way.
    """
    workers = min(os.cpu_count() or 1, 8)
    if len(paths) < PARALLEL_THRESHOLD or workers < 2:
        yield from _load_chunk(str(root), paths, policy, now)
        return
    size = -(-len(paths) // (workers * 4))
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    # forkserver: forking a process that may have threads (an HTTP client, a test runner)
    # risks deadlocks; the server process starts clean and imports grantops once.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        jobs = [pool.submit(_load_chunk, str(root), chunk, policy, now) for chunk in chunks]
        for job in jobs:
            yield from job.result()


def _load_chunk(
    root: str, paths: list[str], policy: Policy | None, now: datetime
) -> list[tuple[Grant | None, list[Problem]]]:
    results = []
    for relative in paths:
        # plain strings and open(): pathlib objects cost more than parsing here
        with open(os.path.join(root, relative), "rb") as handle:  # noqa: PTH118, PTH123
            results.append(load_grant_text(relative, handle.read(), policy, now))
    return results


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
