#!/usr/bin/env python3
"""Stats of many containers at once, one sample each (``docker stats --no-stream``).

Usage::

    python benchmarks/bench_stats.py [--host unix:///path/docker.sock] [--containers 50]
                                     [--rounds 3] [--clients ...] [--json FILE]

``--containers`` busybox containers (``sleep``) are started, labelled; then, in each round,
every client takes one sample of each of them, its own natural way:

* ``aiodockersock`` — ``await docker.containers.stats_all(label=…)``: one listing, then every
  ``GET /containers/{id}/stats?stream=false`` at once; typed rows;
* ``aiodocker``     — ``docker.containers.list(filters=…)`` then ``asyncio.gather`` of
  ``container.stats(stream=False)`` (the asyncio way a user writes it): dicts;
* ``docker-py``     — ``for c in client.containers.list(filters=…): c.stats(stream=False)``:
  dicts, one container after the other (the way its documentation shows);
* ``go-cli``        — ``docker stats --no-stream <ids…>``, its output read through a pipe
  (timed from spawn to exit, so it includes the CLI's start-up).

Each sample runs in a fresh process, which imports its library before its clock starts, and is
verified (a row per container, with a memory figure). The daemon takes a sample about a second
after it is asked (it waits for its next reading, to have a previous one for CPU %), so wall time
is dominated by that wait: a client that asks for every container at once needs about one such
interval, one that asks in turn needs one per container. Client CPU time (user + system of the
client's process) is what the client itself costs. Rounds rotate the client order; the report
gives medians over rounds.

Without ``--host`` (and without ``DOCKER_HOST``) a private Docker 28.5 engine is started with
the test engines' code (as root) and stopped at the end.
"""

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
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

IMAGE = "aiodockersock-test/busybox:latest"
CLIENTS = ("aiodockersock", "aiodocker", "docker-py", "go-cli")
LABEL = "aiodockersock.bench.stats"


# ---------------------------------------------------------------------------------------------
# workers: one sample each, in a fresh process; print one JSON line
# ---------------------------------------------------------------------------------------------


async def _aiodockersock(host: str) -> list[int]:
    from aiodockersock import Docker

    async with Docker(host) as docker:
        rows = await docker.containers.stats_all(label=f"{LABEL}=1")
    return [row.stats.memory_usage if row.stats is not None else 0 for row in rows]


async def _aiodocker(host: str) -> list[int]:
    import aiodocker

    docker = aiodocker.Docker(url=host)
    try:
        containers = await docker.containers.list(filters={"label": [f"{LABEL}=1"]})
        samples = await asyncio.gather(*(c.stats(stream=False) for c in containers))
    finally:
        await docker.close()
    # aiodocker returns a list of samples per container (one here)
    return [int(s[0]["memory_stats"].get("usage", 0)) for s in samples]


def _docker_py(host: str) -> list[int]:
    import docker

    client = docker.DockerClient(base_url=host, version="1.41")
    try:
        return [int(c.stats(stream=False)["memory_stats"].get("usage", 0))
                for c in client.containers.list(filters={"label": f"{LABEL}=1"})]
    finally:
        client.close()


LIBRARIES = {"aiodockersock": "aiodockersock", "aiodocker": "aiodocker", "docker-py": "docker"}


def worker(client: str, host: str) -> None:
    from importlib import import_module

    import_module(LIBRARIES[client])  # importing is not sampling
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    if client == "docker-py":
        memory = _docker_py(host)
    else:
        fn = {"aiodockersock": _aiodockersock, "aiodocker": _aiodocker}[client]
        memory = asyncio.run(fn(host))
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"elapsed": elapsed, "cpu": cpu, "maxrss": rss, "rows": len(memory),
                      "with_memory": sum(1 for m in memory if m > 0)}))


def go_cli_sample(host: str, ids: list[str]) -> dict[str, Any]:
    t0 = time.perf_counter()
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(["docker", "-H", host, "stats", "--no-stream", *ids],
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"docker stats exited with {proc.returncode}: {proc.stderr}")
    rows = proc.stdout.strip().splitlines()[1:]
    with_memory = sum(1 for r in rows if "B / " in r and not r.split()[3].startswith("0B"))
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    return {"elapsed": elapsed, "cpu": cpu, "maxrss": usage1.ru_maxrss * 1024,
            "rows": len(rows), "with_memory": with_memory}


def sample(client: str, host: str, ids: list[str]) -> dict[str, Any]:
    if client == "go-cli":
        return go_cli_sample(host, ids)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, __file__, "--worker", client, "--host", host],
                          capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{client} worker failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------


def cli(host: str, *args: str) -> str:
    return subprocess.run(["docker", "-H", host, *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def start_engine() -> tuple[str, Any, Path]:
    from tests.engines import Engine, build_test_image, ensure_installed  # the repo root's

    ensure_installed(["28.5"])
    workdir = Path(tempfile.mkdtemp(prefix="adsb-", dir="/tmp"))
    engine = Engine.start_engine("28.5", workdir)
    build_test_image(engine)
    return engine.host, engine, workdir


def start_containers(host: str, count: int) -> list[str]:
    def one(i: int) -> str:
        return cli(host, "run", "-d", "--network", "none", "--label", f"{LABEL}=1",
                   "--name", f"bench-stats-{os.getpid()}-{i}", IMAGE, "sleep", "3600")

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def run(args: argparse.Namespace) -> dict[str, Any]:
    host = args.host or os.environ.get("DOCKER_HOST")
    engine = workdir = None
    if not host:
        host, engine, workdir = start_engine()
    clients = args.clients.split(",")
    ids: list[str] = []
    try:
        if shutil.which("docker") is None:
            raise SystemExit("the docker CLI is needed (to start the containers)")
        version = cli(host, "version", "-f", "{{.Server.Version}}")
        stale = cli(host, "ps", "-aq", "--filter", f"label={LABEL}=1").split()
        if stale:
            cli(host, "rm", "-f", *stale)
        ids = start_containers(host, args.containers)
        log(f"{len(ids)} containers running on Docker {version}")
        results: dict[str, list[dict[str, Any]]] = {c: [] for c in clients}
        for r in range(args.rounds):
            order = clients[r % len(clients):] + clients[:r % len(clients)]
            for client in order:
                res = sample(client, host, ids)
                if res["rows"] != len(ids) or res["with_memory"] != len(ids):
                    raise SystemExit(f"{client}: {res['rows']} rows, {res['with_memory']} with "
                                     f"memory; expected {len(ids)}")
                results[client].append(res)
                log(f"round {r + 1} {client:14} {res['elapsed']:7.2f} s wall  "
                    f"{res['cpu'] * 1000:8.0f} ms CPU")
        return {
            "engine": version, "containers": len(ids), "rounds": args.rounds,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load "
                       f"{os.getloadavg()[0]:.1f}",
            "python": platform.python_version(), "results": results,
        }
    finally:
        if ids:
            subprocess.run(["docker", "-H", host, "rm", "-f", *ids], capture_output=True,
                           check=False)
        if engine is not None:
            engine.stop()
            shutil.rmtree(workdir or "", ignore_errors=True)


def report(data: dict[str, Any]) -> str:
    lines = [
        f"stats of {data['containers']} running containers, one sample each; Docker "
        f"{data['engine']}; {data['machine']}; Python {data['python']}; medians of "
        f"{data['rounds']} rounds",
        "",
        f"{'client':16}{'wall s':>9}{'client CPU ms':>15}{'max RSS MiB':>13}",
    ]
    for client, samples in data["results"].items():
        wall = statistics.median(s["elapsed"] for s in samples)
        cpu = statistics.median(s["cpu"] for s in samples) * 1000
        rss = statistics.median(s["maxrss"] for s in samples) / 2**20
        lines.append(f"{client:16}{wall:9.2f}{cpu:15.0f}{rss:13.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", help="daemon address (default: DOCKER_HOST, or a private "
                        "engine)")
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--json", metavar="FILE", help="also write the samples as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.host)
        return 0
    data = run(args)
    print(report(data))
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
