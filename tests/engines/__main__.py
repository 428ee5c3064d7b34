"""``python -m tests.engines``: the same command line as ``scripts/test_engine.py``."""

import sys

from .cli import main

sys.exit(main())
