"""``python -m aiodockersock``."""

from aiodockersock.cli import main

raise SystemExit(main())
