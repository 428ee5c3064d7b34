#!/usr/bin/env python3
"""``ping`` from C concurrent tasks through one client: client CPU per call (issue 11, item 4).

Usage::

    python benchmarks/ping_concurrent.py CLIENT [--concurrency 32] [--calls 6400] [--host unix:///…]
    python benchmarks/ping_concurrent.py raw,aiodockersock,raw-head --rounds 9 \
        [--daemon-pid $(cat /tmp/eng/docker.pid)]      # interleaved, a fresh process per sample

``CLIENT`` is one of:

* ``raw``           — the floor of ``bench_api.py``: ``aiohttp.ClientSession(UnixConnector)``,
  ``GET http://localhost/_ping``, status check, ``await resp.read()``;
* ``raw-head``      — the same with ``HEAD /_ping`` (what the Docker CLI sends; no body);
* ``raw-options``   — the same raw session with the options aiodockersock's session and
  ``Transport._send`` use (``User-Agent`` default header, ``skip_auto_headers``,
  ``auto_decompress=False``, ``ClientTimeout(total=60, connect=5)`` per request,
  ``allow_redirects=False``, a pre-encoded ``yarl.URL``): what those options cost, apart from
  any code of ours;
* ``aiodockersock`` — ``await docker.ping()`` (returns a typed ``PingInfo``).

The pool is filled first (10 pings from each of the C tasks), then the C tasks share
``--calls`` pings; the script prints the process CPU and wall time per call of that part. For
a count that the machine's load cannot move, run it under callgrind at two sizes and divide the
difference (see
``benchmarks/README.md``, "Issue 11: the speed gaps")::

    valgrind --tool=callgrind python3.11 benchmarks/ping_concurrent.py raw --calls 640
    valgrind --tool=callgrind python3.11 benchmarks/ping_concurrent.py raw --calls 2560
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's aiodockersock


async def run(client: str, host: str, concurrency: int, calls: int) -> str:
    import aiohttp
    from yarl import URL

    sock = host.removeprefix("unix://")
    ping: Callable[[], Awaitable[Any]]
    close: Callable[[], Awaitable[Any]]
    if client in ("raw", "raw-head", "raw-options"):
        if client in ("raw", "raw-head"):
            session = aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=sock))
            method = "HEAD" if client == "raw-head" else "GET"

            async def ping() -> bytes:
                async with session.request(method, "http://localhost/_ping") as resp:
                    assert resp.status == 200, resp.status
                    return await resp.read()
        else:
            session = aiohttp.ClientSession(
                connector=aiohttp.UnixConnector(path=sock),
                headers={"User-Agent": "aiodockersock"},
                auto_decompress=False,
                skip_auto_headers=("Accept-Encoding",),
            )
            timeout = aiohttp.ClientTimeout(total=60, connect=5)

            async def ping() -> bytes:
                url = URL("http://localhost" + "/_ping", encoded=True)
                async with session.request(
                    "GET", url, data=None, headers=None, allow_redirects=False, timeout=timeout
                ) as resp:
                    assert resp.status == 200, resp.status
                    return await resp.read()
        close = session.close
    elif client == "aiodockersock":
        from aiodockersock import Docker

        docker = Docker(host)
        ping = docker.ping
        close = docker.aclose
    else:
        raise SystemExit(f"unknown client {client!r}")

    async def worker(n: int) -> None:
        for _ in range(n):
            await ping()

    try:
        await asyncio.gather(*[worker(10) for _ in range(concurrency)])  # fill the pool
        cpu0, t0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*[worker(calls // concurrency) for _ in range(concurrency)])
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    finally:
        await close()
    done = calls // concurrency * concurrency
    return (f"{client} c={concurrency} calls={done}: client CPU {cpu / done * 1e6:.1f} µs/call, "
            f"wall {wall / done * 1e6:.1f} µs/call")


CLIENTS = ("raw", "raw-head", "raw-options", "aiodockersock")
_RESULT = re.compile(r"calls=(\d+): client CPU ([\d.]+) µs/call, wall ([\d.]+) µs/call")


def _daemon_cpu(pid: int | None) -> float:
    """The daemon's CPU seconds so far (user + system, from /proc), or 0 without a pid."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def compare(clients: list[str], rounds: int, args: argparse.Namespace) -> None:
    """Interleaved rounds, one fresh process per sample, the order rotated each round; prints
    each sample, then medians and paired ratios against the first client."""
    samples: dict[str, list[tuple[float, float, float]]] = {c: [] for c in clients}
    for r in range(rounds):
        for client in clients[r % len(clients):] + clients[: r % len(clients)]:
            cpu0 = _daemon_cpu(args.daemon_pid)
            out = subprocess.run(
                [sys.executable, __file__, client, "--calls", str(args.calls), "--host",
                 args.host, "--concurrency", str(args.concurrency)],
                capture_output=True, text=True, check=True,
            ).stdout
            found = _RESULT.search(out)
            assert found is not None, out
            calls, cpu, wall = int(found[1]), float(found[2]), float(found[3])
            # the warm-up's 10 calls per task count in the daemon's share too
            daemon = (_daemon_cpu(args.daemon_pid) - cpu0) / (calls + 10 * args.concurrency)
            samples[client].append((wall, cpu, daemon * 1e6))
            print(f"round {r + 1} {client:14} wall {wall:7.1f} µs/call, client CPU {cpu:6.1f}, "
                  f"daemon CPU {daemon * 1e6:6.1f}", flush=True)
    base = samples[clients[0]]
    print(f"\n| client | wall µs/call | client CPU µs | daemon CPU µs | paired speed x "
          f"{clients[0]} | paired CPU x {clients[0]} |\n|---|---:|---:|---:|---:|---:|")
    for client in clients:
        mine = samples[client]
        med = [statistics.median(x[i] for x in mine) for i in range(3)]
        speed = statistics.median(b[0] / m[0] for b, m in zip(base, mine, strict=True))
        cpu = statistics.median(m[1] / b[1] for b, m in zip(base, mine, strict=True))
        print(f"| {client} | {med[0]:.0f} | {med[1]:.0f} | {med[2]:.0f} | {speed:.2f} | "
              f"{cpu:.2f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("client", help=f"one of {', '.join(CLIENTS)}, or several comma-separated "
                   "with --rounds: interleaved rounds, each sample in a fresh process")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--calls", type=int, default=6400)
    p.add_argument("--rounds", type=int, default=0)
    p.add_argument("--daemon-pid", type=int, help="also report this process's CPU per call")
    p.add_argument("--host", default=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"))
    args = p.parse_args()
    if not args.host.startswith("unix://"):
        raise SystemExit("only unix:// hosts (the raw floor talks to the socket)")
    clients = args.client.split(",")
    if unknown := set(clients) - set(CLIENTS):
        raise SystemExit(f"unknown client(s) {sorted(unknown)}; choose from {CLIENTS}")
    if args.rounds:
        compare(clients, args.rounds, args)
    elif len(clients) == 1:
        print(asyncio.run(run(clients[0], args.host, args.concurrency, args.calls)))
    else:
        raise SystemExit("several clients need --rounds N")


if __name__ == "__main__":
    main()
