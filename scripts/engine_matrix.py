#!/usr/bin/env python3
"""Keep README.md's engine table (area by engine) in sync with what the tests produced.

    AIODOCKERSOCK_TEST_ENGINES=20.10,26.1,28.5,podman python3 -m pytest  # writes the table
    python3 scripts/engine_matrix.py --update     # copies it into README.md, between the markers
    python3 scripts/engine_matrix.py              # prints the table the last run wrote

The table is written by the test run itself (tests/engine_matrix.py, loaded by
tests/conftest.py) from every engine test's outcome; ``--from PATH`` reads another file (the
default is ``AIODOCKERSOCK_ENGINE_MATRIX`` or ``build/engine-matrix.md``). Only the text between
``<!-- engine-matrix -->`` and ``<!-- /engine-matrix -->`` in README.md changes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.engine_matrix import BEGIN, END, matrix_path  # noqa: E402


def replace_table(readme: str, table: str) -> str:
    """README's text with the part between the markers replaced by ``table``."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"README.md has no {BEGIN} … {END} section to update")
    return f"{readme[:start + len(BEGIN)]}\n{table.strip()}\n{readme[end:]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="rewrite README.md's table")
    parser.add_argument("--from", dest="source", type=Path, default=None,
                        help="the table a test run wrote (default: build/engine-matrix.md)")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md",
                        help="the README to update (default: the project's)")
    args = parser.parse_args()
    source = args.source or matrix_path()
    if not source.exists():
        print(f"{source} does not exist: run the engine tests first (python3 -m pytest; "
              "AIODOCKERSOCK_TEST_ENGINES picks the engines)", file=sys.stderr)
        return 1
    table = source.read_text()
    if not args.update:
        print(table, end="")
        return 0
    args.readme.write_text(replace_table(args.readme.read_text(), table))
    print(f"{args.readme}: engine table updated from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
