#!/usr/bin/env python3
"""Run the test suite in lanes: the engines split between pytest processes side by side.

    python3 scripts/test_lanes.py [pytest arguments]     # what scripts/test.sh runs

Most of a test's time is spent waiting for an engine (a container to start, a daemon to
answer), so engines tested side by side take little more wall time than one. The engines of the
run (``tests/conftest.py``: ``AIODOCKERSOCK_TEST_ENGINES``, by default 20.10, 26.1, 28.5 and
Podman) are dealt out to ``AIODOCKERSOCK_TEST_LANES`` lanes (default 3), balanced by a rough
cost of each (:func:`deal`): with the default, lane 1 tests 20.10, lane 2 26.1 and Podman, lane
3 28.5. Lane 1 runs the whole suite on its engines, the tests without an engine included; the
other lanes run only the tests that run once per engine of theirs
(``AIODOCKERSOCK_TEST_LANE=engines-only``), so in all every test runs as often as in one
process over every engine.

Lane 1 prints as it goes; the other lanes' output follows when they end, then one line per lane.
Each lane writes its part of the engine matrix; the parts are merged into
``build/engine-matrix.md`` (printed at the end). The exit status is the first lane's that
failed, else 0. One lane (``AIODOCKERSOCK_TEST_LANES=1``), or an engine set of one, is a plain
pytest run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import ENGINES_ONLY, engine_labels  # noqa: E402
from tests.engine_matrix import matrix_path, merge_parts  # noqa: E402

#: Rough cost of an engine's tests in the suite, and of the tests without an engine (the first
#: lane's): the lanes are balanced by them.
COST = {"podman": 0.6}
DOCKER_COST = ENGINELESS_COST = 1.0


def deal(labels: list[str], lanes: int) -> list[list[str]]:
    """The engines of each lane. The first lane holds the first engine (the run's first Docker
    engine, for the tests of that engine alone) and the tests without an engine; each other
    engine goes, in order, to the lane with the least cost so far (the first of equals)."""
    groups: list[list[str]] = [[] for _ in range(max(1, min(lanes, len(labels))))]
    costs = [0.0] * len(groups)
    for index, label in enumerate(labels):
        lane = 0 if index == 0 else min(range(len(groups)), key=lambda n: (costs[n], n))
        groups[lane].append(label)
        costs[lane] += COST.get(label, DOCKER_COST) + (ENGINELESS_COST if index == 0 else 0)
    return [group for group in groups if group]


def _summary(log: str) -> str:
    """The last line pytest printed (its ``N passed, M failed in T s`` line)."""
    lines = [line for line in log.splitlines() if line.strip()]
    return lines[-1].strip("= ") if lines else "(no output)"


def _copy(stream: IO[bytes], sinks: list[IO[bytes]]) -> None:
    for chunk in iter(lambda: stream.read1(65536), b""):  # type: ignore[attr-defined]
        for sink in sinks:
            sink.write(chunk)
            sink.flush()


def main() -> int:
    lanes = int(os.environ.get("AIODOCKERSOCK_TEST_LANES", "3"))
    if lanes < 1:
        print(f"AIODOCKERSOCK_TEST_LANES={lanes}: give a number of lanes, 1 or more",
              file=sys.stderr)
        return 2
    labels = [label for label in engine_labels() if label != "external"]
    groups = deal(labels, lanes)
    command = [sys.executable, "-m", "pytest", *sys.argv[1:]]
    if len(groups) <= 1:
        return subprocess.call(command, cwd=ROOT)
    parts_dir = ROOT / "build" / "lanes"  # each lane's log and part of the engine matrix
    parts_dir.mkdir(parents=True, exist_ok=True)
    for old in parts_dir.glob("lane*"):
        old.unlink()
    procs: list[tuple[list[str], subprocess.Popen[bytes], Path]] = []
    for number, group in enumerate(groups, 1):
        env = {**os.environ, "AIODOCKERSOCK_TEST_ENGINES": ",".join(group),
               "AIODOCKERSOCK_TEST_PODMAN": "1" if "podman" in group else "0",
               "AIODOCKERSOCK_ENGINE_MATRIX_PART": str(parts_dir / f"lane{number}.json")}
        if number > 1:
            env["AIODOCKERSOCK_TEST_LANE"] = ENGINES_ONLY
        log = parts_dir / f"lane{number}.log"
        # .pytest_cache is the first lane's: two processes would write its files at once
        args = command if number == 1 else [*command, "-p", "no:cacheprovider"]
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        procs.append((group, proc, log))
        print(f"== lane {number}: {', '.join(group)}"
              + (" (and the tests without an engine)" if number == 1 else "")
              + ("" if number == 1 else f"; its output follows lane 1's (log: {log})"),
              flush=True)
    copiers = []
    for number, (_, proc, log) in enumerate(procs, 1):
        assert proc.stdout is not None
        sinks: list[IO[bytes]] = [log.open("wb")]
        if number == 1:
            sinks.append(sys.stdout.buffer)
        copier = threading.Thread(target=_copy, args=(proc.stdout, sinks), daemon=True)
        copier.start()
        copiers.append((copier, sinks[0]))
    codes = [proc.wait() for _, proc, _ in procs]
    for copier, sink in copiers:
        copier.join()
        sink.close()
    for number, (group, _, log) in enumerate(procs[1:], 2):
        print(f"\n== lane {number} ({', '.join(group)}): its output", flush=True)
        sys.stdout.buffer.write(log.read_bytes())
        sys.stdout.flush()
    table = merge_parts([parts_dir / f"lane{n}.json" for n in range(1, len(procs) + 1)])
    if table is not None:
        path = matrix_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(table)
        print(f"\n== engine matrix of all lanes (written to {path})\n{table}", end="")
    print("\n== lanes")
    for number, ((group, _, log), code) in enumerate(zip(procs, codes, strict=True), 1):
        print(f"lane {number} ({', '.join(group)}): exit {code}: {_summary(log.read_text())}")
    return next((code for code in codes if code), 0)


if __name__ == "__main__":
    sys.exit(main())
