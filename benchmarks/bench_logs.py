#!/usr/bin/env python3
"""Log streaming throughput: reading a container's output through each client.

Usage::

    python benchmarks/bench_logs.py [--host unix:///path/docker.sock] [--mb 200]
                                    [--line-bytes 100] [--rounds 5] [--clients ...] [--json FILE]
                                    [--baseline REV]

A busybox container writes ``--mb`` MB (half to stdout, half to stderr, both at once, so the
two streams interleave) in lines of ``--line-bytes`` bytes and exits; then, in each round,
every client reads its whole log (``GET /containers/{id}/logs?stdout=1&stderr=1&follow=1``;
the container has exited, so a followed stream ends at the end of the log):

* ``aiodockersock`` — ``async for frame in docker.containers.logs(id, follow=True)``: typed
  ``LogFrame``s, demultiplexed into stdout and stderr;
* ``aiodockersock-batches`` — the same frames a batch at a time
  (``async for batch in ….batches()``: every whole frame one read brought);
* ``raw``           — aiohttp ``iter_any()`` and a hand-written 8-byte-header demultiplexer
  (no library): the floor;
* ``aiodocker``     — ``container.log(stdout=True, stderr=True, follow=True)``: decoded ``str``
  lines, stdout and stderr mixed (it does not tell them apart);
* ``docker-py``     — ``APIClient.logs(id, stream=True, follow=True)``: ``bytes`` per frame,
  mixed;
* ``go-cli``        — ``docker logs <id>``, its stdout and stderr read through pipes by this
  process (timed from spawn to exit, so it includes the CLI's start-up).

Each sample runs in a fresh process, which imports its library before its clock starts. With
``--baseline REV`` the client ``aiodockersock@<rev>`` runs the same worker code with
aiodockersock as it is at git revision ``REV`` (see ``_baseline.py``), in the same rounds, and
the report ends with the current/baseline ratios. Every sample is verified: the byte count of
each stream (or of both together, for the clients that mix them) must be exact. Rounds rotate
the client order; the table gives medians over rounds (MB/s of container output, 1 MB = 10^6
bytes), ratios of medians and, in brackets, the median of per-round ratios.

Without ``--host`` (and without ``DOCKER_HOST``) a private Docker 28.5 engine is started with
``scripts/test_engine.py`` (as root) and stopped at the end.
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

# this checkout's aiodockersock, or (in a --baseline worker) the baseline's copy
CURRENT_ROOT = _baseline.setup_sys_path(REPO_ROOT)

IMAGE = "aiodockersock-test/busybox:latest"
CLIENTS = ("aiodockersock", "aiodockersock-batches", "raw", "aiodocker", "docker-py", "go-cli")
LABEL = "aiodockersock.bench"


# ---------------------------------------------------------------------------------------------
# workers: one sample each, in a fresh process; print one JSON line
# ---------------------------------------------------------------------------------------------


async def _aiodockersock(host: str, cid: str) -> dict[str, int]:
    from aiodockersock import Docker

    out = err = frames = 0
    async with Docker(host) as docker:
        async for frame in docker.containers.logs(cid, follow=True):
            frames += 1
            if frame.stream == "stdout":
                out += len(frame.data)
            else:
                err += len(frame.data)
    return {"stdout": out, "stderr": err, "frames": frames}


async def _aiodockersock_batches(host: str, cid: str) -> dict[str, int]:
    from aiodockersock import Docker

    out = err = frames = 0
    async with Docker(host) as docker:
        async for batch in docker.containers.logs(cid, follow=True).batches():
            frames += len(batch)
            for frame in batch:
                if frame.stream == "stdout":
                    out += len(frame.data)
                else:
                    err += len(frame.data)
    return {"stdout": out, "stderr": err, "frames": frames}


async def _raw(host: str, cid: str) -> dict[str, int]:
    import struct

    import aiohttp

    header = struct.Struct(">BxxxL")
    counts = [0, 0, 0]
    frames = 0
    connector = aiohttp.UnixConnector(path=host.removeprefix("unix://"))
    async with aiohttp.ClientSession(connector=connector) as session:
        url = f"http://localhost/v1.41/containers/{cid}/logs?stdout=1&stderr=1&follow=1"
        async with session.get(url) as resp:
            buf = b""
            async for chunk in resp.content.iter_any():
                buf = buf + chunk if buf else chunk
                pos, size = 0, len(buf)
                while size - pos >= 8:
                    stream, length = header.unpack_from(buf, pos)
                    end = pos + 8 + length
                    if end > size:
                        break
                    payload = buf[pos + 8 : end]
                    counts[stream] += len(payload)
                    frames += 1
                    pos = end
                buf = buf[pos:]
    return {"stdout": counts[1], "stderr": counts[2], "frames": frames}


async def _aiodocker(host: str, cid: str) -> dict[str, int]:
    import aiodocker

    total = frames = 0
    docker = aiodocker.Docker(url=host)
    try:
        container = docker.containers.container(cid)
        async for line in container.log(stdout=True, stderr=True, follow=True):
            frames += 1
            total += len(line)  # the output is ASCII: characters = bytes
    finally:
        await docker.close()
    return {"both": total, "frames": frames}


def _docker_py(host: str, cid: str) -> dict[str, int]:
    import docker

    total = frames = 0
    api = docker.APIClient(base_url=host, version="1.41")
    try:
        for chunk in api.logs(cid, stream=True, follow=True):
            frames += 1
            total += len(chunk)
    finally:
        api.close()
    return {"both": total, "frames": frames}


# what each worker imports before its clock starts
LIBRARIES = {"aiodockersock": "aiodockersock", "aiodockersock-batches": "aiodockersock",
             "raw": "aiohttp", "aiodocker": "aiodocker",
             "docker-py": "docker"}


def worker(client: str, host: str, cid: str) -> None:
    # Import the client's library before the clock starts: importing is not log streaming, and
    # its cost depends on whether the tree's bytecode is cached (PYTHONDONTWRITEBYTECODE, a
    # freshly unpacked --baseline), which would bias a current/baseline comparison.
    from importlib import import_module  # (not via the module-level importlib.util import)

    import_module(LIBRARIES[client])
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    if client == "docker-py":
        counts = _docker_py(host, cid)
    else:
        fn = {"aiodockersock": _aiodockersock, "aiodockersock-batches": _aiodockersock_batches,
              "raw": _raw, "aiodocker": _aiodocker}[client]
        counts = asyncio.run(fn(host, cid))
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    origin = _baseline.imported_from()
    print(
        json.dumps(
            {"elapsed": elapsed, "cpu": cpu, "maxrss": rss, "aiodockersock_from": origin, **counts}
        )
    )


def go_cli_sample(host: str, cid: str) -> dict[str, Any]:
    counts = {"stdout": 0, "stderr": 0}

    def drain(pipe: Any, key: str) -> None:
        while data := pipe.read1(1 << 20):
            counts[key] += len(data)

    t0 = time.perf_counter()
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(
        ["docker", "-H", host, "logs", cid], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    threads = [
        threading.Thread(target=drain, args=(proc.stdout, "stdout")),
        threading.Thread(target=drain, args=(proc.stderr, "stderr")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    code = proc.wait()
    elapsed = time.perf_counter() - t0
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        raise SystemExit(f"docker logs exited with {code}")
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    return {"elapsed": elapsed, "cpu": cpu, "maxrss": usage1.ru_maxrss * 1024, **counts}


def sample(
    client: str, host: str, cid: str, baseline: _baseline.Baseline | None = None
) -> dict[str, Any]:
    """One sample in a fresh process. ``aiodockersock@rev`` runs the same worker code as
    ``aiodockersock``, started the same way; only the import root differs (``baseline``)."""
    if client == "go-cli":
        return go_cli_sample(host, cid)
    kind, _, rev = client.partition("@")
    if rev:
        assert baseline is not None and client == baseline.name, client
        env, expected = baseline.env(), baseline.root
    else:
        env, expected = _baseline.current_env(), CURRENT_ROOT
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--host", host, "--cid", cid],
        capture_output=True, text=True, check=False, env=env,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{client} worker failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    wrong = _baseline.check_origin(client, result.pop("aiodockersock_from", None), expected)
    if wrong:
        raise SystemExit(wrong)
    return result


# ---------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------


def cli(host: str, *args: str) -> str:
    return subprocess.run(
        ["docker", "-H", host, *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def make_writer(host: str, mb: int, line_bytes: int) -> tuple[str, int, int]:
    """Run the container that writes the log; return its id and the bytes per stream."""
    half = mb * 1_000_000 // 2
    per_line = line_bytes - 1
    out_line = ("o" * per_line)[:per_line]
    err_line = ("e" * per_line)[:per_line]
    script = (
        f"yes {out_line} | head -c {half} & "
        f"yes {err_line} | head -c {half} >&2; wait"
    )
    cid = cli(host, "create", "--network", "none", "--label", f"{LABEL}=1", IMAGE,
              "sh", "-c", script)
    t0 = time.perf_counter()
    cli(host, "start", cid)
    status = cli(host, "wait", cid)
    if status != "0":
        raise SystemExit(f"the writer exited with {status}")
    log(f"writer {cid[:12]}: {mb} MB in {line_bytes}-byte lines written in "
        f"{time.perf_counter() - t0:.1f} s")
    return cid, half, half


def verify(client: str, res: dict[str, Any], out: int, err: int) -> None:
    if "both" in res:
        ok = res["both"] == out + err
    else:
        ok = res["stdout"] == out and res["stderr"] == err
    if not ok:
        raise SystemExit(f"{client}: wrong byte counts {res} (expected {out} + {err})")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def start_engine() -> tuple[str, Any, Path]:
    from tests.engines import Engine, build_test_image, ensure_installed  # the repo root's

    ensure_installed(["28.5"])
    workdir = Path(tempfile.mkdtemp(prefix="adsb-", dir="/tmp"))
    engine = Engine.start_engine("28.5", workdir)
    build_test_image(engine)
    return engine.host, engine, workdir


def run(args: argparse.Namespace) -> dict[str, Any]:
    baseline = None
    if args.baseline:
        if "aiodockersock" not in args.clients.split(","):
            raise SystemExit("--baseline needs aiodockersock in --clients")
        baseline = _baseline.prepare(args.baseline, REPO_ROOT)
        log(
            f"baseline: {baseline.describe()}\n  unpacked in {baseline.root}; current: "
            f"aiodockersock = {_baseline.describe(REPO_ROOT)} ({CURRENT_ROOT})"
        )
    host = args.host or os.environ.get("DOCKER_HOST")
    engine = workdir = None
    if not host:
        host, engine, workdir = start_engine()
        log(f"started a private engine at {host}")
    try:
        server = cli(host, "version", "--format", "{{.Server.Version}}")
        cid, out, err = make_writer(host, args.mb, args.line_bytes)
        clients = [c for c in args.clients.split(",") if c]
        if baseline is not None:  # right after the current version
            clients = [
                x
                for c in clients
                for x in ((c, baseline.name) if c == "aiodockersock" else (c,))
            ]
        width = max(13, *map(len, clients))
        results: dict[str, list[dict[str, Any]]] = {c: [] for c in clients}
        try:
            for r in range(args.rounds):
                order = clients[r % len(clients):] + clients[: r % len(clients)]
                for client in order:
                    res = sample(client, host, cid, baseline)
                    verify(client, res, out, err)
                    res["mbps"] = (out + err) / 1e6 / res["elapsed"]
                    results[client].append(res)
                    log(f"round {r + 1} {client:<{width}} {res['mbps']:7.1f} MB/s "
                        f"({res['elapsed']:.2f} s, cpu {res['cpu']:.2f} s, "
                        f"maxrss {res['maxrss'] / 2**20:.0f} MiB) ok")
        finally:
            cli(host, "rm", "-f", cid)
    finally:
        if engine is not None:
            engine.stop()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    return {
        "mb": args.mb, "line_bytes": args.line_bytes, "rounds": args.rounds,
        "server": server, "results": results,
        "baseline": None if baseline is None else {
            "name": baseline.name, "rev": baseline.rev, "sha": baseline.sha,
            "subject": baseline.subject, "current": _baseline.describe(REPO_ROOT),
        },
    }


def report(data: dict[str, Any]) -> str:
    results = data["results"]
    med = {c: statistics.median(r["mbps"] for r in rs) for c, rs in results.items()}

    def paired(a: str, b: str) -> str:
        if a not in results or b not in results:
            return "–"
        ratios = [x["mbps"] / y["mbps"] for x, y in zip(results[a], results[b], strict=True)]
        return f"{med[a] / med[b]:.2f} ({statistics.median(ratios):.2f})"

    lines = [
        f"{data['mb']} MB of output in {data['line_bytes']}-byte lines (half stdout, half "
        f"stderr), Docker {data['server']}, {data['rounds']} rounds; medians",
        "",
        "| client | MB/s | min–max | × go-cli | aiodockersock × this | client CPU s | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c, rs in results.items():
        mbps = [r["mbps"] for r in rs]
        cpu = statistics.median(r["cpu"] for r in rs)
        rss = max(r["maxrss"] for r in rs) / 2**20
        lines.append(
            f"| {c} | {med[c]:.1f} | {min(mbps):.1f}–{max(mbps):.1f} | {paired(c, 'go-cli')} "
            f"| {paired('aiodockersock', c)} | {cpu:.2f} | {rss:.0f} MiB |"
        )
    b = data.get("baseline")
    if b and b["name"] in results and "aiodockersock" in results:
        cur, base = results["aiodockersock"], results[b["name"]]
        cpu_ratio = statistics.median(r["cpu"] for r in cur) / statistics.median(
            r["cpu"] for r in base
        )
        cpu_paired = statistics.median(
            x["cpu"] / y["cpu"] for x, y in zip(cur, base, strict=True)
        )
        faster = sum(x["mbps"] > y["mbps"] for x, y in zip(cur, base, strict=True))
        lines += [
            "",
            f"current vs baseline: aiodockersock = {b['current']}; {b['name']} = "
            f"{b['sha'][:12]} ({b['rev']}): {b['subject']}",
            "",
            "| current / baseline | median (paired) |",
            "| --- | ---: |",
            f"| MB/s (> 1: current faster) | {paired('aiodockersock', b['name'])} |",
            f"| client CPU s (< 1: current cheaper) | {cpu_ratio:.2f} ({cpu_paired:.2f}) |",
            f"| rounds in which current was faster | {faster}/{len(cur)} |",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host")
    p.add_argument("--mb", type=int, default=200)
    p.add_argument("--line-bytes", type=int, default=100)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--clients", default=",".join(CLIENTS))
    p.add_argument("--json")
    p.add_argument(
        "--baseline",
        metavar="REV",
        help="also read the log with aiodockersock as it is at git revision REV, as client "
        "'aiodockersock@<rev>' in the same rounds; report current/baseline ratios",
    )
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--cid", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.worker, args.host, args.cid)
        return 0
    log(f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    data = run(args)
    text = report(data)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
