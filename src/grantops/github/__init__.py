"""grantops and GitHub: the narrow interface (:mod:`.api`), the REST client
(:mod:`.client`) and an in-memory fake for tests (:mod:`.fake`)."""

from __future__ import annotations

from grantops.github.api import GitHubAPI
from grantops.github.client import GitHub
from grantops.github.transport import DEFAULT_API_URL, GitHubError, RetryPolicy

__all__ = ["DEFAULT_API_URL", "GitHub", "GitHubAPI", "GitHubError", "RetryPolicy"]
