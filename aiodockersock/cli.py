"""``python -m aiodockersock`` (and the ``aiodockersock`` script): a small Docker command line.

Commands: ``version``, ``info``, ``ps``, ``inspect``, ``run``, ``logs``, ``exec``, ``pull``,
``events`` and ``demo`` (create and start a container while the live event stream prints what
happens, then clean up); ``--help`` on each tells its options.

Everywhere:

- ``--host``/``-H`` (or ``DOCKER_HOST``) picks the daemon, before or after the command.
- ``--json`` prints machine-readable output: one JSON document for a command that answers once
  (``version``, ``info``, ``ps``, ``inspect``, ``exec``, ``run -d``), one JSON object per line
  for a stream (``events``, ``logs``, ``pull``, attached ``run``, ``demo``). Engine objects keep
  the Engine's own field names.
- Exit status: 0 on success; ``run`` and ``exec`` exit with the status of the process they ran;
  1 for an expected failure (no daemon, no such container or image, a failed pull …), which
  prints one line on stderr, ``aiodockersock: <what went wrong>``, and no traceback; 2 for a
  command line argparse cannot parse; 130 after Ctrl-C.
- Ctrl-C cancels the command, which cleans up before exiting with 130: ``run`` stops its
  container (its stop signal, then SIGKILL after its stop timeout; a second Ctrl-C kills it at
  once) and removes it with ``--rm``; streams (``logs -f``, ``events``, ``pull``) just close.

Terminals: ``exec -it`` on a terminal puts it in raw mode (restored on exit), so every key,
Ctrl-C included, goes to the process; the process's terminal gets our size and follows our
resizes (SIGWINCH); ctrl-p ctrl-q detaches (exit 0). ``exec -t`` without ``-i`` gives the process
a terminal and relays its raw output; ``-it`` with stdin not a terminal is refused. ``pull``
redraws its layer lines in place only when stdout is a terminal. ``run`` attaches no stdin and
no terminal (no ``-i``/``-t``).
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any, BinaryIO, TextIO

import msgspec

from ._attach import AttachStream, detach_sequence
from ._client import Docker
from ._exceptions import (
    APIError,
    Conflict,
    DockerError,
    InvalidArgument,
    NotFound,
    RegistryUnreachable,
    StreamBroken,
    StreamClosed,
)
from .models.containers import ContainerCreateBody, HostConfig
from .models.events import EventMessage
from .models.output import LogFrame
from .models.progress import ProgressMessage

__all__ = ["PullDisplay", "format_event", "main"]

DEMO_IMAGES = ("aiodockersock-test/busybox:latest", "busybox:latest", "alpine:latest")

Command = Callable[[Docker, argparse.Namespace], Awaitable[int]]


# -- output ------------------------------------------------------------------------------------


class OutputLine(msgspec.Struct, omit_defaults=True):
    """A line of container output in ``--json`` mode (``logs``, attached ``run``)."""

    stream: str
    text: str
    timestamp: str | None = None


class RunExit(msgspec.Struct):
    """The last ``--json`` line of an attached ``run``."""

    id: str
    exit_code: int
    removed: bool


class ExecOutput(msgspec.Struct):
    """What ``exec --json`` prints: the exec's id, its exit status and its output as text."""

    id: str
    exit_code: int
    stdout: str
    stderr: str


def _print_json(value: Any) -> None:
    sys.stdout.write(msgspec.json.encode(value).decode() + "\n")
    sys.stdout.flush()


def _binary(stream: TextIO) -> BinaryIO:
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a stream without bytes underneath (e.g. replaced by a test harness)
        raise DockerError("cannot write binary output to this stream")
    stream.flush()
    return buffer  # type: ignore[no-any-return]


def _relay(frame: LogFrame) -> None:
    """Write a frame to our stdout or stderr (as the container wrote it) at once."""
    out = _binary(sys.stderr if frame.stream == "stderr" else sys.stdout)
    out.write(frame.data)
    out.flush()


class LineSplitter:
    """Frames in, text lines out, per stream: a line (or a character) split across frames is
    joined; the last unterminated line comes from :meth:`flush`."""

    def __init__(self) -> None:
        self._pending: dict[str, str] = {}
        self._decoders: dict[str, codecs.IncrementalDecoder] = {}

    def feed(self, frame: LogFrame) -> list[OutputLine]:
        decoder = self._decoders.get(frame.stream)
        if decoder is None:
            decoder = self._decoders[frame.stream] = codecs.getincrementaldecoder("utf-8")(
                "replace"
            )
        parts = (self._pending.get(frame.stream, "") + decoder.decode(frame.data)).split("\n")
        self._pending[frame.stream] = parts.pop()
        return [OutputLine(frame.stream, part.removesuffix("\r")) for part in parts]

    def flush(self) -> list[OutputLine]:
        lines = []
        for stream, decoder in self._decoders.items():
            rest = self._pending.pop(stream, "") + decoder.decode(b"", final=True)
            if rest:
                lines.append(OutputLine(stream, rest.removesuffix("\r")))
        return lines


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, APIError) and not isinstance(exc, RegistryUnreachable) and exc.message:
        text = exc.message  # the daemon's own words; the status and path are noise here
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines) or type(exc).__name__


def _warn(text: str) -> None:
    print(f"aiodockersock: {text}", file=sys.stderr, flush=True)


# -- version, info, ps -------------------------------------------------------------------------


def _age(created: int | None) -> str:
    if not created:
        return "?"
    seconds = max(0, int(time.time()) - created)
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} seconds ago"


async def _version(docker: Docker, args: argparse.Namespace) -> int:
    v = await docker.version()
    if args.json:
        _print_json(v)
        return 0
    print(f"Engine:      {v.version}")
    print(f"API version: {v.api_version} (min {v.min_api_version}); client uses "
          f"{docker.api_version}")
    print(f"OS/Arch:     {v.os}/{v.arch}  kernel {v.kernel_version}")
    print(f"Go version:  {v.go_version}  commit {v.git_commit}")
    for component in v.components or []:
        print(f"  {component.name}: {component.version}")
    return 0


async def _info(docker: Docker, args: argparse.Namespace) -> int:
    info = await docker.info()
    if args.json:
        _print_json(info)
        return 0
    print(f"Name:        {info.name}")
    print(f"Containers:  {info.containers} (running {info.containers_running}, "
          f"paused {info.containers_paused}, stopped {info.containers_stopped})")
    print(f"Images:      {info.images}")
    print(f"Server:      {info.server_version}  storage {info.driver}  cgroup "
          f"{info.cgroup_driver} v{info.cgroup_version}")
    print(f"OS:          {info.operating_system}  kernel {info.kernel_version}  "
          f"{info.ncpu} CPUs  {(info.mem_total or 0) / 2**30:.1f} GiB")
    print(f"Root dir:    {info.docker_root_dir}")
    return 0


async def _ps(docker: Docker, args: argparse.Namespace) -> int:
    filters = _filters(args.filter)
    containers = await docker.containers.list(all=args.all, filters=filters or None)
    if args.json:
        _print_json(containers)
        return 0
    rows = [("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES")]
    for c in containers:
        command = c.command or ""
        if len(command) > 20:
            command = command[:19] + "…"
        rows.append((
            (c.id or "")[:12],
            c.image or "",
            f'"{command}"',
            _age(c.created),
            c.status or "",
            ",".join(n.lstrip("/") for n in c.names or []),
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


# -- inspect -----------------------------------------------------------------------------------


async def _inspect(docker: Docker, args: argparse.Namespace) -> int:
    found: list[Any] = []
    missing: list[str] = []
    for name in args.names:
        obj: Any = None
        if args.type in (None, "container"):
            with contextlib.suppress(NotFound):
                obj = await docker.containers.inspect(name, size=args.size)
        if obj is None and args.type in (None, "image"):
            with contextlib.suppress(NotFound):
                obj = await docker.images.inspect(name)
        if obj is None:
            missing.append(name)
        else:
            found.append(obj)
    encoded = msgspec.json.encode(found)
    if not args.json:
        encoded = msgspec.json.format(encoded, indent=4)
    sys.stdout.write(encoded.decode() + "\n")
    sys.stdout.flush()
    for name in missing:
        _warn(f"no such {args.type or 'container or image'}: {name}")
    return 1 if missing else 0


# -- run ---------------------------------------------------------------------------------------


def _env(items: Sequence[str] | None) -> list[str]:
    """``-e NAME=value`` as given; ``-e NAME`` takes NAME from our environment (or is
    dropped if it is not set there), as the Docker CLI does."""
    env = []
    for item in items or []:
        name, sep, _ = item.partition("=")
        if not name:
            raise InvalidArgument(f"-e takes NAME=value or NAME, not {item!r}")
        if sep:
            env.append(item)
        elif name in os.environ:
            env.append(f"{name}={os.environ[name]}")
    return env


async def _stop(docker: Docker, cid: str, *, hurry: asyncio.Event) -> None:
    """Stop a container (its stop signal, then SIGKILL after its stop timeout), or kill it at
    once when ``hurry`` is set meanwhile (a second Ctrl-C)."""
    if sys.stderr.isatty():
        _warn(f"stopping {cid[:12]} (Ctrl-C again to kill it)")
    stopping = asyncio.ensure_future(docker.containers.stop(cid))
    hurried = asyncio.ensure_future(hurry.wait())
    try:
        await asyncio.wait({stopping, hurried}, return_when=asyncio.FIRST_COMPLETED)
        if not stopping.done():
            with contextlib.suppress(Conflict, NotFound):
                await docker.containers.kill(cid)
        with contextlib.suppress(NotFound):
            await stopping
    finally:
        await _cancel(stopping, hurried)


async def _cancel(*tasks: asyncio.Future[Any]) -> None:
    """Cancel tasks and wait until they are done; their errors are dropped."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved"


async def _shielded(coro: Awaitable[Any]) -> None:
    """Run a cleanup to its end even when the command is being cancelled (Ctrl-C)."""
    task = asyncio.ensure_future(coro)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


async def _run(docker: Docker, args: argparse.Namespace) -> int:
    body = ContainerCreateBody(
        image=args.image,
        cmd=list(args.cmd) or None,
        env=_env(args.env) or None,
        working_dir=args.workdir,
        user=args.user,
        stop_timeout=args.stop_timeout,
        host_config=HostConfig(
            network_mode=args.network, auto_remove=True if args.rm and args.detach else None
        ),
    )
    created = await docker.containers.create(body, name=args.name)
    for warning in created.warnings or []:
        _warn(f"warning: {warning}")
    cid = created.id
    assert cid is not None
    if args.detach:
        try:
            await docker.containers.start(cid)
        except BaseException:
            if args.rm:  # it may have removed itself already
                with contextlib.suppress(DockerError):
                    await _shielded(docker.containers.remove(cid, force=True))
            raise
        if args.json:
            _print_json(created)
        else:
            print(cid, flush=True)
        return 0
    return await _run_attached(docker, args, cid)


async def _run_attached(docker: Docker, args: argparse.Namespace, cid: str) -> int:
    splitter = LineSplitter() if args.json else None

    async def relay(output: AttachStream) -> None:
        async for frame in output:
            if splitter is None:
                _relay(frame)
            else:
                for line in splitter.feed(frame):
                    _print_json(line)

    # attached before it starts, so no output can be missed (as `docker run` does)
    output = docker.containers.attach(cid)
    relaying: asyncio.Future[None] | None = None
    try:
        await output.open()
        await docker.containers.start(cid)
        relaying = asyncio.ensure_future(relay(output))
        await asyncio.shield(relaying)  # Ctrl-C interrupts the waiting, not the relaying
        waited = await docker.containers.wait(cid)
    except asyncio.CancelledError:
        await _shielded(_interrupted(docker, cid, relaying, args))
        raise
    except BaseException:
        if args.rm:
            with contextlib.suppress(DockerError):
                await _shielded(docker.containers.remove(cid, force=True))
        raise
    finally:
        if relaying is not None:
            await _cancel(relaying)
        await output.aclose()
    if args.rm:
        with contextlib.suppress(NotFound):
            await _shielded(docker.containers.remove(cid, force=True))
    code = waited.status_code if waited.status_code is not None else 1
    if splitter is not None:
        for line in splitter.flush():
            _print_json(line)
        _print_json(RunExit(cid, code, args.rm))
    return code


async def _interrupted(
    docker: Docker, cid: str, relaying: asyncio.Future[None] | None, args: argparse.Namespace
) -> None:
    """Ctrl-C during an attached run: stop the container, relaying what it writes meanwhile
    (say, how it shuts down), then remove it with ``--rm``."""
    await _stop(docker, cid, hurry=args.hurry)
    if relaying is not None:
        await asyncio.wait([relaying], timeout=5)  # the output ends as the container stops
    if args.rm:
        with contextlib.suppress(NotFound, Conflict):  # Conflict: being removed already
            await docker.containers.remove(cid, force=True)


# -- logs --------------------------------------------------------------------------------------


def _tail(value: str) -> int | str:
    if value == "all":
        return value
    try:
        lines = int(value)
    except ValueError:
        lines = -1
    if lines < 0:
        raise argparse.ArgumentTypeError(f"a number of lines or 'all', not {value!r}")
    return lines


async def _logs(docker: Docker, args: argparse.Namespace) -> int:
    stream = docker.containers.logs(
        args.container, follow=args.follow, tail=args.tail, timestamps=args.timestamps
    )
    async with stream:
        if args.json:
            async for line in stream.lines():
                _print_json(OutputLine(line.stream, line.text, line.timestamp))
        else:
            async for frame in stream:
                _relay(frame)
    return 0


# -- exec --------------------------------------------------------------------------------------


class StdinReader:
    """Reads a file descriptor in a daemon thread and hands the chunks to the event loop.

    A thread rather than ``connect_read_pipe``: it works for a terminal, a pipe and a regular
    file alike, and it never switches the descriptor (shared with the shell) to non-blocking.
    One chunk is in flight at a time, so a slow consumer holds the reading back. The thread
    is a daemon: if the command ends while it waits for input, it is simply abandoned.
    """

    def __init__(self, fd: int, chunk: int = 65536) -> None:
        self._loop = asyncio.get_running_loop()
        self._fd = fd
        self._chunk = chunk
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._taken = threading.Semaphore(0)
        self._eof = False
        threading.Thread(target=self._pump, name="aiodockersock-stdin", daemon=True).start()

    def _pump(self) -> None:
        while True:
            try:
                data = os.read(self._fd, self._chunk)
            except OSError:
                data = b""
            try:
                self._loop.call_soon_threadsafe(self._queue.put_nowait, data)
            except RuntimeError:  # the event loop is closed: nobody wants it any more
                return
            if not data:
                return
            self._taken.acquire()

    async def read(self) -> bytes:
        """The next chunk; ``b""`` at the end of input."""
        if self._eof:
            return b""
        data = await self._queue.get()
        if data:
            self._taken.release()
        else:
            self._eof = True
        return data


class DetachWatch:
    """Notices the detach keys in what is typed: on a TTY the Engine then ends the session
    (newer engines leave the process running but record the exec as failed, with 126)."""

    def __init__(self, keys: bytes) -> None:
        self._keys = keys
        self._tail = b""
        self.seen = False

    def feed(self, data: bytes) -> None:
        window = self._tail + data
        self.seen = self.seen or self._keys in window
        self._tail = window[len(window) - len(self._keys) + 1:] if len(self._keys) > 1 else b""


async def _feed_stdin(stream: AttachStream, *, tty: bool, watch: DetachWatch | None) -> None:
    """Copy our stdin to the process; at its end, half-close (a TTY has no end of input)."""
    reader = StdinReader(sys.stdin.fileno() if sys.stdin is not None else 0)
    try:
        while data := await reader.read():
            if watch is not None:
                watch.feed(data)
            await stream.write(data)
        if not tty:
            await stream.close_stdin()
    except (StreamBroken, StreamClosed):
        pass  # the process is gone or stopped reading: the output side tells the rest


@contextlib.contextmanager
def _raw_terminal(fd: int) -> Iterator[None]:
    """Keystrokes go to the process as typed (Ctrl-C included); restored on the way out."""
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _terminal_size() -> tuple[int, int] | None:
    for fd in (1, 0, 2):
        with contextlib.suppress(OSError):
            size = os.get_terminal_size(fd)
            if size.lines > 0 and size.columns > 0:
                return size.lines, size.columns
    return None


@contextlib.contextmanager
def _follow_resizes(stream: AttachStream) -> Iterator[None]:
    """Resize the process's terminal when ours is resized (SIGWINCH)."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Future[None]] = set()

    def resized() -> None:
        size = _terminal_size()
        if size is not None:
            task = asyncio.ensure_future(stream.resize(*size))
            pending.add(task)
            task.add_done_callback(_forget(pending))

    try:
        loop.add_signal_handler(signal.SIGWINCH, resized)
    except (NotImplementedError, RuntimeError, AttributeError):  # not a Unix main thread
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGWINCH)
        for task in pending:
            task.cancel()


def _forget(pending: set[asyncio.Future[None]]) -> Callable[[asyncio.Future[None]], None]:
    def done(task: asyncio.Future[None]) -> None:
        pending.discard(task)
        if not task.cancelled():
            task.exception()  # a failed resize does not matter once the session goes on

    return done


async def _exec(docker: Docker, args: argparse.Namespace) -> int:
    if not args.cmd:
        raise InvalidArgument("exec needs a command to run: exec CONTAINER CMD [ARG…]")
    stdin_is_terminal = args.interactive and os.isatty(0)
    if args.tty and args.interactive and not stdin_is_terminal:
        raise InvalidArgument(
            "-t with -i needs a terminal on stdin (stdin is not a TTY); drop -t to pipe input"
        )
    stream = docker.execs.open(
        args.container,
        args.cmd,
        stdin=args.interactive,
        tty=args.tty,
        env=_env(args.env) or None,
        workdir=args.workdir,
        user=args.user,
        console_size=_terminal_size() if args.tty else None,
    )
    frames: list[LogFrame] | None = [] if args.json else None
    watch = DetachWatch(detach_sequence(None)) if args.tty else None

    async def relay_output() -> None:
        async for frame in stream:
            if frames is None:
                _relay(frame)
            else:
                frames.append(frame)

    async with stream:
        with contextlib.ExitStack() as terminal:
            if args.tty and stdin_is_terminal:
                terminal.enter_context(_raw_terminal(0))
                terminal.enter_context(_follow_resizes(stream))
            output = asyncio.ensure_future(relay_output())
            tasks: set[asyncio.Future[None]] = {output}
            if args.interactive:
                feeding = _feed_stdin(stream, tty=args.tty, watch=watch)
                tasks.add(asyncio.ensure_future(feeding))
            try:
                while not output.done():
                    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    for task in done - {output}:
                        task.result()  # the input side failed (e.g. TLS cannot half-close)
                        tasks.discard(task)
                output.result()
            finally:
                await _cancel(*tasks)
        exec_id = stream.exec_id
    assert exec_id is not None
    if watch is not None and watch.seen:
        _warn(f"detached from exec {exec_id[:12]}")
        return 0
    info = await docker.execs.wait(exec_id)
    # no exit code: the process never started (the Engine's reason is in the output)
    code = info.exit_code if info.exit_code is not None else 126
    if frames is not None:
        stdout = b"".join(f.data for f in frames if f.stream != "stderr")
        stderr = b"".join(f.data for f in frames if f.stream == "stderr")
        _print_json(ExecOutput(exec_id, code, stdout.decode("utf-8", "replace"),
                               stderr.decode("utf-8", "replace")))
    return code


# -- pull --------------------------------------------------------------------------------------


class PullDisplay:
    """Shows the progress of a pull as ``docker pull`` does: one line per layer.

    On a terminal (``tty=True``) each layer keeps its line, redrawn in place with ANSI cursor
    movement as its status and progress bar change; lines are cut to ``width`` so that none
    wraps. Otherwise a line is written only when a layer's status changes (no progress bars),
    which keeps logs and CI output readable. Messages without a layer id (``Digest: …``,
    ``Status: …``) are written as they come; on a terminal the layers after one start a new
    block below it.
    """

    def __init__(self, out: TextIO, *, tty: bool, width: int = 80) -> None:
        self._out = out
        self._tty = tty
        self._width = max(width, 20)
        self._rows: dict[str, int] = {}  # layer id -> its row in the block (tty)
        self._status: dict[str, str] = {}  # layer id -> the last status written (plain)

    def show(self, message: ProgressMessage) -> None:
        """Write what ``message`` changes."""
        text = message.status or (message.stream or "").rstrip("\n")
        layer = message.id
        if not layer:
            if text:
                self._rows.clear()
                self._write(text + "\n")
            return
        if not self._tty:
            if text and self._status.get(layer) != text:
                self._status[layer] = text
                self._write(f"{layer}: {text}\n")
            return
        line = f"{layer}: {text}"
        if message.progress:
            line += f" {message.progress}"
        line = line[: self._width - 1]
        row = self._rows.get(layer)
        if row is None:
            self._rows[layer] = len(self._rows)
            self._write(line + "\n")
            return
        up = len(self._rows) - row
        # up to the layer's row, clear it, write, and back down to the line below the block
        self._write(f"\x1b[{up}A\r\x1b[2K{line}\x1b[{up}B\r")

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()


async def _pull(docker: Docker, args: argparse.Namespace) -> int:
    stream = docker.images.pull(args.image, platform=args.platform)
    display = None
    if not args.json:
        tty = sys.stdout.isatty()
        display = PullDisplay(sys.stdout, tty=tty, width=shutil.get_terminal_size().columns)
    async with stream:
        async for message in stream:
            if display is None:
                _print_json(message)
            else:
                display.show(message)
    return 0


# -- events ------------------------------------------------------------------------------------


def _filters(items: Sequence[str] | None) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidArgument(f"--filter takes KEY=VALUE (e.g. type=container), not {item!r}")
        filters.setdefault(key, []).append(value)
    return filters


def format_event(ev: EventMessage) -> str:
    """One line per event, as ``docker events`` prints it."""
    stamp = "?"
    if ev.time_nano is not None:
        seconds, nanos = divmod(ev.time_nano, 1_000_000_000)
        when = datetime.fromtimestamp(seconds, timezone.utc)
        stamp = f"{when:%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"
    attributes = (ev.actor.attributes if ev.actor is not None else None) or {}
    detail = ", ".join(f"{k}={v}" for k, v in sorted(attributes.items()))
    line = f"{stamp} {ev.type} {ev.action} {ev.actor_id or ''}"
    return f"{line} ({detail})" if detail else line


async def _events(docker: Docker, args: argparse.Namespace) -> int:
    stream = docker.events(
        since=args.since, until=args.until, filters=_filters(args.filter) or None
    )
    out = sys.stdout
    async with stream:
        async for ev in stream:
            if args.json:
                out.write(msgspec.json.encode(ev).decode() + "\n")
            else:
                out.write(format_event(ev) + "\n")
            out.flush()
    return 0


# -- demo --------------------------------------------------------------------------------------


def _demo_line(ev: EventMessage) -> str:
    stamp = datetime.fromtimestamp((ev.time_nano or 0) / 1e9, timezone.utc)
    extra = f" exitCode={ev.exit_code}" if ev.exit_code is not None else ""
    return (f"  event {stamp:%H:%M:%S.%f} {ev.type} {ev.action:<8} {(ev.actor_id or '')[:12]} "
            f"name={ev.name}{extra}")


async def _demo(docker: Docker, args: argparse.Namespace) -> int:
    def say(text: str) -> None:
        if not args.json:
            print(text, flush=True)

    def show(ev: EventMessage) -> None:
        if args.json:
            _print_json(ev)
        else:
            print(_demo_line(ev), flush=True)

    ping = await docker.ping()
    version = await docker.version()
    say(f"connected to {docker.url}: Docker {version.version}, API {ping.api_version} "
        f"(using {docker.api_version})")
    label = f"aiodockersock.demo={int(time.time() * 1000)}"
    config = ContainerCreateBody(
        image="",
        cmd=["sh", "-c", "echo hello from $(hostname); sleep 0.5; echo bye >&2; exit 3"],
        labels=dict([label.split("=", 1)]),
        host_config=HostConfig(network_mode="none"),
    )
    images = [args.image] if args.image else list(DEMO_IMAGES)
    events = docker.events(filters={"type": ["container"], "label": [label]})
    async with events:
        created = None
        for image in images:
            try:
                created = await docker.containers.create(
                    msgspec.structs.replace(config, image=image)
                )
                break
            except NotFound:
                continue
        if created is None or created.id is None:
            _warn(f"none of the images {', '.join(images)} is present; pull or import one "
                  "(or pass --image)")
            return 1
        cid = created.id
        say(f"created container {cid[:12]} from {image}")
        seen = 0
        try:
            await docker.containers.start(cid)
            state = await docker.containers.inspect(cid)
            say(f"started: running={state.state and state.state.running} "
                f"pid={state.state and state.state.pid}")
            async for ev in events:
                show(ev)
                seen += 1
                if ev.action == "die":
                    break
            waited = await docker.containers.wait(cid)
            logs = await docker.containers.logs(cid)
            say(f"exited with status {waited.status_code}")
            say(f"  stdout: {logs.stdout.decode().strip()!r}")
            say(f"  stderr: {logs.stderr.decode().strip()!r}")
        finally:
            await _shielded(docker.containers.remove(cid, force=True))
        async for ev in events:
            show(ev)
            seen += 1
            if ev.action == "destroy":
                break
        say(f"removed {cid[:12]}; {seen} events seen live")
    return 0


# -- the command line --------------------------------------------------------------------------


COMMANDS: dict[str, Command] = {
    "version": _version,
    "info": _info,
    "ps": _ps,
    "inspect": _inspect,
    "run": _run,
    "logs": _logs,
    "exec": _exec,
    "pull": _pull,
    "events": _events,
    "demo": _demo,
}

_HOST_HELP = "daemon address (default: DOCKER_HOST, then unix:///var/run/docker.sock)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aiodockersock",
        description="A typed asyncio client for the Docker Engine API, as a command line.",
        epilog="Exit status: 0 ok; run/exec: the process's own; 1 an error (one line on "
               "stderr); 2 bad usage; 130 Ctrl-C.",
    )
    parser.add_argument("-H", "--host", help=_HOST_HELP)
    parser.add_argument("--api-version", default="auto", help="pin the API version (e.g. 1.45)")
    parser.add_argument("--json", action="store_true",
                        help="machine-readable output (JSON, or one JSON object per line)")
    # the same options after the command; SUPPRESS keeps a value given before it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-H", "--host", default=argparse.SUPPRESS, help=_HOST_HELP)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print JSON (one object per line for streams)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, description: str | None = None) -> Any:
        return sub.add_parser(name, parents=[common], help=help_text,
                              description=description or help_text)

    command("version", "show the engine's version")
    command("info", "show system-wide information")

    ps = command("ps", "list containers")
    ps.add_argument("-a", "--all", action="store_true", help="include stopped containers")
    ps.add_argument("-f", "--filter", action="append", metavar="KEY=VALUE",
                    help="filter, e.g. name=web, status=exited, label=app=web")

    inspect = command(
        "inspect", "show containers or images as JSON",
        "Print a JSON array with one object per NAME: a container of that name or id if there "
        "is one, else an image. Field names are the Engine's. A NAME that matches nothing is "
        "reported on stderr and makes the exit status 1.",
    )
    inspect.add_argument("names", nargs="+", metavar="NAME", help="container or image")
    inspect.add_argument("--type", choices=("container", "image"),
                         help="only look for this kind of object")
    inspect.add_argument("-s", "--size", action="store_true",
                         help="include the sizes of containers (slower)")

    run = command(
        "run", "run a command in a new container",
        "Create and start a container. Attached (the default), its stdout and stderr are "
        "copied to ours as they are written, and the exit status is the container's; with "
        "--json, one {stream, text} object per line and a last {id, exit_code, removed}. "
        "Ctrl-C stops the container (a second Ctrl-C kills it) and removes it with --rm. "
        "The image must be present (see pull).",
    )
    run.add_argument("--rm", action="store_true", help="remove the container when it exits")
    run.add_argument("-d", "--detach", action="store_true",
                     help="start it in the background and print its id")
    run.add_argument("-e", "--env", action="append", metavar="NAME=VALUE",
                     help="set an environment variable (NAME alone: take ours)")
    run.add_argument("--name", help="the container's name")
    run.add_argument("--network", help="network mode: none, host, bridge, NAME …")
    run.add_argument("-w", "--workdir", metavar="DIR", help="working directory inside")
    run.add_argument("-u", "--user", metavar="USER[:GROUP]", help="user to run as")
    run.add_argument("--stop-timeout", type=int, metavar="SECONDS",
                     help="how long a stop waits before SIGKILL (default: the engine's, 10)")
    run.add_argument("image", metavar="IMAGE")
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="CMD …",
                     help="the command and its arguments (default: the image's)")

    logs = command(
        "logs", "show a container's output",
        "Copy a container's stdout to ours and its stderr to ours, as it arrives. With -f, "
        "follow until the container stops (Ctrl-C: exit 130). With --json, one "
        "{stream, text[, timestamp]} object per line.",
    )
    logs.add_argument("-f", "--follow", action="store_true", help="keep following new output")
    logs.add_argument("-n", "--tail", type=_tail, default="all", metavar="N",
                      help="only the last N lines (default: all)")
    logs.add_argument("-t", "--timestamps", action="store_true",
                      help="prefix each line with its RFC 3339 timestamp")
    logs.add_argument("container", metavar="CONTAINER")

    exe = command(
        "exec", "run a command in a running container",
        "Run CMD in a running container, copy its stdout and stderr to ours as they come, and "
        "exit with its status (126: it could not be started). -i copies our stdin to it and "
        "closes its stdin at our end of input. -t gives it a terminal; with -i too, our "
        "terminal is put in raw mode (keys, Ctrl-C included, go to the process; ctrl-p ctrl-q "
        "detaches) and its size follows ours. With --json, the output is "
        "collected and printed at the end as one {id, exit_code, stdout, stderr} object.",
    )
    exe.add_argument("-i", "--interactive", action="store_true", help="forward our stdin")
    exe.add_argument("-t", "--tty", action="store_true", help="allocate a terminal")
    exe.add_argument("-e", "--env", action="append", metavar="NAME=VALUE",
                     help="set an environment variable (NAME alone: take ours)")
    exe.add_argument("-w", "--workdir", metavar="DIR", help="working directory inside")
    exe.add_argument("-u", "--user", metavar="USER[:GROUP]", help="user to run as")
    exe.add_argument("container", metavar="CONTAINER")
    exe.add_argument("cmd", nargs=argparse.REMAINDER, metavar="CMD …",
                     help="the command and its arguments")

    pull = command(
        "pull", "pull an image from a registry",
        "Pull an image, one line per layer (redrawn in place on a terminal, a line per "
        "status change otherwise), then its Digest and Status. With --json, each progress "
        "message from the Engine as one JSON object per line. Registry credentials come "
        "from ~/.docker/config.json.",
    )
    pull.add_argument("image", metavar="IMAGE[:TAG|@DIGEST]")
    pull.add_argument("--platform", metavar="OS[/ARCH[/VARIANT]]",
                      help="which platform of a multi-platform image")

    events = command("events", "print the daemon's live events (Ctrl-C ends)")
    events.add_argument("-f", "--filter", action="append", metavar="KEY=VALUE",
                        help="filter, e.g. type=container, event=die, label=app=web")
    events.add_argument("--since", help="replay from: seconds since the epoch, a duration "
                        "before now (10m) or an ISO 8601 date-time")
    events.add_argument("--until", help="stop at this point (same forms as --since)")

    demo = command(
        "demo", "create and start a container while printing its live events, then clean up"
    )
    demo.add_argument("--image", help=f"image to run (default: first of {', '.join(DEMO_IMAGES)})")
    return parser


class _Interrupts:
    """Ctrl-C while a command runs: the first cancels it (it cleans up, and the command line
    exits 130); the next ones set ``hurry``, which cleanups that wait (stopping a container)
    take as "stop waiting"."""

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.count = 0
        self.hurry = asyncio.Event()
        self._task = task

    def __call__(self) -> None:
        self.count += 1
        if self.count == 1:
            self._task.cancel()
        else:
            self.hurry.set()


async def _main(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    interrupts = _Interrupts(task)
    args.hurry = interrupts.hurry
    handled = False
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, interrupts)
        handled = True
    try:
        async with Docker(args.host, api_version=args.api_version) as docker:
            return await COMMANDS[args.command](docker, args)
    except asyncio.CancelledError:
        if interrupts.count:
            return 130
        raise
    finally:
        if handled:
            loop.remove_signal_handler(signal.SIGINT)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_main(args))
    except DockerError as exc:
        print(f"aiodockersock: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into head: stop quietly, as other tools do
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # nothing left to flush at exit
        return 0
