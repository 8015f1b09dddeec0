"""A local GitHub for demos and tests: ``grantops sandbox serve`` and ``grantops demo``."""

from grantops.sandbox.server import FaultRule, Sandbox, Settings

__all__ = ["FaultRule", "Sandbox", "Settings"]
