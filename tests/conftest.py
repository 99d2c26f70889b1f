"""Test-wide settings.

Report runs skip ``report.pdf`` (``QZFP_PDF=0``: printing a report takes Chromium 5-15 s)
except in ``tests/test_pages_in_browser.py``, which prints reports on purpose.
"""

import os

os.environ.setdefault("QZFP_PDF", "0")
