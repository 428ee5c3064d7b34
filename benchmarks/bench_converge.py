#!/usr/bin/env python3
"""``services.wait_converged`` against the poll-every-2-seconds loop, on a real swarm.

Usage::

    python benchmarks/bench_converge.py [--rounds 5] [--replicas 3] [--interval 2]
                                        [--json FILE]

(``BENCH_TRACE=1`` prints each sample's requests, with times, on stderr.)

What it does:

1. Starts a private Docker 28.5 engine with ``tests.engines`` (or uses ``--host``), makes it
   a single-node swarm (``swarm init --advertise-addr 127.0.0.1``) and creates a replicated
   service of the offline test image, by id (no registry involved), whose tasks stop at once
   when told to.
2. Each round, for each way of waiting (the order alternates between rounds), changes the
   service and waits until it has converged:

   * ``update`` — a rolling update of every task (``services.update(args=[…])``, the
     daemon's default update config: one task at a time, stop-first);
   * ``scale up`` — ``services.scale`` from ``replicas`` to ``replicas + 2`` (and back,
     untimed);
   * ``scale down`` — from ``replicas + 2`` (scaled up untimed) to ``replicas``.

   The ways of waiting:

   * ``wait_converged`` — ``await docker.services.wait_converged(service)``, given the
     ``Service`` that ``update``/``scale`` returned (its defaults: ``stable=0.25``,
     ``backstop=5``);
   * ``poll 2s`` — what Traefik-style code does: every ``--interval`` seconds
     ``GET /services/{id}`` and ``GET /tasks?filters=service`` and the same convergence test
     (running tasks == replicas, all of the current spec, no other task running).

3. Measures, per sample: the lag from the moment the last task of the new spec started
   running (the ``Status.Timestamp`` dockerd records for its ``running`` state; for a
   scale-down, the ``die`` event of the last removed task's container) to the
   moment the waiter reported convergence, the time from the update call to the report, and
   the number of API calls the waiter made (every ``Transport.request`` and
   ``Transport.stream``, counted by a wrapper on the client's transport; the update call's
   own calls are not counted, they are the same for both).

Targets (issue 13): reported within 0.5 s of the last task running, with fewer calls than the
2-second poller.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from aiodockersock import Docker  # noqa: E402
from aiodockersock.services import _verdict  # noqa: E402 (the same test for both waiters)

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


class CallCounter:
    """Counts the requests and streams a client sends (wraps its transport's two methods)."""

    def __init__(self, docker: Docker) -> None:
        self.calls = 0
        transport = docker._transport
        request, stream = transport.request, transport.stream

        self.log: list[str] = []

        async def counted_request(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            self.log.append(f"{time.monotonic():.3f} {args[0]} {args[1]}")
            return await request(*args, **kwargs)

        async def counted_stream(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return await stream(*args, **kwargs)

        transport.request = counted_request  # type: ignore[method-assign]
        transport.stream = counted_stream  # type: ignore[method-assign]


def _ts(text: str) -> float:
    """An RFC 3339 timestamp with nanoseconds -> seconds since the epoch."""
    head, _, frac = text.rstrip("Z").partition(".")
    base = datetime.fromisoformat(head + "+00:00").timestamp()
    return base + (float("0." + frac) if frac else 0.0)


async def poll(docker: Docker, service_id: str, interval: float) -> None:
    """The poll-every-N-seconds loop."""
    while True:
        service = await docker.services.inspect(service_id)
        tasks = await docker.tasks.list(filters={"service": [service_id]})
        if _verdict(service, tasks, 2) is True:
            return
        await asyncio.sleep(interval)


async def last_running(docker: Docker, service_id: str) -> float:
    """When the last running task of the service started running (dockerd's clock)."""
    tasks = await docker.tasks.list(filters={"service": [service_id], "desired-state":
                                             "running"})
    stamps = [_ts(t.status.timestamp) for t in tasks
              if t.state == "running" and t.status and t.status.timestamp]
    return max(stamps)


async def collect_deaths(docker: Docker, service_id: str, deaths: list[float]) -> None:
    """Note when each task container of the service dies (dockerd's clock), until cancelled."""
    filters = {"type": ["container"], "event": ["die"],
               "label": [f"com.docker.swarm.service.id={service_id}"]}
    async with docker.events(filters=filters) as events:
        async for event in events:
            deaths.append((event.time_nano or 0) / 1e9)


async def sample(
    host: str, service_id: str, how: str, change: str, n: int, replicas: int, interval: float
) -> dict[str, float]:
    async with Docker(host) as docker, Docker(host) as waiter:
        await waiter.negotiate()
        counter = CallCounter(waiter)
        deaths: list[float] = []
        if change == "scale down":
            await docker.services.wait_converged(
                await docker.services.scale(service_id, replicas + 2), timeout=120)
            watcher = asyncio.ensure_future(collect_deaths(docker, service_id, deaths))
            await asyncio.sleep(0.2)  # the watcher's stream is open
        started = time.time()
        if change == "update":
            changed = await docker.services.update(service_id, args=[f"round-{n}-{how}"])
        elif change == "scale up":
            changed = await docker.services.scale(service_id, replicas + 2)
        else:
            changed = await docker.services.scale(service_id, replicas)
        calls_before = counter.calls
        if how == "wait_converged":
            await waiter.services.wait_converged(changed, timeout=120)
        else:
            await poll(waiter, service_id, interval)
        reported = time.time()
        calls = counter.calls - calls_before
        if os.environ.get("BENCH_TRACE"):
            print(how, change, counter.log[-calls:], file=sys.stderr)
        if change == "scale down":
            await asyncio.sleep(0.2)
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            last = max(deaths)  # the last removed task's container died
        else:
            last = await last_running(docker, service_id)
        if change == "scale up":
            await docker.services.scale(service_id, replicas)
            await docker.services.wait_converged(service_id, timeout=120)
    return {"lag": reported - last, "total": reported - started, "calls": calls}


async def bench(host: str, args: argparse.Namespace, image_id: str) -> dict[str, Any]:
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    async with Docker(host) as docker:
        service = await docker.services.create(
            image=image_id, name="bench-converge", command=SLEEPER, replicas=args.replicas
        )
        assert service.id is not None
        try:
            await docker.services.wait_converged(service.id, timeout=120)
            ways = ["wait_converged", f"poll {args.interval:g}s"]
            for change in ("update", "scale up", "scale down"):
                results[change] = {w: [] for w in ways}
                for r in range(args.rounds):
                    for how in ways if r % 2 == 0 else ways[::-1]:
                        res = await sample(host, service.id, how, change, r, args.replicas,
                                           args.interval)
                        results[change][how].append(res)
                        print(f"[{change}] round {r + 1} {how}: lag {res['lag']:.3f} s, "
                              f"total {res['total']:.2f} s, {res['calls']:.0f} calls",
                              file=sys.stderr)
        finally:
            await docker.services.remove(service.id)
    return results


def report(results: dict[str, Any], meta: dict[str, Any]) -> str:
    lines = [f"Docker {meta['server']}, {meta['machine']}; load average before "
             f"{meta['load_before']}, after {meta['load_after']}; {meta['rounds']} rounds, "
             f"{meta['replicas']} replicas.", "",
             "| change | waiter | lag after the last task runs (scale down: stops), median / max | "
             "change call → reported (median) | API calls (median / max) |",
             "| --- | --- | --- | --- | --- |"]
    for change, by_way in results.items():
        for how, samples in by_way.items():
            lags = [s["lag"] for s in samples]
            calls = [s["calls"] for s in samples]
            total = statistics.median(s["total"] for s in samples)
            lines.append(f"| {change} | {how} | {statistics.median(lags):.2f} s / "
                         f"{max(lags):.2f} s | {total:.2f} s | {statistics.median(calls):g} / "
                         f"{max(calls):g} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--host", help="a swarm manager's address (default: start one)")
    parser.add_argument("--image", help="with --host: the image id the service runs")
    parser.add_argument("--json", help="write the raw results here")
    args = parser.parse_args()
    engine = workdir = None
    host, image_id = args.host, args.image
    load_before = os.getloadavg()
    try:
        if not host:
            from tests.engines import Engine, build_test_image, ensure_installed
            from tests.engines.swarm import swarm_init

            ensure_installed(["28.5"])
            workdir = Path(tempfile.mkdtemp(prefix="adsc-", dir="/tmp"))
            engine = Engine.start_engine("28.5", workdir)
            image_id = build_test_image(engine)
            swarm_init(engine)
            host = engine.host
        results = asyncio.run(bench(host, args, image_id))

        async def version() -> str:
            async with Docker(host) as docker:
                return (await docker.version()).version or "?"

        server = asyncio.run(version())
    finally:
        if engine is not None:
            engine.stop()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    meta = {
        "server": server, "rounds": args.rounds, "replicas": args.replicas,
        "machine": f"{platform.platform()}, Python {platform.python_version()}, "
                   f"{os.cpu_count()} CPUs",
        "load_before": " ".join(f"{x:.2f}" for x in load_before),
        "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    print(report(results, meta))


if __name__ == "__main__":
    main()
