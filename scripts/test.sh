#!/usr/bin/env bash
# Run the whole test suite on this machine.
#
# Installs the package with its test extra, checks types and style, installs the test engines
# (Docker 20.10, 26.1 and 28.5 and Podman from Debian's packages) when run as root, and runs
# pytest, which starts private daemons of its own (their own sockets and directories; your
# engine is never touched) and stops them at the end. The engines are split between three pytest
# processes side by side (scripts/test_lanes.py: 20.10 with the engineless tests; 26.1 and
# Podman; 28.5). Arguments are passed to pytest.
#
#   AIODOCKERSOCK_TEST_ENGINES=20.10,28.5         engines to test against (default 20.10,26.1,
#                                                 28.5, and podman for the tests marked podman)
#   AIODOCKERSOCK_TEST_LANES=1                    one pytest process for every engine
#   AIODOCKERSOCK_TEST_PODMAN=0|1                 leave Podman out / add it to any engine set
#   DOCKER_HOST=unix:///...                       test against your own daemon instead
#   CI=true                                       a missing engine fails the run (never skips)
set -euo pipefail
cd "$(dirname "$0")/.."

export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
python3 -m pip install -q -e '.[test]'

echo "== ruff"
python3 -m ruff check aiodockersock tests examples scripts
echo "== mypy --strict"
python3 -m mypy --strict aiodockersock
python3 -m mypy --strict tests/engines scripts/test_engine.py scripts/test_lanes.py

# the engines pytest will start (tests/conftest.py decides; "external" is DOCKER_HOST's own)
engines="$(python3 -c 'from tests.conftest import engine_labels
print(",".join(label for label in engine_labels() if label != "external"))')"
if [ "$(id -u)" = 0 ] && [ -n "$engines" ]; then
    echo "== test engines"
    python3 scripts/test_engine.py install --engines "$engines"
fi

[ "$(id -u)" != 0 ] || command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || echo "chromium not installed: the browser test skips (fails with CI=true)"
echo "== pytest"
exec python3 scripts/test_lanes.py "$@"
