"""Turn real recorded GitHub exchanges from ``@octokit/fixtures`` into vcrpy cassettes.

The npm package ``@octokit/fixtures`` (MIT) holds exchanges recorded against
api.github.com by Octokit's maintainers, normalised (ids, dates and tokens replaced
with fixed values). This script converts the scenarios grantops replays into vcrpy's
cassette format, keeping requests and responses as recorded except that the
``Authorization`` header is dropped and ``content-length`` is left for the replay to
compute. Nothing in the cassettes is written by hand.

Usage:
    python tests/cassettes/convert_fixtures.py          # fetches the package with npm pack
    python tests/cassettes/convert_fixtures.py DIR      # DIR holds scenarios/api.github.com

To record fresh cassettes against a real test org instead, see README.md next to this file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from http import HTTPStatus
from pathlib import Path
from typing import Any

import yaml

PACKAGE = "@octokit/fixtures@23.1.2"
SCENARIOS = ["add-and-remove-repository-collaborator", "errors", "paginate-issues"]
DROPPED_HEADERS = {"authorization", "content-length", "host"}
HERE = Path(__file__).parent


def convert(fixture: list[dict[str, Any]]) -> dict[str, Any]:
    interactions = []
    for exchange in fixture:
        body = exchange.get("body")
        response = exchange.get("response")
        request_headers = {
            name: [str(value)]
            for name, value in (exchange.get("reqheaders") or {}).items()
            if name.lower() not in DROPPED_HEADERS
        }
        response_headers = {
            name: [str(value)]
            for name, value in (exchange.get("headers") or {}).items()
            if name.lower() not in DROPPED_HEADERS
        }
        status = int(exchange["status"])
        interactions.append(
            {
                "request": {
                    "method": exchange["method"].upper(),
                    "uri": exchange["scope"].rstrip("/") + exchange["path"],
                    "body": json.dumps(body) if body not in (None, "") else None,
                    "headers": request_headers,
                },
                "response": {
                    "status": {"code": status, "message": HTTPStatus(status).phrase},
                    "headers": response_headers,
                    "body": {"string": "" if response in (None, "") else json.dumps(response)},
                },
            }
        )
    return {"interactions": interactions, "version": 1}


def _download(workdir: Path) -> Path:
    subprocess.run(
        ["npm", "pack", PACKAGE, "--loglevel=warn"],
        cwd=workdir,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    archive = next(workdir.glob("octokit-fixtures-*.tgz"))
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / "package"


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        package = Path(argv[1]) if len(argv) > 1 else _download(Path(tmp))
        for scenario in SCENARIOS:
            source = package / "scenarios" / "api.github.com" / scenario / "normalized-fixture.json"
            cassette = convert(json.loads(source.read_text(encoding="utf-8")))
            header = (
                f"# Converted by tests/cassettes/convert_fixtures.py from {PACKAGE},\n"
                f"# scenarios/api.github.com/{scenario}: real exchanges recorded against\n"
                "# api.github.com and normalised by Octokit. Do not edit by hand.\n"
            )
            target = HERE / f"{scenario}.yaml"
            target.write_text(header + yaml.safe_dump(cassette, sort_keys=False, width=120))
            print(f"wrote {target} ({len(cassette['interactions'])} interactions)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
