"""Our terminal and our keyboard: raw mode, following resizes, reading stdin, noticing the
detach keys, and Ctrl-C while a command runs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from .. import AttachStream, StreamBroken, StreamClosed
from .._attach import detach_sequence

__all__ = [
    "DetachWatch", "Interrupts", "StdinReader", "feed_stdin", "follow_resizes", "raw_terminal",
    "terminal_size",
]


class Interrupts:
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


class StdinReader:
    """Reads a file descriptor in a daemon thread and hands the chunks to the event loop.

    A thread rather than ``connect_read_pipe``: it works for a terminal, a pipe and a regular
    file alike, and it never switches the descriptor (shared with the shell) to non-blocking.
    One chunk is in flight at a time, so a slow consumer holds the reading back. The thread
    is a daemon: if the command ends while it waits for input, it is simply abandoned.
    """

    def __init__(self, fd: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._fd = fd
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._taken = threading.Semaphore(0)
        self._eof = False
        threading.Thread(target=self._pump, name="aiodockersock-stdin", daemon=True).start()

    def _pump(self) -> None:
        while True:
            try:
                data = os.read(self._fd, 65536)
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
    """Notices the detach keys (the Engine's default, ctrl-p ctrl-q) in what is typed: on a TTY
    the Engine then ends the session (newer engines leave the process running but record the
    exec as failed, with 126)."""

    def __init__(self) -> None:
        self._keys = detach_sequence(None)
        self._tail = b""
        self.seen = False

    def feed(self, data: bytes) -> None:
        window = self._tail + data
        self.seen = self.seen or self._keys in window
        self._tail = window[len(window) - len(self._keys) + 1:]


async def feed_stdin(stream: AttachStream, *, tty: bool, watch: DetachWatch | None) -> None:
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
def raw_terminal(fd: int) -> Iterator[None]:
    """Keystrokes go to the process as typed (Ctrl-C included); restored on the way out."""
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def terminal_size() -> tuple[int, int] | None:
    """Our terminal's (rows, columns), from stdout, stdin or stderr; ``None`` without one."""
    for fd in (1, 0, 2):
        with contextlib.suppress(OSError):
            size = os.get_terminal_size(fd)
            if size.lines > 0 and size.columns > 0:
                return size.lines, size.columns
    return None


@contextlib.contextmanager
def follow_resizes(stream: AttachStream) -> Iterator[None]:
    """Resize the process's terminal when ours is resized (SIGWINCH)."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Future[None]] = set()

    def resized() -> None:
        size = terminal_size()
        if size is not None:
            task = asyncio.ensure_future(stream.resize(*size))
            pending.add(task)
            task.add_done_callback(done)

    def done(task: asyncio.Future[None]) -> None:
        pending.discard(task)
        if not task.cancelled():
            task.exception()  # a failed resize does not matter once the session goes on

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
