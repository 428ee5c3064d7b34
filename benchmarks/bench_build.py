#!/usr/bin/env python3
"""Image builds of a big context: the classic builder against BuildKit, first build and rebuild.

Usage::

    python benchmarks/bench_build.py [--rounds 3] [--files 10000] [--big-mb 100]
                                     [--clients classic,buildkit,cli-classic,cli-buildkit]
                                     [--engine 28.5 | --host unix:///path] [--json FILE]

What it does (issue 14):

1. Starts a private Docker engine with ``tests.engines`` (``--engine``, default 28.5), or uses
   ``--host`` (a ``unix://`` socket).
2. Writes a build context in a temporary directory: ``--files`` small files (100 directories,
   64 to 191 bytes each) and one file of ``--big-mb`` MB (random bytes), and the Dockerfile
   ``FROM scratch`` / ``COPY . /ctx/`` (offline: no registry involved).
3. Each round, for each client (the order rotating between rounds):

   * resets the engine: removes every image this run built, then ``images.prune`` (dangling)
     and ``images.prune_builds(all=True)`` (BuildKit's cache, its copy of earlier contexts
     included), so that the *first build* starts from a cold cache, as on a fresh machine;
   * **first build**: builds the context and tags it;
   * changes one small file (new content, another size; a different file each round);
   * **rebuild**: builds again; the cache of the first build is there.

   Clients:

   * ``classic`` — ``docker.images.build(ctx, builder="classic")``: the library tars the
     context and sends it with ``POST /build``;
   * ``buildkit`` — ``docker.images.build(ctx, builder="buildkit")``: ``POST /session``, then
     ``POST /build``; BuildKit fetches the files it needs through the session's file sync;
   * ``cli-classic`` — ``DOCKER_BUILDKIT=0 docker build -q`` (the Docker CLI's legacy
     builder);
   * ``cli-buildkit`` — ``DOCKER_BUILDKIT=1 docker build -q`` with the CLI that
     ``tests.engines.buildkit_cli()`` finds: a CLI before 23.0 (Debian's 20.10,
     ``/usr/bin/docker``) runs the BuildKit session itself; a later one needs the buildx plugin
     (``AIODOCKERSOCK_TEST_BUILDKIT_CLI`` names another binary). It goes through the same proxy.

4. Measures per build: the wall time from the call to the image id (for the CLI, the process's
   run), and the **bytes sent to the daemon** and received from it. The bytes are counted at
   the socket: the measured clients talk to a counting proxy (a child process, one thread per
   direction of each connection, ``recv_into``/``sendall`` of 1 MiB) on a unix socket in front
   of the engine's, which sums what passes each way. So every byte counts: the HTTP heads, the
   tar, the HTTP/2 frames of the session, gRPC's health checks, the CLI's own ``/_ping``. The
   proxy is the same for every client; it adds one more copy through a socket pair. The
   resets go to the engine directly and are not counted.

Targets (issue 14): the BuildKit rebuild sends only what changed (bytes sent ≪ the context's
size) and is faster than the classic builder's rebuild.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from aiodockersock import Docker, DockerError  # noqa: E402

PREFIX = "aiodockersock-bench-build"
CLIENTS = ("classic", "buildkit", "cli-classic", "cli-buildkit")


# --- the counting proxy (runs in a child process: ``bench_build.py --proxy LISTEN TARGET``) ---

def serve_proxy(listen: str, target: str) -> None:
    """Forward connections on ``listen`` to the unix socket ``target``, counting the bytes.

    Each line on stdin is answered on stdout with ``<up> <down> <connections>`` (totals so far;
    up: client to daemon)."""
    counts = [0, 0, 0]
    lock = threading.Lock()

    def pipe(src: socket.socket, dst: socket.socket, index: int, done: threading.Event) -> None:
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        try:
            while True:
                n = src.recv_into(buf)
                if not n:
                    break
                with lock:
                    counts[index] += n
                dst.sendall(view[:n])
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
            done.set()

    def connection(client: socket.socket) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(target)
        except OSError:
            client.close()
            return
        ups, downs = threading.Event(), threading.Event()
        threading.Thread(target=pipe, args=(client, upstream, 0, ups), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, client, 1, downs), daemon=True).start()
        ups.wait()
        downs.wait()
        client.close()
        upstream.close()

    if os.path.exists(listen):
        os.unlink(listen)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(listen)
    server.listen(128)

    def accept() -> None:
        while True:
            client, _ = server.accept()
            with lock:
                counts[2] += 1
            threading.Thread(target=connection, args=(client,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    print("ready", flush=True)
    for _ in sys.stdin:
        with lock:
            line = f"{counts[0]} {counts[1]} {counts[2]}"
        print(line, flush=True)


class Proxy:
    """The counting proxy's child process, and its totals."""

    def __init__(self, listen: str, target: str) -> None:
        self.listen = listen
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--proxy", listen, target],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the counting proxy did not start")

    def totals(self) -> tuple[int, int, int]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("?\n")
        self.proc.stdin.flush()
        up, down, conns = self.proc.stdout.readline().split()
        return int(up), int(down), int(conns)

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


# --- the context ---

def make_context(root: Path, files: int, big_mb: int) -> int:
    """Write the context; return its size in bytes (file contents)."""
    rng = random.Random(14)
    total = 0
    (root / "Dockerfile").write_text("FROM scratch\nCOPY . /ctx/\n")
    total += (root / "Dockerfile").stat().st_size
    for i in range(files):
        directory = root / f"d{i % 100:02d}"
        directory.mkdir(exist_ok=True)
        data = bytes(rng.getrandbits(8) for _ in range(64 + i % 128))
        (directory / f"f{i:05d}.txt").write_bytes(data)
        total += len(data)
    with (root / "big.bin").open("wb") as f:
        for _ in range(big_mb):
            f.write(os.urandom(1 << 20))
    total += big_mb << 20
    return total


def change_one(root: Path, files: int, n: int) -> Path:
    """Give one small file (a different one each time) new content of another size."""
    i = (n * 7919) % files
    path = root / f"d{i % 100:02d}" / f"f{i:05d}.txt"
    path.write_bytes(f"changed in round {n}\n".encode() * (1 + n % 3))
    return path


# --- the builds ---

async def reset(direct: str, tags: list[str]) -> None:
    """Cold caches: the run's images gone, dangling ones pruned, BuildKit's cache pruned."""
    async with Docker(direct) as docker:
        for tag in tags:
            with contextlib.suppress(DockerError):  # not there: fine
                await docker.images.remove(tag, force=True)
        await docker.images.prune()
        await docker.images.prune_builds(all=True)


async def build_library(host: str, ctx: Path, tag: str, builder: str
                        ) -> tuple[float, float, str]:
    async with Docker(host) as docker:
        await docker.negotiate()  # the connection and version check stay out of the timing
        cpu, started = time.process_time(), time.perf_counter()
        image_id = await docker.images.build(ctx, tag=tag, builder=builder)  # type: ignore[arg-type]
        return time.perf_counter() - started, time.process_time() - cpu, image_id


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build_cli(host: str, ctx: Path, tag: str, buildkit: bool) -> tuple[float, float, str]:
    from tests.engines import buildkit_cli

    docker = buildkit_cli().binary if buildkit else "docker"
    env = {**os.environ, "DOCKER_HOST": host, "DOCKER_BUILDKIT": "1" if buildkit else "0"}
    cpu, started = _children_cpu(), time.perf_counter()
    done = subprocess.run([docker, "build", "-q", "-t", tag, str(ctx)], env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"{docker} build failed: {done.stderr.strip()}")
    return elapsed, _children_cpu() - cpu, done.stdout.strip()


def one_build(client: str, host: str, ctx: Path, tag: str) -> tuple[float, float, str]:
    if client.startswith("cli-"):
        return build_cli(host, ctx, tag, buildkit=client == "cli-buildkit")
    return asyncio.run(build_library(host, ctx, tag, client))


def measured(proxy: Proxy, client: str, ctx: Path, tag: str) -> dict[str, Any]:
    before = proxy.totals()
    wall, cpu, image_id = one_build(client, f"unix://{proxy.listen}", ctx, tag)
    time.sleep(0.05)  # the last bytes through the proxy (a session's closing frames)
    after = proxy.totals()
    return {"wall": wall, "cpu": cpu, "up": after[0] - before[0], "down": after[1] - before[1],
            "connections": after[2] - before[2], "image": image_id}


def run(args: argparse.Namespace, direct: str, workdir: Path) -> dict[str, Any]:
    ctx = workdir / "ctx"
    ctx.mkdir()
    print(f"writing the context ({args.files} small files, {args.big_mb} MB) …", file=sys.stderr)
    size = make_context(ctx, args.files, args.big_mb)
    clients = args.clients.split(",")
    proxy = Proxy(str(workdir / "proxy.sock"), direct.removeprefix("unix://"))
    results: dict[str, Any] = {c: {"first": [], "rebuild": []} for c in clients}
    try:
        tags = [f"{PREFIX}:{c}" for c in clients]
        for r in range(args.rounds):
            order = clients[r % len(clients):] + clients[:r % len(clients)]
            for client in order:
                tag = f"{PREFIX}:{client}"
                asyncio.run(reset(direct, tags))
                first = measured(proxy, client, ctx, tag)
                changed = change_one(ctx, args.files, r * len(clients) + order.index(client))
                again = measured(proxy, client, ctx, tag)
                results[client]["first"].append(first)
                results[client]["rebuild"].append(again)
                for what, s in (("first", first), ("rebuild", again)):
                    print(f"round {r + 1} {client:12} {what:8} {s['wall']:7.2f} s "
                          f"(CPU {s['cpu']:5.2f} s)  "
                          f"sent {s['up'] / 1e6:9.3f} MB  received {s['down'] / 1e3:8.1f} kB  "
                          f"({s['connections']} conn.)", file=sys.stderr)
                del changed
        asyncio.run(reset(direct, tags))
    finally:
        proxy.stop()
    return {"results": results, "context_bytes": size}


def _fmt_bytes(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:,.1f} MB"
    if n >= 1e3:
        return f"{n / 1e3:,.1f} kB"
    return f"{n:,.0f} B"


def report(data: dict[str, Any], meta: dict[str, Any]) -> str:
    results = data["results"]
    size = data["context_bytes"]
    lines = [f"Docker {meta['server']}; {meta['machine']}; load average before "
             f"{meta['load_before']}, after {meta['load_after']}; {meta['rounds']} rounds; "
             f"context {meta['files']:,} small files + {meta['big_mb']} MB = "
             f"{_fmt_bytes(size)}.", "",
             "| client | build | wall (median; min to max) | x classic's | client CPU | "
             "sent to the daemon (median) | sent / context | received |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for what in ("first", "rebuild"):
        base = (statistics.median(s["wall"] for s in results["classic"][what])
                if "classic" in results else None)
        for client, by in results.items():
            samples = by[what]
            walls = [s["wall"] for s in samples]
            wall = statistics.median(walls)
            up = statistics.median(s["up"] for s in samples)
            down = statistics.median(s["down"] for s in samples)
            ratio = f"{wall / base:.2f}" if base else "-"
            cpu = statistics.median(s["cpu"] for s in samples)
            lines.append(f"| {client} | {what} | {wall:.2f} s ({min(walls):.2f} to "
                         f"{max(walls):.2f}) | {ratio} | {cpu:.2f} s | {_fmt_bytes(up)} | "
                         f"{up / size:.4f} | {_fmt_bytes(down)} |")
    if "buildkit" in results and "classic" in results:
        bk = [s["wall"] for s in results["buildkit"]["rebuild"]]
        cl = [s["wall"] for s in results["classic"]["rebuild"]]
        paired = statistics.median(b / c for b, c in zip(bk, cl, strict=True))
        faster = sum(b < c for b, c in zip(bk, cl, strict=True))
        lines += ["", f"BuildKit rebuild / classic rebuild, paired by round: {paired:.3f} "
                      f"(BuildKit faster in {faster}/{len(bk)} rounds)."]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--proxy":
        serve_proxy(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--big-mb", type=int, default=100)
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--engine", default="28.5", help="the private engine to start")
    parser.add_argument("--host", help="a unix:// engine to use instead of starting one")
    parser.add_argument("--json", help="write the raw results here")
    args = parser.parse_args()
    unknown = set(args.clients.split(",")) - set(CLIENTS)
    if unknown:
        parser.error(f"unknown clients {sorted(unknown)}; choose from {', '.join(CLIENTS)}")
    if "cli-classic" in args.clients.split(",") and shutil.which("docker") is None:
        parser.error("cli-classic needs the docker CLI on PATH")
    if "cli-buildkit" in args.clients.split(","):
        from tests.engines import EngineUnavailable, buildkit_cli

        try:
            print(f"cli-buildkit: {buildkit_cli()}", file=sys.stderr)
        except EngineUnavailable as exc:
            parser.error(f"cli-buildkit: {exc}")
    if args.host and not args.host.startswith("unix://"):
        parser.error("--host must be a unix:// socket (the counting proxy is a unix socket)")
    engine = None
    workdir = Path(tempfile.mkdtemp(prefix="adsbb-", dir="/tmp"))
    load_before = os.getloadavg()
    try:
        host = args.host
        if not host:
            from tests.engines import Engine, ensure_installed

            ensure_installed([args.engine])
            engine = Engine.start_engine(args.engine, workdir / "engine")
            host = engine.host
        data = run(args, host, workdir)

        async def version() -> str:
            async with Docker(host) as docker:
                return (await docker.version()).version or "?"

        server = asyncio.run(version())
    finally:
        if engine is not None:
            engine.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    meta = {
        "server": server, "rounds": args.rounds, "files": args.files, "big_mb": args.big_mb,
        "machine": f"{platform.platform()}, Python {platform.python_version()}, "
                   f"{os.cpu_count()} CPUs",
        "load_before": " ".join(f"{x:.2f}" for x in load_before),
        "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"meta": meta, **data}, indent=1))
    print(report(data, meta))


if __name__ == "__main__":
    main()
