#!/usr/bin/env bash
# Run the whole test suite on this machine.
#
# Installs the package with its test extra, checks types and style, installs the test engines
# (Docker 20.10 and 28.5 from Debian's packages) when run as root, and runs pytest, which starts
# private daemons of its own (their own sockets and directories; your engine is never touched)
# and stops them at the end. Arguments are passed to pytest.
#
#   AIODOCKERSOCK_TEST_ENGINES=20.10,26.1,28.5   engines to test against (default 20.10,28.5)
#   DOCKER_HOST=unix:///...                       test against your own daemon instead
#   CI=true                                       a missing engine fails the run (never skips)
set -euo pipefail
cd "$(dirname "$0")/.."

export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
python3 -m pip install -q -e '.[test]'

echo "== ruff"
python3 -m ruff check aiodockersock tests
echo "== mypy --strict"
python3 -m mypy --strict aiodockersock

if [ "$(id -u)" = 0 ] && { [ -n "${AIODOCKERSOCK_TEST_ENGINES:-}" ] || [ -z "${DOCKER_HOST:-}" ]; }; then
    echo "== test engines"
    python3 scripts/test_engine.py install --engines "${AIODOCKERSOCK_TEST_ENGINES:-20.10,28.5}"
fi

echo "== pytest"
exec python3 -m pytest "$@"
