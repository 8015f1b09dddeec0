"""``grantops watch``: access that starts and ends within seconds of its window."""
