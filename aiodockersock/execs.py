"""The exec area of the Engine API: ``docker.execs`` runs commands inside running containers.

An exec goes through ``POST /containers/{id}/exec`` (create), ``POST /exec/{id}/start`` and
``GET /exec/{id}/json`` (inspect, for the exit code). Starting an exec without detaching
upgrades the HTTP connection (the transport's ``upgrade``): the same socket then carries
the process's stdin one way and its output the other, so one code path serves both the
collected output of :meth:`Execs.run` and the interactive sessions of :meth:`Execs.open`, and
output arrives as the process writes it on every engine.

How the output is framed follows the ``Tty`` flag of the *start* request (the Engine wraps the
output in stdout/stderr frames unless the client asks for a TTY stream), so the client always
knows which it will get: it sends the exec's own TTY setting.
"""

from __future__ import annotations

import asyncio
import functools
import shlex
from collections.abc import Mapping, Sequence

from ._args import container_ref
from ._attach import AttachStream, Session, detach_sequence
from ._exceptions import InvalidArgument, StreamBroken, WaitTimeout
from ._podman import DETACHED_EXEC_HINT
from ._transport import Area
from .models.execs import (
    ExecCreateBody,
    ExecCreateResponse,
    ExecInspect,
    ExecResult,
    ExecStartBody,
)
from .models.output import ContainerLogs

__all__ = ["Execs"]

#: Environment variables: a mapping, or ``"NAME=value"`` strings.
Env = Mapping[str, str] | Sequence[str]


def _command(cmd: str | Sequence[str]) -> list[str]:
    if isinstance(cmd, str):
        command = shlex.split(cmd)
    elif isinstance(cmd, Sequence) and all(isinstance(part, str) for part in cmd):
        command = list(cmd)
    else:
        raise InvalidArgument(f"cmd must be a str or a list of str, not {cmd!r}")
    if not command:
        raise InvalidArgument("cmd must name a command to run")
    return command


def _env(env: Env | None) -> list[str] | None:
    if env is None:
        return None
    if isinstance(env, Mapping):
        return [f"{name}={value}" for name, value in env.items()]
    if isinstance(env, str) or not all(isinstance(item, str) for item in env):
        raise InvalidArgument('env must be a mapping or a list of "NAME=value" strings')
    return list(env)


def _size(console_size: tuple[int, int] | None) -> list[int] | None:
    if console_size is None:
        return None
    height, width = console_size
    if not (isinstance(height, int) and isinstance(width, int) and height > 0 and width > 0):
        raise InvalidArgument(f"console_size must be (height, width) > 0, not {console_size!r}")
    return [height, width]


class Execs(Area):
    """Run commands inside running containers (``/containers/{id}/exec``, ``/exec/…``)."""

    __slots__ = ()

    async def create(
        self,
        container: str,
        cmd: str | Sequence[str],
        *,
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        tty: bool = False,
        env: Env | None = None,
        workdir: str | None = None,
        user: str | None = None,
        privileged: bool = False,
        detach_keys: str | None = None,
    ) -> ExecCreateResponse:
        """Set up a command to run in a running container (it does not start yet).

        ``POST /containers/{id}/exec``

        Args:
            container: the container's id or name.
            cmd: the command and its arguments; a string is split like a shell would
                (``"sh -c 'echo hi'"``), it is not run by a shell.
            stdin: attach standard input (for :meth:`start` to write to it).
            stdout: attach standard output.
            stderr: attach standard error.
            tty: give the process a pseudo-terminal (its output is then one raw stream).
            env: extra environment variables: ``{"NAME": "value"}`` or ``["NAME=value"]``.
            workdir: the working directory (the container's own when omitted).
            user: ``user``, ``user:group``, ``uid`` or ``uid:gid`` (the container's user when
                omitted).
            privileged: run with extended privileges.
            detach_keys: the key sequence that detaches from a TTY session
                (``"ctrl-p,ctrl-q"`` when omitted).

        Returns:
            An ``ExecCreateResponse``: the new exec instance's id is its ``.id`` (pass that to
            :meth:`start`, :meth:`start_detached`, :meth:`inspect` or :meth:`wait`).

        Raises:
            NotFound: no such container.
            Conflict: the container is not running, or is paused.
            BadRequest: the configuration is invalid (newer engines also refuse an unknown
                ``user`` here; API 1.41 engines fail at start instead).
            InvalidArgument: ``cmd`` is empty, or ``env``/``detach_keys`` are malformed.
        """
        detach_sequence(detach_keys)  # refuse a malformed one before sending
        body = ExecCreateBody(
            attach_stdin=stdin, attach_stdout=stdout, attach_stderr=stderr, tty=tty,
            env=_env(env), cmd=_command(cmd), working_dir=workdir, user=user,
            privileged=privileged or None, detach_keys=detach_keys,
        )
        path = self._t.path("/containers/{}/exec", container_ref(container))
        return (await self._t.request("POST", path, body=body)).decode(ExecCreateResponse)

    def start(
        self, exec_id: str, *, console_size: tuple[int, int] | None = None
    ) -> AttachStream:
        """Start a created exec and attach to it; the stream connects on first use.

        ``GET /exec/{id}/json`` (to learn its TTY, stdin and detach-key settings), then
        ``POST /exec/{id}/start`` (hijacked: the connection becomes the process's stdio).

        Use ``async with docker.execs.start(exec_id) as stream:`` and iterate it for the
        output; write to it if the exec was created with ``stdin=True``.

        Args:
            exec_id: the exec instance's id.
            console_size: the TTY's initial ``(height, width)``; on API 1.41, where the start
                request cannot carry it, the TTY is resized right after starting (a process
                that reads its size at once may still see 0x0 there).

        Returns:
            An :class:`AttachStream` (not yet connected).

        Raises:
            NotFound: no such exec instance (when the stream opens).
            InvalidArgument: a malformed ``console_size`` (at once).
        """
        size = _size(console_size)
        self._t.path("/exec/{}/start", exec_id)  # refuse a bad id at once

        async def opener() -> Session:
            info = await self.inspect(exec_id)
            tty = bool(info.process_config is not None and info.process_config.tty)
            keys = detach_sequence(info.detach_keys or None)
            return await self._attach(exec_id, tty, bool(info.open_stdin), keys, size)

        return AttachStream(opener, f"the stream of exec {exec_id[:12]}")

    async def start_detached(self, exec_id: str, *, tty: bool = False) -> None:
        """Start a created exec in the background; nothing is attached.

        ``POST /exec/{id}/start`` (with ``Detach``)

        Use :meth:`wait` for its exit code (not on Podman 4.3, which never records it).

        Args:
            exec_id: the exec instance's id.
            tty: whether it was created with a TTY.

        Raises:
            NotFound: no such exec instance.
            Conflict: it has already been started, or the container is not running.
        """
        body = ExecStartBody(detach=True, tty=tty)
        await self._t.request("POST", self._t.path("/exec/{}/start", exec_id), body=body)

    def open(
        self,
        container: str,
        cmd: str | Sequence[str],
        *,
        stdin: bool = True,
        stdout: bool = True,
        stderr: bool = True,
        tty: bool = False,
        env: Env | None = None,
        workdir: str | None = None,
        user: str | None = None,
        privileged: bool = False,
        detach_keys: str | None = None,
        console_size: tuple[int, int] | None = None,
    ) -> AttachStream:
        """Run a command interactively: create the exec and start it attached, stdin included.

        ``POST /containers/{id}/exec``, then ``POST /exec/{id}/start`` (hijacked), when the
        stream connects::

            async with docker.execs.open(cid, ["sh"]) as shell:
                await shell.write(b"echo $((6 * 7))\\n")
                frame = await anext(shell)        # LogFrame("stdout", b"42\\n")
                await shell.close_stdin()         # sh exits
            code = (await docker.execs.wait(shell.exec_id)).exit_code

        Args:
            container, cmd, stdin, stdout, stderr, tty, env, workdir, user, privileged,
            detach_keys: as for :meth:`create` (``stdin`` defaults to ``True`` here).
            console_size: the TTY's initial ``(height, width)`` (see :meth:`start`).

        Returns:
            An :class:`AttachStream` (not yet connected); its ``exec_id`` is set once it is.

        Raises:
            NotFound: no such container (when the stream opens).
            Conflict: the container is not running or is paused (when the stream opens).
            InvalidArgument: malformed arguments (at once).
        """
        command = _command(cmd)
        keys = detach_sequence(detach_keys)
        environment = _env(env)
        size = _size(console_size)

        async def opener() -> Session:
            created = await self.create(
                container, command, stdin=stdin, stdout=stdout, stderr=stderr, tty=tty,
                env=environment, workdir=workdir, user=user, privileged=privileged,
                detach_keys=detach_keys,
            )
            assert created.id is not None
            return await self._attach(created.id, tty, stdin, keys, size)

        return AttachStream(opener, f"the stream of an exec of {command[0]!r}")

    async def run(
        self,
        container: str,
        cmd: str | Sequence[str],
        *,
        input: bytes | None = None,
        stdout: bool = True,
        stderr: bool = True,
        tty: bool = False,
        env: Env | None = None,
        workdir: str | None = None,
        user: str | None = None,
        privileged: bool = False,
    ) -> ExecResult:
        """Run a command in a running container and collect its exit code and output.

        ``POST /containers/{id}/exec``, ``POST /exec/{id}/start`` (hijacked), then
        ``GET /exec/{id}/json`` until the process has exited.

        A non-zero exit code is returned, not raised: check ``result.exit_code``.

        Args:
            container: the container's id or name.
            cmd: the command (a string is split like a shell would; it is not run by a shell).
            input: bytes to feed to the process's standard input, which is then closed (as
                ``subprocess.run(input=...)`` does; written while the output is read, so large
                inputs cannot deadlock). Not with ``tty`` (a terminal has no end of input: use
                :meth:`open` and write ``b"\\x04"``), nor over TLS, where stdin cannot be
                closed alone.
            stdout: collect standard output.
            stderr: collect standard error.
            tty: run with a pseudo-terminal (the output is then one raw stream, with ``\\r\\n``
                line ends).
            env, workdir, user, privileged: as for :meth:`create`.

        Returns:
            The exec's id, exit code and output (``result.stdout``, ``result.stderr``).

        Raises:
            NotFound: no such container.
            Conflict: the container is not running, or is paused.
            StreamBroken: the connection was lost before the output ended, or the engine lost
                the output (Podman, now and then, when the process exits before reading all
                of ``input``: the message says so).
            InvalidArgument: ``input`` with ``tty``.
        """
        if input is not None and tty:
            raise InvalidArgument(
                "run() cannot feed input to a TTY exec: a terminal has no end of input; use "
                "execs.open(..., tty=True), write the input and then b'\\x04' (Ctrl-D)"
            )
        created = await self.create(
            container, cmd, stdin=input is not None, stdout=stdout, stderr=stderr, tty=tty,
            env=env, workdir=workdir, user=user, privileged=privileged,
        )
        exec_id = created.id
        assert exec_id is not None
        opener = functools.partial(self._attach, exec_id, tty, input is not None)
        async with AttachStream(opener, f"the stream of exec {exec_id[:12]}") as stream:
            output = await (stream.read() if input is None else _communicate(stream, input))
        info = await self.wait(exec_id)
        code = info.exit_code if info.exit_code is not None else -1
        return ExecResult(id=exec_id, exit_code=code, output=output)

    async def inspect(self, exec_id: str) -> ExecInspect:
        """An exec's state: running or not, its exit code, process and container.

        ``GET /exec/{id}/json``

        Raises:
            NotFound: no such exec instance (execs vanish with their container, and some time
                after they exit).
        """
        resp = await self._t.request("GET", self._t.path("/exec/{}/json", exec_id))
        return resp.decode(ExecInspect)

    async def wait(self, exec_id: str, *, timeout: float | None = None) -> ExecInspect:
        """Wait until an exec's process has exited, and return its final state.

        ``GET /exec/{id}/json``, repeated (the Engine has no wait endpoint for execs): at
        once, then with a delay growing from 5 ms to 250 ms. The output stream of an exec can
        end a moment before the Engine records its exit code; this waits for it.

        Args:
            exec_id: the exec instance's id.
            timeout: give up after this many seconds (``None``: wait as long as it takes).

        Podman 4.3 never records the exit of an exec started with :meth:`start_detached`: it
        stays "running" until Podman removes it, minutes later. Start it attached to wait
        for it there.

        Returns:
            Its inspection; ``exit_code`` is set unless it was never started.

        Raises:
            WaitTimeout: still running after ``timeout`` seconds.
            NotFound: no such exec instance.
        """
        try:
            return await asyncio.wait_for(self._poll(exec_id), timeout)
        except asyncio.TimeoutError:
            hint = DETACHED_EXEC_HINT if self._t.podman_version else ""
            raise WaitTimeout(
                f"exec {exec_id[:12]} was still running after {timeout} s{hint}"
            ) from None

    async def _poll(self, exec_id: str) -> ExecInspect:
        delay = 0.005
        while True:
            info = await self.inspect(exec_id)
            if not info.running:
                return info
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.25)

    async def resize(self, exec_id: str, height: int, width: int) -> None:
        """Resize the TTY of a started exec.

        ``POST /exec/{id}/resize``

        Args:
            exec_id: the exec instance's id.
            height: rows.
            width: columns.

        Raises:
            NotFound: no such exec instance, or it is no longer running.
            ServerError: it was never started (the Engine times out waiting for it) or has
                no TTY.
        """
        query = {"h": height, "w": width}
        await self._t.request("POST", self._t.path("/exec/{}/resize", exec_id), query=query)

    async def _attach(
        self, exec_id: str, tty: bool, stdin: bool, detach_keys: bytes = b"",
        console_size: list[int] | None = None,
    ) -> Session:
        size = console_size if tty else None
        late = None  # API 1.41's start request cannot carry the size: resize once started
        if size is not None and not await self._t.api_at_least("1.42"):
            late, size = size, None
        body = ExecStartBody(detach=False, tty=tty, console_size=size)
        conn = await self._t.upgrade("POST", self._t.path("/exec/{}/start", exec_id), body=body)
        try:
            if late is not None:
                await self.resize(exec_id, *late)
        except BaseException:
            conn.writer.close()
            raise
        podman = await self._t.is_podman()  # known by now: the exec was created or inspected
        keys = detach_keys or detach_sequence(None)
        resize = functools.partial(self.resize, exec_id)
        return Session(conn, tty, stdin, keys, exec_id, resize, podman)


async def _communicate(stream: AttachStream, data: bytes) -> ContainerLogs:
    """Write ``data`` then close stdin, while reading all the output."""

    async def feed() -> None:
        try:
            await stream.write(data)
            await stream.close_stdin()
        except StreamBroken:
            pass  # the process stopped reading (like a broken pipe); the reader reports the rest

    reader = asyncio.ensure_future(stream.read())
    feeder = asyncio.ensure_future(feed())
    try:
        # The output ending first is normal (the process need not read all of its input);
        # the input failing otherwise (TLS: stdin cannot be closed alone) is an error.
        await asyncio.wait({reader, feeder}, return_when=asyncio.FIRST_COMPLETED)
        if not reader.done():
            feeder.result()
        return await reader
    finally:
        for task in (reader, feeder):
            task.cancel()
        await asyncio.wait({reader, feeder})
        for task in (reader, feeder):
            if not task.cancelled():
                task.exception()  # retrieved: never "Task exception was never retrieved"
