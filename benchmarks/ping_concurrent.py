#!/usr/bin/env python3
"""``ping`` from C concurrent tasks through one client: client CPU per call (issue 11, item 4).

Usage::

    python benchmarks/ping_concurrent.py CLIENT [--concurrency 32] [--calls 6400] [--host unix:///…]

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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("client", choices=("raw", "raw-head", "raw-options", "aiodockersock"))
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--calls", type=int, default=6400)
    p.add_argument("--host", default=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"))
    args = p.parse_args()
    if not args.host.startswith("unix://"):
        raise SystemExit("only unix:// hosts (the raw floor talks to the socket)")
    print(asyncio.run(run(args.client, args.host, args.concurrency, args.calls)))


if __name__ == "__main__":
    main()
