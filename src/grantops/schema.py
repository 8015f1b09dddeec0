"""JSON Schemas of the grant and policy files, generated from the models.

The committed ``schema/*.json`` files let editors complete and check grant files; a
test regenerates them and fails when they drift from the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from grantops.constants import SCHEMA_DIR
from grantops.model import GrantSpec, Policy

_ID_BASE = "https://grantops.dev/schema/"


def schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema document."""
    grant = TypeAdapter(GrantSpec).json_schema()
    grant = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _ID_BASE + "grant.schema.json",
        "title": "grantops grant",
        "description": "One time-boxed access grant. Exactly one target form per file.",
        **grant,
    }
    policy = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _ID_BASE + "policy.schema.json",
        **Policy.model_json_schema(),
    }
    return {"grant.schema.json": grant, "policy.schema.json": policy}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def write_schemas(root: Path) -> list[Path]:
    """Write every schema under ``root/schema``; return the paths that changed."""
    changed = []
    for name, document in schemas().items():
        path = root / SCHEMA_DIR / name
        text = render(document)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def stale_schemas(root: Path) -> list[str]:
    """Names of committed schema files that differ from what the models generate."""
    return [
        name
        for name, document in schemas().items()
        if not (root / SCHEMA_DIR / name).exists()
        or (root / SCHEMA_DIR / name).read_text(encoding="utf-8") != render(document)
    ]
