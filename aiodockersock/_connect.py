"""The one way onto the wire: a connection factory per kind of daemon address.

Every byte the library exchanges with a daemon travels over a connection made here: the pooled
HTTP connections of ordinary requests and streams (aiohttp's pool calls
:meth:`Connector.create_connection` through the transport's connector adapter) and the upgraded
connections of attach and exec (:meth:`Connector.open_stream`). A new kind of host is a new
:class:`Connector`; nothing else changes. :class:`SSHConnector` (``ssh://``) is the only place
that runs ``ssh``. :func:`open_local_socket` is the one connection to something else: an ssh
agent's socket, to which a BuildKit session relays a build step's requests.

A connector may word its own failures (:meth:`Connector.explain`, which the transport asks
first) and may hold resources until :meth:`Connector.aclose` (ssh's master connections).

This module uses asyncio alone: no HTTP, no aiohttp.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import weakref
from collections.abc import Callable
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from ._config import HostConfig, SSHTarget

__all__ = [
    "Connector",
    "ResettableReader",
    "SSHConnector",
    "SSHError",
    "TCPConnector",
    "UnixConnector",
    "connector_for",
    "open_local_socket",
]

P = TypeVar("P", bound=asyncio.BaseProtocol)

#: The reader limit of an upgraded connection: the longest response head accepted; reading from
#: the socket pauses once twice this much is buffered unread (backpressure to the daemon).
STREAM_LIMIT: Final = 256 * 1024


class ResettableReader(asyncio.StreamReader):
    """A stream reader that keeps what arrived readable after a reset.

    asyncio reports a reset (or a failed write into a closed connection) by failing every later
    read, even of bytes that arrived before it. Here the reset ends the stream like a close,
    after those bytes, and is kept in :attr:`reset` for the owner to judge; writes still fail.
    """

    reset: Exception | None = None

    def set_exception(self, exc: Exception) -> None:
        if isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            self.reset = exc
            self.feed_eof()
            return
        super().set_exception(exc)


class Connector:
    """How to open a connection to one daemon.

    Attributes:
        host: the resolved address it connects to.
        idle_timeout: how long, in seconds, a pooled connection may sit unused before the pool
            closes it (aiohttp's keep-alive default, 15 s; less where an idle connection costs
            the others something).
    """

    idle_timeout: float = 15.0

    def __init__(self, host: HostConfig) -> None:
        self.host = host

    @property
    def where(self) -> str:
        """What a connection error should name: the socket path, or the address."""
        return self.host.address

    def explain(self, exc: BaseException) -> str | None:
        """Word a failure this connector knows better than the transport's generic mapping.

        Args:
            exc: the failure of a connection, a request or a stream to this daemon.

        Returns:
            The message (naming the address and the fix), or ``None`` to leave it to the
            transport's own mapping (the default).
        """
        return None

    async def aclose(self) -> None:
        """Release what the connector itself holds (nothing by default). Safe to call twice."""

    async def create_connection(
        self, protocol_factory: Callable[[], P]
    ) -> tuple[asyncio.Transport, P]:
        """Open a connection driven by the protocol ``protocol_factory`` makes.

        Raises:
            OSError: the connection could not be made (the transport maps it).
        """
        raise NotImplementedError

    async def open_stream(
        self, on_lost: Callable[[], None] | None = None
    ) -> tuple[ResettableReader, asyncio.StreamWriter]:
        """Open a connection as an asyncio reader/writer pair (for upgraded connections).

        Args:
            on_lost: called once when the connection ends, whichever side closes it.

        Raises:
            OSError: the connection could not be made (the transport maps it).
        """
        loop = asyncio.get_running_loop()
        reader = ResettableReader(limit=STREAM_LIMIT, loop=loop)
        transport, protocol = await self.create_connection(
            lambda: _StreamProtocol(reader, on_lost, loop=loop)
        )
        return reader, asyncio.StreamWriter(transport, protocol, reader, loop)


class _StreamProtocol(asyncio.StreamReaderProtocol):
    """asyncio's stream protocol that also tells its owner when the connection is gone."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        on_lost: Callable[[], None] | None,
        *,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(reader, loop=loop)
        self._on_lost = on_lost

    def connection_lost(self, exc: Exception | None) -> None:
        on_lost, self._on_lost = self._on_lost, None
        if on_lost is not None:
            on_lost()
        super().connection_lost(exc)


class UnixConnector(Connector):
    """Connections to a unix socket (``unix:///var/run/docker.sock``)."""

    @property
    def where(self) -> str:
        return self.host.socket_path or self.host.address

    async def create_connection(
        self, protocol_factory: Callable[[], P]
    ) -> tuple[asyncio.Transport, P]:
        path = self.host.socket_path
        assert path is not None
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_unix_connection(protocol_factory, path)
        return transport, protocol


class TCPConnector(Connector):
    """Connections over TCP (``tcp://host:port``), with TLS when the host has a context."""

    def __init__(self, host: HostConfig) -> None:
        super().__init__(host)
        parts = urlsplit(host.base_url)  # always with a host and a port (_config)
        self._hostname = parts.hostname or ""
        self._port = parts.port or 0
        self._ssl: ssl.SSLContext | None = host.ssl

    async def create_connection(
        self, protocol_factory: Callable[[], P]
    ) -> tuple[asyncio.Transport, P]:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_connection(
            protocol_factory,
            self._hostname,
            self._port,
            ssl=self._ssl,
            server_hostname=self._hostname if self._ssl is not None else None,
        )
        return transport, protocol


# -- ssh:// ------------------------------------------------------------------------------------

#: The most of ssh's stderr kept for a message, per process.
_STDERR_KEPT: Final = 4096
#: How often a starting master connection is checked for its control socket.
_MASTER_POLL: Final = 0.005
#: How long a closing client waits for ssh processes to end before it kills them.
_EXIT_GRACE: Final = 3.0
#: Handshakes (master connections starting) at once: sshd's default ``MaxStartups 10:30:100``
#: drops unauthenticated connections beyond 10, so a burst of streams never exceeds it.
_HANDSHAKES: Final = 8
#: Longest directory for control sockets (sun_path is 108 bytes; ssh adds ~20 while binding).
_MAX_DIR_LEN: Final = 70
#: Forwarded connections one ssh connection carries before another is opened. sshd's
#: ``MaxSessions`` does not count forwarded channels, but OpenSSH ends a whole connection whose
#: channel table reaches 16,384, so a master stays well below that.
_FORWARD_CHANNELS: Final = 1000
#: What proves that a master forwards connections to the daemon's socket: a ping, then close.
_PROBE: Final = b"HEAD /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"

_SESSION_REFUSED: Final = re.compile(
    r"open refused|administratively prohibited|open failed|session request failed", re.I
)
_NOT_FOUND: Final = re.compile(r"docker: (command )?not found|docker: No such file", re.I)
_NO_DAEMON: Final = re.compile(
    r"Cannot connect to the Docker daemon|permission denied while trying to connect|"
    r"dial unix|connect: no such file|connection refused",
    re.I,
)
_AUTH: Final = re.compile(r"Permission denied \(|Too many authentication failures", re.I)
_HOST_KEY: Final = re.compile(
    r"Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|"
    r"host key is known|No \S+ host key is known",
    re.I,
)


class SSHError(OSError):
    """ssh, or the remote ``docker`` it runs, failed; the message says which, how to fix it,
    and quotes ssh's stderr. The transport raises it as a ``DockerConnectionError``."""


def _tail(path: str) -> str:
    """The end of an ssh process's stderr file, as text ('' if it cannot be read)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - _STDERR_KEPT))
            data = f.read()
    except OSError:
        return ""
    return data.decode(errors="replace").replace("\r", "").strip()


def _stderr_file(path: str) -> int:
    """A new file for an ssh process's stderr (in the client's private directory: a local,
    instant operation, so done inline)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)


def _is_socket(path: str) -> bool:
    """Whether the control socket of a master connection exists (it does once logged in)."""
    return os.path.exists(path)


def _quoted(stderr: str) -> str:
    return f"; ssh said: {stderr!r}" if stderr else "; ssh said nothing on stderr"


class _Process(asyncio.SubprocessProtocol):
    """An ssh process: records its exit (no task waits for it) and calls ``on_exit`` once."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_exit: Callable[[int], None]) -> None:
        self.transport: asyncio.SubprocessTransport | None = None
        self.returncode: int | None = None
        self.exited: asyncio.Future[int] = loop.create_future()
        self._on_exit = on_exit

    @property
    def pid(self) -> int | None:
        return self.transport.get_pid() if self.transport is not None else None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self.transport = transport

    def process_exited(self) -> None:
        assert self.transport is not None
        code = self.transport.get_returncode()
        self.returncode = -1 if code is None else code
        self.transport.close()  # reaped: nothing is left of it
        if not self.exited.done():
            self.exited.set_result(self.returncode)
        on_exit, self._on_exit = self._on_exit, _ignore
        on_exit(self.returncode)

    def kill(self) -> None:
        """Kill the process if it still runs (its exit is then reported as usual)."""
        if self.returncode is None and self.transport is not None:
            with contextlib.suppress(ProcessLookupError, OSError):
                self.transport.kill()


def _ignore(_: int) -> None:
    pass


class _Master:
    """One ssh master connection (``ssh -M -N``): one handshake, many sessions."""

    def __init__(self, number: int, directory: str, capacity: int) -> None:
        self.number = number
        self.control_path = os.path.join(directory, f"m{number}")
        self.stderr_path = os.path.join(directory, f"m{number}.err")
        #: the local end of its stream-local forward (``ssh -L``) to the daemon's socket
        self.forward_path = os.path.join(directory, f"m{number}.fwd")
        self.forwarding = False  # its forward proved to reach the daemon
        self.capacity = capacity  # lowered if the server refuses a session below it
        self.sessions = 0  # dial-stdio sessions, and connections reserved but not yet made
        self.channels: list[asyncio.BaseTransport] = []  # forwarded connections
        self.ready: asyncio.Future[None] | None = None
        self.process: _Process | None = None
        self.up = False
        self.dead = False

    def load(self) -> int:
        """Connections it carries or will: sessions, reservations, open forwarded ones."""
        if self.channels:
            self.channels = [t for t in self.channels if not t.is_closing()]
        return self.sessions + len(self.channels)


class _Session:
    """One ``ssh … docker system dial-stdio`` through a master: one HTTP connection."""

    def __init__(self, master: _Master, stderr_path: str) -> None:
        self.master = master
        self.stderr_path = stderr_path
        self.process: _Process | None = None
        self.stderr = ""
        self.returncode: int | None = None
        self.waiters: list[Callable[[], None]] = []


class _Sniffer(asyncio.Protocol):
    """Stands in front of aiohttp's protocol until the first bytes of a session prove to be
    the daemon's HTTP answer, then steps aside (``set_protocol``): what comes before it, or an
    end before it, is a failure of ssh or of the remote shell, worded from ssh's stderr."""

    def __init__(
        self, inner: asyncio.Protocol, session: _Session | None, owner: SSHConnector
    ) -> None:
        self._inner: asyncio.Protocol | None = inner
        self._session = session  # None: a forwarded connection (no remote process)
        self._owner = owner
        self._transport: asyncio.Transport | None = None
        self._head = b""
        self._failure: SSHError | None = None
        self._remote_eof = False
        self._lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport) and self._inner is not None
        self._transport = transport
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        head = self._head + data
        if head[:5] == b"HTTP/":
            assert self._transport is not None and self._inner is not None
            self._transport.set_protocol(self._inner)
            self._head = b""
            self._inner.data_received(head)
        elif b"HTTP/".startswith(head):
            self._head = head  # too short to tell yet
        elif self._failure is None:
            self._failure = SSHError(
                self._owner._forward_failure(head)
                if self._session is None
                else self._owner._shell_output(head, self._session)
            )
            assert self._transport is not None
            self._transport.abort()

    def eof_received(self) -> bool | None:
        self._remote_eof = True
        return None  # close: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        if self._failure is not None:
            self._deliver(self._failure)
        elif exc is None and not self._remote_eof:
            self._deliver(exc)  # closed by our side: nothing to explain
        elif self._session is None:
            self._deliver(SSHError(self._owner._forward_failure(None)))
        elif self._session.returncode is not None:
            self._deliver_ended()
        else:  # ssh writes its stderr and exits just after: word the end once it has
            loop = asyncio.get_running_loop()
            timer = loop.call_later(_EXIT_GRACE, self._deliver_ended)

            def ended() -> None:
                timer.cancel()
                self._deliver_ended()

            self._session.waiters.append(ended)

    def _deliver_ended(self) -> None:
        if self._inner is not None and self._session is not None:
            self._deliver(SSHError(self._owner._session_failure(self._session)))

    def _deliver(self, exc: Exception | None) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()


def _stop_leftovers(pids: dict[int, _Process], directory: list[str]) -> None:
    """The last resort of a client dropped without ``aclose()``: end its ssh processes."""
    for pid in list(pids):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    if directory:
        shutil.rmtree(directory[0], ignore_errors=True)


class SSHConnector(Connector):
    """Connections to a daemon on another host through the system's ``ssh``, as the Docker CLI
    makes them: each connection is ``ssh … -- HOST docker [--host unix://PATH] system
    dial-stdio``, so the user's ``~/.ssh/config``, agent, jump hosts and ``known_hosts`` apply.

    Unlike the CLI, connections share master connections (``ControlMaster``): one handshake
    serves ``SSHTarget.sessions`` connections (sshd's ``MaxSessions``, 10 by default); the next
    one opens another master, so no connection ever waits for a free session. The control
    sockets live in a private directory (mode 0700) made for this client; :meth:`aclose` stops
    every master (``ssh -O exit``), waits for every ssh process and removes the directory.

    Each connection is one end of a socket pair given to ``ssh`` as its stdin and stdout; ssh's
    stderr goes to a file in that directory, so a failure is worded from what ssh said: a
    refused login or host key, a remote host without ``docker``, a login shell that prints
    text, a session the server refused (``MaxSessions``).

    Beyond the CLI: when the URL names the daemon's socket (and ``SSHTarget.mode`` allows),
    each master also forwards a local socket in the private directory to it (``ssh -L
    LOCAL:REMOTE``, sshd's stream-local forwarding), proved once by a ping through it. A
    connection is then a channel of the master that sshd connects to the daemon's socket
    itself: no ``ssh`` process per connection, no remote ``docker`` (so no remote PATH or
    login shell can break it) and no ``MaxSessions`` (which counts sessions, not forwarded
    channels; a master carries up to 1,000 before another opens). Where the server refuses to
    forward (``AllowStreamLocalForwarding no``, ``DisableForwarding yes``) or the socket is
    not there, ``mode="auto"`` uses ``dial-stdio`` from then on.

    Idle connections are closed after :attr:`idle_timeout` (2 s, not aiohttp's 15): every open
    channel makes each round trip through ssh and sshd dearer (measured: 210 to 222 µs added
    per call with none idle, 417 µs with 64 idle), so what a burst opened is closed soon after.
    """

    idle_timeout = 2.0

    def __init__(self, host: HostConfig) -> None:
        super().__init__(host)
        assert host.ssh is not None
        self._target: SSHTarget = host.ssh
        self._masters: list[_Master] = []
        self._numbers = 0
        self._sessions: set[_Session] = set()
        #: every ssh process still running (masters, sessions), by pid
        self._pids: dict[int, _Process] = {}
        self._dir: list[str] = []  # shared with the finalizer
        self._closed = False
        self._handshakes: asyncio.Semaphore | None = None  # made in the loop, on first use
        #: connections forwarded to the socket: None = not yet tried, then proved or not
        self._forward: bool | None = (
            None if host.ssh.socket_path is not None and host.ssh.mode != "dial-stdio" else False
        )
        self._finalizer = weakref.finalize(self, _stop_leftovers, self._pids, self._dir)

    # -- the ssh command lines -------------------------------------------------------------

    def _ssh(self, control_path: str, *ours: str, tty: bool = False) -> list[str]:
        """``ssh`` with our control options first (the first value of an option wins, so the
        user's cannot move the control socket), then the user's, then our defaults (no
        terminal, unless ``tty``: then one is forced)."""
        target = self._target
        binary = shutil.which("ssh")
        if binary is None:
            raise SSHError(
                f"cannot connect to {self.host.address}: the ssh client is not installed "
                "(install openssh-client) or not on PATH"
            )
        args = [binary, "-o", f"ControlPath={control_path}", *ours, *target.options]
        args += ["-o", f"ConnectTimeout={max(1, math.ceil(target.connect_timeout))}"]
        args.append("-tt" if tty else "-T")
        if target.user:
            args += ["-l", target.user]
        if target.port:
            args += ["-p", str(target.port)]
        return [*args, "--", target.hostname]

    def _remote_command(self) -> list[str]:
        path = self._target.socket_path
        if path is None:
            return ["docker", "system", "dial-stdio"]
        return ["docker", "--host", shlex.quote(f"unix://{path}"), "system", "dial-stdio"]

    def _directory(self) -> str:
        if not self._dir:
            base = tempfile.gettempdir()
            if len(base) > _MAX_DIR_LEN - 20:
                base = "/tmp"
            self._dir.append(tempfile.mkdtemp(prefix="aiodockersock-ssh-", dir=base))  # 0700
        return self._dir[0]

    @property
    def forwarding(self) -> bool | None:
        """Whether connections are forwarded to the daemon's socket by sshd (``True``), made
        by the remote ``docker system dial-stdio`` (``False``), or not yet known (``None``:
        before the first ssh connection, when the URL names a socket)."""
        return self._forward

    @property
    def open_connections(self) -> int:
        """How many connections to the daemon are open now: forwarded channels and
        ``dial-stdio`` sessions."""
        channels = sum(1 for m in self._masters for t in m.channels if not t.is_closing())
        return channels + len(self._sessions)

    @property
    def control_dir(self) -> str | None:
        """The private directory of this client's control sockets (``None`` before the first
        connection and after :meth:`aclose`)."""
        return self._dir[0] if self._dir and os.path.isdir(self._dir[0]) else None

    # -- masters -----------------------------------------------------------------------------

    def _reserve(self) -> _Master:
        """A master with a free session, counted as taken: a new one when all are full."""
        for master in list(self._masters):
            if master.up and not _is_socket(master.control_path):
                self._master_gone(master)  # it is ending (killed, or its connection lost)
            elif not master.dead and master.load() < master.capacity:
                master.sessions += 1
                return master
        capacity = _FORWARD_CHANNELS if self._forward else self._target.sessions
        master = _Master(self._numbers, self._directory(), capacity)
        self._numbers += 1
        self._masters.append(master)
        master.sessions = 1
        task = asyncio.ensure_future(self._start(master))
        task.add_done_callback(_retrieved)
        master.ready = task
        return master

    async def _start(self, master: _Master) -> None:
        if self._handshakes is None:
            self._handshakes = asyncio.Semaphore(_HANDSHAKES)
        async with self._handshakes:
            await self._handshake(master)

    async def _handshake(self, master: _Master) -> None:
        loop = asyncio.get_running_loop()
        forward = self._forward is not False
        remote = self._target.socket_path
        args = self._ssh(
            master.control_path,
            "-o",
            "ControlMaster=yes",
            "-o",
            "ControlPersist=no",
            "-N",
            *(["-L", f"{master.forward_path}:{remote}"] if forward and remote else []),
        )
        try:
            stderr = _stderr_file(master.stderr_path)
            try:
                _, process = await loop.subprocess_exec(
                    lambda: _Process(loop, lambda _code: self._master_gone(master)),
                    *args,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    start_new_session=True,  # no terminal: ssh never prompts
                )
            finally:
                os.close(stderr)
            master.process = process
            if process.pid is not None and process.returncode is None:
                self._pids[process.pid] = process
            deadline = loop.time() + max(3 * self._target.connect_timeout, 15.0)
            while not _is_socket(master.control_path):  # made once logged in
                if process.returncode is not None:
                    raise SSHError(self._master_failure(master))
                if loop.time() > deadline:
                    process.kill()
                    raise SSHError(self._handshake_slow(master))
                await asyncio.wait([process.exited], timeout=_MASTER_POLL)
            master.up = True
            interactive = asyncio.ensure_future(self._interactive(master, deadline))
            try:
                if forward:
                    await self._try_forward(master, deadline)
            finally:
                await interactive
        except BaseException:
            self._master_gone(master)
            if master.process is not None:
                master.process.kill()
            raise

    async def _interactive(self, master: _Master, deadline: float) -> None:
        """Run one short session with a terminal (``ssh -tt HOST true``) through a new master.

        sshd turns Nagle's algorithm off (``TCP_NODELAY``) on a connection only when its first
        command runs with a terminal; otherwise never. A request whose answer dockerd writes
        in two parts (an ``inspect`` body, then the chunked encoding's end) then waits for the
        client's delayed acknowledgement before the second part leaves: up to 40 ms, measured
        on a forwarded connection in 5 to 40 % of sequential calls, and none once such a session
        had run. Where the server refuses a terminal, or the session fails, nothing changes.
        """
        loop = asyncio.get_running_loop()
        process: _Process | None = None

        def ended(_: int) -> None:
            if process is not None:
                self._pids.pop(process.pid or -1, None)

        try:
            args = self._ssh(
                master.control_path, "-o", "ControlMaster=no", "-o", "ProxyCommand=false",
                tty=True,
            )
            _, process = await loop.subprocess_exec(
                lambda: _Process(loop, ended),
                *args,
                "true",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            if process.pid is not None and process.returncode is None:
                self._pids[process.pid] = process
            await asyncio.wait([process.exited], timeout=max(deadline - loop.time(), 1.0))
        except (OSError, SSHError):
            pass  # Nagle stays on: slower, not broken
        finally:
            if process is not None:
                process.kill()  # its exit, if it has not yet, is reaped and forgotten later

    async def _try_forward(self, master: _Master, deadline: float) -> None:
        """Prove the master's forward with a ping through it; where it fails, ``auto`` mode
        falls back to dial-stdio for good, ``forward`` mode fails with the reason."""
        loop = asyncio.get_running_loop()

        async def ping() -> bytes:
            while not _is_socket(master.forward_path):  # bound just before the control socket
                if master.process is None or master.process.returncode is not None:
                    return b""
                await asyncio.sleep(_MASTER_POLL)
            reader, writer = await asyncio.open_unix_connection(master.forward_path)
            try:
                writer.write(_PROBE)
                return await reader.readexactly(5)
            finally:
                writer.close()

        head = b""
        with contextlib.suppress(OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            head = await asyncio.wait_for(ping(), max(deadline - loop.time(), 1.0))
        if head == b"HTTP/":
            self._forward = master.forwarding = True
            master.capacity = _FORWARD_CHANNELS
        elif self._target.mode == "forward":
            raise SSHError(self._forward_failure(head, master))
        else:
            self._forward = False

    def _master_gone(self, master: _Master) -> None:
        master.dead = True
        if master in self._masters:
            self._masters.remove(master)
        if master.process is not None and master.process.returncode is not None:
            self._pids.pop(master.process.pid or -1, None)

    # -- connections -------------------------------------------------------------------------

    async def create_connection(
        self, protocol_factory: Callable[[], P]
    ) -> tuple[asyncio.Transport, P]:
        if self._closed:
            raise SSHError(f"the client for {self.host.address} is closed; create a new one")
        master = self._reserve()
        try:
            assert master.ready is not None
            await asyncio.shield(master.ready)
        except BaseException:
            master.sessions -= 1  # never started: its place is free again
            raise
        if master.forwarding:
            return await self._forwarded(master, protocol_factory)
        return await self._dial_stdio(master, protocol_factory)

    async def _forwarded(
        self, master: _Master, protocol_factory: Callable[[], P]
    ) -> tuple[asyncio.Transport, P]:
        """A channel of ``master`` that sshd connects to the daemon's socket."""
        inner: P | None = None

        def sniffing() -> _Sniffer:
            nonlocal inner
            inner = protocol_factory()
            assert isinstance(inner, asyncio.Protocol)
            return _Sniffer(inner, None, self)

        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_unix_connection(sniffing, master.forward_path)
        finally:
            master.sessions -= 1
        master.channels.append(transport)
        assert inner is not None
        return transport, inner

    async def _dial_stdio(
        self, master: _Master, protocol_factory: Callable[[], P]
    ) -> tuple[asyncio.Transport, P]:
        """A session of ``master`` running the remote ``docker system dial-stdio``."""
        loop = asyncio.get_running_loop()
        session: _Session | None = None
        parent: socket.socket | None = None
        try:
            session = _Session(master, os.path.join(self._directory(), f"s{self._numbers}.err"))
            self._numbers += 1
            parent, child = socket.socketpair()
            try:
                stderr = _stderr_file(session.stderr_path)
                try:
                    _, session.process = await loop.subprocess_exec(
                        lambda: _Process(loop, lambda code: self._session_gone(session, code)),
                        *self._ssh(
                            master.control_path,
                            "-o",
                            "ControlMaster=no",
                            # if the master refuses the session (MaxSessions) or is gone, ssh
                            # would log in anew, silently: one handshake per connection, the
                            # failure masters exist to avoid. Fail instead, and say why.
                            "-o",
                            "ProxyCommand=false",
                        ),
                        *self._remote_command(),
                        stdin=child.fileno(),
                        stdout=child.fileno(),
                        stderr=stderr,
                        start_new_session=True,
                    )
                finally:
                    os.close(stderr)
            finally:
                child.close()
            self._sessions.add(session)
            if session.process.pid is not None and session.process.returncode is None:
                self._pids[session.process.pid] = session.process
            inner: P | None = None

            def sniffing() -> _Sniffer:
                nonlocal inner
                inner = protocol_factory()
                assert isinstance(inner, asyncio.Protocol)
                assert session is not None
                return _Sniffer(inner, session, self)

            transport, _ = await loop.create_unix_connection(sniffing, sock=parent)
        except BaseException:
            if parent is not None:
                parent.close()
            if session is None or session.process is None:
                master.sessions -= 1  # never started: its place is free again
            else:
                session.process.kill()
            raise
        assert inner is not None
        return transport, inner

    def _session_gone(self, session: _Session | None, code: int) -> None:
        if session is None:
            return
        session.returncode = code
        session.stderr = _tail(session.stderr_path)
        with contextlib.suppress(OSError):
            os.unlink(session.stderr_path)
        master = session.master
        master.sessions -= 1
        if code != 0 and _SESSION_REFUSED.search(session.stderr):
            # the server holds fewer sessions per connection than we thought: fill no more
            master.capacity = max(1, master.sessions)
        self._sessions.discard(session)
        if session.process is not None:
            self._pids.pop(session.process.pid or -1, None)
        waiters, session.waiters = session.waiters, []
        for wake in waiters:
            wake()

    # -- wording -----------------------------------------------------------------------------

    def _how_to_try(self) -> str:
        target = self._target
        user = f"-l {target.user} " if target.user else ""
        port = f"-p {target.port} " if target.port else ""
        options = " ".join(shlex.quote(o) for o in target.options)
        options = f"{options} " if options else ""
        command = " ".join([*self._remote_command()[:-2], "version"])
        return f"ssh {options}{user}{port}{target.hostname} {command}"

    def _master_failure(self, master: _Master) -> str:
        address = self.host.address
        stderr = _tail(master.stderr_path)
        code = master.process.returncode if master.process is not None else None
        said = _quoted(stderr)
        target = self._target
        if _HOST_KEY.search(stderr):
            return (
                f"cannot connect to {address}: ssh refused the host key of {target.hostname}"
                f"{said}. It is not in your known_hosts, or it changed: check its fingerprint "
                f"with the host's administrator, then connect once by hand ({self._how_to_try()}) "
                "to record it, or add it to known_hosts (ssh-keyscan; a changed key: "
                f"ssh-keygen -R {target.hostname}); the library never accepts a key unseen"
            )
        if _AUTH.search(stderr):
            who = target.user or "your user name"
            return (
                f"cannot connect to {address}: ssh could not log in as {who}{said}. Put your "
                "public key in that user's ~/.ssh/authorized_keys on the host, and make sure "
                "ssh offers it (ssh-add for the agent, IdentityFile in ~/.ssh/config, or "
                "Docker(url, ssh_options=['-i', KEY])); passwords cannot be typed here. Try: "
                f"{self._how_to_try()}"
            )
        if re.search(r"Could not resolve hostname", stderr, re.I):
            return (f"cannot connect to {address}: {target.hostname} is not a known host "
                    f"name{said}; check the name (or its Host entry in ~/.ssh/config)")
        if re.search(r"Connection refused", stderr, re.I):
            return (f"cannot connect to {address}: connection refused{said}; is sshd running "
                    "there, on that port?")
        if re.search(r"kex_exchange_identification|Connection (closed|reset) by", stderr, re.I):
            return (f"cannot connect to {address}: the ssh server closed the connection before "
                    f"the login{said}. sshd drops logins beyond its MaxStartups (10 at once by "
                    "default) and refuses hosts its configuration denies: check its log; this "
                    f"client starts at most {_HANDSHAKES} at once")
        if re.search(r"timed out", stderr, re.I):
            return (f"cannot connect to {address}: the ssh connection timed out{said}; is the "
                    "host reachable (a firewall, a jump host)? Docker(connect_timeout=…) "
                    "for slow links")
        return (f"cannot connect to {address}: ssh failed (exit {code}){said}. Try: "
                f"{self._how_to_try()}")

    def _handshake_slow(self, master: _Master) -> str:
        return (
            f"cannot connect to {self.host.address}: the ssh connection was not up within "
            f"{self._target.connect_timeout:g}s (Docker(connect_timeout=…))"
            f"{_quoted(_tail(master.stderr_path))}; is the host reachable, and does ssh log "
            f"in without a prompt? Try: {self._how_to_try()}"
        )

    def _session_failure(self, session: _Session) -> str:
        address = self.host.address
        stderr = session.stderr or _tail(session.stderr_path)
        code = session.returncode
        said = _quoted(stderr)
        if _SESSION_REFUSED.search(stderr):
            return (
                f"cannot connect to {address}: the ssh server refused another session on a "
                f"connection that carried {session.master.sessions}{said}. sshd allows "
                "MaxSessions sessions (connections and streams) per ssh connection, 10 by "
                "default; this client opens another ssh connection every "
                f"ssh_sessions={self._target.sessions} sessions: set "
                "Docker(url, ssh_sessions=N) to the server's MaxSessions (or raise MaxSessions "
                "in its sshd_config)"
            )
        if code == 127 or _NOT_FOUND.search(stderr):
            return (
                f"cannot connect to {address}: the remote host has no `docker` command on the "
                f"PATH of non-interactive ssh commands (exit {code}){said}. Install the Docker "
                "CLI there, or make it reachable for ssh commands (a link in /usr/local/bin or "
                "/usr/bin; PATH set in ~/.bashrc before any 'return' for non-interactive "
                f"shells). Try: {self._how_to_try()}"
            )
        if _NO_DAEMON.search(stderr):
            return (
                f"cannot connect to {address}: the remote docker could not reach the daemon "
                f"(exit {code}){said}. Is dockerd running there, is the socket path right "
                f"({self._target.socket_path or 'the remote default'}), and may the ssh user "
                "use it (the docker group)?"
            )
        if code == 255 and not _is_socket(session.master.control_path):
            self._master_gone(session.master)
            return (
                f"the ssh connection to {address} was lost (its master connection ended: "
                "the network, the server, or a process that ended it); the next call logs in "
                f"again{said}"
            )
        if code == 255:
            return (
                f"the ssh connection to {address} failed or was lost (exit 255){said}. "
                f"Try: {self._how_to_try()}"
            )
        return (
            f"cannot connect to {address}: the remote `docker system dial-stdio` ended before "
            f"the daemon answered (exit {code}){said}. Try: {self._how_to_try()}"
        )

    def _forward_failure(self, head: bytes | None, master: _Master | None = None) -> str:
        """A forwarded connection that ended (``head`` None or empty) or began with something
        else than the daemon's HTTP answer; ``master``: when proving its forward."""
        address = self.host.address
        path = self._target.socket_path
        said = _quoted(_tail(master.stderr_path)) if master is not None else ""
        if head:
            return (
                f"cannot talk to the daemon at {address}: the connection forwarded to {path} "
                f"began with {head[:120]!r}, not an HTTP answer; is {path} the Docker daemon's "
                "socket?"
            )
        if master is not None:
            return (
                f"cannot connect to {address}: the ssh server did not forward a connection to "
                f"{path}{said}. Either sshd refuses stream-local forwarding "
                "(AllowStreamLocalForwarding no, DisableForwarding yes, or restrict/"
                "no-port-forwarding in authorized_keys), or no daemon listens on that path, or "
                "the ssh user may not use it (the docker group). Docker(url, "
                "ssh_mode='auto') falls back to the remote `docker system dial-stdio`"
            )
        return (
            f"the connection to {address} forwarded to {path} closed before the daemon "
            "answered: the daemon stopped or restarted, or the ssh connection was lost"
        )

    def _shell_output(self, head: bytes, session: _Session) -> str:
        stderr = _tail(session.stderr_path)
        extra = f" (ssh's stderr: {stderr!r})" if stderr else ""
        return (
            f"cannot talk to the daemon at {self.host.address}: the ssh session did not begin "
            f"with the daemon's HTTP answer but with {head[:120]!r}{extra}. The remote login "
            "shell prints text for non-interactive commands (bash reads ~/.bashrc for ssh "
            "commands, also /etc/bash.bashrc, ~/.profile…), which corrupts the stream: make "
            "those files print nothing unless interactive (e.g. begin ~/.bashrc with "
            "'[ -z \"$PS1\" ] && return')"
        )

    def explain(self, exc: BaseException) -> str | None:
        """Word ssh's failures: the :class:`SSHError` in ``exc``'s chain, or a handshake that
        did not finish within the connect timeout.

        Args:
            exc: the failure of a connection, a request or a stream.

        Returns:
            The message, or ``None`` when ``exc`` is not ssh's doing.
        """
        error: BaseException | None = exc
        for _ in range(8):
            if error is None or isinstance(error, SSHError):
                break
            inner = getattr(error, "os_error", None)
            error = inner if isinstance(inner, BaseException) and inner is not error else (
                error.__cause__ or error.__context__
            )
        if isinstance(error, SSHError):
            return str(error)
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
            starting = [m for m in self._masters if not m.up and not m.dead]
            if starting:
                return self._handshake_slow(starting[0])
        return None

    # -- closing -----------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop every master connection (``ssh -O exit``), wait for every ssh process to end
        (killing what has not within a few seconds) and remove the private directory."""
        self._closed = True
        masters = list(self._masters)
        starting = [m.ready for m in masters if m.ready is not None and not m.ready.done()]
        for ready in starting:
            ready.cancel()
        if starting:
            await asyncio.gather(*starting, return_exceptions=True)
        loop = asyncio.get_running_loop()
        stops = []
        for master in masters:
            if master.up and not master.dead:
                with contextlib.suppress(SSHError):
                    args = self._ssh(master.control_path, "-O", "exit")
                    stops.append(loop.subprocess_exec(
                        lambda: _Process(loop, _ignore),
                        *args,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        start_new_session=True,
                    ))
        exits: list[asyncio.Future[int]] = []
        for started in await asyncio.gather(*stops, return_exceptions=True):
            if isinstance(started, tuple):
                exits.append(started[1].exited)
        processes = list(self._pids.values())  # masters and sessions, gone ones included
        exits += [p.exited for p in processes if p.returncode is None]
        if exits:
            _, pending = await asyncio.wait(exits, timeout=_EXIT_GRACE)
            if pending:
                for process in processes:
                    process.kill()
                await asyncio.wait(pending, timeout=_EXIT_GRACE)
        self._masters.clear()
        if self._dir:
            shutil.rmtree(self._dir[0], ignore_errors=True)
            self._dir.clear()
        self._finalizer.detach()


def _retrieved(task: asyncio.Future[Any]) -> None:
    """Mark a master's start as seen, whether anyone still waits for it or not."""
    if not task.cancelled():
        task.exception()


def connector_for(host: HostConfig) -> Connector:
    """The connection factory for a resolved address."""
    if host.ssh is not None:
        return SSHConnector(host)
    if host.socket_path is not None:
        return UnixConnector(host)
    return TCPConnector(host)


async def open_local_socket(path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to a local unix socket that is not a daemon's: an ssh agent's, whose
    requests a BuildKit session relays (``images.build(..., ssh=...)``).

    Raises:
        OSError: the socket is missing, refuses, or is not a socket.
    """
    return await asyncio.open_unix_connection(path)
