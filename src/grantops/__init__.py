"""grantops: time-boxed, reviewed, audited access to GitHub repositories, run as code."""

from grantops.constants import VERSION

__version__ = VERSION
"""The installed version, for ``grantops.__version__`` users; defined in ``constants``."""

__all__ = ["__version__"]
