"""The :class:`Engine`: one private dockerd or Podman service, started, restarted, stopped."""

import contextlib
import hashlib
import json
import os
import re
import resource
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from .config import START_TIMEOUT, STOP_TIMEOUT, SYSTEM_PATH
from .errors import EngineError, EngineStartError, EngineUnavailable
from .install import dockerd_accepts, engine_info
from .procs import (
    child_pids,
    kill_container_processes,
    kill_leftovers,
    pid_alive,
    reaper_binary,
    terminate,
    unmount_under,
    wait_gone,
)
from .shell import is_root, log_tail
from .unixhttp import UnixAPI

#: Longest work directory accepted; keeps every unix socket path < 100 chars.
MAX_WORKDIR_LEN = 56


def _check_workdir(workdir: Path) -> Path:
    """Return ``workdir`` made absolute, refusing paths too long for unix sockets."""
    workdir = Path(os.path.abspath(workdir))
    if len(str(workdir)) > MAX_WORKDIR_LEN:
        raise ValueError(
            f"work directory {workdir} is too long for unix socket paths "
            f"(max {MAX_WORKDIR_LEN} chars); use something like /tmp/ads-XXXX"
        )
    return workdir


#: The registry hosts a Podman engine reaches over plain HTTP, any port (dockerd does so for
#: every 127.0.0.0/8 address, localhost included).
INSECURE_REGISTRY_HOSTS = ("127.0.0.1", "localhost")


class Engine(UnixAPI):  # request() goes to this engine's socket
    """A private engine (dockerd or podman service) running under ``workdir``.

    Attributes: ``host`` (``unix://.../docker.sock``), ``version`` (the requested
    label), ``server_version`` and ``api_version`` (from ``GET /version``),
    ``workdir``, ``pid`` (the daemon's pid), ``wrapper_pid`` (the ``tini -s``
    subreaper that runs it and reaps containerd shims; equals ``pid`` if tini is
    missing), ``socket_path``, ``log_path``, ``kind`` (``"dockerd"``/``"podman"``).
    """

    def __init__(
        self, version: str, workdir: Path, extra_args: Sequence[str] = ()
    ) -> None:
        """Prepare (but do not start) engine ``version`` in ``workdir``; ``extra_args`` go on
        the daemon's command line after ours (``--tlsverify``, another ``-H`` …)."""
        self.version = version
        self.extra_args = list(extra_args)
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
    def start_engine(
        cls,
        version: str,
        workdir: Path,
        timeout: float = START_TIMEOUT,
        extra_args: Sequence[str] = (),
    ) -> "Engine":
        """Start engine ``version`` privately in ``workdir`` and wait until it answers;
        ``extra_args`` are added to its command line (dockerd only)."""
        if not is_root():
            raise EngineUnavailable("a private dockerd/podman service needs root")
        info = engine_info(version)
        engine = cls(version, workdir, extra_args)
        engine.kind = str(info["kind"])
        engine._argv = engine._build_argv(info)
        path = os.environ.get("PATH", SYSTEM_PATH)
        if "/usr/sbin" not in path.split(":"):
            path = f"{path}:{SYSTEM_PATH}"
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
            "PATH": str(state.get("path", os.environ.get("PATH", SYSTEM_PATH))),
        }
        engine.server_version = str(state.get("server_version", ""))
        engine.api_version = str(state.get("api_version", ""))
        engine.pid = engine._pid_from_files()
        wrapper = int(state.get("wrapper_pid", 0))
        engine.wrapper_pid = wrapper if wrapper and pid_alive(wrapper) else engine.pid
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
            ip6 = dockerd_accepts(Path(binary), "--ip6tables")
        if ip6:
            argv.append("--ip6tables=false")
        argv.extend(self.extra_args)
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
            if pid > 0 and pid_alive(pid):
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
                if pid_alive(pid):
                    return pid
        if self.wrapper_pid:
            children = child_pids(self.wrapper_pid)
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
            # and treat registries on 127.0.0.1 and localhost (any port) as plain-HTTP ones,
            # as dockerd does for 127.0.0.0/8, which localhost resolves to (the test
            # registries listen there; references name them either way).
            registries = self.workdir / "registries.conf"
            registries.write_text(
                'unqualified-search-registries = ["docker.io"]\n'
                + "".join(f'\n[[registry]]\nlocation = "{host}"\ninsecure = true\n'
                          for host in INSECURE_REGISTRY_HOSTS)
            )
            self._env["CONTAINERS_REGISTRIES_CONF"] = str(registries)
            # and its own temporary files (image loads, resource updates) here, not /var/tmp
            tmp = self.workdir / "tmp-files"
            tmp.mkdir(exist_ok=True)
            self._env["TMPDIR"] = str(tmp)
        # Run the daemon under ``tini -s`` (a subreaper): containerd shims daemonize
        # and would otherwise become zombies on machines whose pid 1 does not reap.
        reaper = reaper_binary()
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
                    f"{self.log_path}:\n{log_tail(self.log_path)}"
                )
            if self.ping():
                return
            if time.monotonic() >= deadline:
                raise EngineStartError(
                    f"engine {self.version} did not answer /_ping within {timeout:.0f}s; "
                    f"{self.log_path}:\n{log_tail(self.log_path)}"
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

    def is_running(self) -> bool:
        """Return whether the daemon process is alive."""
        if self._proc is not None:
            return self._proc.poll() is None
        return self.pid > 0 and pid_alive(self.pid)

    def stop(self, timeout: float = STOP_TIMEOUT, container_grace: float = 1.0) -> None:
        """Stop the daemon: SIGTERM, wait up to ``timeout`` s, SIGKILL; idempotent.

        dockerd stops running containers on shutdown and waits up to their stop
        timeout (10 s; busybox ``sleep`` as pid 1 ignores SIGTERM), so if the daemon
        is still busy after ``container_grace`` seconds the container processes are
        SIGKILLed (the daemon sees them exit with 137 by themselves; restart policies
        are unaffected).  Also kills any containerd, shim or proxy process left
        behind under ``workdir``.
        """
        pid = self.pid if self.pid and pid_alive(self.pid) else self._pid_from_files()
        wrapper = self.wrapper_pid or pid
        if self.kind == "podman":
            # podman's containers outlive its API service: kill them first, and let
            # their conmon monitors exit while tini (their subreaper) still runs
            wait_gone(kill_container_processes(self.workdir), 3.0)
        if pid or self._proc is not None:
            proc = self._proc if self._proc is not None and self._proc.pid == wrapper else None
            terminate(
                pid,
                wrapper,
                proc,
                timeout,
                container_grace,
                self._kill_containers,
                # let shims exit while the subreaper still lives, so it reaps them
                lambda: kill_leftovers(self.workdir, exclude=[wrapper], patience=1.0),
            )
        kill_leftovers(self.workdir)
        unmount_under(self.workdir)
        for stale in (self.socket_path, self.pidfile):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()

    def _kill_containers(self) -> None:
        """SIGKILL this engine's container processes (used when shutdown is slow)."""
        kill_container_processes(self.workdir)

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
