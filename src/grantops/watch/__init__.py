"""``grantops watch``: a long-running reconciler that changes access on time."""
