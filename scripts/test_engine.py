#!/usr/bin/env python3
"""Install and run private container engines for the aiodockersock tests.

The code is the ``tests.engines`` package; this script is its command line::

    python3 scripts/test_engine.py install [--engines 20.10,26.1,28.5,podman,registry]
    python3 scripts/test_engine.py start VERSION --dir DIR   # prints DOCKER_HOST=unix://...
    python3 scripts/test_engine.py stop --dir DIR
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.engines import main  # after the line above: the repository root on sys.path

if __name__ == "__main__":
    sys.exit(main())
