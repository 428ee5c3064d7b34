#!/usr/bin/env python3
"""Many open streams on one client: time to first frame, request latency, memory and CPU per stream.

Usage::

    python benchmarks/bench_scale.py [--host unix:///path/docker.sock] [--n 10,100,1000]
                                     [--modes idle,active,stats] [--containers 10] [--own-max 0]
                                     [--clients ...] [--rounds 3] [--hold 10] [--requests 200]
                                     [--interval 0.5] [--json FILE]

One client opens N streams at once, on ``k`` containers shared round-robin (``--containers``;
with ``--own-max M``, every N <= M is also run with one container per stream, "own" layout):

* ``idle``   — ``GET /containers/{id}/logs?follow=1&tail=0`` on containers that print nothing;
* ``active`` — the same on containers that print a line every ``--interval`` seconds;
* ``stats``  — ``GET /containers/{id}/stats`` (one sample a second) on the silent containers.

Each client, in its own idiom, in a fresh worker process:

* ``aiodockersock``   — ``docker.containers.logs(c, follow=True, tail=0)`` /
  ``docker.containers.stats_stream(c)``, one task per stream, ``async with`` + ``async for``;
* ``aiodocker``       — ``container.log(stdout=True, stderr=True, follow=True, tail=0)`` /
  ``container.stats(stream=True)`` async generators, one task per stream; its default
  aiohttp connector (``limit=100``);
* ``aiodocker+limit`` — the same with ``aiodocker.Docker(url="unix://localhost",
  connector=aiohttp.UnixConnector(path, limit=0))``, the way its API allows raising the pool
  limit (0: none; with a connector of one's own the URL only names the host of request URLs);
* ``docker-py``       — ``container.logs(stream=True, follow=True, tail=0)`` /
  ``container.stats(stream=True, decode=True)``, each stream read in a thread of its own;
  ``docker.DockerClient`` with its default ``max_pool_size=10``;
* ``docker-py+pool``  — the same with ``max_pool_size=N + 16``.

The worker raises its soft ``RLIMIT_NOFILE`` to the hard limit, imports its library, makes a
client, warms it (one light request and one inspect), then measures:

1. **open**: every stream is started at once (t0); per stream the time from t0 to its first
   frame (``active``, ``stats``) and, where the client shows it, to the response head
   (aiodockersock ``await stream.open()``, docker-py's call returning; aiodocker's generator
   does not show it). Waits until every stream has its first frame (``idle``: is open, or for
   aiodocker until as many sockets are open as streams), at most ``--open-timeout`` seconds.
2. **hold**: ``--hold`` seconds with nothing else happening: the process's CPU time
   (``time.process_time``, all threads) per stream-second, and the RSS growth from before the
   streams opened (``/proc/self/statm``), per stream; open sockets counted in ``/proc/self/fd``.
3. **requests**: ``--requests`` requests, one at a time, alternately a light one (``ping()``;
   aiodocker has no ping: ``version()``) and ``inspect`` of a container, each capped at
   ``--request-timeout`` seconds: latency p50/p99, and how many failed (after 3 failures the
   phase stops: a stuck pool would make every request wait the full cap). docker-py's calls
   block and cannot be cut short: one answered after the cap counts as failed; and the phase
   stops once ``--request-budget`` seconds are spent (1,000 docker-py threads contend for the
   GIL and each request waits for it).
4. **close**: every stream closed; the time it takes.

Failures are reported as they happened (exception type and message, counted), never retried.
Rounds rotate the client order; the report gives medians over rounds.

Without ``--host`` (and without ``DOCKER_HOST``) a private Docker 28.5 engine is started with
``tests.engines`` and stopped at the end.
"""

# ruff: noqa: RUF001  (the report prints dashes and multiplication signs on purpose)
from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _baseline  # noqa: E402

CURRENT_ROOT = _baseline.setup_sys_path(REPO_ROOT)

IMAGE = "aiodockersock-test/busybox:latest"
LABEL = "aiodockersock.bench"
CLIENTS = ("aiodockersock", "aiodocker", "aiodocker+limit", "docker-py", "docker-py+pool")
MODES = ("idle", "active", "stats")
PAGE = os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------------------------------------
# worker side: measurements of this process
# ---------------------------------------------------------------------------------------------


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def open_sockets() -> int:
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def raise_nofile() -> tuple[int, int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return soft, hard, resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def describe(exc: BaseException) -> str:
    text = f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"
    return text if len(text) < 240 else text[:237] + "..."


class Streams:
    """Per-stream records shared by the client idioms (only plain assignments: thread-safe)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.opened: list[float | None] = [None] * n
        self.first: list[float | None] = [None] * n
        self.items = [0] * n
        self.errors: list[str | None] = [None] * n
        self.t0 = 0.0

    def count_ready(self, mode: str, client: str) -> int:
        if mode == "idle":
            if client.startswith("aiodocker") and not client.startswith("aiodockersock"):
                return -1  # not observable: counted by sockets
            return sum(t is not None for t in self.opened)
        return sum(t is not None for t in self.first)

    def failed(self) -> int:
        return sum(e is not None for e in self.errors)


async def _async_worker(args: argparse.Namespace) -> dict[str, Any]:
    client, mode, n = args.worker, args.mode, args.n
    cids: list[str] = args.cids.split(",")
    path = args.host.removeprefix("unix://")
    st = Streams(n)
    out: dict[str, Any] = {}

    if client == "aiodockersock":
        from aiodockersock import Docker

        docker: Any = Docker(args.host)

        async def light() -> None:
            await docker.ping()

        async def inspect(cid: str) -> None:
            info = await docker.containers.inspect(cid)
            assert info.id == cid

        async def one(i: int, cid: str) -> None:
            opener = (docker.containers.stats_stream(cid) if mode == "stats"
                      else docker.containers.logs(cid, follow=True, tail=0))
            async with opener as stream:
                await stream.open()
                st.opened[i] = time.perf_counter() - st.t0
                async for _ in stream:
                    if st.first[i] is None:
                        st.first[i] = time.perf_counter() - st.t0
                    st.items[i] += 1

        async def close_client() -> None:
            await docker.aclose()
    else:
        import aiodocker
        import aiohttp

        connector = None
        if client == "aiodocker+limit":
            # a connector of one's own: the URL then only names the host part of request URLs
            connector = aiohttp.UnixConnector(path=path, limit=0)
            adocker: Any = aiodocker.Docker(url="unix://localhost", connector=connector)
        else:
            adocker = aiodocker.Docker(url=args.host)
        containers = {cid: adocker.containers.container(cid) for cid in set(cids)}

        async def light() -> None:
            await adocker.version()

        async def inspect(cid: str) -> None:
            c = await adocker.containers.get(cid)
            assert c.id == cid

        async def one(i: int, cid: str) -> None:
            c = containers[cid]
            gen = (c.stats(stream=True) if mode == "stats"
                   else c.log(stdout=True, stderr=True, follow=True, tail=0))
            try:
                async for _ in gen:
                    if st.first[i] is None:
                        st.first[i] = time.perf_counter() - st.t0
                    st.items[i] += 1
            finally:
                await gen.aclose()

        async def close_client() -> None:
            await adocker.close()
            if connector is not None:  # not owned by aiodocker when passed in
                await connector.close()

    # warm up: version negotiation, one pooled connection
    await light()
    await inspect(cids[0])
    gc.collect()
    base_sockets = open_sockets()
    rss0 = rss_bytes()
    cpu0 = time.process_time()

    async def guarded(i: int, cid: str) -> None:
        try:
            await one(i, cid)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # recorded and reported
            st.errors[i] = describe(exc)

    st.t0 = time.perf_counter()
    tasks = [asyncio.create_task(guarded(i, cids[i % len(cids)])) for i in range(n)]
    deadline = st.t0 + args.open_timeout
    while time.perf_counter() < deadline:
        ready = st.count_ready(mode, client)
        if ready < 0:
            ready = open_sockets() - base_sockets
        if ready + st.failed() >= n:
            break
        await asyncio.sleep(0.05)
    out["open_wall"] = time.perf_counter() - st.t0
    out["open_cpu"] = time.process_time() - cpu0
    await asyncio.sleep(1.0)  # settle
    out.update(await _measure(args, st, base_sockets, rss0, light, inspect, cids, asyncio.sleep))
    t = time.perf_counter()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    out["close_wall"] = time.perf_counter() - t
    await close_client()
    return _finish(out, st, mode, client)


async def _measure(
    args: argparse.Namespace, st: Streams, base_sockets: int, rss0: int,
    light: Any, inspect: Any, cids: list[str], sleep: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    items0 = sum(st.items)
    out["sockets"] = open_sockets() - base_sockets
    cpu1 = time.process_time()
    t1 = time.perf_counter()
    await sleep(args.hold)
    out["hold_wall"] = time.perf_counter() - t1
    out["hold_cpu"] = time.process_time() - cpu1
    out["hold_items"] = sum(st.items) - items0
    out["rss_delta"] = rss_bytes() - rss0
    out["sockets_end_hold"] = open_sockets() - base_sockets
    lat: dict[str, list[float]] = {"light": [], "inspect": []}
    fails: collections.Counter[str] = collections.Counter()
    nfail = 0
    budget_end = time.perf_counter() + args.request_budget
    for r in range(args.requests):
        kind = "light" if r % 2 == 0 else "inspect"
        t = time.perf_counter()
        try:
            if kind == "light":
                await asyncio.wait_for(light(), args.request_timeout)
            else:
                await asyncio.wait_for(inspect(cids[r % len(cids)]), args.request_timeout)
        except Exception as exc:  # recorded and reported
            fails[f"{kind}: after {time.perf_counter() - t:.1f} s: {describe(exc)}"] += 1
            nfail += 1
        else:
            took = time.perf_counter() - t
            lat[kind].append(took)
            if took > args.request_timeout:  # a blocking call (docker-py) cannot be cut short
                fails[f"{kind}: answered after more than the cap ({args.request_timeout} s)"] += 1
                nfail += 1
        if nfail >= 3:
            break
        if time.perf_counter() > budget_end:
            fails[f"phase stopped: {args.request_budget} s budget spent"] += 1
            break
        await sleep(args.request_gap)
    out["latency"] = lat
    out["request_failures"] = dict(fails)
    out["requests_done"] = r + 1
    return out


def _finish(out: dict[str, Any], st: Streams, mode: str, client: str) -> dict[str, Any]:
    errors = collections.Counter(e for e in st.errors if e is not None)
    out.update(
        n=st.n,
        first=[t for t in st.first if t is not None],
        opened=[t for t in st.opened if t is not None],
        got_first=sum(t is not None for t in st.first),
        stream_errors=dict(errors.most_common(5)),
        stream_failures=st.failed(),
        items=sum(st.items),
        aiodockersock_from=_baseline.imported_from(),
    )
    return out


def _threaded_worker(args: argparse.Namespace) -> dict[str, Any]:
    import docker

    client, mode, n = args.worker, args.mode, args.n
    cids: list[str] = args.cids.split(",")
    st = Streams(n)
    out: dict[str, Any] = {}
    if client == "docker-py+pool":
        dc = docker.DockerClient(base_url=args.host, max_pool_size=n + 16)
    else:
        dc = docker.DockerClient(base_url=args.host)
    containers = {cid: dc.containers.get(cid) for cid in set(cids)}
    streams: list[Any] = [None] * n

    def light() -> None:
        assert dc.ping()

    def inspect(cid: str) -> None:
        c = dc.containers.get(cid)
        assert c.id == cid

    def one(i: int, cid: str) -> None:
        try:
            c = containers[cid]
            if mode == "stats":
                stream = c.stats(stream=True, decode=True)
            else:
                stream = c.logs(stream=True, follow=True, tail=0)
                st.opened[i] = time.perf_counter() - st.t0
            streams[i] = stream
            for _ in stream:
                if st.first[i] is None:
                    st.first[i] = time.perf_counter() - st.t0
                st.items[i] += 1
        except BaseException as exc:  # recorded and reported
            if not closing.is_set():
                st.errors[i] = describe(exc)

    closing = threading.Event()
    light()
    inspect(cids[0])
    gc.collect()
    base_sockets = open_sockets()
    rss0 = rss_bytes()
    cpu0 = time.process_time()
    st.t0 = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i, cids[i % len(cids)]), daemon=True)
               for i in range(n)]
    for t in threads:
        t.start()
    deadline = st.t0 + args.open_timeout
    while time.perf_counter() < deadline:
        if st.count_ready(mode, client) + st.failed() >= n:
            break
        time.sleep(0.05)
    out["open_wall"] = time.perf_counter() - st.t0
    out["open_cpu"] = time.process_time() - cpu0
    time.sleep(1.0)

    async def alight() -> None:
        light()

    async def ainspect(cid: str) -> None:
        inspect(cid)

    # the requests run in this (main) thread, one at a time, like the async clients' do;
    # asyncio.wait_for cannot interrupt a blocking call, so a stuck request shows as a
    # latency longer than the cap rather than a timeout
    out.update(asyncio.run(_measure(args, st, base_sockets, rss0, alight, ainspect, cids,
                                    asyncio.sleep)))
    t = time.perf_counter()
    closing.set()
    for s in streams:
        if s is not None and hasattr(s, "close"):
            with contextlib.suppress(Exception):  # a stream another thread reads
                s.close()
    out["close_wall"] = time.perf_counter() - t
    out["threads_left"] = sum(t.is_alive() for t in threads)
    return _finish(out, st, mode, client)


LIBRARIES = {"aiodockersock": "aiodockersock", "aiodocker": "aiodocker",
             "aiodocker+limit": "aiodocker", "docker-py": "docker", "docker-py+pool": "docker"}


def worker(args: argparse.Namespace) -> None:
    from importlib import import_module

    soft, hard, now = raise_nofile()
    import_module(LIBRARIES[args.worker])
    if args.worker.startswith("docker-py"):
        out = _threaded_worker(args)
    else:
        out = asyncio.run(_async_worker(args))
    out["nofile"] = {"soft_before": soft, "hard": hard, "soft": now}
    out["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(out), flush=True)
    os._exit(0)  # docker-py's stream threads may still be blocked in recv()


# ---------------------------------------------------------------------------------------------
# the parent: containers, rounds, report
# ---------------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cli(host: str, *args: str) -> str:
    return subprocess.run(
        ["docker", "-H", host, *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def make_containers(host: str, count: int, kind: str, interval: float) -> list[str]:
    """Start ``count`` containers that print nothing (``idle``) or a line every ``interval``
    seconds (``active``)."""
    if kind == "idle":
        cmd = ["sleep", "1000000"]
    else:
        cmd = ["sh", "-c",
               f"i=0; while :; do i=$((i+1)); echo line $i; sleep {interval}; done"]
    cids = []
    for _ in range(count):
        cid = cli(host, "run", "-d", "--network", "none", "--label", f"{LABEL}=scale",
                  "--stop-timeout", "1", IMAGE, *cmd)
        cids.append(cid)
    return cids


def sample(client: str, host: str, mode: str, n: int, cids: list[str],
           args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", client, "--host", host, "--mode", mode,
           "--n", str(n), "--cids", ",".join(cids), "--hold", str(args.hold),
           "--requests", str(args.requests), "--request-timeout", str(args.request_timeout),
           "--request-gap", str(args.request_gap), "--open-timeout", str(args.open_timeout),
           "--request-budget", str(args.request_budget)]
    load0 = os.getloadavg()[0]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                              env=_baseline.current_env(),
                              timeout=args.open_timeout + args.hold + args.request_budget
                              + 3 * args.request_timeout + 120)
    except subprocess.TimeoutExpired as exc:
        return {"crashed": f"worker killed after {exc.timeout:.0f} s", "n": n}
    if proc.returncode != 0 or not proc.stdout.strip():
        return {"crashed": proc.stderr[-2000:], "n": n}
    res: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if client == "aiodockersock":
        wrong = _baseline.check_origin(client, res.pop("aiodockersock_from", None), CURRENT_ROOT)
        if wrong:
            raise SystemExit(wrong)
    res["load1"] = (load0, os.getloadavg()[0])
    warnings = [line for line in proc.stderr.splitlines() if "Warning" in line]
    res["stderr_warnings"] = collections.Counter(warnings).most_common(3)
    return res


def line_of(client: str, res: dict[str, Any]) -> str:
    if "crashed" in res:
        return f"{client}: worker crashed: {res['crashed'][-300:]}"
    n = res["n"]
    lat = res["latency"]["light"] + res["latency"]["inspect"]
    p = [pct(res["first"], q) for q in (0.5, 0.99)]
    first = "–" if p[0] is None else f"{p[0] * 1e3:.0f}/{p[1] * 1e3:.0f} ms"  # type: ignore[operator]
    reqs = "–" if not lat else f"{pct(lat, 0.5) * 1e3:.1f}/{pct(lat, 0.99) * 1e3:.1f} ms"  # type: ignore[operator]
    return (f"{client}: first {res['got_first']}/{n} ({first}), stream errors "
            f"{res['stream_failures']}, sockets {res['sockets']}, requests {reqs} "
            f"({sum(res['request_failures'].values())} failed), "
            f"rss {res['rss_delta'] / n / 1024:.1f} KiB/stream, cpu "
            f"{res['hold_cpu'] / n / res['hold_wall'] * 1e6:.1f} µs/stream-s")


def run(args: argparse.Namespace) -> dict[str, Any]:
    host = args.host or os.environ.get("DOCKER_HOST")
    engine = workdir = None
    if not host:
        sys.path.insert(0, str(REPO_ROOT))
        from tests.engines import Engine, build_test_image, ensure_installed

        ensure_installed(["28.5"])
        workdir = Path(tempfile.mkdtemp(prefix="adsb-", dir="/tmp"))
        engine = Engine.start_engine("28.5", workdir)
        build_test_image(engine)
        host = engine.host
        log(f"started a private engine at {host}")
    ns = [int(x) for x in args.n.split(",")]
    modes = [m for m in args.modes.split(",") if m]
    clients = [c for c in args.clients.split(",") if c]
    configs: list[tuple[str, str, int]] = []  # (mode, layout, n)
    for n in ns:
        for mode in modes:
            configs.append((mode, "shared", n))
            if n <= args.own_max and n > args.containers:
                configs.append((mode, "own", n))
    need = max(args.containers, max((n for _, lay, n in configs if lay == "own"), default=0))
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    started: list[str] = []
    try:
        server = cli(host, "version", "--format", "{{.Server.Version}}")
        pools = {}
        for kind in ("idle", "active"):
            if any((m == "active") == (kind == "active") for m, _, _ in configs):
                t = time.perf_counter()
                pools[kind] = make_containers(host, need, kind, args.interval)
                started += pools[kind]
                log(f"{need} {kind} containers started in {time.perf_counter() - t:.1f} s")
        for mode, layout, n in configs:
            pool = pools["active" if mode == "active" else "idle"]
            cids = pool[:n] if layout == "own" else pool[: min(n, args.containers)]
            key = f"{mode} {layout} n={n} k={len(cids)}"
            results[key] = {c: [] for c in clients}
            for r in range(args.rounds):
                order = clients[r % len(clients):] + clients[: r % len(clients)]
                for client in order:
                    res = sample(client, host, mode, n, cids, args)
                    results[key][client].append(res)
                    log(f"[{key}] round {r + 1} {line_of(client, res)}")
    finally:
        if started:
            subprocess.run(["docker", "-H", host, "rm", "-f", *started],
                           capture_output=True, check=False)
        if engine is not None:
            engine.stop()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    return {"server": server, "args": vars(args), "results": results,
            "machine": f"{platform.platform()}, Python {platform.python_version()}, "
                       f"{os.cpu_count()} CPUs"}


def _med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def report(data: dict[str, Any]) -> str:
    a = data["args"]
    lines = [
        f"Docker {data['server']}; {a['rounds']} rounds, hold {a['hold']} s, {a['requests']} "
        f"requests (light/inspect alternating, cap {a['request_timeout']} s); active "
        f"containers print a line every {a['interval']} s; medians over rounds",
        "",
        "| config | client | streams ok | first frame p50/p99 | requests p50/p99 | failed req. "
        "| RSS / stream | CPU / stream-s | open CPU / stream | load |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    notes: list[str] = []
    for key, per_client in data["results"].items():
        for client, rs in per_client.items():
            ok = [r for r in rs if "crashed" not in r]
            if not ok:
                lines.append(f"| {key} | {client} | crashed | | | | | | | |")
                notes.append(f"{key} {client}: {rs[0].get('crashed', '')[-300:]}")
                continue
            n = ok[0]["n"]
            good = [n - r["stream_failures"] for r in ok]
            got = [r["got_first"] for r in ok]
            f50 = _med([pct(r["first"], 0.5) for r in ok if r["first"]])  # type: ignore[misc]
            f99 = _med([pct(r["first"], 0.99) for r in ok if r["first"]])  # type: ignore[misc]
            lat = [r["latency"]["light"] + r["latency"]["inspect"] for r in ok]
            l50 = _med([pct(x, 0.5) for x in lat if x])  # type: ignore[misc]
            l99 = _med([pct(x, 0.99) for x in lat if x])  # type: ignore[misc]
            failed = [sum(r["request_failures"].values()) for r in ok]
            done = [r["requests_done"] for r in ok]
            rss = _med([r["rss_delta"] / n / 1024 for r in ok])
            cpu = _med([r["hold_cpu"] / n / r["hold_wall"] * 1e6 for r in ok])
            ocpu = _med([r["open_cpu"] / n * 1e6 for r in ok])
            load = max(max(r["load1"]) for r in ok)
            mode = key.split()[0]
            ok_txt = (f"{statistics.median(good):.0f}/{n}" if mode == "idle"
                      else f"{statistics.median(got):.0f}/{n} first")
            fmt = (lambda v, s=1e3, d=0: "–" if v is None else f"{v * s:.{d}f}")  # noqa: E731
            lines.append(
                f"| {key} | {client} | {ok_txt} | {fmt(f50)}/{fmt(f99)} ms "
                f"| {fmt(l50, d=1)}/{fmt(l99, d=1)} ms | {max(failed)} of {max(done)} "
                f"| {rss:.1f} KiB | {cpu:.1f} µs | {ocpu:.0f} µs | {load:.1f} |"
            )
            errs: collections.Counter[str] = collections.Counter()
            for r in ok:
                errs.update(r["stream_errors"])
                errs.update(r["request_failures"])
            for msg, count in errs.most_common(3):
                notes.append(f"{key} {client}: {count}× {msg}")
            for r in ok[:1]:
                for w, count in r.get("stderr_warnings", []):
                    notes.append(f"{key} {client}: stderr {count}× {w[:200]}")
    if notes:
        lines += ["", "Failures and warnings (summed over rounds):", ""]
        lines += [f"- {x}" for x in notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--host")
    p.add_argument("--n", default="10,100,1000", help="stream counts (comma-separated)")
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--containers", type=int, default=10,
                   help="containers the streams share (round-robin)")
    p.add_argument("--own-max", type=int, default=0,
                   help="also run every N up to this with one container per stream")
    p.add_argument("--clients", default=",".join(CLIENTS))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--hold", type=float, default=10.0, help="seconds of the CPU/RSS window")
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--request-timeout", type=float, default=10.0)
    p.add_argument("--request-gap", type=float, default=0.01)
    p.add_argument("--request-budget", type=float, default=60.0,
                   help="seconds after which the request phase stops (requests done are kept)")
    p.add_argument("--open-timeout", type=float, default=60.0)
    p.add_argument("--interval", type=float, default=0.5)
    p.add_argument("--json")
    p.add_argument("--report", help="print the report of an earlier --json file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--mode", help=argparse.SUPPRESS)
    p.add_argument("--cids", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        args.n = int(args.n)
        worker(args)
        return 0
    if args.report:
        print(report(json.loads(Path(args.report).read_text())))
        return 0
    log(f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()}")
    data = run(args)
    text = report(data)
    print(text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
