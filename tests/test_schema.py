"""The committed JSON Schemas match the models, and editors' view agrees with the loader's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from grantops.load import grant_paths
from grantops.schema import stale_schemas, write_schemas
from grantops.yamlfile import parse

PROJECT = Path(__file__).resolve().parents[1]


def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((PROJECT / "schema" / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_committed_schemas_are_generated_from_the_models() -> None:
    assert stale_schemas(PROJECT) == [], "run: grantops schema --write"


def test_write_then_check(tmp_path: Path) -> None:
    assert {p.name for p in write_schemas(tmp_path)} == {"grant.schema.json", "policy.schema.json"}
    assert stale_schemas(tmp_path) == []
    (tmp_path / "schema" / "grant.schema.json").write_text("{}\n")
    assert stale_schemas(tmp_path) == ["grant.schema.json"]


def test_example_files_satisfy_the_schemas_and_name_them() -> None:
    grant_schema = _validator("grant.schema.json")
    for relative in grant_paths(PROJECT):
        text = (PROJECT / relative).read_text()
        assert text.startswith("# yaml-language-server: $schema=")
        assert list(grant_schema.iter_errors(parse(text).data)) == [], relative
    policy_text = (PROJECT / "grants" / "policy.yaml").read_text()
    assert policy_text.startswith("# yaml-language-server: $schema=../schema/policy.schema.json")
    # editors type YAML scalars (1 is an integer to them), so check what they see
    assert list(_validator("policy.schema.json").iter_errors(yaml.safe_load(policy_text))) == []


@pytest.mark.parametrize(
    "document",
    [
        {
            "user": "octocat",
            "repo": "x",
            "permission": "push",
            "expires": "2026-11-30",
            "reason": "why not",
        },
        {
            "user": "octocat",
            "repo": "x",
            "permission": "push",
            "expires": "2026-11-30T18:00:00Z",
            "reason": "why",
            "expire": "x",
        },
        {
            "user": "-octocat",
            "repo": "x",
            "permission": "push",
            "expires": "2026-11-30T18:00:00Z",
            "reason": "why",
        },
    ],
)
def test_schema_rejects_what_the_loader_rejects(document: dict[str, str]) -> None:
    assert list(_validator("grant.schema.json").iter_errors(document)) != []
