"""Processes of a private engine: liveness, signals, reaping, killing leftovers, unmounting.

Everything here works from ``/proc``: an engine's processes are found by the work
directory on their command line, never by name alone, so other engines are left alone.
"""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .config import SYSTEM_PATH
from .shell import run_command

_OUR_PROCESS_NAMES = (
    "dockerd",
    "containerd",
    "docker-proxy",
    "docker-init",
    "runc",
    "conmon",
    "podman",
    "docker-registry",
    "tini",
    "netavark",
    "aardvark-dns",
)

def pid_alive(pid: int) -> bool:
    """Return whether ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # state is the field after the parenthesised command name
    return stat[stat.rfind(")") + 2 :][:1] not in ("Z", "X", "")


def _ancestors() -> set[int]:
    """Return the pids of this process and all its ancestors."""
    pids: set[int] = set()
    pid = os.getpid()
    while pid > 0 and pid not in pids:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            pid = int(stat[stat.rfind(")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def _processes_using(workdir: Path, exclude: Sequence[int] = ()) -> list[int]:
    """Return pids of engine processes (dockerd, containerd, shims, ...) tied to ``workdir``."""
    needle = os.fsencode(str(workdir).rstrip("/") + "/")
    skip = _ancestors() | set(exclude)
    found: list[int] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) in skip:
            continue
        pid = int(entry.name)
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if comm.startswith(_OUR_PROCESS_NAMES) and needle in cmdline and pid_alive(pid):
            found.append(pid)
    return found


def wait_gone(pids: Sequence[int], timeout: float) -> bool:
    """Wait until no pid in ``pids`` is alive; return True if they all went away."""
    deadline = time.monotonic() + timeout
    while True:
        if not any(pid_alive(p) for p in pids):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _signal(pid: int, sig: int) -> None:
    """Send ``sig`` to ``pid``, ignoring processes that are already gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def terminate(
    pid: int,
    wrapper_pid: int,
    proc: "subprocess.Popen[bytes] | None",
    timeout: float,
    grace: float = 0.0,
    on_grace: Callable[[], None] | None = None,
    on_daemon_exit: Callable[[], None] | None = None,
) -> None:
    """SIGTERM daemon ``pid``, wait up to ``timeout`` s for it and its wrapper, then SIGKILL.

    ``wrapper_pid`` is the reaper (tini) that runs the daemon, or equal to ``pid``;
    ``proc`` is the wrapper's :class:`subprocess.Popen` if we started it.  If the
    daemon is still alive after ``grace`` seconds, ``on_grace()`` is called once;
    ``on_daemon_exit()`` is called once the daemon is gone but its wrapper is not.
    """

    woken = False

    def gone() -> bool:
        """Return whether daemon and wrapper are gone (waking the wrapper once)."""
        nonlocal woken
        wrapper_gone = proc.poll() is not None if proc is not None else not pid_alive(wrapper_pid)
        daemon_gone = not (pid and pid_alive(pid))
        if daemon_gone and not wrapper_gone and not woken and wrapper_pid != pid:
            if on_daemon_exit is not None:
                on_daemon_exit()
            # tini only notices its child's exit once a second; a signal wakes it up
            _signal(wrapper_pid, signal.SIGTERM)
            woken = True
        return wrapper_gone and daemon_gone

    def wait_until(deadline: float) -> bool:
        """Poll :func:`gone` until ``deadline``; return its last answer."""
        while not gone() and time.monotonic() < deadline:
            time.sleep(0.02)
        return gone()

    if gone():
        return
    start = time.monotonic()
    _signal(pid if pid and pid_alive(pid) else wrapper_pid, signal.SIGTERM)
    if on_grace is not None and not wait_until(start + min(grace, timeout)):
        on_grace()
    if wait_until(start + timeout):
        return
    for target in (pid, wrapper_pid):
        if target:
            _signal(target, signal.SIGKILL)
    wait_until(time.monotonic() + 5.0)


def kill_container_processes(workdir: Path) -> list[int]:
    """SIGKILL the container processes (children of shims / conmon) of ``workdir``'s engine.

    Returns the pids of those monitors (shims / conmon), which exit soon after.
    """
    monitors: list[int] = []
    for pid in _processes_using(workdir):
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if comm.startswith(("containerd-shim", "conmon")):
            children = child_pids(pid)
            for child in children:
                _signal(child, signal.SIGKILL)
            if children:
                monitors.append(pid)
    return monitors


def kill_leftovers(workdir: Path, exclude: Sequence[int] = (), patience: float = 0.0) -> None:
    """SIGKILL any containerd/shim/... process still using ``workdir``.

    Processes get ``patience`` seconds to exit by themselves first; pids in
    ``exclude`` are left alone.
    """
    pids = _processes_using(workdir, exclude)
    if pids and patience > 0:
        wait_gone(pids, patience)
    # container processes first: killing a shim or conmon would orphan them
    kill_container_processes(workdir)
    for _ in range(3):
        pids = _processes_using(workdir, exclude)
        if not pids:
            return
        for pid in pids:
            _signal(pid, signal.SIGKILL)
        wait_gone(pids, 5.0)


def unmount_under(workdir: Path) -> None:
    """Lazily unmount everything mounted at or below ``workdir`` (deepest first)."""
    prefix = str(workdir).rstrip("/")
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return
    points: set[str] = set()
    for line in lines:
        fields = line.split()
        if len(fields) < 5:
            continue
        # mountinfo escapes space, tab, newline and backslash as octal
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
        if point == prefix or point.startswith(prefix + "/"):
            points.add(point)
    for point in sorted(points, key=lambda p: p.count("/"), reverse=True):
        run_command(["umount", "-l", point], check=False)


def reaper_binary() -> str | None:
    """Return a ``tini`` binary to run daemons under (as a zombie-reaping subreaper)."""
    for name in ("tini-static", "tini", "docker-init"):
        found = shutil.which(name, path=SYSTEM_PATH)
        if found:
            return found
    return None


def child_pids(pid: int) -> list[int]:
    """Return the child pids of ``pid``."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []
