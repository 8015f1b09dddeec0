"""A primary rate-limit budget, as GitHub keeps one per resource (``core``, ``graphql``).

Each budget has a limit per window; the window starts at the first request after the
last one ended, and the budget is full again when it resets. REST requests spend one
point each, GraphQL queries their computed cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class RateBudget:
    limit: int
    window_seconds: int
    remaining: int = field(init=False)
    reset_at: int = field(init=False)

    def __post_init__(self) -> None:
        self.remaining = self.limit
        self.reset_at = int(time.time()) + self.window_seconds

    def refresh(self) -> None:
        """Start a new window once the old one has ended."""
        now = time.time()
        if now >= self.reset_at:
            self.remaining = self.limit
            self.reset_at = int(now) + self.window_seconds

    def spend(self, points: int) -> bool:
        """Take ``points`` if the budget holds them; False (and nothing taken) if not."""
        self.refresh()
        if points > self.remaining:
            return False
        self.remaining -= points
        return True

    def report(self) -> dict[str, int]:
        """The budget as ``/rate_limit`` reports each resource."""
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "reset": self.reset_at,
            "used": self.limit - self.remaining,
        }

    def headers(self, resource: str) -> dict[str, str]:
        """GitHub's ``x-ratelimit-*`` headers for this budget."""
        report = self.report()
        return {
            "x-ratelimit-limit": str(report["limit"]),
            "x-ratelimit-remaining": str(report["remaining"]),
            "x-ratelimit-used": str(report["used"]),
            "x-ratelimit-reset": str(report["reset"]),
            "x-ratelimit-resource": resource,
        }
