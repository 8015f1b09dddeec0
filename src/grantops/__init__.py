"""grantops: time-boxed, reviewed, audited access to GitHub repositories, run as code."""

__version__ = "0.1.0"
