"""One module per ``grantops`` subcommand; :mod:`grantops.cli` wires them together."""
