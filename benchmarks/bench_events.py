#!/usr/bin/env python3
"""Event-stream decode throughput: aiodockersock vs aiodocker vs docker-py vs the Go CLI vs a raw
aiohttp + msgspec floor.

Usage::

    python benchmarks/bench_events.py [--n 500000] [--rounds 5] [--quick] [--json FILE]
                                      [--clients raw,aiodockersock,...] [--no-slow]
                                      [--baseline REV]

What it does:

1. Builds an N-event NDJSON stream from events recorded on a real Docker 20.10 engine
   (``data/events.ndjson``, see ``events_fixture.py``; labels hold 2-, 3- and 4-byte UTF-8
   text), cycling them with ``time``/``timeNano`` rewritten to rise strictly.
2. Pre-encodes it as two ``Transfer-Encoding: chunked`` bodies — **per-event**: one HTTP chunk
   per event, as dockerd sends; **64k**: ~64 KiB chunks splitting lines, every second boundary
   placed inside a multi-byte UTF-8 character — and serves them from a separate server process
   (raw asyncio, one unix socket per chunking) that answers ``/_ping``, ``/version`` and any
   ``/v*/events`` by writing slices of the pre-encoded body (with ``drain()`` back-pressure),
   then the terminating chunk. A null client (a bare socket counting bytes) measures the server.
3. Reads the N events through each client, each sample in a fresh subprocess, in rounds; each
   round runs every (client, chunking) pair once, the order rotated from round to round:

   * ``raw``           — aiohttp ``ClientSession(UnixConnector)``, ``resp.content.iter_any()``,
     ``split(b"\\n")`` over a carried tail, ``msgspec.json.Decoder(EventMessage).decode`` per
     line: the floor (no library; aiodockersock's own struct, so the decode work is the same);
   * ``aiodockersock`` — ``async with Docker(url) as d: async with d.events(since=1) as s:
     async for ev in s`` with default options (resume and counters on);
   * ``aiodocker``     — ``docker.events.subscribe(since=1)`` and ``await subscriber.get()``
     until ``None`` (as its docs show; dicts from ``json.loads``);
   * ``docker-py``     — ``APIClient(base_url).events(since=1, decode=True)`` (blocking);
   * ``go-cli``        — ``docker -H unix://… events --since 1 --format '{{json .}}'``, its
     stdout read in blocks by the sampling process (the CLI decodes, re-encodes and prints each
     event, so it does more work than the others; its time includes the CLI's start-up).

   Each client times from just before its request to the N-th event (go-cli: from spawning the
   CLI to its exit) and verifies, outside the hot path's cost, that it got exactly N events with
   strictly increasing ``timeNano``, and — on every 997th event, the first and last, and every
   event whose line a 64k chunk boundary cuts inside a UTF-8 character — the exact
   ``timeNano`` and the decoded non-ASCII label text. The same per-event bookkeeping (count,
   order compare, sample check) runs in every client's loop.
4. Slow consumers: aiodockersock and aiodocker read the stream while the consumer sleeps 2 ms
   every 100 events (at most ~50k events/s); their peak RSS (``VmHWM``) is compared with a
   fast consumer's.

Figures are medians over rounds; ratios are ratios of medians and (in brackets) the median of
the per-round ratios.

``--baseline REV`` adds ``aiodockersock@<rev>`` (and ``hubK@<rev>`` for any selected hub
client): the same client code from this script, run in the same kind of fresh process, but
importing aiodockersock as it is at git revision ``REV`` (see ``_baseline.py``); a
"current vs baseline" table gives the current/baseline ratios of events/s and client CPU.
"""

# ruff: noqa: RUF001  (the report prints multiplication signs on purpose)
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import _baseline  # noqa: E402

# this checkout's aiodockersock, or (in a --baseline worker) the baseline's copy
CURRENT_ROOT = _baseline.setup_sys_path(REPO_ROOT)

import events_fixture as fx  # noqa: E402

CLIENTS = ("raw", "aiodockersock", "aiodocker", "docker-py", "go-cli")
# not in the default set: aiodockersock's EventHub with 1, 10 and 100 subscribers
FANOUT_CLIENTS = ("hub1", "hub10", "hub100")
# the clients --baseline REV repeats with the baseline's package, as "<client>@<rev>"
BASELINE_CLIENTS = ("aiodockersock", *FANOUT_CLIENTS)
MODES = ("per-event", "64k")
SOCK_NAMES = {"per-event": "a.sock", "64k": "b.sock"}
DOCKER_CLI = shutil.which("docker") or "/usr/local/bin/docker"
SLICE = 256 * 1024  # bytes the server hands the transport at a time
SLOW_EVERY = 100
SLOW_SLEEP = 0.002


# ============================================================================================
# server (its own process)
# ============================================================================================


def _http_date() -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())


_COMMON = (
    "Api-Version: 1.41\r\nDocker-Experimental: false\r\nOstype: linux\r\n"
    "Server: Docker/20.10.24+dfsg1 (linux)\r\n"
)


def serve(workdir: Path) -> None:
    """Serve workdir/{a,b}.body on workdir/{a,b}.sock until SIGTERM."""
    import mmap
    import re

    version = fx.VERSION_FILE.read_bytes().strip()
    events_path = re.compile(r"^(/v[0-9.]+)?/events$")
    version_path = re.compile(r"^(/v[0-9.]+)?/version$")
    log = open(workdir / "server.log", "a", buffering=1)  # noqa: SIM115
    bodies = {}
    for mode, sock in SOCK_NAMES.items():
        f = open(workdir / sock.replace(".sock", ".body"), "rb")  # noqa: SIM115
        flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)  # no first-touch faults
        bodies[mode] = memoryview(mmap.mmap(f.fileno(), 0, flags=flags, prot=mmap.PROT_READ))

    async def handle(mode: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        body = bodies[mode]
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, target, proto = request_line.split(" ")
                headers = {}
                for h in header_lines:
                    if ":" in h:
                        k, _, v = h.partition(":")
                        headers[k.strip().lower()] = v.strip()
                if "content-length" in headers:
                    await reader.readexactly(int(headers["content-length"]))
                path = target.split("?", 1)[0]
                log.write(f"{mode} {method} {target} {headers.get('user-agent', '')}\n")
                close = proto == "HTTP/1.0" or headers.get("connection", "").lower() == "close"
                if events_path.match(path) and method == "GET":
                    writer.write(
                        (
                            "HTTP/1.1 200 OK\r\n" + _COMMON + f"Date: {_http_date()}\r\n"
                            "Content-Type: application/json\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n"
                        ).encode()
                    )
                    for off in range(0, len(body), SLICE):
                        writer.write(body[off : off + SLICE])
                        await writer.drain()
                elif path == "/_ping" or path.endswith("/_ping"):
                    payload = b"" if method == "HEAD" else b"OK"
                    writer.write(
                        (
                            "HTTP/1.1 200 OK\r\n" + _COMMON + f"Date: {_http_date()}\r\n"
                            "Cache-Control: no-cache, no-store, must-revalidate\r\n"
                            "Pragma: no-cache\r\nContent-Type: text/plain; charset=utf-8\r\n"
                            f"Content-Length: {len(payload) if method != 'HEAD' else 0}\r\n\r\n"
                        ).encode()
                        + payload
                    )
                elif version_path.match(path):
                    writer.write(
                        (
                            "HTTP/1.1 200 OK\r\n" + _COMMON + f"Date: {_http_date()}\r\n"
                            "Content-Type: application/json\r\n"
                            f"Content-Length: {len(version) + 1}\r\n\r\n"
                        ).encode()
                        + version
                        + b"\n"
                    )
                elif path == "/bench/cpu":
                    payload = json.dumps(
                        {"cpu": time.process_time(), "rss_kib": _rss_kib()}
                    ).encode()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload)
                    )
                else:
                    payload = b'{"message":"page not found"}\n'
                    writer.write(
                        (
                            "HTTP/1.1 404 Not Found\r\n" + _COMMON + "Content-Type: "
                            f"application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
                        ).encode()
                        + payload
                    )
                await writer.drain()
                if close:
                    return
        except (ConnectionError, OSError):
            return
        finally:
            writer.close()

    async def main() -> None:
        servers = []
        for mode, sock in SOCK_NAMES.items():
            path = workdir / sock
            if path.exists():
                path.unlink()
            servers.append(
                await asyncio.start_unix_server(
                    lambda r, w, m=mode: handle(m, r, w), path=str(path), limit=1 << 16
                )
            )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        (workdir / "ready").write_text("1")
        await stop.wait()
        for s in servers:
            s.close()

    asyncio.run(main())


def _rss_kib(field: str = "VmRSS:") -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _peak_kib() -> int:
    """This process's peak RSS (VmHWM: unlike ru_maxrss it does not inherit the parent's
    RSS at fork/exec)."""
    return _rss_kib("VmHWM:")


# ============================================================================================
# clients (each sample in its own process)
# ============================================================================================


class Tally:
    """What every client's loop records: the per-event bookkeeping is inlined in each loop
    (count, order compare, sample check); this only holds the results."""

    def __init__(self, checks: list[int]) -> None:
        self.checks = iter(checks)
        self.samples: list[list[Any]] = []

    def next_check(self) -> int:
        return next(self.checks, 0)


def _result(
    n: int,
    disorder: int,
    t0: float,
    t_end: float,
    cpu0: float,
    tally: Tally,
    rss0: int,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "events": n,
        "disorder": disorder,
        "seconds": t_end - t0,
        "cpu": time.process_time() - cpu0,
        "rate": n / (t_end - t0) if t_end > t0 else 0.0,
        "rss0_kib": rss0,
        "maxrss_kib": _peak_kib(),
        "samples": tally.samples,
        **extra,
    }


async def client_raw(sock: str, n_total: int, checks: list[int], slow: bool) -> dict[str, Any]:
    import aiohttp
    import msgspec

    from aiodockersock.models import EventMessage

    decode = msgspec.json.Decoder(EventMessage).decode
    nonascii = fx.nonascii_values
    tally = Tally(checks)
    nxt = tally.next_check()
    n = disorder = last = 0
    t_end = 0.0
    connector = aiohttp.UnixConnector(path=sock)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=None)
    ) as session:
        rss0 = _rss_kib()
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        async with session.get("http://localhost/v1.41/events?since=1") as resp:
            assert resp.status == 200, resp.status
            tail = b""
            async for chunk in resp.content.iter_any():
                if tail:
                    chunk = tail + chunk
                lines = chunk.split(b"\n")
                tail = lines.pop()
                for line in lines:
                    if not line:
                        continue
                    ev = decode(line)
                    n += 1
                    tn = ev.time_nano
                    if tn <= last:
                        disorder += 1
                    last = tn
                    if n == nxt:
                        tally.samples.append([n, tn, nonascii(ev.actor.attributes)])
                        nxt = tally.next_check()
                        if n >= n_total:
                            t_end = time.perf_counter()
                    if slow and n % SLOW_EVERY == 0:
                        await asyncio.sleep(SLOW_SLEEP)
    return _result(n, disorder, t0, t_end, cpu0, tally, rss0)


async def client_aiodockersock(
    sock: str, n_total: int, checks: list[int], slow: bool
) -> dict[str, Any]:
    from aiodockersock import Docker

    nonascii = fx.nonascii_values
    tally = Tally(checks)
    nxt = tally.next_check()
    n = disorder = last = 0
    t_end = 0.0
    async with Docker(f"unix://{sock}") as docker:
        rss0 = _rss_kib()
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        async with docker.events(since=1) as stream:
            async for ev in stream:
                n += 1
                tn = ev.time_nano
                if tn <= last:
                    disorder += 1
                last = tn
                if n == nxt:
                    tally.samples.append([n, tn, nonascii(ev.actor.attributes)])
                    nxt = tally.next_check()
                    if n >= n_total:
                        t_end = time.perf_counter()
                        break
                if slow and n % SLOW_EVERY == 0:
                    await asyncio.sleep(SLOW_SLEEP)
            stats = stream.stats
    return _result(
        n,
        disorder,
        t0,
        t_end,
        cpu0,
        tally,
        rss0,
        delivered=stats.delivered,
        reconnects=stats.reconnects,
    )


async def client_aiodocker(
    sock: str, n_total: int, checks: list[int], slow: bool
) -> dict[str, Any]:
    import aiodocker

    nonascii = fx.nonascii_values
    tally = Tally(checks)
    nxt = tally.next_check()
    n = disorder = last = 0
    t_end = 0.0
    docker = aiodocker.Docker(url=f"unix://{sock}")
    try:
        rss0 = _rss_kib()
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        subscriber = docker.events.subscribe(since=1)
        get = subscriber.get
        while True:
            ev = await get()
            if ev is None:
                break
            n += 1
            tn = ev["timeNano"]
            if tn <= last:
                disorder += 1
            last = tn
            if n == nxt:
                tally.samples.append([n, tn, nonascii(ev["Actor"]["Attributes"])])
                nxt = tally.next_check()
                if n >= n_total:
                    t_end = time.perf_counter()
                    break
            if slow and n % SLOW_EVERY == 0:
                await asyncio.sleep(SLOW_SLEEP)
        await docker.events.stop()
    finally:
        await docker.close()
    return _result(n, disorder, t0, t_end, cpu0, tally, rss0)


def client_dockerpy(sock: str, n_total: int, checks: list[int], slow: bool) -> dict[str, Any]:
    import docker

    nonascii = fx.nonascii_values
    tally = Tally(checks)
    nxt = tally.next_check()
    n = disorder = last = 0
    t_end = 0.0
    client = docker.APIClient(base_url=f"unix://{sock}")
    rss0 = _rss_kib()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    stream = client.events(since=1, decode=True)
    for ev in stream:
        n += 1
        tn = ev["timeNano"]
        if tn <= last:
            disorder += 1
        last = tn
        if n == nxt:
            tally.samples.append([n, tn, nonascii(ev["Actor"]["Attributes"])])
            nxt = tally.next_check()
            if n >= n_total:
                t_end = time.perf_counter()
                break
        if slow and n % SLOW_EVERY == 0:
            time.sleep(SLOW_SLEEP)
    stream.close()
    client.close()
    return _result(n, disorder, t0, t_end, cpu0, tally, rss0)


def client_gocli(sock: str, n_total: int, checks: list[int], slow: bool) -> dict[str, Any]:
    import re

    time_nano = re.compile(rb'"timeNano":(\d+)')
    tally = Tally(checks)
    nxt = tally.next_check()
    n = disorder = last = 0
    env = dict(os.environ, DOCKER_CONFIG=tempfile.mkdtemp(prefix="bench-docker-config-"))
    env.pop("DOCKER_HOST", None)
    rss0 = _rss_kib()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [DOCKER_CLI, "-H", f"unix://{sock}", "events", "--since", "1", "--format", "{{json .}}"],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    try:  # a bigger pipe, so the reader can take the CLI's output in few large reads
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except OSError:
        pass
    tail = b""
    cli_peak = 0
    next_status = 0.0
    while True:
        block = os.read(fd, 1 << 20)
        if not block:
            break
        if len(block) < 1 << 18:
            # the CLI writes one event per write(): reading each one as it comes would make
            # this process compete with the CLI for the CPU; let the output gather instead
            time.sleep(0.002)
        if tail:
            block = tail + block
        cut = block.rfind(b"\n") + 1
        tail = block[cut:]
        block = block[:cut]
        k = block.count(b"\n")
        for m in time_nano.findall(block):
            tn = int(m)
            if tn <= last:
                disorder += 1
            last = tn
        while nxt and n < nxt <= n + k:
            line = block.split(b"\n")[nxt - n - 1]
            ev = json.loads(line)
            tally.samples.append(
                [nxt, ev["timeNano"], fx.nonascii_values(ev["Actor"]["Attributes"])]
            )
            nxt = tally.next_check()
        n += k
        now = time.perf_counter()
        if now >= next_status:  # the CLI's own peak RSS, while it runs
            next_status = now + 0.25
            try:
                with open(f"/proc/{proc.pid}/status") as status:
                    for row in status:
                        if row.startswith("VmHWM:"):
                            cli_peak = max(cli_peak, int(row.split()[1]))
            except OSError:
                pass
    rc = proc.wait()
    t_end = time.perf_counter()
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(env["DOCKER_CONFIG"], ignore_errors=True)
    return _result(
        n,
        disorder,
        t0,
        t_end,
        cpu0,
        tally,
        rss0,
        returncode=rc,
        cli_cpu=child.ru_utime + child.ru_stime,
        cli_maxrss_kib=cli_peak or child.ru_maxrss,
    )


def client_null(sock: str, n_total: int, checks: list[int], slow: bool) -> dict[str, Any]:
    """A bare socket reading the whole events body as fast as it can (measures the server)."""
    import socket

    buf = bytearray(1 << 20)
    view = memoryview(buf)
    total = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(sock)
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        s.sendall(b"GET /v1.41/events?since=1 HTTP/1.1\r\nHost: docker\r\n\r\n")
        end = b""
        while True:
            got = s.recv_into(buf)
            if not got:
                break
            total += got
            end = (end + bytes(view[max(0, got - 8) : got]))[-8:]
            if end.endswith(b"\r\n0\r\n\r\n"):
                break
        t_end = time.perf_counter()
    return {
        "events": n_total,
        "disorder": 0,
        "seconds": t_end - t0,
        "cpu": time.process_time() - cpu0,
        "rate": n_total / (t_end - t0),
        "bytes": total,
        "rss0_kib": 0,
        "maxrss_kib": _peak_kib(),
        "samples": [],
    }


def client_hub(subscribers: int) -> Any:
    """aiodockersock's EventHub: one connection fanned out to ``subscribers`` consumer tasks
    (bounded buffers, policy "wait"). Timed until every subscriber has all N events; the rate is
    events per second through the hub (each delivered ``subscribers`` times)."""

    async def client(sock: str, n_total: int, checks: list[int], slow: bool) -> dict[str, Any]:
        from aiodockersock import Docker

        nonascii = fx.nonascii_values
        tally = Tally(checks)
        counts = [0] * subscribers
        disorder = 0
        async with Docker(f"unix://{sock}") as docker:
            rss0 = _rss_kib()
            cpu0 = time.process_time()
            # stall_limit is raised: this measures fan-out cost, not the stall handling
            async with docker.events.hub(since=1, stall_limit=30) as hub:

                async def consume(index: int, sub: Any) -> None:
                    nonlocal disorder
                    n = last = 0
                    nxt = tally.next_check() if index == 0 else -1
                    async for ev in sub:
                        n += 1
                        tn = ev.time_nano
                        if tn <= last:
                            disorder += 1
                        last = tn
                        if n == nxt:
                            tally.samples.append([n, tn, nonascii(ev.actor.attributes)])
                            nxt = tally.next_check()
                        if n >= n_total:
                            break
                    counts[index] = n

                subs = [hub.subscribe(maxsize=1024) for _ in range(subscribers)]
                for sub in subs:
                    await sub.__aenter__()
                t0 = time.perf_counter()
                try:
                    await asyncio.gather(*(consume(i, sub) for i, sub in enumerate(subs)))
                finally:
                    t_end = time.perf_counter()
                    for sub in subs:
                        await sub.aclose()
        return _result(min(counts), disorder, t0, t_end, cpu0, tally, rss0,
                       subscribers=subscribers, all_counts_equal=len(set(counts)) == 1)

    return client


CLIENT_FUNCS = {
    "raw": client_raw,
    "aiodockersock": client_aiodockersock,
    "aiodocker": client_aiodocker,
    "docker-py": client_dockerpy,
    "go-cli": client_gocli,
    "null": client_null,
    "hub1": client_hub(1),
    "hub10": client_hub(10),
    "hub100": client_hub(100),
}


def run_client(args: argparse.Namespace) -> None:
    checks = json.loads(Path(args.checks).read_text())[args.mode] if args.checks else [args.n]
    func = CLIENT_FUNCS[args.internal_client]
    sock = str(Path(args.workdir) / SOCK_NAMES[args.mode])

    def call() -> dict[str, Any]:
        if asyncio.iscoroutinefunction(func):
            return asyncio.run(func(sock, args.n, checks, args.slow))
        return func(sock, args.n, checks, args.slow)  # type: ignore[return-value]

    if args.profile:
        import cProfile

        prof = cProfile.Profile()
        result = prof.runcall(call)
        prof.dump_stats(args.profile)
    else:
        result = call()
    result["aiodockersock_from"] = _baseline.imported_from()
    print(json.dumps(result))


# ============================================================================================
# parent: fixture, server, rounds, report
# ============================================================================================


def build_fixture(workdir: Path, n: int) -> None:
    """Write the two chunked bodies, the sample indices and their stats (own process, so the
    parent stays small: a child's peak RSS must not inherit the parent's at fork/exec)."""
    templates = fx.load_templates()
    lines = fx.build_lines(n, templates, fx.base_time_nano())
    payload = b"".join(lines)
    body_a = fx.chunk_per_event(lines)
    (workdir / "a.body").write_bytes(body_a)
    body_a_bytes = len(body_a)
    del body_a
    b = fx.chunk_64k(payload)
    (workdir / "b.body").write_bytes(b.body)
    regular = set(range(1, n + 1, 997)) | {1, n}
    split = set(fx.split_char_events(lines, payload, b.boundaries))
    checks = {"per-event": sorted(regular), "64k": sorted(regular | split)}
    (workdir / "checks.json").write_text(json.dumps(checks))
    meta = {
        "templates": len(templates),
        "payload_bytes": len(payload),
        "body_a_bytes": body_a_bytes,
        "body_b_bytes": len(b.body),
        "b_chunks": b.chunks,
        "b_split_lines": b.split_lines,
        "b_split_chars": b.split_chars,
        "checks": {m: len(v) for m, v in checks.items()},
        "split_char_checks": len(split),
    }
    (workdir / "fixture.json").write_text(json.dumps(meta))


class Fixture:
    """The parent's view of the built stream: enough to verify what clients report."""

    def __init__(self, n: int, workdir: Path) -> None:
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--internal-build",
                str(workdir),
                "--n",
                str(n),
            ],
            check=True,
        )
        self.meta = json.loads((workdir / "fixture.json").read_text())
        self.checks = json.loads((workdir / "checks.json").read_text())
        self.templates = fx.load_templates()
        self.base = fx.base_time_nano()
        self.n = n
        m = self.meta
        self.payload_bytes, self.body_a_bytes = m["payload_bytes"], m["body_a_bytes"]
        self.body_b_bytes, self.b_chunks = m["body_b_bytes"], m["b_chunks"]
        self.b_split_lines, self.b_split_chars = m["b_split_lines"], m["b_split_chars"]

    def verify(self, mode: str, result: dict[str, Any]) -> list[str]:
        errors = []
        if result["events"] != self.n:
            errors.append(f"got {result['events']} events, expected {self.n}")
        if result["disorder"]:
            errors.append(f"{result['disorder']} events out of order")
        got = {s[0]: s for s in result["samples"]}
        missing = [i for i in self.checks[mode] if i not in got]
        if missing:
            errors.append(f"{len(missing)} sampled events missing (first {missing[:3]})")
        bad_time = bad_text = 0
        first_bad = None
        r = len(self.templates)
        for i, tn, text in result["samples"]:
            if tn != fx.time_nano_of(i - 1, self.base):
                bad_time += 1
            if tuple(text) != self.templates[(i - 1) % r].expected_text:
                bad_text += 1
                first_bad = first_bad or (i, text)
        if bad_time:
            errors.append(f"{bad_time} sampled events with the wrong timeNano")
        if bad_text:
            errors.append(
                f"{bad_text}/{len(result['samples'])} sampled events with wrong decoded text "
                f"(e.g. event {first_bad[0]}: {first_bad[1]!r})"
            )
        if result.get("returncode"):
            errors.append(f"exit status {result['returncode']}")
        if "delivered" in result and result["delivered"] != self.n:
            errors.append(f"stats.delivered {result['delivered']} != {self.n}")
        return errors


def sample(
    workdir: Path,
    client: str,
    mode: str,
    n: int,
    *,
    slow: bool = False,
    profile: str | None = None,
    baseline: _baseline.Baseline | None = None,
) -> dict[str, Any]:
    """One sample of ``client`` in a fresh process. ``client@rev`` (with ``baseline``) runs
    ``client``'s code from this script with the baseline's aiodockersock: the same command,
    only the import root differs, so current and baseline are started and timed alike."""
    func, _, rev = client.partition("@")
    if rev:
        assert baseline is not None and client == f"{func}@{baseline.short}", client
        env, expected = baseline.env(), baseline.root
    else:
        env, expected = _baseline.current_env(), CURRENT_ROOT
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--internal-client",
        func,
        "--mode",
        mode,
        "--workdir",
        str(workdir),
        "--n",
        str(n),
        "--checks",
        str(workdir / "checks.json"),
    ]
    if slow:
        cmd.append("--slow")
    if profile:
        cmd += ["--profile", profile]
    wall0 = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=900, check=False, env=env
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{client} ({mode}) failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall"] = time.perf_counter() - wall0
    wrong = _baseline.check_origin(client, result.pop("aiodockersock_from", None), expected)
    if wrong:
        raise RuntimeError(wrong)
    return result


def server_cpu(workdir: Path) -> float:
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(workdir / "a.sock"))
        s.sendall(b"GET /bench/cpu HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    return float(json.loads(data.partition(b"\r\n\r\n")[2])["cpu"])


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("aiohttp", "msgspec", "aiodocker", "docker", "yarl", "multidict"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "-"
    try:
        out["docker CLI"] = subprocess.run(
            [DOCKER_CLI, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        out["docker CLI"] = "-"
    return out


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({model})"


def fmt_rate(x: float) -> str:
    return f"{x / 1000:,.1f}k"


def orders(pairs: list[tuple[str, str]], rounds: int) -> Iterator[list[tuple[str, str]]]:
    step = max(1, len(pairs) // max(1, rounds))
    for r in range(rounds):
        k = (r * step) % len(pairs)
        yield pairs[k:] + pairs[:k]


def main() -> None:
    parser = argparse.ArgumentParser(description="event-stream decode throughput")
    parser.add_argument("--n", type=int, default=None, help="events per sample (500000)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (5)")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--no-slow", action="store_true", help="skip the slow-consumer runs")
    parser.add_argument("--json", type=Path, help="write raw results here")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (bodies, log)")
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also run aiodockersock (and any hubK client) with the package as it is at git "
        "revision REV, as client 'aiodockersock@<rev>' in the same rounds, and report "
        "current/baseline ratios",
    )
    parser.add_argument(
        "--profile-dir",
        type=Path,
        help="also run raw and aiodockersock once per chunking under cProfile, saving "
        "DIR/<client>-<chunking>.prof",
    )
    # internal
    parser.add_argument("--internal-serve", metavar="WORKDIR", help=argparse.SUPPRESS)
    parser.add_argument("--internal-build", metavar="WORKDIR", help=argparse.SUPPRESS)
    parser.add_argument("--internal-client", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--checks", help=argparse.SUPPRESS)
    parser.add_argument("--slow", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.internal_serve:
        serve(Path(args.internal_serve))
        return
    if args.internal_client:
        run_client(args)
        return
    if args.internal_build:
        build_fixture(Path(args.internal_build), args.n)
        return

    n = args.n or (20_000 if args.quick else 500_000)
    rounds = args.rounds or (2 if args.quick else 5)
    clients = [c for c in args.clients.split(",") if c]
    modes = [m for m in args.modes.split(",") if m]
    for c in clients:
        if c not in CLIENTS and c not in FANOUT_CLIENTS:
            raise SystemExit(
                f"unknown client {c!r}; choose from {', '.join(CLIENTS + FANOUT_CLIENTS)}"
            )
    baseline = None
    if args.baseline:
        baseline = _baseline.prepare(args.baseline, REPO_ROOT)
        if not any(c in BASELINE_CLIENTS for c in clients):
            raise SystemExit("--baseline needs aiodockersock (or a hubK client) in --clients")
        # each baseline client right after its current counterpart
        clients = [
            x
            for c in clients
            for x in ((c, f"{c}@{baseline.short}") if c in BASELINE_CLIENTS else (c,))
        ]
        print(
            f"baseline: {baseline.describe()}\n  unpacked in {baseline.root}; current: "
            f"aiodockersock = {_baseline.describe(REPO_ROOT)} ({CURRENT_ROOT})",
            flush=True,
        )

    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    workdir = Path(tempfile.mkdtemp(prefix="aiodockersock-bench-events-", dir=base))
    server = None
    report: dict[str, Any] = {
        "n": n,
        "rounds": rounds,
        "versions": versions(),
        "machine": machine(),
        "samples": [],
        "null": [],
        "slow": [],
        "baseline": None
        if baseline is None
        else {
            "name": baseline.name,
            "rev": baseline.rev,
            "sha": baseline.sha,
            "subject": baseline.subject,
            "current": _baseline.describe(REPO_ROOT),
        },
    }
    try:
        t = time.perf_counter()
        fixture = Fixture(n, workdir)
        print(
            f"fixture: {len(fixture.templates)} recorded events cycled to {n:,}; payload "
            f"{fixture.payload_bytes / 1e6:.1f} MB (mean {fixture.payload_bytes / n:.0f} B/event)"
            f"; per-event body {fixture.body_a_bytes / 1e6:.1f} MB in {n:,} chunks; 64k body "
            f"{fixture.body_b_bytes / 1e6:.1f} MB in {fixture.b_chunks:,} chunks "
            f"({fixture.b_split_lines:,} split a line, {fixture.b_split_chars:,} split a UTF-8 "
            f"character); built in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
        report["fixture"] = fixture.meta
        server = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--internal-serve", str(workdir)]
        )
        deadline = time.time() + 30
        while not (workdir / "ready").exists():
            if server.poll() is not None or time.time() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.05)

        # the server's own speed: a null client, 3 samples per chunking
        for mode in modes:
            for _ in range(3):
                c0 = server_cpu(workdir)
                res = sample(workdir, "null", mode, n)
                res["server_cpu"] = server_cpu(workdir) - c0
                res["mode"] = mode
                report["null"].append(res)
            rates = [r["rate"] for r in report["null"] if r["mode"] == mode]
            cpus = [r["server_cpu"] for r in report["null"] if r["mode"] == mode]
            print(
                f"server → null client, {mode}: median {fmt_rate(statistics.median(rates))} "
                f"events/s ({statistics.median(r['bytes'] for r in report['null'] if r['mode'] == mode) / statistics.median(r['seconds'] for r in report['null'] if r['mode'] == mode) / 1e9:.2f} GB/s), "  # noqa: E501
                f"server CPU {statistics.median(cpus):.3f} s per body",
                flush=True,
            )

        pairs = [(c, m) for c in clients for m in modes]
        width = max(13, *map(len, clients))
        for r, order in enumerate(orders(pairs, rounds), 1):
            for client, mode in order:
                c0 = server_cpu(workdir)
                res = sample(workdir, client, mode, n, baseline=baseline)
                res["server_cpu"] = server_cpu(workdir) - c0
                errors = fixture.verify(mode, res)
                res.update(
                    client=client,
                    mode=mode,
                    round=r,
                    errors=errors,
                    checked=len(res.pop("samples")),
                )
                report["samples"].append(res)
                status = "ok" if not errors else "FAILED: " + "; ".join(errors)
                print(
                    f"round {r} {client:{width}s} {mode:9s} {fmt_rate(res['rate']):>9s} events/s "
                    f"({res['seconds']:.2f} s, cpu {res['cpu']:.2f} s, server cpu "
                    f"{res['server_cpu']:.2f} s, maxrss {res['maxrss_kib'] / 1024:.0f} MiB) "
                    f"{status}",
                    flush=True,
                )

        if not args.no_slow:
            slow_runs = [
                ("raw", "per-event", False),
                ("aiodockersock", "per-event", False),
                ("aiodockersock", "per-event", True),
                ("aiodockersock", "64k", True),
                ("aiodocker", "per-event", False),
                ("aiodocker", "per-event", True),
            ]
            if baseline is not None:  # each aiodockersock run again with the baseline
                slow_runs = [
                    x
                    for run in slow_runs
                    for x in (
                        (run, (f"{run[0]}@{baseline.short}", *run[1:]))
                        if run[0] == "aiodockersock"
                        else (run,)
                    )
                ]
            for client, mode, slow in slow_runs:
                if client not in clients or mode not in modes:
                    continue
                res = sample(workdir, client, mode, n, slow=slow, baseline=baseline)
                errors = fixture.verify(mode, res)
                res.update(
                    client=client,
                    mode=mode,
                    slow=slow,
                    errors=errors,
                    checked=len(res.pop("samples")),
                )
                report["slow"].append(res)
                print(
                    f"memory: {client:{width}s} {mode:9s} {'slow' if slow else 'fast'} consumer: "
                    f"{res['seconds']:.1f} s, RSS before stream {res['rss0_kib'] / 1024:.0f} MiB,"
                    f" peak {res['maxrss_kib'] / 1024:.0f} MiB "
                    f"{'ok' if not errors else 'FAILED: ' + '; '.join(errors)}",
                    flush=True,
                )
        if args.profile_dir:
            args.profile_dir.mkdir(parents=True, exist_ok=True)
            for client in ("raw", "aiodockersock"):
                for mode in modes:
                    out = args.profile_dir / f"{client}-{mode}.prof"
                    res = sample(workdir, client, mode, n, profile=str(out))
                    print(f"profile: {out} ({fmt_rate(res['rate'])} events/s under cProfile)")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        if (workdir / "server.log").exists():
            requests = sorted(
                set(
                    " ".join(line.split(" ")[1:3]).split("?")[0]
                    + (" (" + line.split(" ", 3)[3].strip() + ")" if line.count(" ") >= 3 else "")
                    for line in (workdir / "server.log").read_text().splitlines()
                    if "/bench/" not in line
                )
            )
            report["requests"] = requests
        if args.keep:
            print(f"work dir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print_report(report, clients, modes)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
        print(f"\nraw results: {args.json}")


def print_report(report: dict[str, Any], clients: list[str], modes: list[str]) -> None:
    samples = report["samples"]
    print(f"\nN = {report['n']:,} events, {report['rounds']} rounds; {report['machine']}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()))
    if report.get("requests"):
        print("requests the server saw: " + "; ".join(report["requests"]))

    if report["null"]:
        print("\nserver → null client (a bare socket reading the body; 3 samples per chunking)")
        for mode in modes:
            rows = [r for r in report["null"] if r["mode"] == mode]
            if rows:
                secs = statistics.median(r["seconds"] for r in rows)
                print(
                    f"  {mode}: {fmt_rate(report['n'] / secs)} events/s, "
                    f"{statistics.median(r['bytes'] for r in rows) / secs / 1e9:.2f} GB/s, "
                    f"server CPU {statistics.median(r['server_cpu'] for r in rows):.3f} s"
                )

    if report.get("baseline"):
        b = report["baseline"]
        print(f"baseline: {b['name']} = {b['sha'][:12]} ({b['rev']}): {b['subject']}")
        print(f"current:  aiodockersock = {b['current']}")

    def med(client: str, mode: str, key: str = "rate") -> float:
        vals = [s[key] for s in samples if s["client"] == client and s["mode"] == mode]
        return statistics.median(vals) if vals else float("nan")

    def paired(client: str, ref: str, mode: str) -> float:
        by_round = {}
        for s in samples:
            if s["mode"] == mode and s["client"] in (client, ref):
                by_round.setdefault(s["round"], {})[s["client"]] = s["rate"]
        ratios = [d[client] / d[ref] for d in by_round.values() if client in d and ref in d]
        return statistics.median(ratios) if ratios else float("nan")

    for mode in modes:
        print(f"\n{mode} chunking — events/s (median over rounds)")
        print(
            "| client | events/s | min–max | × raw floor | × aiodocker | CPU s | peak RSS "
            "| verified |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for client in clients:
            rates = [s["rate"] for s in samples if s["client"] == client and s["mode"] == mode]
            if not rates:
                continue
            errs = {
                e
                for s in samples
                if s["client"] == client and s["mode"] == mode
                for e in s["errors"]
            }
            raw = med("raw", mode)
            aio = med("aiodocker", mode)
            rss = med(client, mode, "maxrss_kib") / 1024
            cpu = med(client, mode, "cpu")
            if client == "go-cli":  # the CLI's own CPU time and peak RSS, not the reader's
                cpu = med(client, mode, "cli_cpu")
                rss = (
                    statistics.median(
                        s["cli_maxrss_kib"]
                        for s in samples
                        if s["client"] == client and s["mode"] == mode
                    )
                    / 1024
                )
            print(
                f"| {client} | {fmt_rate(statistics.median(rates))} | "
                f"{fmt_rate(min(rates))}–{fmt_rate(max(rates))} | "
                f"{statistics.median(rates) / raw:.2f} ({paired(client, 'raw', mode):.2f}) | "
                + (
                    f"{statistics.median(rates) / aio:.2f} "
                    f"({paired(client, 'aiodocker', mode):.2f}) | "
                    if "aiodocker" in clients
                    else "– | "
                )
                + f"{cpu:.2f} | {rss:.0f} MiB | "
                f"{'yes' if not errs else '; '.join(sorted(errs))} |"
            )
    if "aiodockersock" in clients and "raw" in clients:
        print()
        for mode in modes:
            ratio = med("aiodockersock", mode) / med("raw", mode)
            print(
                f"target ≥ 0.95× raw floor, {mode}: {ratio:.2f}× (paired "
                f"{paired('aiodockersock', 'raw', mode):.2f}×) → "
                f"{'MET' if ratio >= 0.95 else 'NOT MET'}"
            )
    if report.get("baseline"):
        print_baseline(report, clients, modes)
    if report["slow"]:
        print("\nmemory (peak RSS = VmHWM of the client process)")
        print("| client | chunking | consumer | seconds | RSS before stream | peak RSS |")
        print("| --- | --- | --- | ---: | ---: | ---: |")
        for s in report["slow"]:
            print(
                f"| {s['client']} | {s['mode']} | "
                f"{'slow (2 ms sleep / 100 events)' if s['slow'] else 'fast'} | "
                f"{s['seconds']:.1f} | {s['rss0_kib'] / 1024:.0f} MiB | "
                f"{s['maxrss_kib'] / 1024:.0f} MiB |"
            )


def print_baseline(report: dict[str, Any], clients: list[str], modes: list[str]) -> None:
    """Current against baseline, for each client that ran in both versions."""
    samples = report["samples"]
    name = report["baseline"]["name"]
    rev = name.partition("@")[2]

    def values(client: str, mode: str, key: str) -> dict[int, float]:
        return {
            s["round"]: s[key] for s in samples if s["client"] == client and s["mode"] == mode
        }

    print(
        f"\ncurrent vs baseline ({name}): events/s ratio > 1 means the current version is "
        "faster; CPU ratio < 1 means it spends less client CPU"
    )
    print(
        "| client | chunking | current events/s | baseline events/s | current / baseline "
        "(paired) | rounds current faster | CPU current / baseline (paired) |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for client in clients:
        if "@" in client or f"{client}@{rev}" not in clients:
            continue
        for mode in modes:
            cur, base = values(client, mode, "rate"), values(f"{client}@{rev}", mode, "rate")
            ccpu, bcpu = values(client, mode, "cpu"), values(f"{client}@{rev}", mode, "cpu")
            both = sorted(set(cur) & set(base))
            if not both:
                continue
            ratio = statistics.median(cur.values()) / statistics.median(base.values())
            paired = statistics.median(cur[r] / base[r] for r in both)
            cpu_ratio = statistics.median(ccpu.values()) / statistics.median(bcpu.values())
            cpu_paired = statistics.median(ccpu[r] / bcpu[r] for r in both)
            faster = sum(cur[r] > base[r] for r in both)
            print(
                f"| {client} | {mode} | {fmt_rate(statistics.median(cur.values()))} | "
                f"{fmt_rate(statistics.median(base.values()))} | {ratio:.3f} ({paired:.3f}) | "
                f"{faster}/{len(both)} | {cpu_ratio:.3f} ({cpu_paired:.3f}) |"
            )


if __name__ == "__main__":
    main()
