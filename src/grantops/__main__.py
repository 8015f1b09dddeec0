"""Allow ``python -m grantops``."""

import sys

from grantops.cli import main

sys.exit(main())
