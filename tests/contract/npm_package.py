"""Fetch a file from a published npm package, for the scripts that vendor GitHub's data."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path


def fetch(package: str, member: str, workdir: Path) -> Path:
    """``member`` (``package/...``, or ``package`` for everything) of the pinned
    ``package``, unpacked under ``workdir``; ``npm pack`` needs no project or install."""
    subprocess.run(
        ["npm", "pack", package, "--loglevel=warn"],
        cwd=workdir,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    archive = next(workdir.glob("*.tgz"))
    with tarfile.open(archive) as tar:
        chosen = [
            m for m in tar.getmembers() if m.name == member or m.name.startswith(member + "/")
        ]
        tar.extractall(workdir, members=chosen, filter="data")
    return workdir / member
