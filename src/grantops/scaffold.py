"""The files of a new access repository, as text (pure): what ``grantops init`` writes.

Workflows come from one place, ``grantops/templates/workflows/``: every file there is
an access repository's workflow, and this repository's own copies are rendered from
the same templates (a test holds them equal), so the two never drift apart. A
template names what differs with ``@NAME@`` tokens: the default branch, and how
grantops is installed (a pinned release in an access repository, the checkout here).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib.resources import files

from grantops.constants import POLICY_PATH, SCHEMA_DIR
from grantops.initpolicy import Origin, render_policy
from grantops.schema import render, schemas
from grantops.statefile import StateFile

WORKFLOWS_DIR = ".github/workflows"
ISSUE_FORMS_DIR = ".github/ISSUE_TEMPLATE"
CODEOWNERS_PATH = ".github/CODEOWNERS"

_TOKEN = re.compile(r"@([A-Z][A-Z_]*)@")
_OWNER = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:/[A-Za-z0-9._-]+)?")
_BRANCH = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")

CHECKOUT_INSTALL = """\
# In this repository the checkout is grantops itself, and installing it is safe only
# because CODEOWNERS and "Require review from Code Owners" cover every path it builds
# and runs. An access repository installs a pinned release instead, as the workflows
# `grantops init` writes do (README: What the runner trusts).
- name: Install grantops from this checkout
  run: python -m pip install ."""


RELEASE_REQUIREMENTS = ".github/grantops-requirements.txt"
"""Where an access repository keeps the hash-pinned requirements of its grantops release."""


def release_install(version: str) -> str:
    """The install step of an access repository: one exact release, every file pinned by
    its hash, never the checkout. The requirements file is the one attached to the
    release; ``grantops init`` cannot write it, since it pins the release's own files."""
    return f"""\
# Exactly the grantops `grantops init` was run with, every file pinned by its hash, never
# this checkout: the reconcile job holds an org-wide admin token, so what it runs must be
# what was reviewed. {RELEASE_REQUIREMENTS} is the file of that name attached to
# the grantops v{version} release (grantops and each of its dependencies, for Python 3.12
# on Linux x86_64 as set up above). Add it once, check it and review it like code:
#   gh release download v{version} --repo OWNER/grantops --dir .github \\
#     --pattern grantops-requirements.txt
#   gh attestation verify {RELEASE_REQUIREMENTS} --repo OWNER/grantops
# -P keeps this checkout off Python's path, so nothing in it can stand in for pip.
- name: Install grantops {version}, every file pinned by its hash
  run: python -P -m pip install --require-hashes --no-deps -r {RELEASE_REQUIREMENTS}"""


def workflow_templates() -> dict[str, str]:
    """Every access-repository workflow template, by file name."""
    folder = files("grantops").joinpath("templates", "workflows")
    found = {entry.name: entry.read_text(encoding="utf-8") for entry in folder.iterdir()}
    return {name: text for name, text in sorted(found.items()) if name.endswith(".yml")}


def issue_forms() -> dict[str, str]:
    """Each issue form an access repository holds (the access request), by path; the
    same file in this repository and in every access repository, so no tokens."""
    folder = files("grantops").joinpath("templates", "issue_forms")
    found = {entry.name: entry.read_text(encoding="utf-8") for entry in folder.iterdir()}
    return {f"{ISSUE_FORMS_DIR}/{n}": t for n, t in sorted(found.items()) if n.endswith(".yml")}


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace each ``@NAME@``; a token alone on its line takes that line's indentation
    for every line of its value. An unknown token is a bug, so it raises."""
    lines = []
    for line in template.splitlines():
        alone = _TOKEN.fullmatch(line.strip())
        if alone:
            indent = line[: len(line) - len(line.lstrip())]
            lines += [indent + part for part in _value(values, alone.group(1)).splitlines()]
        else:
            lines.append(_TOKEN.sub(lambda m: _value(values, m.group(1)), line))
    return "\n".join(lines) + "\n"


def _value(values: Mapping[str, str], name: str) -> str:
    if name not in values:
        raise ValueError(f"template token @{name}@ has no value")
    return values[name]


def render_workflows(branch: str, install: str) -> dict[str, str]:
    """Each workflow's path and text, for ``branch`` and the install step ``install``."""
    values = {"DEFAULT_BRANCH": branch, "INSTALL_STEP": install}
    return {f"{WORKFLOWS_DIR}/{n}": fill(t, values) for n, t in workflow_templates().items()}


def check_owners(owners: Iterable[str]) -> list[str]:
    """``@org/team`` or ``@login`` each; anything else raises ValueError naming it."""
    checked = list(owners)
    bad = [owner for owner in checked if not _OWNER.fullmatch(owner)]
    if bad or not checked:
        raise ValueError(f"code owners must be @org/team or @login, not {' '.join(bad) or 'none'}")
    return checked


def check_branch(branch: str) -> str:
    if not _BRANCH.fullmatch(branch) or ".." in branch:
        raise ValueError(f"not a branch name grantops writes into a workflow: {branch!r}")
    return branch


def render_codeowners(owners: list[str]) -> str:
    """Security owners for everything, except grant files, which the policy's approvers
    review; the policy itself stays with the security owners (the last match wins)."""
    who = " ".join(owners)
    return f"""\
# Who must review what, with "Require review from Code Owners" on the default branch.
# The reconcile job runs with an org-wide admin token: whatever it executes or trusts
# is the security owners' to review. The last matching line wins, so keep this order.

# Everything by default, including any file added later.
*                     {who}

# Grant files have no code owner: any reviewer the policy allows approves them, and
# grantops checks that approval before it gives any access.
/grants/

# The policy decides who may approve what and how much may be removed.
/grants/policy.yaml   {who}

# The workflows (what the job runs and installs) and this file itself.
/.github/             {who}

# The JSON Schemas and the audit trail (written only by the grantops App).
/schema/              {who}
/audit/               {who}
"""


GITIGNORE = """\
# Snapshots and state files list the org's access: keep them out of the repository
# (JSON at the root and under snapshots/; schema/ and audit/ are committed).
/*.json
/snapshots/
.venv/
__pycache__/
.grantops-apply.lock
"""


def scaffold(
    state: StateFile,
    origin: Origin,
    *,
    owners: list[str],
    branch: str,
    version: str,
    extra_teams: Iterable[str] = (),
) -> dict[str, str]:
    """Every file of a new access repository, by path relative to its root."""
    written = {
        POLICY_PATH: render_policy(state, origin, extra_teams),
        CODEOWNERS_PATH: render_codeowners(owners),
        ".gitignore": GITIGNORE,
        **render_workflows(branch, release_install(version)),
        **issue_forms(),
    }
    written.update({f"{SCHEMA_DIR}/{name}": render(doc) for name, doc in schemas().items()})
    return written
