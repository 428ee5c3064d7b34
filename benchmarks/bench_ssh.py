#!/usr/bin/env python3
"""Requests over ssh: aiodockersock vs docker-py (paramiko, ``use_ssh_client``), aiodocker
(asyncssh) and the Docker CLI, with aiodockersock over the local unix socket as the reference.

Usage (as root: it makes a user and starts a private sshd)::

    python scripts/test_engine.py start 28.5 --dir /tmp/bssh
    python benchmarks/bench_ssh.py --host unix:///tmp/bssh/docker.sock [--rounds N] [--quick]
                                   [--clients ...] [--max-sessions N] [--json FILE]
                                   [--ssh-config-extra 'KexAlgorithms curve25519-sha256']
    python benchmarks/bench_ssh.py --host … --callgrind   # instructions per call, ssh vs unix
    python benchmarks/bench_ssh.py --host … --budget      # CPU per call of every process, c=32

One run at a time per engine: the run lends the engine's socket to its user's group.

Set-up (the test suite's machinery, ``tests/engines/sshd.py``): a private sshd on 127.0.0.1
(Debian's openssh-server, a generated host key), an unprivileged user in a group that may use
the engine's socket, and ``SetEnv DOCKER_HOST=unix://<socket>`` for that user, so every client's
remote ``docker system dial-stdio`` reaches the private engine with the plain URL
``ssh://USER@127.0.0.1:PORT``. The client side's key, ``known_hosts`` and ``ssh_config`` live
in a private home (``HOME`` of every worker): paramiko (docker-py) and asyncssh (aiodocker) read
``$HOME/.ssh``; OpenSSH reads the passwd entry's home instead, so aiodockersock gets
``ssh_options=["-F", config]`` (as the tests do) and the two clients that run ``ssh`` from PATH
(docker-py ``use_ssh_client=True`` and the CLI) get a PATH entry ``ssh`` =
``exec /usr/bin/ssh -F config "$@"`` (one ``/bin/sh`` exec more per ssh process they start).

Clients, each in a worker process of its own, each opened and warmed before any timing:

* ``ads-unix``        — ``aiodockersock.Docker("unix://…")``: the reference of the 1.5× target;
* ``ads-ssh``         — ``aiodockersock.Docker("ssh://…", ssh_options=["-F", config])``: no
  socket path in the URL, so the remote ``docker system dial-stdio``, as the CLI;
* ``ads-ssh-fwd``     — the same with the socket's path in the URL (``ssh://…/path/docker.sock``):
  sshd forwards each connection to the socket (``ssh_mode="auto"``), no remote process;
* ``dockerpy-paramiko`` — ``docker.DockerClient(base_url="ssh://…", max_pool_size=32).api``;
* ``dockerpy-sshcli`` — the same with ``use_ssh_client=True`` (one ``ssh`` process per
  connection, no ControlMaster: a handshake per connection);
* ``aiodocker-ssh``   — ``aiodocker.Docker(url="ssh://…")`` (its ``SSHConnector``: one asyncssh
  connection, a channel running ``docker system dial-stdio`` per HTTP connection, relayed
  through a local unix socket);
* ``cli``             — ``docker -H ssh://… inspect ID``, one process per call, cold as users
  run it (``DOCKER_CONFIG`` an empty private directory).

Figures, ``--rounds`` interleaved rounds, client order rotated by one each round:

* ``inspect c=1``  — N sequential ``GET /containers/{id}/json``; per call: the median over
  rounds of a sample's mean, and the median and p99 of every single call (pooled over rounds);
* ``inspect c=32`` — 32 tasks (threads for docker-py, processes for the CLI) doing M calls each;
  wall per call and calls/s;
* ``connect``      — a fresh client: construction and its first inspect (docker-py connects in
  its constructor and asks ``/version``, as users get it); one per client per round.

Every sample checks that each inspect returned the container's Id (outside the timed part).
Before each timed sample a client makes untimed calls (3 sequential; one call from each of the
32 tasks before c=32), so pooled connections that idled out while the other clients ran
(aiohttp's 15 s keep-alive) are back: the timed part is "once connected".

Client CPU per call = the worker's own CPU (all threads) + the CPU of its live descendant
processes (``se.sum_exec_runtime`` in ``/proc/PID/task/*/sched``: the ssh ControlMasters and
sessions of aiodockersock, the ssh of ``use_ssh_client``), difference over the sample, + the
CPU of children that ended and were reaped during it (``RUSAGE_CHILDREN``: the CLI processes and
the ssh each of them ran and waited for). Not counted: a grandchild reaped by a child that is
still alive. "sshd CPU" is the same over the private sshd's process tree (the server side:
sshd and the remote ``docker system dial-stdio``); it is on this machine too, so it is in the
wall times of every ssh client. The engine's CPU is in no figure, except with ``--budget``:
it measures, at c=32 and 3,200 calls per sample, the CPU per call of the client, ssh, sshd and
dockerd (processes alive at the end of a sample, by name), over the socket and over
ssh-fwd, and the floor that ssh's and sshd's CPU set when every core is busy.
"""

# ruff: noqa: RUF001, RUF002  (the report prints multiplication signs and en dashes on purpose)
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import gc
import grp
import json
import os
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
REPO_ROOT = SCRIPT.parent.parent
sys.path.insert(0, str(SCRIPT.parent))
import _baseline  # noqa: E402

CURRENT_ROOT = _baseline.setup_sys_path(REPO_ROOT)
import bench_api  # noqa: E402  (the engine helpers, statistics and machine description)

CLIENTS = ("ads-unix", "ads-ssh", "ads-ssh-fwd", "dockerpy-paramiko", "dockerpy-sshcli",
           "aiodocker-ssh", "cli")
#: one ssh login per call: the CLI, and docker-py's use_ssh_client (measured: a login per
#: request, as the "logins / sample" column shows); they get the smaller samples
SLOW = ("cli", "dockerpy-sshcli")
SSH_BINARY = "/usr/bin/ssh"


@dataclass(frozen=True)
class Params:
    rounds: int
    calls: int  # sequential inspects per c=1 sample (libraries)
    cli_calls: int  # the same for the CLI
    workers: int
    per_worker: int  # inspects per task per c=32 sample (libraries)
    cli_per_worker: int  # the same for the CLI (processes)
    warmup: int


FULL = Params(rounds=7, calls=200, cli_calls=5, workers=32, per_worker=10, cli_per_worker=1,
              warmup=50)
QUICK = Params(rounds=2, calls=50, cli_calls=3, workers=32, per_worker=3, cli_per_worker=1,
               warmup=10)

Sample = dict[str, Any]  # {"wall": s, "cpu": s, "calls": n, "lat": [s, …]?}


# -- CPU of a process tree ----------------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _runtime(pid: int) -> float:
    """CPU seconds of every thread of ``pid`` so far (0 if it is gone)."""
    total = 0.0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    for tid in tasks:
        with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/task/{tid}/sched") as f:
            for line in f:
                if line.startswith("se.sum_exec_runtime"):
                    total += float(line.split(":", 1)[1]) / 1e3  # ms
                    break
    return total


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def descendants_cpu(root: int) -> dict[int, tuple[float, str]]:
    """CPU seconds so far and name of each live descendant of ``root`` (``root`` excluded)."""
    children = _children_map()
    out: dict[int, tuple[float, str]] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        out[pid] = (_runtime(pid), _comm(pid))
        todo += children.get(pid, [])
    return out


def reaped_children_cpu(pid: int) -> float:
    """CPU seconds of the children ``pid`` has reaped (``cutime + cstime``, clock ticks)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[14]) + int(fields[15])) / os.sysconf("SC_CLK_TCK")


def tree_delta(
    before: dict[int, tuple[float, str]], after: dict[int, tuple[float, str]]
) -> dict[str, float]:
    """CPU seconds per process name over a section (live descendants at its end)."""
    out: dict[str, float] = {}
    for pid, (cpu, comm) in after.items():
        out[comm] = out.get(comm, 0.0) + cpu - before.get(pid, (0.0, ""))[0]
    return out


def _reaped() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _reap_orphans() -> None:
    """Reap what was reparented to this process (a subreaper): e.g. an ssh its parent, the
    CLI, did not wait for. Only in the workers that start processes with ``subprocess``."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def become_subreaper() -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


Started = tuple[dict[int, tuple[float, str]], float, float, float]


class TreeClock:
    """Wall and CPU of this process and its descendants over a section (see the module doc).

    ``stop`` returns the wall time, the total CPU, and the CPU split into ``python`` (this
    process), ``ssh`` (live ssh descendants), ``reaped`` (children that ended) and ``other``.
    """

    def __init__(self, reap: bool = False) -> None:
        self.pid = os.getpid()
        self.reap = reap

    def start(self) -> Started:
        if self.reap:  # first: an orphan of the last sample, counted there, is not in `before`
            _reap_orphans()
        before = descendants_cpu(self.pid)
        reaped = _reaped()
        return before, reaped, time.process_time(), time.perf_counter()

    def stop(self, started: Started) -> tuple[float, float, dict[str, float]]:
        wall_end, cpu_end = time.perf_counter(), time.process_time()
        before, reaped, cpu0, wall0 = started
        if self.reap:
            _reap_orphans()
        reaped_delta = _reaped() - reaped
        after = descendants_cpu(self.pid)
        by_name = tree_delta(before, after)
        # a child alive before and reaped since: rusage has its whole life, subtract the past
        reaped_delta -= sum(cpu for pid, (cpu, _) in before.items() if pid not in after)
        split = {
            "python": cpu_end - cpu0,
            "ssh": by_name.pop("ssh", 0.0),
            "reaped": reaped_delta,
            "other": sum(by_name.values()),
        }
        return wall_end - wall0, sum(split.values()), split


# -- clients (inside the worker processes) --------------------------------------------------------


class Client:
    name: str

    async def open(self) -> None:
        """Connect and warm up (outside every timing)."""

    async def close(self) -> None: ...

    async def inspect(self, cid: str) -> str:
        """One inspect; the Id it returned."""
        raise NotImplementedError

    async def prime(self, cid: str, workers: int, settle: float, clock: TreeClock) -> None:
        """Untimed calls before a sample (3 sequential; or one from each of ``workers`` tasks),
        so pooled connections that idled out are back; before a c=1 sample, sequential calls
        go on for ``settle`` seconds, as a service's steady calls would after a burst (long
        enough for aiodockersock's ssh pool to close the burst's idle connections)."""
        if workers <= 1:
            for _ in range(3):
                await self.inspect(cid)
            end = time.perf_counter() + settle
            while time.perf_counter() < end:
                await self.inspect(cid)
                await asyncio.sleep(0.05)
        else:
            await self.c32(cid, workers, 1, clock)

    async def c1(self, cid: str, n: int, clock: TreeClock) -> Sample:
        ids: list[str] = []
        lat: list[float] = []
        inspect, now = self.inspect, time.perf_counter
        started = clock.start()
        for _ in range(n):
            t = now()
            ids.append(await inspect(cid))
            lat.append(now() - t)
        wall, cpu, split = clock.stop(started)
        _check(ids, cid, self.name)
        return {"wall": wall, "cpu": cpu, "split": split, "calls": n, "lat": lat}

    async def c32(self, cid: str, workers: int, m: int, clock: TreeClock) -> Sample:
        inspect = self.inspect

        async def task(k: int) -> list[str]:
            return [await inspect(cid) for _ in range(k)]

        started = clock.start()
        results = await asyncio.gather(*(task(m) for _ in range(workers)))
        wall, cpu, split = clock.stop(started)
        _check([i for r in results for i in r], cid, self.name)
        return {"wall": wall, "cpu": cpu, "split": split, "calls": workers * m}

    async def connect(self, cid: str, clock: TreeClock) -> Sample:
        """A fresh client of the same kind: construction + first inspect; then closed."""
        fresh = self.fresh()
        try:
            started = clock.start()
            ident = await fresh.inspect_first(cid)
            wall, cpu, split = clock.stop(started)
        finally:
            await fresh.close()
        _check([ident], cid, self.name)
        return {"wall": wall, "cpu": cpu, "split": split, "calls": 1}

    def fresh(self) -> Client:
        raise NotImplementedError

    async def inspect_first(self, cid: str) -> str:
        return await self.inspect(cid)


def _check(ids: list[str], cid: str, name: str) -> None:
    wrong = [i for i in ids if i != cid]
    if wrong or not ids:
        raise AssertionError(f"{name}: inspect returned {wrong[:1]!r}, not {cid!r}")


class Aiodockersock(Client):
    def __init__(self, name: str, url: str, options: list[str]) -> None:
        import aiodockersock

        self.name, self.url, self.options = name, url, options
        kwargs: dict[str, Any] = {"ssh_options": options} if url.startswith("ssh://") else {}
        self.docker = aiodockersock.Docker(url, **kwargs)

    def fresh(self) -> Client:
        return Aiodockersock(self.name, self.url, self.options)

    async def close(self) -> None:
        await self.docker.aclose()

    async def inspect(self, cid: str) -> str:
        return str((await self.docker.containers.inspect(cid)).id)


class Aiodocker(Client):
    def __init__(self, url: str) -> None:
        import aiodocker

        self.name, self.url = "aiodocker-ssh", url
        self.docker = aiodocker.Docker(url=url)

    def fresh(self) -> Client:
        return Aiodocker(self.url)

    async def close(self) -> None:
        await self.docker.close()

    async def inspect(self, cid: str) -> str:
        return str((await self.docker.containers.container(cid).show())["Id"])


class DockerPy(Client):
    """docker-py's low-level client; blocking calls on the main thread (c=1) and on a
    pre-started pool of 32 threads (c=32). The constructor connects (paramiko's handshake)."""

    def __init__(self, name: str, url: str, workers: int, *, construct: bool = True) -> None:
        self.name, self.url, self.workers = name, url, workers
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
        self.client: Any = None
        if construct:
            self.client = self._make()

    def _make(self) -> Any:
        import docker  # type: ignore[import-untyped]

        return docker.DockerClient(
            base_url=self.url,
            max_pool_size=self.workers,
            use_ssh_client=self.name == "dockerpy-sshcli",
        )

    def fresh(self) -> Client:
        return DockerPy(self.name, self.url, self.workers, construct=False)

    async def inspect_first(self, cid: str) -> str:
        self.client = self._make()
        return str(self.client.api.inspect_container(cid)["Id"])

    async def close(self) -> None:
        self.pool.shutdown(wait=True)
        if self.client is not None:
            self.client.close()

    async def inspect(self, cid: str) -> str:
        return str(self.client.api.inspect_container(cid)["Id"])

    async def c32(self, cid: str, workers: int, m: int, clock: TreeClock) -> Sample:
        inspect = self.client.api.inspect_container

        def task(k: int) -> list[str]:
            return [str(inspect(cid)["Id"]) for _ in range(k)]

        started = clock.start()
        results = [f.result() for f in [self.pool.submit(task, m) for _ in range(workers)]]
        wall, cpu, split = clock.stop(started)
        _check([i for r in results for i in r], cid, self.name)
        return {"wall": wall, "cpu": cpu, "split": split, "calls": workers * m}


class Cli(Client):
    """``docker -H URL inspect ID``: one process per call (c=32: 32 processes at once)."""

    name = "cli"

    def __init__(self, url: str) -> None:
        self.url = url
        self.docker = shutil.which("docker") or "docker"

    def fresh(self) -> Client:
        return self

    async def close(self) -> None: ...

    async def prime(self, cid: str, workers: int, settle: float, clock: TreeClock) -> None:
        """Nothing to keep warm: every call is a new process."""

    def _argv(self, cid: str) -> list[str]:
        return [self.docker, "-H", self.url, "inspect", cid]

    @staticmethod
    def _id(out: bytes) -> str:
        return str(json.loads(out)[0]["Id"])

    async def inspect(self, cid: str) -> str:
        # blocking on purpose: the worker has nothing else to do, and the call is timed from
        # spawn to exit
        done = subprocess.run(self._argv(cid), capture_output=True, check=False)  # noqa: ASYNC221
        if done.returncode != 0:
            raise AssertionError(f"cli: exit {done.returncode}: {done.stderr[-500:]!r}")
        return self._id(done.stdout)

    async def c32(self, cid: str, workers: int, m: int, clock: TreeClock) -> Sample:
        outs: list[bytes] = []
        started = clock.start()
        for _ in range(m):
            procs = [
                subprocess.Popen(  # noqa: ASYNC220  (blocking on purpose, as above)
                    self._argv(cid), stdout=subprocess.PIPE, stderr=subprocess.PIPE
                )
                for _ in range(workers)
            ]
            for proc in procs:
                out, err = proc.communicate()
                if proc.returncode != 0:
                    raise AssertionError(f"cli: exit {proc.returncode}: {err[-500:]!r}")
                outs.append(out)
        wall, cpu, split = clock.stop(started)
        _check([self._id(o) for o in outs], cid, self.name)
        return {"wall": wall, "cpu": cpu, "split": split, "calls": workers * m}


def make_client(kind: str, url: str, ssh_config: str, workers: int) -> Client:
    if kind in ("ads-unix", "ads-ssh", "ads-ssh-fwd"):
        return Aiodockersock(kind, url, ["-F", ssh_config])
    if kind in ("dockerpy-paramiko", "dockerpy-sshcli"):
        return DockerPy(kind, url, workers)
    if kind == "aiodocker-ssh":
        return Aiodocker(url)
    if kind == "cli":
        return Cli(url)
    raise ValueError(kind)


def serve_worker(kind: str, url: str, ssh_config: str, workers: int) -> None:
    """One client, driven by JSON lines on stdin, answering on stdout."""
    import traceback

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)

    def answer(**message: Any) -> None:
        answers.write(json.dumps(message) + "\n")

    async def main() -> None:
        spawns = kind in ("cli", "dockerpy-sshcli")
        if spawns:
            become_subreaper()
        clock = TreeClock(reap=spawns)
        client: Client | None = None
        try:
            for line in sys.stdin:
                op, *args = json.loads(line)
                try:
                    if op == "open":
                        client = make_client(kind, url, ssh_config, workers)
                        cid, warmup = args
                        for _ in range(warmup):
                            await client.inspect(cid)
                        if kind != "cli":
                            await client.c32(cid, workers, 2, clock)
                        answer(result=_baseline.imported_from())
                    elif op == "close":
                        break
                    else:
                        assert client is not None
                        gc.collect()
                        result = await getattr(client, op)(*args, clock)
                        answer(result=result)
                except Exception:
                    answer(error=traceback.format_exc())
        finally:
            if client is not None:
                await client.close()
        with contextlib.suppress(BrokenPipeError):
            answer(result=None)

    asyncio.run(main())


# -- the parent ----------------------------------------------------------------------------------


class Worker:
    def __init__(self, kind: str, url: str, ssh_config: str, workers: int,
                 env: dict[str, str]) -> None:
        self.name = kind
        self.proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--internal-worker", kind, "--url", url,
             "--ssh-config", ssh_config, "--pool", str(workers)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, bufsize=1,
        )

    def call(self, op: str, *args: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps([op, *args]) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: the worker exited ({self.proc.poll()})")
        answer = json.loads(line)
        if "error" in answer:
            raise AssertionError(f"{self.name} (worker): {answer['error']}")
        return answer["result"]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.proc.poll() is None:
                self.call("close")
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Remote:
    """The ssh side: a private sshd, a user whose remote ``docker`` reaches the engine, and
    the client side's private home, ssh_config and ``ssh`` wrapper."""

    url: str
    sshd: Any
    workdir: Path
    home: Path
    bin_dir: Path
    ssh_config: Path
    docker_config: Path


def _share_socket(socket_path: str, group: str) -> tuple[int, int]:
    """Let the group use the private engine's socket (as tests/test_ssh.py does); return its
    group and mode before (two runs at once on one engine would take it from each other)."""
    path = Path(socket_path)
    before = path.stat()
    for parent in path.parents:
        if parent in (Path("/"), Path("/tmp")):
            break
        parent.chmod(parent.stat().st_mode | 0o001)
    os.chown(path, -1, grp.getgrnam(group).gr_gid)
    path.chmod(0o660)
    return before.st_gid, before.st_mode & 0o7777


@contextlib.contextmanager
def remote(socket_path: str, max_sessions: int, ssh_extra: str = "") -> Iterator[Remote]:
    sys.path.insert(0, str(REPO_ROOT))
    from tests.engines import SSHD, create_user, ensure_installed, remove_user, start_sshd

    if os.geteuid() != 0:
        raise SystemExit("bench_ssh.py makes a user and starts an sshd: run it as root")
    ensure_installed([SSHD])
    tag = secrets.token_hex(3)
    group, user = f"ads-bssh-{tag}", f"ads-bsu-{tag}"
    subprocess.run(["groupadd", group], check=True, capture_output=True)
    workdir = Path(tempfile.mkdtemp(prefix="ads-bssh-", dir="/tmp"))
    sshd = None
    shared: tuple[int, int] | None = None
    try:
        create_user(user, groups=(group,))
        shared = _share_socket(socket_path, group)
        sshd = start_sshd(
            workdir,
            max_sessions=max_sessions,
            extra_config=f"Match User {user}\n    SetEnv DOCKER_HOST=unix://{socket_path}\n",
        )
        sshd.authorize(user)
        home = workdir / "home"
        dot_ssh = home / ".ssh"
        dot_ssh.mkdir(parents=True, mode=0o700)
        shutil.copy(sshd.known_hosts, dot_ssh / "known_hosts")
        config = dot_ssh / "config"
        config.write_text(sshd.client_config.read_text() + "".join(
            f"  {line.strip()}\n" for line in ssh_extra.split(";") if line.strip()
        ))
        bin_dir = workdir / "bin"
        bin_dir.mkdir()
        wrapper = bin_dir / "ssh"
        wrapper.write_text(f'#!/bin/sh\nexec {SSH_BINARY} -F {config} "$@"\n')
        wrapper.chmod(0o755)
        docker_config = workdir / "docker-config"
        docker_config.mkdir()
        yield Remote(f"ssh://{user}@127.0.0.1:{sshd.port}", sshd, workdir, home, bin_dir,
                     config, docker_config)
    finally:
        if sshd is not None:
            sshd.stop()
        if shared is not None:
            with contextlib.suppress(OSError):
                os.chown(socket_path, -1, shared[0])
                os.chmod(socket_path, shared[1])
        remove_user(user)
        subprocess.run(["groupdel", group], check=False, capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


def worker_env(kind: str, r: Remote) -> dict[str, str]:
    env = _baseline.current_env()
    for name in ("SSH_AUTH_SOCK", "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(name, None)
    env["HOME"] = str(r.home)
    env["DOCKER_CONFIG"] = str(r.docker_config)
    if kind in ("dockerpy-sshcli", "cli"):
        env["PATH"] = f"{r.bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"
    return env


def log(message: str) -> None:
    bench_api.log(message)


def rotation(items: list[Worker], k: int) -> list[Worker]:
    k %= len(items)
    return items[k:] + items[:k]


def run(args: argparse.Namespace, params: Params, run_id: str) -> dict[str, Any]:
    socket_path = bench_api.socket_path_of(args.host)
    kinds = [c for c in args.clients.split(",") if c]

    async def prepare() -> tuple[dict[str, Any], str]:
        async with bench_api.Engine(socket_path, run_id) as engine:
            return await engine.version(), await engine.start_sleeper(args.image)

    version, cid = asyncio.run(prepare())
    load = {"start": os.getloadavg()}
    samples: dict[str, dict[str, list[Sample]]] = {
        b: {k: [] for k in kinds} for b in ("c1", "c32", "connect")
    }
    failed: dict[str, str] = {}
    with remote(socket_path, args.max_sessions, args.ssh_config_extra) as r:
        log(f"sshd on 127.0.0.1:{r.sshd.port} (pid {r.sshd.pid}, MaxSessions "
            f"{args.max_sessions}); {r.url}")
        workers: list[Worker] = []
        try:
            for kind in kinds:
                url = {"ads-unix": f"unix://{socket_path}",
                       "ads-ssh-fwd": f"{r.url}{socket_path}"}.get(kind, r.url)
                workers.append(Worker(kind, url, str(r.ssh_config), params.workers,
                                      worker_env(kind, r)))
            for w in list(workers):
                try:
                    origin = w.call("open", cid, 3 if w.name == "cli" else params.warmup)
                except AssertionError as exc:  # reported, not fatal: e.g. sshd's MaxSessions
                    failed[w.name] = str(exc).strip().splitlines()[-1]
                    log(f"{w.name}: FAILED to open and warm up: {failed[w.name]}")
                    workers.remove(w)
                    w.close()
                    continue
                log(f"{w.name}: open and warm (aiodockersock from {origin})")
            for bench in samples.values():
                for name in failed:
                    del bench[name]
            load["after_warmup"] = os.getloadavg()

            def timed(w: Worker, bench: str, op: str, *op_args: Any) -> None:
                if bench != "connect":
                    w.call("prime", cid, params.workers if bench == "c32" else 1,
                           args.settle if bench == "c1" else 0.0)
                before = descendants_cpu(r.sshd.pid)
                reaped = reaped_children_cpu(r.sshd.pid)
                logins = r.sshd.handshakes()
                sample = w.call(op, cid, *op_args)
                server = tree_delta(before, descendants_cpu(r.sshd.pid))
                sample["server"] = {
                    # the remote `docker system dial-stdio` processes (live ones)
                    "dial_stdio": server.pop("docker", 0.0),
                    # sshd's processes: live ones, and those that ended (the listener reaped)
                    "sshd": sum(server.values()) + reaped_children_cpu(r.sshd.pid) - reaped,
                    "logins": r.sshd.handshakes() - logins,
                }
                samples[bench][w.name].append(sample)

            for rnd in range(params.rounds):
                t_round = time.perf_counter()
                order = rotation(workers, rnd)
                for w in order:
                    timed(w, "c1", "c1", params.cli_calls if w.name in SLOW else params.calls)
                for w in order:
                    m = params.cli_per_worker if w.name in SLOW else params.per_worker
                    timed(w, "c32", "c32", params.workers, m)
                for w in order:
                    timed(w, "connect", "connect")
                log(f"round {rnd + 1}/{params.rounds} in {time.perf_counter() - t_round:.1f} s "
                    f"(first: {order[0].name}; load {os.getloadavg()[0]:.2f})")
        finally:
            for w in workers:
                w.close()
    load["end"] = os.getloadavg()
    return {
        "run_id": run_id,
        "params": params.__dict__,
        "max_sessions": args.max_sessions,
        "ssh_config_extra": args.ssh_config_extra,
        "settle": args.settle,
        "machine": bench_api.machine_info(version),
        "load": load,
        "results": summarise(samples),
        "failed": failed,
    }


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def summarise(samples: dict[str, dict[str, list[Sample]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for bench, per_client in samples.items():
        res: dict[str, Any] = {}
        for name, ss in per_client.items():
            wall = [s["wall"] / s["calls"] * 1e6 for s in ss]  # µs per call
            cpu = [s["cpu"] / s["calls"] * 1e6 for s in ss]
            entry: dict[str, Any] = {
                "wall": wall, "cpu": cpu,
                "median": statistics.median(wall), "cpu_median": statistics.median(cpu),
                "calls_per_s": 1e6 / statistics.median(wall),
                "logins_per_sample": statistics.median(s["server"]["logins"] for s in ss),
                "calls_per_sample": ss[0]["calls"],
            }
            # CPU per call by part, medians over rounds (µs)
            for part in ("python", "ssh", "reaped", "other"):
                entry[f"cpu_{part}"] = statistics.median(
                    s["split"][part] / s["calls"] * 1e6 for s in ss
                )
            for part in ("sshd", "dial_stdio"):
                entry[f"server_{part}"] = statistics.median(
                    s["server"][part] / s["calls"] * 1e6 for s in ss
                )
            lat = [x * 1e6 for s in ss for x in s.get("lat", [])]
            if lat:
                entry["call_median"] = statistics.median(lat)
                entry["call_p99"] = _p99(lat)
            res[name] = entry
        for entry in res.values():
            for ref in ("ads-unix", "ads-ssh"):
                if ref in res:
                    entry[f"vs_{ref}"] = entry["median"] / res[ref]["median"]
                    entry[f"paired_vs_{ref}"] = statistics.median(
                        a / b for a, b in zip(entry["wall"], res[ref]["wall"], strict=True)
                    )
                    slower = sum(
                        a > b for a, b in zip(entry["wall"], res[ref]["wall"], strict=True)
                    )
                    entry[f"rounds_slower_than_{ref}"] = slower
                    entry[f"sign_p_vs_{ref}"] = bench_api.sign_test(slower, len(entry["wall"]))
        out[bench] = res
    return out


def _f(us: float) -> str:
    """µs as µs below 10 ms, else as ms."""
    return f"{us / 1e3:,.1f} ms" if us >= 10_000 else f"{us:,.0f} µs"


def markdown(report: dict[str, Any]) -> str:
    m, p, load = report["machine"], report["params"], report["load"]
    res = report["results"]
    extra = report.get("ssh_config_extra")
    extra = f"; ssh_config += {extra!r}" if extra else ""
    lines = [
        f"### Requests over ssh — {m['date']}",
        "",
        f"CPU: {m['cpu']} ({m['cpus']} cores), Linux {m['kernel']}; {m['python_impl']} "
        f"{m['python']}; aiodockersock {m['aiodockersock']}, aiodocker {m['aiodocker']}, "
        f"docker-py {m['docker-py']}; Docker Engine {m['engine']}; sshd MaxSessions "
        f"{report['max_sessions']}{extra}. Load average (1 min) at start {load['start'][0]:.2f}, "
        f"after warm-up {load['after_warmup'][0]:.2f}, at end {load['end'][0]:.2f}.",
        f"{p['rounds']} rounds; c=1: {p['calls']} calls per sample ({p['cli_calls']} for the "
        f"CLI and dockerpy-sshcli); c=32: {p['workers']}×{p['per_worker']} "
        f"({p['workers']}×{p['cli_per_worker']} for those two); connect: one fresh client per "
        f"round. Before each c=1 sample, {report.get('settle', 0):g} s of untimed sequential "
        "calls (`--settle`).",
        "",
        "| client | c=1 per call | c=1 single calls: median / p99 | × ads-unix (paired) "
        "| c=32 per call | c=32 calls/s | × ads-unix (paired) | c=1 / c=32: slower than "
        "ads-ssh in | client CPU per call c=1 / c=32 | connect (first call): wall / CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def vs(entry: dict[str, Any], ref: str) -> str:
        if f"vs_{ref}" not in entry:
            return "–"
        return f"{entry[f'vs_{ref}']:.2f} ({entry[f'paired_vs_{ref}']:.2f})"

    for name, c1 in res["c1"].items():
        c32, conn = res["c32"][name], res["connect"][name]
        n = len(c1["wall"])
        slower = (
            f"{c1['rounds_slower_than_ads-ssh']}/{n} / {c32['rounds_slower_than_ads-ssh']}/{n}"
            if "rounds_slower_than_ads-ssh" in c1 else "–"
        )
        lines.append(
            f"| {name} | {_f(c1['median'])} | {_f(c1['call_median'])} / {_f(c1['call_p99'])} "
            f"| {vs(c1, 'ads-unix')} | {_f(c32['median'])} | {c32['calls_per_s']:,.0f} "
            f"| {vs(c32, 'ads-unix')} | {slower} "
            f"| {_f(c1['cpu_median'])} / {_f(c32['cpu_median'])} "
            f"| {_f(conn['median'])} / {_f(conn['cpu_median'])} |"
        )
    lines += [
        "",
        "Where the CPU goes, µs per call (medians over rounds): on the client side the worker's "
        "Python process, its live ssh processes, and the children that ended (CLI processes and "
        "the ssh they ran); on the server side sshd and the remote `docker system dial-stdio`; "
        "ssh logins (sshd's `Accepted publickey`) per sample.",
        "",
        "| client | bench | Python | ssh (live) | ended children | other | sshd "
        "| dial-stdio | logins / sample (calls) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in res["c1"]:
        for bench in ("c1", "c32", "connect"):
            e = res[bench][name]
            lines.append(
                f"| {name} | {bench} | {_f(e['cpu_python'])} | {_f(e['cpu_ssh'])} "
                f"| {_f(e['cpu_reaped'])} | {_f(e['cpu_other'])} | {_f(e['server_sshd'])} "
                f"| {_f(e['server_dial_stdio'])} | {e['logins_per_sample']:g} "
                f"({e['calls_per_sample']}) |"
            )
    if report.get("failed"):
        lines += ["", "Clients that failed in the warm-up (c=1, then one call from each of "
                  f"{p['workers']} tasks), so not measured:"]
        lines += [f"- {name}: `{why}`" for name, why in report["failed"].items()]
    lines.append("")
    return "\n".join(lines)


# -- instruction counts (--callgrind) -------------------------------------------------------------

PYTHON = "/root/.pyenv/versions/3.11.7/bin/python3.11"


def inspect_loop(
    url: str, ssh_config: str, cid: str, n: int, conc: int, *, handshake: bool = False
) -> None:
    """What ``--callgrind`` and ``--budget`` run: 20 warm-up inspects from each of ``conc``
    tasks (so every connection is open), then ``n`` more from ``conc`` tasks; aiodockersock
    only. With ``handshake`` (``--budget``), it prints ``ready`` after the warm-up and waits
    for a line before the ``n``, prints their CPU and wall time, and waits for another line
    before it closes the client (so its ssh is measured while alive)."""
    import aiodockersock

    async def main() -> None:
        kwargs: dict[str, Any] = (
            {"ssh_options": ["-F", ssh_config]} if url.startswith("ssh://") else {}
        )
        async with aiodockersock.Docker(url, **kwargs) as docker:

            async def task(k: int) -> None:
                for _ in range(k):
                    _check([str((await docker.containers.inspect(cid)).id)], cid, url)

            await asyncio.gather(*(task(20) for _ in range(conc)))
            if handshake:
                print("ready", flush=True)
                sys.stdin.readline()
            cpu0, t0 = time.process_time(), time.perf_counter()
            await asyncio.gather(*(task(n // conc) for _ in range(conc)))
            if handshake:
                print(json.dumps({"cpu": time.process_time() - cpu0,
                                  "wall": time.perf_counter() - t0}), flush=True)
                sys.stdin.readline()

    asyncio.run(main())


def callgrind(args: argparse.Namespace, run_id: str) -> None:
    """Instructions per inspect of the Python process, over ssh and over the socket: two
    sizes each (64 and 320 calls), the difference per call, at c = 1 and c = 32."""
    import re

    socket_path = bench_api.socket_path_of(args.host)

    async def prepare() -> str:
        async with bench_api.Engine(socket_path, run_id) as engine:
            return await engine.start_sleeper(args.image)

    cid = asyncio.run(prepare())
    with remote(socket_path, args.max_sessions, args.ssh_config_extra) as r, \
            tempfile.TemporaryDirectory() as tmp:

        def instructions(url: str, n: int, conc: int) -> int:
            out = os.path.join(tmp, "callgrind.out")
            subprocess.run(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", PYTHON,
                 str(SCRIPT), "--inspect-loop", url, "--ssh-config", str(r.ssh_config),
                 "--cid", cid, "--n", str(n), "--conc", str(conc)],
                check=True, capture_output=True, env=worker_env("ads-ssh", r),
            )
            annotated = subprocess.run(["callgrind_annotate", out], capture_output=True,
                                       text=True, check=True).stdout
            found = re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", annotated)
            assert found is not None, annotated[:500]
            return int(found.group(1).replace(",", ""))

        print("| concurrency | host | 64 calls | 320 calls | per call |")
        print("|---|---|---:|---:|---:|")
        for conc in (1, 32):
            for name, url in (("unix", f"unix://{socket_path}"), ("ssh", r.url),
                              ("ssh-fwd", f"{r.url}{socket_path}")):
                small, large = instructions(url, 64, conc), instructions(url, 320, conc)
                print(f"| c={conc} | {name} | {small:,} | {large:,} | "
                      f"{(large - small) / 256:,.0f} |", flush=True)


# -- where the CPU of a call goes, sustained (--budget) ------------------------------------------


def _cpu_by_pid() -> dict[int, tuple[str, float]]:
    """Every process's name and CPU seconds so far (of all its threads)."""
    return {int(e): (_comm(int(e)), _runtime(int(e))) for e in os.listdir("/proc") if e.isdigit()}


def cpu_budget(args: argparse.Namespace, run_id: str) -> None:
    """CPU per inspect of every process a call passes through — the client's Python process,
    ssh, sshd, dockerd — at c = 32, sustained (3,200 calls per sample), over the socket and
    over ssh-fwd, interleaved; and the floor that ssh's and sshd's own CPU set when every
    core is busy."""
    socket_path = bench_api.socket_path_of(args.host)
    n, conc = 3200, 32

    async def prepare() -> str:
        async with bench_api.Engine(socket_path, run_id) as engine:
            return await engine.start_sleeper(args.image)

    cid = asyncio.run(prepare())
    rounds = args.rounds or 5
    names = ("client", "dockerd", "ssh", "sshd")
    rows: dict[str, list[dict[str, float]]] = {"unix": [], "ssh-fwd": []}
    with remote(socket_path, args.max_sessions, args.ssh_config_extra) as r:
        env = worker_env("ads-ssh", r)
        for rnd in range(rounds):
            for name, url in (("unix", f"unix://{socket_path}"),
                              ("ssh-fwd", f"{r.url}{socket_path}"))[:: 1 if rnd % 2 else -1]:
                proc = subprocess.Popen(
                    [sys.executable, str(SCRIPT), "--budget-loop", url, "--ssh-config",
                     str(r.ssh_config), "--cid", cid, "--n", str(n), "--conc", str(conc)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                )
                assert proc.stdin is not None and proc.stdout is not None
                assert proc.stdout.readline().strip() == "ready"
                before = _cpu_by_pid()
                proc.stdin.write("\n")
                proc.stdin.flush()
                measured = json.loads(proc.stdout.readline())
                after = _cpu_by_pid()
                proc.stdin.write("\n")
                proc.stdin.flush()
                proc.wait(60)
                by_name: dict[str, float] = {}
                for pid, (comm, cpu) in after.items():  # processes alive at the end
                    by_name[comm] = by_name.get(comm, 0.0) + cpu - before.get(pid, ("", 0.0))[1]
                row = {"wall": measured["wall"] * 1e6 / n, "client": measured["cpu"] * 1e6 / n,
                       **{k: by_name.get(k, 0.0) * 1e6 / n for k in names[1:]}}
                rows[name].append(row)
                log(f"round {rnd + 1}/{rounds} {name}: " + ", ".join(
                    f"{k} {v:,.0f} µs" for k, v in row.items()))
    med = {name: {k: statistics.median(x[k] for x in rs) for k in rs[0]}
           for name, rs in rows.items()}
    print(f"\n{rounds} rounds, c = {conc}, {n:,} calls per sample; µs per call, medians\n")
    print("| host | wall per call | " + " | ".join(names) + " | CPU in all |")
    print("|---|---:|" + "---:|" * (len(names) + 1))
    for name, m in med.items():
        print(f"| {name} | {m['wall']:,.0f} | " + " | ".join(f"{m[k]:,.0f}" for k in names)
              + f" | {sum(m[k] for k in names):,.0f} |")
    unix, fwd = med["unix"], med["ssh-fwd"]
    base = unix["client"] + unix["dockerd"]
    print(f"\nwall ssh-fwd / unix: {fwd['wall'] / unix['wall']:.2f}×; CPU per call: "
          f"{sum(fwd[k] for k in names) / base:.2f}×; the floor with both cores busy (the "
          f"socket's client and dockerd CPU, plus ssh's and sshd's): "
          f"{(base + fwd['ssh'] + fwd['sshd']) / base:.2f}×")


# -- the cost of idle channels (--idle-channels) ------------------------------------------------


def idle_channels(args: argparse.Namespace, run_id: str) -> None:
    """Per-call time of sequential inspects over one OpenSSH master's stream-local forward
    (``ssh -M -N -L LOCAL:SOCKET``: no aiodockersock pool in the way, raw HTTP/1.1 over one
    connection) while K other forwarded connections stay open and idle, against the same loop
    on the socket itself, interleaved: why the ssh pool closes idle connections soon."""
    counts = [int(k) for k in args.idle_channels.split(",") if k.strip()]
    socket_path = bench_api.socket_path_of(args.host)

    async def prepare() -> str:
        async with bench_api.Engine(socket_path, run_id) as engine:
            return await engine.start_sleeper(args.image)

    cid = asyncio.run(prepare())
    request = (f"GET /containers/{cid}/json HTTP/1.1\r\nHost: docker\r\n\r\n").encode()

    async def loop_on(path: str, idle: int, n: int) -> list[float]:
        held = [await asyncio.open_unix_connection(path) for _ in range(idle)]
        try:
            reader, writer = await asyncio.open_unix_connection(path)
            times: list[float] = []
            for _ in range(n):
                t = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                lengths = [line.split(b":")[1] for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")]
                if lengths:
                    body = await reader.readexactly(int(lengths[0]))
                else:  # chunked
                    body = b""
                    while size := int((await reader.readuntil(b"\r\n"))[:-2], 16):
                        body += (await reader.readexactly(size + 2))[:-2]
                    await reader.readuntil(b"\r\n")
                times.append(time.perf_counter() - t)
                assert cid.encode() in body
            writer.close()
            return times
        finally:
            for _, w in held:
                w.close()

    with remote(socket_path, args.max_sessions, args.ssh_config_extra) as r, \
            tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        control, forward = os.path.join(tmp, "m"), os.path.join(tmp, "fwd")
        master = subprocess.Popen(
            [SSH_BINARY, "-F", str(r.ssh_config), "-M", "-N", "-o", f"ControlPath={control}",
             "-L", f"{forward}:{socket_path}", "-p", r.url.rsplit(":", 1)[1],
             r.url.split("@")[0].removeprefix("ssh://") + "@127.0.0.1"],
            env=worker_env("ads-ssh", r), stdin=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while not os.path.exists(forward):
                if master.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the ssh master did not come up")
                time.sleep(0.05)
            rounds = max(3, args.rounds or 5)
            print(f"{rounds} rounds of 300 sequential inspects per point, medians "
                  f"(load {os.getloadavg()[0]:.2f})")
            print("| idle channels | unix socket | ssh forward | added by ssh |")
            print("|---:|---:|---:|---:|")
            for k in counts:
                unix: list[float] = []
                ssh: list[float] = []
                for _ in range(rounds):
                    unix += asyncio.run(loop_on(socket_path, 0, 300))
                    ssh += asyncio.run(loop_on(forward, k, 300))
                mu, ms = statistics.median(unix) * 1e6, statistics.median(ssh) * 1e6
                print(f"| {k} | {mu:.0f} µs | {ms:.0f} µs | {ms - mu:.0f} µs |", flush=True)
            print(f"(load at end {os.getloadavg()[0]:.2f})")
        finally:
            with contextlib.suppress(Exception):
                subprocess.run([SSH_BINARY, "-o", f"ControlPath={control}", "-O", "exit", "x"],
                               capture_output=True, timeout=10)
            master.terminate()
            master.wait(10)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--host", default=os.environ.get("DOCKER_HOST", ""),
                    help="the private engine's unix:// address (default: $DOCKER_HOST)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds (default 7; --quick: 2)")
    ap.add_argument("--quick", action="store_true", help="fewer, smaller samples")
    ap.add_argument("--clients", default=",".join(CLIENTS), help="comma-separated: %(default)s")
    ap.add_argument("--max-sessions", type=int, default=64,
                    help="sshd's MaxSessions (default 64: paramiko and asyncssh put every "
                    "connection on one ssh connection, and fail beyond it)")
    ap.add_argument("--ssh-config-extra", default="", metavar="LINES",
                    help="more ssh_config lines for the OpenSSH clients, ';'-separated, e.g. "
                    "'KexAlgorithms curve25519-sha256' (paramiko and asyncssh ignore them)")
    ap.add_argument("--settle", type=float, default=4.5, metavar="SECONDS",
                    help="untimed sequential calls before each c=1 sample, for this long "
                    "(default %(default)s: past aiodockersock's 2 s ssh idle timeout and the "
                    "pool's clean-up after it)")
    ap.add_argument("--idle-channels", metavar="K,K,...",
                    help="measure nothing else: sequential inspects through one plain OpenSSH "
                    "master forwarding the socket while K other forwarded channels sit idle, "
                    "for each K, against the socket itself")
    ap.add_argument("--image", default=bench_api.DEFAULT_IMAGE)
    ap.add_argument("--json", metavar="FILE", help="also write the raw numbers as JSON")
    ap.add_argument("--callgrind", action="store_true",
                    help="measure nothing else: instructions per inspect of aiodockersock's "
                    "Python process over ssh and over the socket (valgrind; ~15 min)")
    ap.add_argument("--budget", action="store_true",
                    help="measure nothing else: CPU per inspect of the client, ssh, sshd and "
                    "dockerd at c=32, sustained, over the socket and over ssh-fwd (~2 min)")
    ap.add_argument("--inspect-loop", metavar="URL", help=argparse.SUPPRESS)
    ap.add_argument("--budget-loop", metavar="URL", help=argparse.SUPPRESS)
    ap.add_argument("--cid", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=64, help=argparse.SUPPRESS)
    ap.add_argument("--conc", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--internal-worker", metavar="KIND", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--ssh-config", help=argparse.SUPPRESS)
    ap.add_argument("--pool", type=int, default=32, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    unknown = [c for c in args.clients.split(",") if c and c not in CLIENTS]
    if unknown:
        ap.error(f"--clients: unknown {unknown}; choose from {', '.join(CLIENTS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.internal_worker:
        serve_worker(args.internal_worker, args.url, args.ssh_config, args.pool)
        return 0
    if args.inspect_loop:
        inspect_loop(args.inspect_loop, args.ssh_config, args.cid, args.n, args.conc)
        return 0
    if args.budget_loop:
        inspect_loop(args.budget_loop, args.ssh_config, args.cid, args.n, args.conc,
                     handshake=True)
        return 0
    params = QUICK if args.quick else FULL
    if args.rounds is not None:
        params = Params(**{**params.__dict__, "rounds": max(1, args.rounds)})
    run_id = uuid.uuid4().hex[:12]

    def on_sigterm(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    log(f"run {run_id} on {args.host}: {params}")
    t0 = time.perf_counter()
    try:
        if args.callgrind:
            callgrind(args, run_id)
            return 0
        if args.idle_channels:
            idle_channels(args, run_id)
            return 0
        if args.budget:
            cpu_budget(args, run_id)
            return 0
        report = run(args, params, run_id)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        removed = bench_api.remove_run_containers(bench_api.socket_path_of(args.host), run_id)
        log(f"clean-up: removed {removed} container(s)")
    bench_api.publish(report, markdown, args.json, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
