"""Vendor the parts of GitHub's OpenAPI description that grantops and its sandbox use.

Source: the npm package ``@octokit/openapi`` (GitHub's official description, MIT),
file ``generated/api.github.com.deref.json`` (every ``$ref`` already inlined), and
``generated/ghec.deref.json`` for the few operations only GitHub Enterprise has. The
output keeps, per operationId, the method, path and the JSON response schema of each
status code, so contract tests can check the sandbox's answers without the 70 MB file.

Usage:
    python tests/contract/extract_openapi.py            # fetches the package with npm pack
    python tests/contract/extract_openapi.py FILE.json GHEC.json  # files you already have
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from npm_package import fetch  # a sibling file: these scripts are run as files

PACKAGE = "@octokit/openapi@23.0.2"
MEMBER = "package/generated/api.github.com.deref.json"
ENTERPRISE_MEMBER = "package/generated/ghec.deref.json"
"""GitHub Enterprise Cloud's description (also GitHub Enterprise Server's), for the
operations api.github.com's leaves out: custom repository roles exist only there."""
OUTPUT = Path(__file__).with_name("github-openapi-subset.json")

OPERATIONS = [
    "orgs/get",
    "orgs/list-members",
    "orgs/check-membership-for-user",
    "repos/list-for-org",
    "repos/list-collaborators",
    "repos/add-collaborator",
    "repos/remove-collaborator",
    "repos/get-collaborator-permission-level",
    "repos/list-invitations",
    "repos/delete-invitation",
    "repos/list-teams",
    "teams/list-members-in-org",
    "teams/list-pending-invitations-in-org",
    "teams/get-membership-for-user-in-org",
    "teams/add-or-update-membership-for-user-in-org",
    "teams/remove-membership-for-user-in-org",
    "teams/check-permissions-for-repo-in-org",
    "teams/add-or-update-repo-permissions-in-org",
    "teams/remove-repo-in-org",
    "repos/list-pull-requests-associated-with-commit",
    "pulls/list-reviews",
    "pulls/list-commits",
    "pulls/list-files",
    "pulls/list",
    "pulls/create",
    "pulls/get",
    "pulls/update",
    "pulls/create-review",
    "pulls/merge",
    "repos/get-branch",
    "repos/list-commits",
    "issues/create-comment",
    "issues/list-for-repo",
    "issues/create",
    "issues/update",
    "issues/get",
    "issues/list-comments",
    "issues/update-comment",
    "actions/list-workflow-runs",
    "users/get-authenticated",
    "rate-limit/get",
    "apps/get-org-installation",
    "apps/create-installation-access-token",
]

ENTERPRISE_OPERATIONS = [
    "orgs/list-custom-repo-roles",
]
"""Taken from :data:`ENTERPRISE_MEMBER`; the operation was once ``orgs/list-custom-roles``."""


def _strip(schema: Any) -> Any:
    """Drop prose and examples (large, never used to validate) and turn OpenAPI 3.0's
    ``nullable: true`` into JSON Schema's ``null`` type, which validators understand."""
    if isinstance(schema, list):
        return [_strip(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: _strip(v)
        for k, v in schema.items()
        if k not in {"description", "example", "examples", "nullable"}
    }
    if schema.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def extract(description: dict[str, Any], enterprise: dict[str, Any]) -> dict[str, Any]:
    found = _operations(description, OPERATIONS)
    found.update(_operations(enterprise, ENTERPRISE_OPERATIONS))
    missing = sorted(set(OPERATIONS + ENTERPRISE_OPERATIONS) - set(found))
    if missing:
        raise SystemExit(f"operations not in the description: {', '.join(missing)}")
    members = " and ".join(m.removeprefix("package/") for m in (MEMBER, ENTERPRISE_MEMBER))
    return {"source": f"{PACKAGE} {members}", "operations": dict(sorted(found.items()))}


def _operations(description: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
    """Method, path and response schemas of each operation of ``wanted``."""
    found: dict[str, Any] = {}
    for path, item in description["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or operation.get("operationId") not in wanted:
                continue
            responses = {}
            for status, response in operation["responses"].items():
                media = response.get("content", {})
                schema = next((v.get("schema") for k, v in media.items() if "json" in k), None)
                responses[status] = _strip(schema)
            found[operation["operationId"]] = {
                "method": method.upper(),
                "path": path,
                "responses": responses,
            }
    return found


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        if len(argv) > 2:
            source, other = Path(argv[1]), Path(argv[2])
        else:
            source = fetch(PACKAGE, MEMBER, Path(tmp))
            other = fetch(PACKAGE, ENTERPRISE_MEMBER, Path(tmp))
        subset = extract(*(json.loads(p.read_text(encoding="utf-8")) for p in (source, other)))
    OUTPUT.write_text(json.dumps(subset, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(subset['operations'])} operations)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
