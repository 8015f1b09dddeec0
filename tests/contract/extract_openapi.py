"""Vendor the parts of GitHub's OpenAPI description that grantops and its sandbox use.

Source: the npm package ``@octokit/openapi`` (GitHub's official description, MIT),
file ``generated/api.github.com.deref.json`` (every ``$ref`` already inlined). The
output keeps, per operationId, the method, path and the JSON response schema of each
status code, so contract tests can check the sandbox's answers without the 70 MB file.

Usage:
    python tests/contract/extract_openapi.py            # fetches the package with npm pack
    python tests/contract/extract_openapi.py FILE.json  # uses a file you already have
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
    "pulls/create-review",
    "pulls/merge",
    "repos/get-branch",
    "repos/list-commits",
    "issues/create-comment",
    "issues/list-for-repo",
    "issues/create",
    "issues/update",
    "actions/list-workflow-runs",
    "users/get-authenticated",
    "rate-limit/get",
]


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


def extract(description: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path, item in description["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or operation.get("operationId") not in OPERATIONS:
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
    missing = sorted(set(OPERATIONS) - set(found))
    if missing:
        raise SystemExit(f"operations not in the description: {', '.join(missing)}")
    return {
        "source": f"{PACKAGE} {MEMBER.removeprefix('package/')}",
        "operations": dict(sorted(found.items())),
    }


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(argv[1]) if len(argv) > 1 else fetch(PACKAGE, MEMBER, Path(tmp))
        subset = extract(json.loads(source.read_text(encoding="utf-8")))
    OUTPUT.write_text(json.dumps(subset, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(subset['operations'])} operations)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
