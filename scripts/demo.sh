#!/usr/bin/env bash
# The main job: install aiodockersock and show it at work against a Docker engine.
#
# Uses the engine at DOCKER_HOST (or /var/run/docker.sock) when one answers. Otherwise, as root,
# it installs Docker from Debian's packages if missing and starts a private engine (its own
# socket and directories under /tmp, stopped again at the end) with an offline busybox image.
# Then: the engine's version, a container created and started while the live event stream
# prints what happens, its output, its removal, and the containers left running.
set -euo pipefail
cd "$(dirname "$0")/.."

export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
python3 -m pip install -q .

workdir=""
cleanup() {
    if [ -n "$workdir" ]; then
        python3 scripts/test_engine.py stop --dir "$workdir" >/dev/null || true
        rm -rf "$workdir"
    fi
}
trap cleanup EXIT

if ! python3 -m aiodockersock version >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "no Docker engine answers at ${DOCKER_HOST:-unix:///var/run/docker.sock};" \
             "start one, set DOCKER_HOST, or run this as root to get a private one" >&2
        exit 1
    fi
    engine="${AIODOCKERSOCK_DEMO_ENGINE:-20.10}"
    echo "== no engine answers: starting a private Docker $engine"
    python3 scripts/test_engine.py install --engines "$engine"
    workdir="$(mktemp -d /tmp/ads-demo-XXXX)"
    host_line="$(python3 scripts/test_engine.py start "$engine" --dir "$workdir" | grep '^DOCKER_HOST=' | tail -1)"
    export DOCKER_HOST="${host_line#DOCKER_HOST=}"
fi

echo "== python -m aiodockersock version"
python3 -m aiodockersock version
echo
echo "== python -m aiodockersock demo"
python3 -m aiodockersock demo
echo
echo "== python -m aiodockersock ps"
python3 -m aiodockersock ps
