"""Which credentials a command reaches GitHub with: a token, or a GitHub App's key.

``GITHUB_TOKEN`` (or ``GH_TOKEN``) is a token someone minted, such as the one the
reconcile workflow mints. ``GRANTOPS_APP_ID`` with ``GRANTOPS_APP_PRIVATE_KEY`` (PEM
text) or ``GRANTOPS_APP_PRIVATE_KEY_FILE`` (a path) lets grantops mint and renew its
own installation tokens, for runs outside GitHub Actions. Both at once would leave
unclear who acts, so that is a usage error.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from grantops.constants import POLICY_PATH
from grantops.errors import UsageError
from grantops.github.appauth import AppCredentials, AppTokens
from grantops.load import load_policy_text, read_regular

APP_VARIABLES = ("GRANTOPS_APP_ID", "GRANTOPS_APP_PRIVATE_KEY", "GRANTOPS_APP_PRIVATE_KEY_FILE")


def credentials(args: argparse.Namespace, environ: Mapping[str, str], url: str) -> str | AppTokens:
    """The token from the environment, or installation tokens of the App it names."""
    token = environ.get("GITHUB_TOKEN") or environ.get("GH_TOKEN")
    app = [name for name in APP_VARIABLES if environ.get(name)]
    if token and app:
        raise UsageError(
            f"both GITHUB_TOKEN/GH_TOKEN and {', '.join(app)} are set: set one, a token "
            "or the GitHub App's credentials"
        )
    if token:
        return token
    if not app:
        raise UsageError(
            "set GITHUB_TOKEN or GH_TOKEN to a token that may read the org's access, or "
            "GRANTOPS_APP_ID and GRANTOPS_APP_PRIVATE_KEY (or _FILE) to run as a GitHub App"
        )
    root = Path(getattr(args, "root", None) or Path())
    tokens = AppTokens(url, app_credentials(environ), policy_org(root))
    try:
        tokens.token()  # a wrong key or a missing installation stops the run before it starts
    except BaseException:
        tokens.close()
        raise
    return tokens


def app_credentials(environ: Mapping[str, str]) -> AppCredentials:
    """The App's id and key; a usage error when one is missing or unreadable."""
    app_id = environ.get("GRANTOPS_APP_ID", "").strip()
    if not app_id.isdigit():
        raise UsageError("GRANTOPS_APP_ID must be the GitHub App's numeric id")
    text, path = (
        environ.get("GRANTOPS_APP_PRIVATE_KEY"),
        environ.get("GRANTOPS_APP_PRIVATE_KEY_FILE"),
    )
    if text and path:
        raise UsageError("set GRANTOPS_APP_PRIVATE_KEY or GRANTOPS_APP_PRIVATE_KEY_FILE, not both")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not text"
            raise UsageError(
                f"GRANTOPS_APP_PRIVATE_KEY_FILE {path}: cannot read it: {why}"
            ) from None
    if not text:
        raise UsageError(
            "GRANTOPS_APP_ID is set: set GRANTOPS_APP_PRIVATE_KEY to the App's private "
            "key (PEM) or GRANTOPS_APP_PRIVATE_KEY_FILE to its path"
        )
    return AppCredentials(app_id, text)


def policy_org(root: Path) -> str:
    """The org the policy manages, whose installation the App's tokens are for."""
    where = root / POLICY_PATH
    try:
        policy, problems = load_policy_text(POLICY_PATH, read_regular(str(where)))
    except OSError as exc:
        raise UsageError(
            f"{where}: cannot read the policy ({exc.strerror}), which names the org the "
            "GitHub App acts on (--root DIR: the access repository)"
        ) from None
    if policy is None:
        first = problems[0] if problems else None
        said = f"{first.path}:{first.line}: {first.message}" if first else "it is not valid"
        raise UsageError(f"{where}: the policy names no org the GitHub App can act on: {said}")
    return policy.org
