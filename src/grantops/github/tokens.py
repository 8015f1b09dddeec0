"""Where a request's token comes from: one given once, or one renewed when due."""

from __future__ import annotations

from typing import Protocol


class TokenSource(Protocol):
    """Where the transport gets the token for its next request."""

    def token(self) -> str:
        """The token to send now."""

    def refresh(self, stale: str) -> bool:
        """Replace ``stale`` after GitHub refused it (unless it was replaced meanwhile);
        False when there is no other token to try."""

    def close(self) -> None:
        """Let go of what the source holds (a connection to GitHub)."""


class FixedToken:
    """A token given once (``GITHUB_TOKEN``): there is no other to try."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "FixedToken(***)"

    def token(self) -> str:
        return self._token

    def refresh(self, stale: str) -> bool:
        return False

    def close(self) -> None:
        pass
