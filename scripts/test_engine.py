#!/usr/bin/env python3
"""Install and run private container engines for the aiodockersock test suite.

This file is both an importable module (the test suite's ``conftest.py`` loads
it by path) and a command-line script.  It only uses the standard library.

Engines (see DESIGN.md section 4):

* ``"20.10"`` -- Debian bookworm's own ``/usr/sbin/dockerd`` (package ``docker.io``).
* ``"26.1"`` -- ``docker.io`` from Debian ``trixie``, fetched with ``apt-get download``
  and unpacked with ``dpkg -x`` under ``/var/cache/aiodockersock/engines/26.1/``.
* ``"28.5"`` -- the same from Debian ``sid``.
* ``"podman"`` -- ``apt-get install podman``; ``podman system service``.

All Docker engines run on the machine's own (bookworm) ``containerd`` and ``runc``:
the newer ``dockerd`` binaries work with containerd 1.6 / runc 1.1, whereas sid's
own ``runc`` needs glibc 2.38 and cannot run on bookworm.

Every engine is *private*: its own socket, data, exec and state directories under
a short work directory, ``--bridge=none --iptables=false``, its own managed
``containerd`` under the exec root and its own containerd namespace, started in a
new session so a terminal Ctrl-C does not reach it.  Nothing touches
``/var/run/docker.sock``, ``/var/lib/docker`` or ``/etc/docker``.  Each daemon runs
under ``tini -s`` (from the ``tini`` package docker.io depends on), a subreaper that
reaps the daemonized containerd shims: on machines whose pid 1 does not reap
orphans they would otherwise linger as zombies.

Command line::

    python scripts/test_engine.py install [--engines 20.10,26.1,28.5]
    python scripts/test_engine.py start VERSION --dir DIR   # prints DOCKER_HOST=unix://...
    python scripts/test_engine.py stop --dir DIR

Importing the module has no side effects.
"""

import argparse
import contextlib
import errno
import fcntl
import hashlib
import http.client
import io
import json
import os
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "CACHE_ROOT",
    "DOCKER_ENGINES",
    "KNOWN_ENGINES",
    "PODMAN",
    "REGISTRY",
    "REGISTRY_AUTH",
    "TEST_IMAGE",
    "Engine",
    "EngineError",
    "EngineStartError",
    "EngineUnavailable",
    "Registry",
    "build_test_image",
    "engine_info",
    "ensure_installed",
    "htpasswd_line",
    "main",
    "start_engine",
    "start_registry",
    "stop_engine",
    "unix_request",
]

#: Where engines unpacked from other Debian suites are kept.
CACHE_ROOT = Path("/var/cache/aiodockersock/engines")
#: Repository and tag of the offline busybox test image.
TEST_IMAGE_REPO = "aiodockersock-test/busybox"
TEST_IMAGE_TAG = "latest"
TEST_IMAGE = f"{TEST_IMAGE_REPO}:{TEST_IMAGE_TAG}"

#: The engine that is simply the machine's own (bookworm) dockerd.
SYSTEM_ENGINE = "20.10"
SYSTEM_DOCKERD = Path("/usr/sbin/dockerd")
#: Engines taken from another Debian suite: label -> suite.
SUITE_ENGINES: Mapping[str, str] = {"26.1": "trixie", "28.5": "sid"}
PODMAN = "podman"
#: Pseudo-engine name accepted by :func:`ensure_installed` for ``docker-registry``.
REGISTRY = "registry"
#: Pseudo-engine name for a registry with basic auth: ``docker-registry`` plus ``htpasswd``
#: (package ``apache2-utils``), which writes the bcrypt password file offline.
REGISTRY_AUTH = "registry-auth"
_PSEUDO_ENGINES: tuple[str, ...] = (REGISTRY, REGISTRY_AUTH)
DOCKER_ENGINES: tuple[str, ...] = (SYSTEM_ENGINE, *SUITE_ENGINES)
KNOWN_ENGINES: tuple[str, ...] = (*DOCKER_ENGINES, PODMAN)

BUSYBOX = Path("/bin/busybox")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
#: Longest work directory accepted; keeps every unix socket path < 100 chars.
MAX_WORKDIR_LEN = 56
_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: Where to look for installed programs (also finds /usr/sbin ones for non-root users).
_SEARCH_PATH = f"{os.environ.get('PATH', '')}:{_SYSTEM_PATH}".lstrip(":")
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


class EngineError(RuntimeError):
    """Base class of this module's errors."""


class EngineUnavailable(EngineError):
    """The requested engine is not installed and cannot be installed here."""


class EngineStartError(EngineError):
    """An engine was installed but did not start (the message has its log tail)."""


# --------------------------------------------------------------------------
# small helpers


def _log(message: str) -> None:
    """Print a progress message on stderr."""
    print(f"[test_engine] {message}", file=sys.stderr, flush=True)


def _is_root() -> bool:
    """Return whether we run as root."""
    return os.geteuid() == 0


def _run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` capturing its output; raise :class:`EngineError` if it fails."""
    result = subprocess.run(
        [os.fspath(c) for c in cmd],
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-25:])
        raise EngineError(
            f"command failed ({result.returncode}): {' '.join(map(str, cmd))}\n{tail}"
        )
    return result


def _log_tail(path: Path, lines: int = 40) -> str:
    """Return the last ``lines`` lines of a log file (or a note if unreadable)."""
    try:
        data = path.read_bytes()[-64 * 1024 :]
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def _is_static_elf(path: Path) -> bool:
    """Return True if ``path`` is an ELF executable without a program interpreter."""
    try:
        with path.open("rb") as f:
            header = f.read(64)
            if len(header) < 52 or header[:4] != b"\x7fELF":
                return False
            endian = "<" if header[5] == 1 else ">"
            if header[4] == 2:  # ELFCLASS64
                (phoff,) = struct.unpack_from(endian + "Q", header, 0x20)
                phentsize, phnum = struct.unpack_from(endian + "HH", header, 0x36)
            else:
                (phoff,) = struct.unpack_from(endian + "I", header, 0x1C)
                phentsize, phnum = struct.unpack_from(endian + "HH", header, 0x2A)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
    except OSError:
        return False
    for i in range(phnum):
        (p_type,) = struct.unpack_from(endian + "I", table, i * phentsize)
        if p_type == 3:  # PT_INTERP: dynamically linked
            return False
    return True


def _pid_alive(pid: int) -> bool:
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
        if comm.startswith(_OUR_PROCESS_NAMES) and needle in cmdline and _pid_alive(pid):
            found.append(pid)
    return found


def _wait_gone(pids: Sequence[int], timeout: float) -> bool:
    """Wait until no pid in ``pids`` is alive; return True if they all went away."""
    deadline = time.monotonic() + timeout
    while True:
        if not any(_pid_alive(p) for p in pids):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _signal(pid: int, sig: int) -> None:
    """Send ``sig`` to ``pid``, ignoring processes that are already gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _terminate(
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
        wrapper_gone = proc.poll() is not None if proc is not None else not _pid_alive(wrapper_pid)
        daemon_gone = not (pid and _pid_alive(pid))
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
    _signal(pid if pid and _pid_alive(pid) else wrapper_pid, signal.SIGTERM)
    if on_grace is not None and not wait_until(start + min(grace, timeout)):
        on_grace()
    if wait_until(start + timeout):
        return
    for target in (pid, wrapper_pid):
        if target:
            _signal(target, signal.SIGKILL)
    wait_until(time.monotonic() + 5.0)


def _kill_container_processes(workdir: Path) -> list[int]:
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
            children = _children(pid)
            for child in children:
                _signal(child, signal.SIGKILL)
            if children:
                monitors.append(pid)
    return monitors


def _kill_leftovers(workdir: Path, exclude: Sequence[int] = (), patience: float = 0.0) -> None:
    """SIGKILL any containerd/shim/... process still using ``workdir``.

    Processes get ``patience`` seconds to exit by themselves first; pids in
    ``exclude`` are left alone.
    """
    pids = _processes_using(workdir, exclude)
    if pids and patience > 0:
        _wait_gone(pids, patience)
    # container processes first: killing a shim or conmon would orphan them
    _kill_container_processes(workdir)
    for _ in range(3):
        pids = _processes_using(workdir, exclude)
        if not pids:
            return
        for pid in pids:
            _signal(pid, signal.SIGKILL)
        _wait_gone(pids, 5.0)


def _unmount_under(workdir: Path) -> None:
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
        _run(["umount", "-l", point], check=False)


def _reaper_binary() -> str | None:
    """Return a ``tini`` binary to run daemons under (as a zombie-reaping subreaper)."""
    for name in ("tini-static", "tini", "docker-init"):
        found = shutil.which(name, path=_SYSTEM_PATH)
        if found:
            return found
    return None


def _children(pid: int) -> list[int]:
    """Return the child pids of ``pid``."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def _check_workdir(workdir: Path) -> Path:
    """Return ``workdir`` made absolute, refusing paths too long for unix sockets."""
    workdir = Path(os.path.abspath(workdir))
    if len(str(workdir)) > MAX_WORKDIR_LEN:
        raise ValueError(
            f"work directory {workdir} is too long for unix socket paths "
            f"(max {MAX_WORKDIR_LEN} chars); use something like /tmp/ads-XXXX"
        )
    return workdir


# --------------------------------------------------------------------------
# HTTP over a unix socket


class _UnixHTTPConnection(http.client.HTTPConnection):
    """An :class:`http.client.HTTPConnection` to a unix socket."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        """Prepare a connection to ``socket_path``."""
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        """Connect to the unix socket instead of TCP."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def unix_request(
    socket_path: str | Path,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> tuple[int, bytes]:
    """Send one HTTP request to the unix socket ``socket_path``; return (status, body)."""
    conn = _UnixHTTPConnection(str(socket_path), timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --------------------------------------------------------------------------
# installation


def _apt_env() -> dict[str, str]:
    """Environment for non-interactive apt runs."""
    env = dict(os.environ)
    env["DEBIAN_FRONTEND"] = "noninteractive"
    env.setdefault("PATH", _SYSTEM_PATH)
    return env


def _apt_lists_present() -> bool:
    """Return whether apt has any package lists (``apt-get update`` was run)."""
    lists = Path("/var/lib/apt/lists")
    return lists.is_dir() and any(lists.glob("*_Packages*"))


def _apt_install(packages: Sequence[str]) -> None:
    """``apt-get install`` ``packages``, running ``apt-get update`` first only if needed."""
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    env = _apt_env()
    if not _apt_lists_present():
        _log("apt lists missing: apt-get update")
        _run(["apt-get", "update"], env=env)
    _log("apt-get install -y " + " ".join(packages))
    if _run(cmd, env=env, check=False).returncode != 0:
        _log("install failed; apt-get update and retry")
        _run(["apt-get", "update"], env=env)
        _run(cmd, env=env)


def _debian_mirror() -> tuple[str, str]:
    """Return (URI, keyring) of the machine's main Debian archive from its apt sources."""
    candidates: list[tuple[str, str]] = []
    sources_d = Path("/etc/apt/sources.list.d")
    for path in sorted(sources_d.glob("*.sources")) if sources_d.is_dir() else []:
        with contextlib.suppress(OSError):
            for stanza in re.split(r"\n\s*\n", path.read_text()):
                fields: dict[str, str] = {}
                for line in stanza.splitlines():
                    if line.startswith("#") or ":" not in line or line[:1].isspace():
                        continue
                    key, _, value = line.partition(":")
                    fields[key.strip().lower()] = value.strip()
                if (
                    "deb" not in fields.get("types", "").split()
                    or fields.get("enabled", "yes") == "no"
                ):
                    continue
                suites = fields.get("suites", "").split()
                uris = fields.get("uris", "").split()
                keyring = fields.get("signed-by", DEFAULT_KEYRING)
                if uris and any("-security" not in s for s in suites):
                    candidates.append(
                        (uris[0], keyring if keyring.startswith("/") else DEFAULT_KEYRING)
                    )
    lists = [Path("/etc/apt/sources.list")]
    if sources_d.is_dir():
        lists += sorted(sources_d.glob("*.list"))
    for path in lists:
        with contextlib.suppress(OSError):
            for line in path.read_text().splitlines():
                m = re.match(r"\s*deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)", line)
                if m and "-security" not in m.group(3):
                    keyring = DEFAULT_KEYRING
                    for option in (m.group(1) or "").split():
                        if option.startswith("signed-by="):
                            keyring = option.split("=", 1)[1]
                    candidates.append((m.group(2), keyring))
    for uri, keyring in candidates:
        if "debian" in uri and "security" not in uri:
            return uri.rstrip("/"), keyring
    return candidates[0] if candidates else (DEFAULT_MIRROR, DEFAULT_KEYRING)


def _dockerd_version(dockerd: Path) -> str:
    """Return the version printed by ``dockerd --version`` (e.g. ``28.5.2+dfsg4``)."""
    try:
        result = _run([dockerd, "--version"])
    except (EngineError, OSError) as exc:
        raise EngineUnavailable(f"{dockerd} does not run on this machine: {exc}") from exc
    m = re.search(r"version\s+([^\s,]+)", result.stdout)
    if not m:
        raise EngineUnavailable(f"cannot parse `{dockerd} --version`: {result.stdout.strip()}")
    return m.group(1)


def _dockerd_accepts(dockerd: Path, flag: str) -> bool:
    """Return whether ``dockerd --help`` lists ``flag``."""
    result = _run([dockerd, "--help"], check=False)
    return re.search(rf"(^|\s){re.escape(flag)}(\s|=|$)", result.stdout, re.M) is not None


@contextlib.contextmanager
def _cache_lock() -> Iterator[None]:
    """Hold an exclusive lock on the engine cache (serialises parallel installs)."""
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with (CACHE_ROOT / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_cached(label: str) -> dict[str, Any] | None:
    """Return the recorded metadata of a cached suite engine if it is usable."""
    meta_path = CACHE_ROOT / label / "engine.json"
    try:
        meta: dict[str, Any] = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    if not (CACHE_ROOT / label / "bin" / "dockerd").exists():
        return None
    return meta


def _install_suite_engine(label: str, suite: str) -> dict[str, Any]:
    """Download ``docker.io`` from ``suite`` and unpack it into ``CACHE_ROOT/label``."""
    uri, keyring = _debian_mirror()
    target = CACHE_ROOT / label
    with tempfile.TemporaryDirectory(prefix="ads-apt-") as tmp_name:
        tmp = Path(tmp_name)
        for sub in ("lists/partial", "cache/archives/partial", "dl"):
            (tmp / sub).mkdir(parents=True)
        source_list = tmp / "sources.list"
        source_list.write_text(f"deb [signed-by={keyring}] {uri} {suite} main\n")
        opts = [
            "-o", f"Dir::Etc::SourceList={source_list}",
            "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={tmp / 'lists'}",
            "-o", f"Dir::Cache={tmp / 'cache'}",
            "-o", "APT::Sandbox::User=root",
        ]  # fmt: skip
        env = _apt_env()
        _log(f"engine {label}: apt-get update ({uri} {suite})")
        _run(["apt-get", *opts, "update"], env=env)
        _log(f"engine {label}: apt-get download docker.io")
        _run(["apt-get", *opts, "download", "docker.io"], cwd=tmp / "dl", env=env)
        debs = sorted((tmp / "dl").glob("docker.io_*.deb"))
        if not debs:
            raise EngineError(f"apt-get download docker.io from {suite} produced no .deb")
        deb = debs[-1]
        package_version = _run(["dpkg-deb", "-f", deb, "Version"]).stdout.strip()

        staging = Path(tempfile.mkdtemp(prefix=f".{label}.", dir=CACHE_ROOT))
        try:
            _run(["dpkg", "-x", deb, staging])
            dockerd = staging / "usr/sbin/dockerd"
            if not dockerd.is_file():
                raise EngineError(f"{deb.name} has no usr/sbin/dockerd")
            version = _dockerd_version(dockerd)
            if not version.startswith(label + "."):
                _log(
                    f"WARNING: Debian {suite} now ships dockerd {version}, not {label}.x; "
                    "using it anyway (server_version tells the truth)"
                )
            # Only the dockerd helpers go on PATH: containerd and runc stay bookworm's
            # (sid's runc needs glibc 2.38, newer than bookworm's 2.36).
            bin_dir = staging / "bin"
            bin_dir.mkdir()
            (bin_dir / "dockerd").symlink_to("../usr/sbin/dockerd")
            if (staging / "usr/sbin/docker-proxy").is_file():
                (bin_dir / "docker-proxy").symlink_to("../usr/sbin/docker-proxy")
            init = staging / "usr/bin/docker-init"
            if init.exists():  # a dangling symlink (-> tini-static) does not count
                (bin_dir / "docker-init").symlink_to("../usr/bin/docker-init")
            else:
                for candidate in ("/usr/bin/tini-static", "/usr/bin/docker-init"):
                    if Path(candidate).exists():
                        (bin_dir / "docker-init").symlink_to(candidate)
                        break
            meta: dict[str, Any] = {
                "label": label,
                "suite": suite,
                "mirror": uri,
                "package": deb.name,
                "package_version": package_version,
                "dockerd_version": version,
                "ip6tables_flag": _dockerd_accepts(dockerd, "--ip6tables"),
                "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            (staging / "engine.json").write_text(json.dumps(meta, indent=2) + "\n")
            staging.chmod(0o755)
            if target.exists() or target.is_symlink():
                shutil.rmtree(target)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    _log(f"engine {label}: dockerd {version} (package {package_version}) in {target}")
    return meta


def _missing_packages(versions: Sequence[str]) -> list[str]:
    """Return the Debian packages that must be installed for ``versions``."""
    packages: list[str] = []
    if any(v in DOCKER_ENGINES for v in versions) and not (
        SYSTEM_DOCKERD.exists()
        and shutil.which("containerd", path=_SEARCH_PATH)
        and shutil.which("runc", path=_SEARCH_PATH)
    ):
        packages.append("docker.io")
    if not _is_static_elf(BUSYBOX):
        packages.append("busybox-static")
    if PODMAN in versions and not shutil.which("podman", path=_SEARCH_PATH):
        packages.append("podman")
    registries = {REGISTRY, REGISTRY_AUTH} & set(versions)
    if registries and not shutil.which("docker-registry", path=_SEARCH_PATH):
        packages.append("docker-registry")
    if REGISTRY_AUTH in versions and not shutil.which("htpasswd", path=_SEARCH_PATH):
        packages.append("apache2-utils")
    return packages


def ensure_installed(versions: Sequence[str]) -> None:
    """Make sure the engines named in ``versions`` (and busybox-static) are installed.

    ``versions`` holds labels from :data:`KNOWN_ENGINES` (``"20.10"``, ``"26.1"``,
    ``"28.5"``, ``"podman"``), :data:`REGISTRY` or :data:`REGISTRY_AUTH`.  Idempotent and
    quick when all is present.  As root it installs what is missing; otherwise it raises
    :class:`EngineUnavailable` naming the command to run.
    """
    versions = list(versions)
    for v in versions:
        if v not in KNOWN_ENGINES and v not in _PSEUDO_ENGINES:
            raise ValueError(
                f"unknown engine {v!r}; known: {', '.join((*KNOWN_ENGINES, *_PSEUDO_ENGINES))}"
            )
    packages = _missing_packages(versions)
    suites = [v for v in versions if v in SUITE_ENGINES and _read_cached(v) is None]
    if not packages and not suites:
        return
    if not _is_root():
        hints = []
        if packages:
            hints.append(f"sudo apt-get install -y {' '.join(packages)}")
        if suites:
            hints.append(
                f"sudo python3 scripts/test_engine.py install --engines {','.join(suites)}"
            )
        raise EngineUnavailable("test engines not installed; run: " + " && ".join(hints))
    with _cache_lock():
        packages = _missing_packages(versions)
        if packages:
            _apt_install(packages)
            still = _missing_packages(versions)
            if still:
                raise EngineUnavailable(f"still missing after apt-get install: {' '.join(still)}")
        for label in suites:
            if _read_cached(label) is None:
                _install_suite_engine(label, SUITE_ENGINES[label])


def engine_info(version: str) -> dict[str, Any]:
    """Describe an installed engine: its binary, PATH prefix and recorded version.

    Raises :class:`EngineUnavailable` if it is not installed.
    """
    if version == SYSTEM_ENGINE:
        if not SYSTEM_DOCKERD.exists():
            raise EngineUnavailable(
                "dockerd missing; run: sudo apt-get install -y docker.io busybox-static"
            )
        return {
            "label": version,
            "kind": "dockerd",
            "binary": str(SYSTEM_DOCKERD),
            "path_prefix": "",
            "dockerd_version": _dockerd_version(SYSTEM_DOCKERD),
        }
    if version in SUITE_ENGINES:
        meta = _read_cached(version)
        if meta is None:
            raise EngineUnavailable(
                f"engine {version} not installed; run: "
                f"sudo python3 scripts/test_engine.py install --engines {version}"
            )
        bin_dir = CACHE_ROOT / version / "bin"
        return {
            **meta,
            "kind": "dockerd",
            "binary": str(bin_dir / "dockerd"),
            "path_prefix": str(bin_dir),
        }
    if version == PODMAN:
        podman = shutil.which("podman", path=_SEARCH_PATH)
        if podman is None:
            raise EngineUnavailable("podman missing; run: sudo apt-get install -y podman")
        return {"label": version, "kind": "podman", "binary": podman, "path_prefix": ""}
    raise ValueError(f"unknown engine {version!r}; known: {', '.join(KNOWN_ENGINES)}")


# --------------------------------------------------------------------------
# running engines


class Engine:
    """A private engine (dockerd or podman service) running under ``workdir``.

    Attributes: ``host`` (``unix://.../docker.sock``), ``version`` (the requested
    label), ``server_version`` and ``api_version`` (from ``GET /version``),
    ``workdir``, ``pid`` (the daemon's pid), ``wrapper_pid`` (the ``tini -s``
    subreaper that runs it and reaps containerd shims; equals ``pid`` if tini is
    missing), ``socket_path``, ``log_path``, ``kind`` (``"dockerd"``/``"podman"``).
    """

    def __init__(self, version: str, workdir: Path) -> None:
        """Prepare (but do not start) engine ``version`` in ``workdir``."""
        self.version = version
        self.workdir = _check_workdir(workdir)
        self.socket_path = self.workdir / "docker.sock"
        self.host = f"unix://{self.socket_path}"
        self.log_path = self.workdir / "dockerd.log"
        self.pidfile = self.workdir / "docker.pid"
        self.state_path = self.workdir / "engine.json"
        self.pid = 0
        self.wrapper_pid = 0
        self.server_version = ""
        self.api_version = ""
        self.kind = "dockerd"
        self._argv: list[str] = []
        self._env: dict[str, str] = {}
        self._daemon_config: dict[str, Any] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._wrapped = False

    def __repr__(self) -> str:
        """Return a short description."""
        return f"<Engine {self.version} {self.host} pid={self.pid} server={self.server_version}>"

    # -- construction

    @classmethod
    def start_engine(cls, version: str, workdir: Path, timeout: float = START_TIMEOUT) -> "Engine":
        """Start engine ``version`` privately in ``workdir`` and wait until it answers."""
        if not _is_root():
            raise EngineUnavailable("a private dockerd/podman service needs root")
        info = engine_info(version)
        engine = cls(version, workdir)
        engine.kind = str(info["kind"])
        engine._argv = engine._build_argv(info)
        path = os.environ.get("PATH", _SYSTEM_PATH)
        if "/usr/sbin" not in path.split(":"):
            path = f"{path}:{_SYSTEM_PATH}"
        if info["path_prefix"]:
            path = f"{info['path_prefix']}:{path}"
        engine._env = {**os.environ, "PATH": path}
        for name in ("DOCKER_HOST", "NOTIFY_SOCKET", "CONTAINER_HOST"):
            engine._env.pop(name, None)
        engine.start(timeout)
        return engine

    @classmethod
    def from_workdir(cls, workdir: Path) -> "Engine":
        """Re-attach to an engine started earlier in ``workdir`` (e.g. by the CLI)."""
        engine = cls("?", workdir)
        try:
            state: dict[str, Any] = json.loads(engine.state_path.read_text())
        except (OSError, ValueError):
            state = {}
        engine.version = str(state.get("version", "?"))
        engine.kind = str(state.get("kind", "dockerd"))
        engine._argv = [str(a) for a in state.get("argv", [])]
        engine._env = {
            **os.environ,
            "PATH": str(state.get("path", os.environ.get("PATH", _SYSTEM_PATH))),
        }
        engine.server_version = str(state.get("server_version", ""))
        engine.api_version = str(state.get("api_version", ""))
        engine.pid = engine._pid_from_files()
        wrapper = int(state.get("wrapper_pid", 0))
        engine.wrapper_pid = wrapper if wrapper and _pid_alive(wrapper) else engine.pid
        return engine

    def _build_argv(self, info: Mapping[str, Any]) -> list[str]:
        """Return the command line that starts this engine (and set its daemon.json)."""
        wd = self.workdir
        binary = str(info["binary"])
        if self.kind == "podman":
            return [
                binary,
                "--root", f"{wd}/storage",
                "--runroot", f"{wd}/run",
                "--tmpdir", f"{wd}/tmp",
                "--cgroup-manager", "cgroupfs",
                "--events-backend", "file",
                "--network-config-dir", f"{wd}/net",
                "system", "service", "--time=0", self.host,
            ]  # fmt: skip
        namespace = "ads-" + hashlib.sha1(str(wd).encode()).hexdigest()[:12]
        argv = [
            binary,
            "--host", self.host,
            "--data-root", f"{wd}/data",
            "--exec-root", f"{wd}/exec",
            "--pidfile", str(self.pidfile),
            "--config-file", f"{wd}/daemon.json",
            "--containerd-namespace", namespace,
            "--containerd-plugins-namespace", f"{namespace}-plugins",
            "--bridge=none",
            "--iptables=false",
            "--shutdown-timeout=2",
        ]  # fmt: skip
        ip6 = info.get("ip6tables_flag")
        if ip6 is None:
            ip6 = _dockerd_accepts(Path(binary), "--ip6tables")
        if ip6:
            argv.append("--ip6tables=false")
        if info["path_prefix"]:
            # newer dockerd defaults to /usr/sbin/docker-proxy, which is bookworm's
            # (20.10) proxy with an incompatible command line: use the package's own.
            proxy = Path(str(info["path_prefix"])) / "docker-proxy"
            if proxy.exists():
                argv.append(f"--userland-proxy-path={proxy}")
        major = re.match(r"(\d+)", str(info.get("dockerd_version", "")))
        if major and int(major.group(1)) < 23:
            # dockerd < 23 writes a trust key to /etc/docker/key.json unless told otherwise
            self._daemon_config["deprecated-key-path"] = f"{wd}/key.json"
        return argv

    # -- lifecycle

    def _pid_from_files(self) -> int:
        """Return the live daemon pid recorded in the pidfile or state file, or 0."""
        candidates: list[int] = []
        with contextlib.suppress(OSError, ValueError):
            candidates.append(int(self.pidfile.read_text().strip()))
        with contextlib.suppress(OSError, ValueError):
            candidates.append(int(json.loads(self.state_path.read_text()).get("pid", 0)))
        for pid in candidates:
            if pid > 0 and _pid_alive(pid):
                return pid
        return 0

    def _write_state(self) -> None:
        """Record how this engine was started (used by ``stop --dir``)."""
        state = {
            "version": self.version,
            "kind": self.kind,
            "pid": self.pid,
            "wrapper_pid": self.wrapper_pid,
            "host": self.host,
            "argv": self._argv,
            "path": self._env.get("PATH", ""),
            "server_version": self.server_version,
            "api_version": self.api_version,
        }
        self.state_path.write_text(json.dumps(state, indent=2) + "\n")

    def _find_daemon_pid(self) -> int:
        """Return the daemon's pid: from its pidfile, else the wrapper's child."""
        if self.kind == "dockerd":
            with contextlib.suppress(OSError, ValueError):
                pid = int(self.pidfile.read_text().strip())
                if _pid_alive(pid):
                    return pid
        if self.wrapper_pid:
            children = _children(self.wrapper_pid)
            if children and self._wrapped:
                return children[0]
        return self.wrapper_pid

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Launch the daemon (if not running) and wait for ``/_ping``."""
        if self.is_running():
            return
        if not self._argv:
            raise EngineError("this Engine has no recorded command line; use start_engine()")
        other = self._pid_from_files()
        if other:
            raise EngineStartError(f"an engine (pid {other}) already runs in {self.workdir}")
        self.workdir.mkdir(parents=True, exist_ok=True)
        for stale in (self.socket_path, self.pidfile):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        if self.kind == "dockerd":
            config = self.workdir / "daemon.json"
            if self._daemon_config or not config.exists():
                config.write_text(json.dumps(self._daemon_config) + "\n")
        else:
            # podman (as root) gives containers RLIMIT_NOFILE 1048576 and RLIMIT_NPROC
            # 4194304, which fails ("error setting rlimit type 7") where our hard
            # limits are lower: cap them at ours.
            ulimits = []
            for name, rlim, default in (
                ("nofile", resource.RLIMIT_NOFILE, 1048576),
                ("nproc", resource.RLIMIT_NPROC, 32768),
            ):
                hard = resource.getrlimit(rlim)[1]
                limit = default if hard == resource.RLIM_INFINITY else min(hard, default)
                ulimits.append(f'"{name}={limit}:{limit}"')
            conf = self.workdir / "containers.conf"
            conf.write_text(f"[containers]\ndefault_ulimits = [{', '.join(ulimits)}]\n")
            self._env["CONTAINERS_CONF"] = str(conf)
            # Its own registries.conf: search Docker Hub for short names (as dockerd does),
            # and treat registries on 127.0.0.1 (any port) as plain-HTTP ones, as dockerd
            # does for 127.0.0.0/8 (the test registries listen there).
            registries = self.workdir / "registries.conf"
            registries.write_text(
                'unqualified-search-registries = ["docker.io"]\n\n'
                '[[registry]]\nlocation = "127.0.0.1"\ninsecure = true\n'
            )
            self._env["CONTAINERS_REGISTRIES_CONF"] = str(registries)
            # and its own temporary files (image loads, resource updates) here, not /var/tmp
            tmp = self.workdir / "tmp-files"
            tmp.mkdir(exist_ok=True)
            self._env["TMPDIR"] = str(tmp)
        # Run the daemon under ``tini -s`` (a subreaper): containerd shims daemonize
        # and would otherwise become zombies on machines whose pid 1 does not reap.
        reaper = _reaper_binary()
        argv = [reaper, "-s", "--", *self._argv] if reaper else list(self._argv)
        self._wrapped = reaper is not None
        with self.log_path.open("ab") as log:
            stamp = time.strftime("%H:%M:%S")
            log.write(f"\n=== {stamp} starting: {' '.join(argv)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=self._env,
                start_new_session=True,
            )
        self.wrapper_pid = self.pid = self._proc.pid
        self._write_state()
        try:
            self._wait_ready(timeout)
            self.pid = self._find_daemon_pid()
            status, body = self.request("GET", "/version", timeout=10)
            if status != 200:
                raise EngineStartError(f"GET /version answered {status}: {body[:200]!r}")
            data = json.loads(body)
            self.server_version = str(data.get("Version", ""))
            self.api_version = str(data.get("ApiVersion", ""))
        except BaseException:
            self.stop()
            raise
        self._write_state()

    def _wait_ready(self, timeout: float) -> None:
        """Poll ``GET /_ping`` until it answers OK; raise with the log tail on failure."""
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise EngineStartError(
                    f"engine {self.version} exited with {self._proc.returncode} during start; "
                    f"{self.log_path}:\n{_log_tail(self.log_path)}"
                )
            if self.ping():
                return
            if time.monotonic() >= deadline:
                raise EngineStartError(
                    f"engine {self.version} did not answer /_ping within {timeout:.0f}s; "
                    f"{self.log_path}:\n{_log_tail(self.log_path)}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    def ping(self) -> bool:
        """Return whether ``GET /_ping`` answers 200 OK right now."""
        try:
            status, body = self.request("GET", "/_ping", timeout=2)
        except OSError:
            return False
        return status == 200 and body.strip() == b"OK"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> tuple[int, bytes]:
        """Send one HTTP request to this engine's socket; return (status, body)."""
        return unix_request(self.socket_path, method, path, body, headers, timeout)

    def is_running(self) -> bool:
        """Return whether the daemon process is alive."""
        if self._proc is not None:
            return self._proc.poll() is None
        return self.pid > 0 and _pid_alive(self.pid)

    def stop(self, timeout: float = STOP_TIMEOUT, container_grace: float = 1.0) -> None:
        """Stop the daemon: SIGTERM, wait up to ``timeout`` s, SIGKILL; idempotent.

        dockerd stops running containers on shutdown and waits up to their stop
        timeout (10 s; busybox ``sleep`` as pid 1 ignores SIGTERM), so if the daemon
        is still busy after ``container_grace`` seconds the container processes are
        SIGKILLed (the daemon sees them exit with 137 by themselves; restart policies
        are unaffected).  Also kills any containerd, shim or proxy process left
        behind under ``workdir``.
        """
        pid = self.pid if self.pid and _pid_alive(self.pid) else self._pid_from_files()
        wrapper = self.wrapper_pid or pid
        if self.kind == "podman":
            # podman's containers outlive its API service: kill them first, and let
            # their conmon monitors exit while tini (their subreaper) still runs
            _wait_gone(_kill_container_processes(self.workdir), 3.0)
        if pid or self._proc is not None:
            proc = self._proc if self._proc is not None and self._proc.pid == wrapper else None
            _terminate(
                pid,
                wrapper,
                proc,
                timeout,
                container_grace,
                self._kill_containers,
                # let shims exit while the subreaper still lives, so it reaps them
                lambda: _kill_leftovers(self.workdir, exclude=[wrapper], patience=1.0),
            )
        _kill_leftovers(self.workdir)
        _unmount_under(self.workdir)
        for stale in (self.socket_path, self.pidfile):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()

    def _kill_containers(self) -> None:
        """SIGKILL this engine's container processes (used when shutdown is slow)."""
        _kill_container_processes(self.workdir)

    def restart(self, timeout: float = START_TIMEOUT) -> None:
        """Stop the daemon and start it again with the same directories and socket."""
        self.stop()
        self.start(timeout)

    def __enter__(self) -> "Engine":
        """Return self; the engine is already running."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the engine."""
        self.stop()


def start_engine(version: str, workdir: Path, timeout: float = START_TIMEOUT) -> Engine:
    """Start private engine ``version`` in ``workdir``; see :meth:`Engine.start_engine`."""
    return Engine.start_engine(version, Path(workdir), timeout)


def stop_engine(workdir: Path) -> None:
    """Stop the engine started earlier in ``workdir`` (found by its pidfile)."""
    Engine.from_workdir(Path(workdir)).stop()


# --------------------------------------------------------------------------
# test image

_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
_GROUP = "root:x:0:\nnogroup:x:65534:\n"
_IMAGE_MTIME = 1704067200  # 2024-01-01, for a reproducible layer


def _rootfs_tar(busybox: Path = BUSYBOX) -> bytes:
    """Return an uncompressed tar of a minimal busybox root filesystem."""
    if not _is_static_elf(busybox):
        raise EngineUnavailable(
            f"{busybox} is not a static busybox; run: sudo apt-get install -y busybox-static"
        )
    listing = _run([busybox, "--list"]).stdout.split()
    applets = sorted({a for a in listing if a and "/" not in a and a != "busybox"})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:

        def add(name: str, kind: bytes, mode: int, data: bytes = b"", link: str = "") -> None:
            """Add one root-owned member to the tar."""
            info = tarfile.TarInfo(name)
            info.type = kind
            info.mode = mode
            info.mtime = _IMAGE_MTIME
            info.uname = info.gname = "root"
            info.linkname = link
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        for d, mode in (("bin", 0o755), ("etc", 0o755), ("root", 0o700), ("tmp", 0o1777)):
            add(d, tarfile.DIRTYPE, mode)
        add("bin/busybox", tarfile.REGTYPE, 0o755, busybox.read_bytes())
        for applet in applets:
            add(f"bin/{applet}", tarfile.SYMTYPE, 0o777, link="busybox")
        add("etc/passwd", tarfile.REGTYPE, 0o644, _PASSWD.encode())
        add("etc/group", tarfile.REGTYPE, 0o644, _GROUP.encode())
    return buf.getvalue()


def _image_id(engine: Engine, ref: str) -> str | None:
    """Return the id of image ``ref`` on ``engine``, or None if it is missing."""
    status, body = engine.request("GET", f"/images/{ref}/json", timeout=30)
    if status == 404:
        return None
    if status != 200:
        raise EngineError(f"GET /images/{ref}/json answered {status}: {body[:300]!r}")
    return str(json.loads(body)["Id"])


def build_test_image(engine: Engine) -> str:
    """Import ``aiodockersock-test/busybox:latest`` into ``engine`` if missing; return its id.

    The image is built offline from the machine's static busybox, with
    ``Cmd ["sh"]`` and ``PATH`` set.
    """
    existing = _image_id(engine, TEST_IMAGE)
    if existing:
        return existing
    query = urllib.parse.urlencode(
        [
            ("fromSrc", "-"),
            ("repo", TEST_IMAGE_REPO),
            ("tag", TEST_IMAGE_TAG),
            ("changes", 'CMD ["sh"]'),
            ("changes", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        ]
    )
    status, body = engine.request(
        "POST",
        f"/images/create?{query}",
        body=_rootfs_tar(),
        headers={"Content-Type": "application/x-tar"},
        timeout=300,
    )
    if status != 200:
        raise EngineError(f"image import answered {status}: {body[:500]!r}")
    for line in body.splitlines():
        with contextlib.suppress(ValueError):
            message = json.loads(line)
            if isinstance(message, dict) and message.get("error"):
                raise EngineError(f"image import failed: {message['error']}")
    image_id = _image_id(engine, TEST_IMAGE)
    if image_id is None:
        raise EngineError(f"image import finished but {TEST_IMAGE} is missing: {body[-500:]!r}")
    return image_id


# --------------------------------------------------------------------------
# docker-registry


def _free_port() -> int:
    """Return a currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Registry:
    """A private ``docker-registry`` (distribution 2.8) serving plain HTTP on 127.0.0.1.

    Attributes: ``address`` (``127.0.0.1:PORT``, usable as an image name prefix; Docker
    treats 127.0.0.0/8 registries as insecure so no daemon setup is needed),
    ``workdir``, ``pid``, ``username`` (``None`` unless basic auth is on).

    With ``username`` and ``password`` the registry requires HTTP basic auth (distribution's
    ``htpasswd`` backend; the bcrypt file is written by :func:`htpasswd_line`).
    """

    def __init__(
        self,
        workdir: Path,
        port: int = 0,
        *,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        """Prepare a registry in ``workdir`` on ``port`` (0 picks a free one)."""
        if (username is None) != (password is None):
            raise ValueError("basic auth needs both a username and a password")
        self.workdir = Path(os.path.abspath(workdir))
        self.port = port or _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = self.workdir / "registry.log"
        self.pid = 0
        self.username = username
        self._password = password
        self._proc: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        """Describe the registry (never its password)."""
        auth = f" basic-auth user={self.username!r}" if self.username else ""
        return f"<Registry {self.address}{auth} pid={self.pid}>"

    def _auth_config(self) -> str:
        """Write the htpasswd file if basic auth is on; return the config's ``auth:`` part."""
        if self.username is None or self._password is None:
            return ""
        htpasswd = self.workdir / "htpasswd"
        htpasswd.write_text(htpasswd_line(self.username, self._password) + "\n")
        htpasswd.chmod(0o600)
        return (
            "auth:\n  htpasswd:\n    realm: aiodockersock-test\n"
            f"    path: {htpasswd}\n"
        )

    def start(self, timeout: float = 30.0) -> None:
        """Launch the registry and wait until ``GET /v2/`` answers."""
        binary = shutil.which("docker-registry", path=_SEARCH_PATH)
        if binary is None:
            raise EngineUnavailable(
                "docker-registry missing; run: sudo apt-get install -y docker-registry"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "registry.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: info\n"
            "storage:\n"
            f"  filesystem:\n    rootdirectory: {self.workdir}/registry-data\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.address}\n" + self._auth_config()
        )
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [binary, "serve", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
            )
        self.pid = self._proc.pid
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise EngineStartError(f"docker-registry exited:\n{_log_tail(self.log_path)}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/v2/")
                # 401: up, and asking for the credentials basic auth needs
                if conn.getresponse().status in (200, 401):
                    return
            except OSError:
                pass
            finally:
                conn.close()
            if time.monotonic() >= deadline:
                self.stop()
                raise EngineStartError(
                    f"docker-registry did not answer:\n{_log_tail(self.log_path)}"
                )
            time.sleep(0.1)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the registry (idempotent)."""
        if self._proc is not None:
            _terminate(self._proc.pid, self._proc.pid, self._proc, timeout)

    def __enter__(self) -> "Registry":
        """Return self; the registry is already running."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the registry."""
        self.stop()


def start_registry(
    workdir: Path,
    port: int = 0,
    *,
    username: str | None = None,
    password: str | None = None,
) -> Registry:
    """Start a private ``docker-registry`` in ``workdir``; see :class:`Registry`."""
    registry = Registry(workdir, port, username=username, password=password)
    registry.start()
    return registry


def htpasswd_line(username: str, password: str, cost: int = 5) -> str:
    """Return ``username:<bcrypt hash>``, the htpasswd line distribution's registry accepts.

    Uses ``htpasswd -B`` (package ``apache2-utils``, see :data:`REGISTRY_AUTH`), with the
    password on stdin so it never shows in a process listing.  Works offline.
    """
    binary = shutil.which("htpasswd", path=_SEARCH_PATH)
    if binary is None:
        raise EngineUnavailable("htpasswd missing; run: sudo apt-get install -y apache2-utils")
    result = subprocess.run(
        [binary, "-n", "-i", "-B", "-C", str(cost), username],
        input=password,
        capture_output=True,
        text=True,
        check=False,
    )
    line = result.stdout.strip()
    if result.returncode != 0 or not line.startswith(f"{username}:$2"):
        raise EngineError(f"htpasswd -B failed ({result.returncode}): {result.stderr.strip()}")
    return line


# --------------------------------------------------------------------------
# command line


def _parse_engines(text: str) -> list[str]:
    """Split a comma-separated engine list."""
    return [v.strip() for v in text.split(",") if v.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(
        description="Private Docker engines for the aiodockersock tests."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_install = sub.add_parser("install", help="install engines (idempotent; needs root)")
    p_install.add_argument(
        "--engines",
        default=",".join(DOCKER_ENGINES),
        help=f"comma-separated: {', '.join((*KNOWN_ENGINES, *_PSEUDO_ENGINES))} "
        "(default: %(default)s)",
    )
    p_start = sub.add_parser(
        "start", help="start a private engine, build the test image, print DOCKER_HOST"
    )
    p_start.add_argument("version", choices=KNOWN_ENGINES)
    p_start.add_argument(
        "--dir", required=True, type=Path, help="short work directory, e.g. /tmp/ads-1"
    )
    p_start.add_argument("--no-image", action="store_true", help="do not build the test image")
    p_stop = sub.add_parser("stop", help="stop the engine started in --dir")
    p_stop.add_argument("--dir", required=True, type=Path)
    args = parser.parse_args(argv)

    try:
        if args.command == "install":
            engines = _parse_engines(args.engines)
            started = time.monotonic()
            ensure_installed(engines)
            for label in engines:
                if label in _PSEUDO_ENGINES:
                    print(f"{label}: {shutil.which('docker-registry', path=_SEARCH_PATH)}")
                    continue
                info = engine_info(label)
                if info["kind"] == "dockerd":
                    print(
                        f"{label}: dockerd {_dockerd_version(Path(info['binary']))}"
                        f" ({info['binary']})"
                    )
                else:
                    print(f"{label}: {info['binary']}")
            _log(f"install done in {time.monotonic() - started:.1f}s")
        elif args.command == "start":
            ensure_installed([args.version])
            engine = start_engine(args.version, args.dir)
            try:
                if not args.no_image:
                    build_test_image(engine)
            except BaseException:
                engine.stop()
                raise
            _log(
                f"engine {engine.version}: server {engine.server_version}, "
                f"API {engine.api_version}, pid {engine.pid}"
            )
            print(f"DOCKER_HOST={engine.host}")
        elif args.command == "stop":
            stop_engine(args.dir)
    except (EngineError, ValueError) as exc:
        print(f"test_engine: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno == errno.EACCES:
            print(f"test_engine: {exc} (needs root)", file=sys.stderr)
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
