#!/usr/bin/env python3
"""API round-trip overhead: aiodockersock vs aiodocker vs docker-py vs a raw aiohttp floor.

Usage::

    python benchmarks/bench_api.py [--host unix:///path/docker.sock] [--rounds N] [--quick]
                                   [--json FILE] [--image IMAGE] [--clients ...]
                                   [--isolate] [--baseline REV]

Every benchmark runs the same requests against the same engine through four clients:

* ``aiodockersock`` — ``aiodockersock.Docker(host)``; typed results (the full msgspec decode of
  ``ContainerInspect`` is part of what is measured, because it is what users get);
* ``aiodocker``     — ``aiodocker.Docker(url=host)``; results are dicts (``json.loads``);
* ``docker-py``     — ``docker.DockerClient(base_url=host, max_pool_size=32).api`` (the
  low-level API client; blocking, threads for concurrency);
* ``raw``           — a bare ``aiohttp.ClientSession(connector=UnixConnector(path))`` with
  hard-coded ``http://localhost/v1.41/...`` URLs and ``msgspec.json.decode`` to dicts: the floor
  any library adds to.

Measurement: ``--rounds`` rounds; in each round every benchmark takes one sample from every
client, clients in round-robin order rotated by one each round (so none is always first). The
reported figure is the median over rounds; ratios are ratios of medians, and "paired" ratios are
the median of the per-round ratios (robust against the machine's speed drifting over the run).
"client CPU" is this process's CPU time per call (all threads; the engine's work excluded).
``--merge a.json b.json ...`` pools the rounds of earlier ``--json`` runs into one table.

``--baseline REV`` adds the client ``aiodockersock@<rev>``: aiodockersock as it is at git
revision ``REV`` (see ``_baseline.py``), in the same interleaved rounds. It cannot share a
process with the current version, so in that mode (and with ``--isolate``) *every* client runs
in a worker process of its own, started the same way, which runs the same ``*_batch`` code and
times itself (wall and its own CPU); a "current vs baseline" table gives the ratios.

Benchmarks:

1. ``ping``          — ``GET /_ping``, sequential; µs per call.
2. ``inspect c=1``   — ``GET /containers/{id}/json`` of one running container, sequential.
3. ``inspect c=32``  — the same from 32 concurrent tasks (threads for docker-py), each doing M
   calls; µs per call (wall time / calls) and calls/s.
4. ``cycle``         — create → start → wait → remove of a ``true`` container
   (``NetworkMode: none``); ms per cycle.

Every container the script creates carries the labels ``aiodockersock.bench=1`` and
``aiodockersock.bench.run=<run id>``; all of this run's containers are removed at the end, also
after an error, Ctrl-C or SIGTERM.
"""

# ruff: noqa: RUF001  (the report prints multiplication signs and en dashes on purpose)
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import datetime
import gc
import json
import math
import os
import platform
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import msgspec

# Measure this checkout's aiodockersock, whether or not it is installed (or, in a --baseline
# worker process, the baseline's copy).
SCRIPT = Path(__file__).resolve()
REPO_ROOT = SCRIPT.parent.parent
sys.path.insert(0, str(SCRIPT.parent))
import _baseline  # noqa: E402

CURRENT_ROOT = _baseline.setup_sys_path(REPO_ROOT)

BENCH_LABEL = "aiodockersock.bench"
RUN_LABEL = "aiodockersock.bench.run"
DEFAULT_IMAGE = "aiodockersock-test/busybox:latest"
RAW_API = "v1.41"  # the floor's hard-coded API version (Docker 20.10's)
CLIENTS = ("aiodockersock", "aiodocker", "docker-py", "raw")


# -- parameters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    rounds: int
    ping_calls: int  # sequential pings per sample
    inspect_calls: int  # sequential inspects per sample
    workers: int  # concurrent tasks/threads for "inspect c=32"
    calls_per_worker: int  # inspects each of them does per sample
    cycles: int  # create/start/wait/remove cycles per client per round
    warmup: int  # warm-up calls per client and benchmark


FULL = Params(
    rounds=20,
    ping_calls=300,
    inspect_calls=300,
    workers=32,
    calls_per_worker=20,
    cycles=4,
    warmup=50,
)
QUICK = Params(
    rounds=4, ping_calls=100, inspect_calls=100, workers=32, calls_per_worker=4, cycles=2, warmup=20
)


# -- clients -----------------------------------------------------------------------------------


Timing = tuple[float, float]  # (wall seconds, this process's CPU seconds, all threads)


def _clock() -> Timing:
    return time.perf_counter(), time.process_time()


def _since(start: Timing) -> Timing:
    return time.perf_counter() - start[0], time.process_time() - start[1]


class BenchClient:
    """What every client provides. Each ``*_batch`` method returns elapsed seconds and checks
    the results it got, outside the timed section, so no client is timed doing the wrong thing.
    """

    name: str

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def ping_batch(self, n: int) -> Timing:
        raise NotImplementedError

    async def inspect_batch(self, cid: str, n: int) -> Timing:
        raise NotImplementedError

    async def inspect_concurrent(self, cid: str, workers: int, m: int) -> Timing:
        raise NotImplementedError

    async def cycle(self, config: dict[str, Any]) -> Timing:
        raise NotImplementedError


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise AssertionError(what)


class AsyncBenchClient(BenchClient):
    """Shared timing loops for the asyncio clients; subclasses supply single calls."""

    async def ping(self) -> Any:
        raise NotImplementedError

    def ping_ok(self, result: Any) -> bool:
        raise NotImplementedError

    async def inspect(self, cid: str) -> Any:
        raise NotImplementedError

    def inspected_id(self, result: Any) -> str:
        raise NotImplementedError

    async def run_true(self, config: dict[str, Any]) -> int:
        """create → start → wait → remove; returns the exit code."""
        raise NotImplementedError

    async def ping_batch(self, n: int) -> Timing:
        ping = self.ping
        result = None
        t0 = _clock()
        for _ in range(n):
            result = await ping()
        elapsed = _since(t0)
        _check(self.ping_ok(result), f"{self.name}: bad ping answer {result!r}")
        return elapsed

    async def inspect_batch(self, cid: str, n: int) -> Timing:
        inspect = self.inspect
        result = None
        t0 = _clock()
        for _ in range(n):
            result = await inspect(cid)
        elapsed = _since(t0)
        _check(self.inspected_id(result) == cid, f"{self.name}: inspect returned another id")
        return elapsed

    async def inspect_concurrent(self, cid: str, workers: int, m: int) -> Timing:
        inspect = self.inspect

        async def worker() -> Any:
            result = None
            for _ in range(m):
                result = await inspect(cid)
            return result

        t0 = _clock()
        results = await asyncio.gather(*(worker() for _ in range(workers)))
        elapsed = _since(t0)
        _check(
            all(self.inspected_id(r) == cid for r in results),
            f"{self.name}: inspect returned another id",
        )
        return elapsed

    async def cycle(self, config: dict[str, Any]) -> Timing:
        t0 = _clock()
        code = await self.run_true(config)
        elapsed = _since(t0)
        _check(code == 0, f"{self.name}: the 'true' container exited with {code}")
        return elapsed


class AiodockersockClient(AsyncBenchClient):
    name = "aiodockersock"

    def __init__(self, host: str) -> None:
        import aiodockersock

        self.docker = aiodockersock.Docker(host)

    async def close(self) -> None:
        # aclose() since the resource base; a --baseline from before it has only close()
        await getattr(self.docker, "aclose", self.docker.close)()

    async def ping(self) -> Any:
        return await self.docker.ping()

    def ping_ok(self, result: Any) -> bool:
        return bool(result.api_version is not None)

    async def inspect(self, cid: str) -> Any:
        return await self.docker.containers.inspect(cid)

    def inspected_id(self, result: Any) -> str:
        return str(result.id)

    async def run_true(self, config: dict[str, Any]) -> int:
        containers = self.docker.containers
        created = await containers.create(config)
        cid = created.id
        assert cid is not None
        await containers.start(cid)
        waited = await containers.wait(cid)
        await containers.remove(cid)
        return -1 if waited.status_code is None else waited.status_code


class AiodockerClient(AsyncBenchClient):
    name = "aiodocker"

    def __init__(self, host: str) -> None:
        import aiodocker

        self.docker = aiodocker.Docker(url=host)

    async def close(self) -> None:
        await self.docker.close()

    async def ping(self) -> Any:
        # aiodocker has no public ping; this is its own request helper on GET /_ping.
        async with self.docker._query("_ping", versioned_api=False) as resp:
            return await resp.read()

    def ping_ok(self, result: Any) -> bool:
        return bool(result == b"OK")

    async def inspect(self, cid: str) -> Any:
        return await self.docker.containers.container(cid).show()

    def inspected_id(self, result: Any) -> str:
        return str(result["Id"])

    async def run_true(self, config: dict[str, Any]) -> int:
        container = await self.docker.containers.create(config)
        await container.start()
        waited = await container.wait()
        await container.delete()
        return int(waited["StatusCode"])


class RawClient(AsyncBenchClient):
    """The floor: plain aiohttp on the socket, hard-coded URLs, untyped msgspec decode."""

    name = "raw"

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self.session: aiohttp.ClientSession | None = None
        self.ping_url = "http://localhost/_ping"
        self.base = f"http://localhost/{RAW_API}"
        self._inspect_urls: dict[str, str] = {}

    async def open(self) -> None:
        self.session = aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=self.socket_path))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def ping(self) -> Any:
        assert self.session is not None
        async with self.session.get(self.ping_url) as resp:
            body = await resp.read()
            return resp.status, body

    def ping_ok(self, result: Any) -> bool:
        return bool(result == (200, b"OK"))

    async def inspect(self, cid: str) -> Any:
        assert self.session is not None
        url = self._inspect_urls.get(cid)
        if url is None:
            url = self._inspect_urls[cid] = f"{self.base}/containers/{cid}/json"
        async with self.session.get(url) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise AssertionError(f"raw inspect: HTTP {resp.status}: {body!r}")
            return msgspec.json.decode(body)

    def inspected_id(self, result: Any) -> str:
        return str(result["Id"])

    async def _call(self, method: str, path: str, data: bytes | None = None) -> tuple[int, bytes]:
        assert self.session is not None
        headers = {"Content-Type": "application/json"} if data is not None else None
        async with self.session.request(
            method, self.base + path, data=data, headers=headers
        ) as resp:
            return resp.status, await resp.read()

    async def run_true(self, config: dict[str, Any]) -> int:
        status, body = await self._call("POST", "/containers/create", msgspec.json.encode(config))
        _check(status == 201, f"raw create: HTTP {status}: {body!r}")
        cid = msgspec.json.decode(body)["Id"]
        status, body = await self._call("POST", f"/containers/{cid}/start")
        _check(status == 204, f"raw start: HTTP {status}: {body!r}")
        status, body = await self._call("POST", f"/containers/{cid}/wait")
        _check(status == 200, f"raw wait: HTTP {status}: {body!r}")
        code = int(msgspec.json.decode(body)["StatusCode"])
        status, body = await self._call("DELETE", f"/containers/{cid}")
        _check(status == 204, f"raw remove: HTTP {status}: {body!r}")
        return code


class DockerPyClient(BenchClient):
    """docker-py's low-level API client. Its calls block; they run on the main thread (the
    event loop has nothing else to do meanwhile) and on a pre-started pool of 32 threads for the
    concurrent benchmark. ``max_pool_size=32`` (default 10) so its 32 threads are not throttled
    by the connection pool.
    """

    name = "docker-py"

    def __init__(self, host: str, workers: int) -> None:
        import docker  # type: ignore[import-untyped]

        self.client = docker.DockerClient(base_url=host, max_pool_size=max(workers, 10))
        self.api = self.client.api
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="docker-py-bench"
        )

    async def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()

    async def ping_batch(self, n: int) -> Timing:
        ping = self.api.ping
        result = None
        t0 = _clock()
        for _ in range(n):
            result = ping()
        elapsed = _since(t0)
        _check(result is True, f"docker-py: bad ping answer {result!r}")
        return elapsed

    async def inspect_batch(self, cid: str, n: int) -> Timing:
        inspect = self.api.inspect_container
        result: Any = None
        t0 = _clock()
        for _ in range(n):
            result = inspect(cid)
        elapsed = _since(t0)
        _check(result["Id"] == cid, "docker-py: inspect returned another id")
        return elapsed

    async def inspect_concurrent(self, cid: str, workers: int, m: int) -> Timing:
        inspect = self.api.inspect_container

        def worker() -> Any:
            result = None
            for _ in range(m):
                result = inspect(cid)
            return result

        t0 = _clock()
        futures = [self.pool.submit(worker) for _ in range(workers)]
        results = [f.result() for f in futures]
        elapsed = _since(t0)
        _check(all(r["Id"] == cid for r in results), "docker-py: inspect returned another id")
        return elapsed

    async def cycle(self, config: dict[str, Any]) -> Timing:
        api = self.api
        t0 = _clock()
        created = api.create_container(
            config["Image"],
            command=config["Cmd"],
            labels=config["Labels"],
            host_config=api.create_host_config(network_mode="none"),
        )
        cid = created["Id"]
        api.start(cid)
        waited = api.wait(cid)
        api.remove_container(cid)
        elapsed = _since(t0)
        _check(waited["StatusCode"] == 0, f"docker-py: 'true' exited with {waited!r}")
        return elapsed


def make_client(kind: str, host: str, workers: int) -> BenchClient:
    """A client of one of the four kinds (created inside a running event loop)."""
    if kind == "aiodockersock":
        return AiodockersockClient(host)
    if kind == "aiodocker":
        return AiodockerClient(host)
    if kind == "docker-py":
        return DockerPyClient(host, workers)
    if kind == "raw":
        return RawClient(socket_path_of(host))
    raise ValueError(kind)


# -- one client per process (--isolate, --baseline) ------------------------------------------

BATCH_OPS = ("ping_batch", "inspect_batch", "inspect_concurrent", "cycle")


class WorkerClient(BenchClient):
    """A client that lives in a worker process of its own (``--internal-worker``).

    Each batch is one request over the worker's stdin/stdout; the worker runs the very same
    ``*_batch`` method an in-process client runs (``gc.collect()`` first, then the timed loop)
    and returns the ``Timing`` it measured itself, so wall time and client CPU are the
    worker's own and the request/answer exchange is outside the timed section. Every client
    of a run is a worker started by this class, the current aiodockersock and the baseline
    alike; they differ only in the environment that says where to import aiodockersock from.
    """

    def __init__(
        self,
        name: str,
        kind: str,
        host: str,
        workers: int,
        env: dict[str, str],
        expected_root: Path | None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.host = host
        self.workers = workers
        self.env = env
        self.expected_root = expected_root
        self.proc: asyncio.subprocess.Process | None = None
        self.imported_from: str | None = None

    async def _call(self, op: str, *args: Any) -> Any:
        proc = self.proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps([op, *args]).encode() + b"\n")
        await proc.stdin.drain()
        line = await proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: the worker process exited (status {proc.returncode})")
        answer = json.loads(line)
        if "error" in answer:
            raise AssertionError(f"{self.name} (worker): {answer['error']}")
        return answer["result"]

    async def open(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPT),
            "--internal-worker",
            self.kind,
            "--host",
            self.host,
            "--pool",
            str(self.workers),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=self.env,
            limit=1 << 20,
        )
        self.imported_from = await self._call("open")
        wrong = _baseline.check_origin(self.name, self.imported_from, self.expected_root)
        if wrong:
            raise RuntimeError(wrong)

    async def close(self) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            if proc.returncode is None:
                await asyncio.wait_for(self._call("close"), 60)
        finally:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()

    async def _batch(self, op: str, *args: Any) -> Timing:
        wall, cpu = await self._call(op, *args)
        return float(wall), float(cpu)

    async def ping_batch(self, n: int) -> Timing:
        return await self._batch("ping_batch", n)

    async def inspect_batch(self, cid: str, n: int) -> Timing:
        return await self._batch("inspect_batch", cid, n)

    async def inspect_concurrent(self, cid: str, workers: int, m: int) -> Timing:
        return await self._batch("inspect_concurrent", cid, workers, m)

    async def cycle(self, config: dict[str, Any]) -> Timing:
        return await self._batch("cycle", config)


def serve_worker(kind: str, host: str, workers: int) -> None:
    """The worker process: one client, driven by JSON lines on stdin, answering on stdout."""
    import traceback

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C; EOF ends us
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else printed goes to stderr, not into the answers

    def answer(**message: Any) -> None:
        answers.write(json.dumps(message) + "\n")
        answers.flush()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        requests = asyncio.StreamReader(limit=1 << 20)
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(requests), os.fdopen(0, "rb", buffering=0)
        )
        client = make_client(kind, host, workers)
        try:
            while line := await requests.readline():
                op, *args = json.loads(line)
                try:
                    if op == "open":
                        await client.open()
                        answer(result=_baseline.imported_from())
                    elif op == "close":
                        break
                    elif op in BATCH_OPS:
                        gc.collect()  # as sample() does for an in-process client
                        answer(result=await getattr(client, op)(*args))
                    else:
                        raise ValueError(f"unknown request {op!r}")
                except Exception:
                    answer(error=traceback.format_exc())
        finally:
            await client.close()
        with contextlib.suppress(BrokenPipeError):  # the parent may be gone already
            answer(result=None)

    asyncio.run(main())


# -- the engine, outside any measured client -------------------------------------------------


def socket_path_of(host: str) -> str:
    if not host.startswith("unix://"):
        raise SystemExit(
            f"this benchmark needs a unix:// host (the raw floor uses a unix socket), got {host!r}"
        )
    return host[len("unix://") :]


class Engine:
    """Set-up and clean-up requests, on a session of their own (never a measured one)."""

    def __init__(self, socket_path: str, run_id: str) -> None:
        self.socket_path = socket_path
        self.run_id = run_id
        self.labels = {BENCH_LABEL: "1", RUN_LABEL: run_id}
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Engine:
        self.session = aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=self.socket_path))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.session is not None
        await self.session.close()

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        assert self.session is not None
        data = None if body is None else msgspec.json.encode(body)
        headers = {"Content-Type": "application/json"} if data is not None else None
        async with self.session.request(
            method, f"http://localhost/{RAW_API}{path}", data=data, headers=headers
        ) as resp:
            raw = await resp.read()
            return resp.status, (msgspec.json.decode(raw) if raw.strip() else None)

    async def version(self) -> dict[str, Any]:
        status, doc = await self.call("GET", "/version")
        _check(status == 200, f"GET /version: HTTP {status}")
        return dict(doc)

    def true_config(self, image: str) -> dict[str, Any]:
        return {
            "Image": image,
            "Cmd": ["true"],
            "Labels": self.labels,
            "HostConfig": {"NetworkMode": "none"},
        }

    async def start_sleeper(self, image: str) -> str:
        status, doc = await self.call(
            "POST",
            "/containers/create",
            {
                "Image": image,
                "Cmd": ["sleep", "3600"],
                "Labels": self.labels,
                "HostConfig": {"NetworkMode": "none", "AutoRemove": False},
            },
        )
        _check(status == 201, f"cannot create the sleeper container: HTTP {status}: {doc}")
        cid = str(doc["Id"])
        status, doc = await self.call("POST", f"/containers/{cid}/start")
        _check(status == 204, f"cannot start the sleeper container: HTTP {status}: {doc}")
        return cid


def remove_run_containers(socket_path: str, run_id: str) -> int:
    """Remove (force) every container of this run. Synchronous and loop-free so that it runs
    even when the event loop is gone (Ctrl-C, SIGTERM, a crash)."""
    import http.client
    import socket

    class UnixHTTPConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(30)
            self.sock.connect(socket_path)

    def request(method: str, path: str) -> tuple[int, bytes]:
        conn = UnixHTTPConnection("localhost", timeout=30)
        try:
            conn.request(method, f"/{RAW_API}{path}")
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    filters = quote(json.dumps({"label": [f"{RUN_LABEL}={run_id}"]}), safe="")
    status, body = request("GET", f"/containers/json?all=1&filters={filters}")
    if status != 200:
        print(f"clean-up: cannot list containers: HTTP {status}", file=sys.stderr)
        return 0
    removed = 0
    for item in json.loads(body):
        status, _ = request("DELETE", f"/containers/{item['Id']}?force=1&v=1")
        if status in (204, 404):
            removed += status == 204
        else:
            print(f"clean-up: cannot remove {item['Id'][:12]}: HTTP {status}", file=sys.stderr)
    return removed


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Series:
    """One benchmark's samples, per client, per round (index = round)."""

    bench: str
    unit: str
    per_call: int  # calls in one sample (elapsed / per_call = the figure)
    names: list[str]  # the clients, in the order they were set up
    samples: dict[str, list[Timing]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.names:
            self.samples.setdefault(name, [])


def rotation(clients: list[BenchClient], round_no: int) -> list[BenchClient]:
    k = round_no % len(clients)
    return clients[k:] + clients[:k]


async def run(args: argparse.Namespace, params: Params, run_id: str) -> dict[str, Any]:
    socket_path = socket_path_of(args.host)
    async with Engine(socket_path, run_id) as engine:
        version = await engine.version()
        sleeper = await engine.start_sleeper(args.image)
        true_config = engine.true_config(args.image)

        kinds = [c for c in args.clients.split(",") if c]
        clients: list[BenchClient] = []
        for kind in kinds:
            if args.isolate or args.baseline_obj is not None:
                clients.append(
                    WorkerClient(
                        kind,
                        kind,
                        args.host,
                        params.workers,
                        _baseline.current_env(),
                        CURRENT_ROOT,
                    )
                )
            else:
                clients.append(make_client(kind, args.host, params.workers))
            if kind == "aiodockersock" and args.baseline_obj is not None:
                b = args.baseline_obj
                clients.append(
                    WorkerClient(b.name, kind, args.host, params.workers, b.env(), b.root)
                )
        names = [c.name for c in clients]
        try:
            for client in clients:
                await client.open()
            log(f"warming up {', '.join(c.name for c in clients)} …")
            for client in clients:
                await client.ping_batch(params.warmup)
                await client.inspect_batch(sleeper, params.warmup)
                # fills each connection pool to 32 (and starts docker-py's 32 threads)
                await client.inspect_concurrent(sleeper, params.workers, 2)
                await client.cycle(true_config)

            series = {
                "ping": Series("ping", "µs/call", params.ping_calls, names),
                "inspect_c1": Series("inspect c=1", "µs/call", params.inspect_calls, names),
                "inspect_c32": Series(
                    f"inspect c={params.workers}",
                    "µs/call",
                    params.workers * params.calls_per_worker,
                    names,
                ),
                "cycle": Series("create→start→wait→remove", "ms/cycle", 1, names),
            }
            for r in range(params.rounds):
                t_round = time.perf_counter()
                order = rotation(clients, r)
                for client in order:
                    series["ping"].samples[client.name].append(
                        await sample(client.ping_batch, params.ping_calls)
                    )
                for client in order:
                    series["inspect_c1"].samples[client.name].append(
                        await sample(client.inspect_batch, sleeper, params.inspect_calls)
                    )
                for client in order:
                    series["inspect_c32"].samples[client.name].append(
                        await sample(
                            client.inspect_concurrent,
                            sleeper,
                            params.workers,
                            params.calls_per_worker,
                        )
                    )
                # cycles: interleaved one cycle at a time; a round's sample is their median
                cycle_times: dict[str, list[Timing]] = {c.name: [] for c in clients}
                for i in range(params.cycles):
                    for client in rotation(order, i):
                        cycle_times[client.name].append(await sample(client.cycle, true_config))
                for name, times in cycle_times.items():
                    series["cycle"].samples[name].append(
                        (
                            statistics.median(t[0] for t in times),
                            statistics.median(t[1] for t in times),
                        )
                    )
                log(
                    f"round {r + 1}/{params.rounds} done in "
                    f"{time.perf_counter() - t_round:.1f} s (first: {order[0].name})"
                )
        finally:
            for client in clients:
                with contextlib.suppress(Exception):
                    await client.close()

    b = args.baseline_obj
    return {
        "run_id": run_id,
        "params": params.__dict__,
        "machine": machine_info(version),
        "isolated": bool(args.isolate or b is not None),
        "baseline": None
        if b is None
        else {
            "name": b.name,
            "rev": b.rev,
            "sha": b.sha,
            "subject": b.subject,
            "current": _baseline.describe(REPO_ROOT),
        },
        "results": {key: summarise(s) for key, s in series.items()},
    }


async def sample(batch: Callable[..., Awaitable[Timing]], *args: Any) -> Timing:
    gc.collect()  # no client pays for another's garbage
    return await batch(*args)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- statistics and output ---------------------------------------------------------------------


def quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def stats(figures: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Median, quartiles and ratios (of medians, and paired per round) for each client."""
    med = {name: statistics.median(v) for name, v in figures.items()}
    out = {}
    for name, vals in figures.items():
        p25, p75 = quartiles(vals)
        out[name] = {
            "median": med[name],
            "p25": p25,
            "p75": p75,
            "min": min(vals),
            "vs_raw": med[name] / med["raw"],
            "vs_aiodockersock": med[name] / med["aiodockersock"],
            "paired_vs_raw": statistics.median(
                a / b for a, b in zip(vals, figures["raw"], strict=True)
            ),
            "paired_vs_aiodockersock": statistics.median(
                a / b for a, b in zip(vals, figures["aiodockersock"], strict=True)
            ),
            # rounds in which this client took longer than aiodockersock, and a sign test
            "rounds": len(vals),
            "rounds_slower_than_aiodockersock": sum(
                a > b for a, b in zip(vals, figures["aiodockersock"], strict=True)
            ),
            "rounds_over_110pct_of_raw": sum(
                a > 1.10 * b for a, b in zip(vals, figures["raw"], strict=True)
            ),
        }
        out[name]["sign_test_p_vs_aiodockersock"] = sign_test(
            int(out[name]["rounds_slower_than_aiodockersock"]), len(vals)
        )
    return out


def sign_test(k: int, n: int) -> float:
    """Two-sided sign test: how likely ``k`` wins out of ``n`` are if both sides are equal."""
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(k, n - k) + 1)) / (1 << n)
    return min(1.0, 2 * tail)


def summarise(s: Series) -> dict[str, Any]:
    scale = (1e3 if s.unit.startswith("ms") else 1e6) / s.per_call
    wall = {name: [w * scale for w, _ in vals] for name, vals in s.samples.items()}
    cpu = {name: [c * scale for _, c in vals] for name, vals in s.samples.items()}
    return summary(s.bench, s.unit, s.per_call, wall, cpu)


def summary(
    bench: str,
    unit: str,
    per_call: int,
    wall: dict[str, list[float]],
    cpu: dict[str, list[float]],
) -> dict[str, Any]:
    """Statistics of per-round figures (already in ``unit``), wall and client CPU."""
    wall_stats, cpu_stats = stats(wall), stats(cpu)
    clients: dict[str, Any] = {}
    for name in wall:
        clients[name] = {
            **wall_stats[name],
            "calls_per_s": 1e6 / wall_stats[name]["median"] if unit == "µs/call" else None,
            "cpu": cpu_stats[name],
            "samples": wall[name],
            "cpu_samples": cpu[name],
        }
    return {"bench": bench, "unit": unit, "calls_per_sample": per_call, "clients": clients}


def merge(paths: list[str]) -> dict[str, Any]:
    """Pool the rounds of several ``--json`` files into one report (rounds stay paired)."""
    reports = []
    for path in paths:
        with open(path) as f:
            reports.append(json.load(f))
    first = reports[0]
    results = {}
    for key, res in first["results"].items():
        per_run = [r["results"][key]["clients"] for r in reports]
        names = list(per_run[0])
        if any(list(c) != names for c in per_run):
            raise SystemExit("--merge: the runs did not measure the same clients")
        wall = {n: [v for c in per_run for v in c[n]["samples"]] for n in names}
        cpu = {n: [v for c in per_run for v in c[n]["cpu_samples"]] for n in names}
        results[key] = summary(res["bench"], res["unit"], res["calls_per_sample"], wall, cpu)
    params: dict[str, Any] = {}
    for name in first["params"]:
        values = [r["params"][name] for r in reports]
        if name == "rounds":
            params[name] = f"{sum(values)} ({' + '.join(map(str, values))})"
        else:
            params[name] = "/".join(dict.fromkeys(str(v) for v in values))
    dates = sorted(r["machine"]["date"] for r in reports)
    machine = {**first["machine"], "date": f"{dates[0]} … {dates[-1]}, {len(reports)} runs pooled"}
    baselines = {json.dumps(r.get("baseline"), sort_keys=True) for r in reports}
    if len(baselines) > 1:
        raise SystemExit("--merge: the runs compared against different baselines")
    return {
        "merged_from": paths,
        "params": params,
        "machine": machine,
        "isolated": all(r.get("isolated", False) for r in reports),
        "baseline": first.get("baseline"),
        "results": results,
    }


def machine_info(version: dict[str, Any]) -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break

    def dist(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "loadavg": os.getloadavg(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "python_impl": platform.python_implementation(),
        "aiohttp": aiohttp.__version__,
        "msgspec": msgspec.__version__,
        "aiodocker": dist("aiodocker"),
        "docker-py": dist("docker"),
        "aiodockersock": aiodockersock_version(),
        "engine": version.get("Version", "?"),
        "engine_api": version.get("ApiVersion", "?"),
    }


def aiodockersock_version() -> str:
    import subprocess

    import aiodockersock

    version = str(getattr(aiodockersock, "__version__", "?"))
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        if commit:
            version += f" ({commit})"
    return version


def fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def verdict(res: dict[str, Any]) -> str:
    ads = res["clients"]["aiodockersock"]
    aio = res["clients"]["aiodocker"]
    within = ads["vs_raw"] <= 1.10
    wins, n, p = (
        aio["rounds_slower_than_aiodockersock"],
        aio["rounds"],
        aio["sign_test_p_vs_aiodockersock"],
    )
    if p < 0.05:
        beats: bool | None = wins > n / 2
        against = "faster than aiodocker" if beats else "SLOWER than aiodocker"
    else:
        beats, against = None, "no significant difference from aiodocker"
    if within and beats:
        outcome = "met"
    elif within and beats is None:
        outcome = "not shown (no significant difference from aiodocker)"
    else:
        outcome = "NOT met"
    return (
        f"- {res['bench']}: aiodockersock = {ads['vs_raw']:.2f}× raw (paired "
        f"{ads['paired_vs_raw']:.2f}; over 1.10× in {ads['rounds_over_110pct_of_raw']}/{n} "
        f"rounds): {'within' if within else 'NOT within'} +10%; aiodocker = "
        f"{aio['vs_aiodockersock']:.2f}× aiodockersock, slower in {wins}/{n} rounds "
        f"(sign test p = {p:.2g}): {against} → **{outcome}**"
    )


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    p = report["params"]
    lines = [
        f"### API round trips — {m['date']}",
        "",
        f"CPU: {m['cpu']} ({m['cpus']} cores), Linux {m['kernel']}, load average at end "
        f"{m['loadavg'][0]:.2f}; {m['python_impl']} {m['python']}; aiodockersock "
        f"{m['aiodockersock']}, aiohttp {m['aiohttp']}, msgspec {m['msgspec']}, aiodocker "
        f"{m['aiodocker']}, docker-py {m['docker-py']}; Docker Engine {m['engine']} "
        f"(API {m['engine_api']}).",
        f"{p['rounds']} rounds; per sample: {p['ping_calls']} pings, {p['inspect_calls']} "
        f"inspects, {p['workers']}×{p['calls_per_worker']} concurrent inspects; "
        f"{p['cycles']} cycles per client per round (a round's sample is their median).",
        "",
        "| benchmark | client | median wall | p25–p75 | × raw | × aiodockersock | paired × raw "
        "| client CPU | CPU × raw |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    if report.get("isolated"):
        lines[3] += " Every client ran in a worker process of its own (--isolate or --baseline)."
    verdicts = []
    for key, res in report["results"].items():
        for name, c in res["clients"].items():
            median = f"{fmt(c['median'])} {res['unit']}"
            if key == "inspect_c32":
                median += f" ({c['calls_per_s']:,.0f}/s)"
            lines.append(
                f"| {res['bench']} | {name} | {median} | {fmt(c['p25'])}–{fmt(c['p75'])} | "
                f"{c['vs_raw']:.2f} | {c['vs_aiodockersock']:.2f} | {c['paired_vs_raw']:.2f} | "
                f"{fmt(c['cpu']['median'])} | {c['cpu']['vs_raw']:.2f} |"
            )
        if "aiodocker" in res["clients"]:
            verdicts.append(verdict(res))
    if verdicts:
        lines += [
            "",
            "Target: aiodockersock's median ≤ 1.10× raw, and faster than aiodocker (in "
            "significantly more rounds than not: two-sided sign test, p < 0.05):",
            *verdicts,
        ]
    if report.get("baseline"):
        lines += ["", *baseline_table(report)]
    lines.append("")
    return "\n".join(lines)


def baseline_table(report: dict[str, Any]) -> list[str]:
    """Current aiodockersock against the baseline: ratios of medians and paired per round."""
    b = report["baseline"]
    lines = [
        f"#### Current vs baseline: aiodockersock = {b['current']}; {b['name']} = "
        f"{b['sha'][:12]} ({b['rev']}): {b['subject']}",
        "",
        "Time per call, so a ratio > 1 means the current version is slower. Both ran as worker "
        "processes started the same way, in the same interleaved rounds.",
        "",
        "| benchmark | current | baseline | current / baseline | paired | rounds current slower "
        "(sign test p) | CPU current / baseline (paired) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for res in report["results"].values():
        cur, base = res["clients"]["aiodockersock"], res["clients"][b["name"]]
        pairs = list(zip(cur["samples"], base["samples"], strict=True))
        cpu_pairs = list(zip(cur["cpu_samples"], base["cpu_samples"], strict=True))
        slower = sum(x > y for x, y in pairs)
        cpu_med = statistics.median(cur["cpu_samples"]) / statistics.median(base["cpu_samples"])
        lines.append(
            f"| {res['bench']} | {fmt(cur['median'])} {res['unit']} | "
            f"{fmt(base['median'])} {res['unit']} | {cur['median'] / base['median']:.3f} | "
            f"{statistics.median(x / y for x, y in pairs):.3f} | {slower}/{len(pairs)} "
            f"(p = {sign_test(slower, len(pairs)):.2g}) | {cpu_med:.3f} "
            f"({statistics.median(x / y for x, y in cpu_pairs):.3f}) |"
        )
    return lines


# -- entry point -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument(
        "--host",
        default=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"),
        help="the engine's unix:// address (default: $DOCKER_HOST)",
    )
    ap.add_argument("--rounds", type=int, default=None, help="rounds (default 20; --quick: 4)")
    ap.add_argument("--quick", action="store_true", help="fewer, smaller samples (< 1 minute)")
    ap.add_argument("--json", metavar="FILE", help="also write the raw numbers as JSON")
    ap.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        help="measure nothing: print one table pooling the rounds of earlier --json files",
    )
    ap.add_argument(
        "--image", default=DEFAULT_IMAGE, help=f"busybox image (default {DEFAULT_IMAGE})"
    )
    ap.add_argument(
        "--clients",
        default=",".join(CLIENTS),
        help="comma-separated, from: %(default)s (aiodockersock and raw are required)",
    )
    ap.add_argument(
        "--isolate",
        action="store_true",
        help="run every client in a worker process of its own (implied by --baseline)",
    )
    ap.add_argument(
        "--baseline",
        metavar="REV",
        help="also measure aiodockersock as it is at git revision REV, as client "
        "'aiodockersock@<rev>' in the same rounds (implies --isolate); report "
        "current/baseline ratios",
    )
    ap.add_argument("--internal-worker", metavar="KIND", help=argparse.SUPPRESS)
    ap.add_argument("--pool", type=int, default=32, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    kinds = [c for c in args.clients.split(",") if c]
    unknown = [c for c in kinds if c not in CLIENTS]
    if unknown or "aiodockersock" not in kinds or "raw" not in kinds:
        ap.error(f"--clients: choose from {', '.join(CLIENTS)}, with aiodockersock and raw")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.internal_worker:
        serve_worker(args.internal_worker, args.host, args.pool)
        return 0
    if args.merge:
        print(markdown(merge(args.merge)))
        return 0
    params = QUICK if args.quick else FULL
    if args.rounds is not None:
        if args.rounds < 1:
            raise SystemExit("--rounds must be at least 1")
        params = Params(**{**params.__dict__, "rounds": args.rounds})
    socket_path = socket_path_of(args.host)
    args.baseline_obj = None
    if args.baseline:
        args.baseline_obj = _baseline.prepare(args.baseline, REPO_ROOT)
        log(
            f"baseline: {args.baseline_obj.describe()}; unpacked in {args.baseline_obj.root}; "
            f"current: aiodockersock = {_baseline.describe(REPO_ROOT)} ({CURRENT_ROOT})"
        )
    run_id = uuid.uuid4().hex[:12]

    def on_sigterm(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    log(f"run {run_id} on {args.host}: {params}")
    t0 = time.perf_counter()
    try:
        report = asyncio.run(run(args, params, run_id))
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        removed = remove_run_containers(socket_path, run_id)
        log(f"clean-up: removed {removed} container(s) labelled {RUN_LABEL}={run_id}")
    publish(report, markdown, args.json, t0)
    return 0


def publish(
    report: dict[str, Any], markdown: Callable[[dict[str, Any]], str], json_path: str | None,
    t0: float,
) -> None:
    """Print a run's report (and write it as JSON when asked), with its total time."""
    report["wall_s"] = time.perf_counter() - t0
    print(markdown(report))
    if json_path:
        with open(json_path, "w") as f:
            json.dump(report, f, indent=1, ensure_ascii=False)
        log(f"wrote {json_path}")
    log(f"total {report['wall_s']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
