"""ghapi and its HTTP layer, imported without touching the process environment.

Importing ghapi runs its ``actions`` module, which fills in example values for local
testing when they are unset: ``GITHUB_REPOSITORY=octocat/Hello-World`` and the
``CONTEXT_*`` variables of someone else's workflow run. grantops reads
``GITHUB_REPOSITORY`` to find the access repository, so outside Actions a plan or a
request went to octocat/Hello-World. The environment is put back exactly as it was.
"""

from __future__ import annotations

import os

_BEFORE = dict(os.environ)

from fasttransport.errors import APIError  # noqa: E402  (imported after the snapshot)
from ghapi.all import GhApi  # noqa: E402

for _name in set(os.environ) - set(_BEFORE):
    del os.environ[_name]
os.environ.update(_BEFORE)

__all__ = ["APIError", "GhApi"]
