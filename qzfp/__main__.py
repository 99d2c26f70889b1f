"""Allow ``python -m qzfp``."""

import sys

from .cli import main

sys.exit(main())
