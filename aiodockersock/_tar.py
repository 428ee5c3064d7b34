"""Tar archives streamed between local files and the Engine, never held whole in memory.

``tarfile`` is blocking, so it runs in a worker thread that exchanges fixed-size chunks with
the event loop through a small bounded queue: the thread waits while the consumer is behind,
and stops at its next chunk when the consumer goes away (an early exit, an error, a cancel).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import queue
import tarfile
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any

from ._exceptions import InvalidArgument
from ._transport import Body

__all__ = ["CHUNK", "UploadSource", "extract_tar", "iter_file", "tar_paths", "upload_body"]

#: Bytes per chunk exchanged with the worker thread.
CHUNK = 256 * 1024
_DEPTH = 4  # chunks queued at most between the thread and the loop

#: What an upload (an archive, an image tarball, a build context) may be given as.
UploadSource = bytes | bytearray | memoryview | AsyncIterable[bytes] | IO[bytes]


class _Stop(Exception):
    """Raised inside the worker thread when the consumer has gone."""


async def iter_file(file: IO[bytes], chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
    """Read a binary file object chunk by chunk in a worker thread."""
    while chunk := await asyncio.to_thread(file.read, chunk_size):
        yield chunk


def upload_body(source: UploadSource, what: str) -> Body:
    """Turn what the user gave into a request body (bytes, or an async iterable streamed).

    Raises:
        InvalidArgument: ``source`` is none of the accepted kinds (a path is refused: say
            whether it is a tarball to open or a directory to pack).
    """
    if isinstance(source, bytes):
        return source
    if isinstance(source, (bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        raise InvalidArgument(
            f"{what}: got the path {os.fspath(source)!r}; pass an open binary file "
            "(open(path, 'rb')), bytes or an async iterable of bytes"
        )
    if isinstance(source, AsyncIterable):
        return source
    if hasattr(source, "read"):
        return iter_file(source)
    raise InvalidArgument(
        f"{what}: expected bytes, a binary file object or an async iterable of bytes, "
        f"not {type(source).__name__}"
    )


class _QueueWriter(io.RawIOBase):
    """The file ``tarfile`` writes to: hands CHUNK-sized pieces to the loop."""

    def __init__(self, out: queue.Queue[bytes | BaseException | None], gone: threading.Event):
        self._out = out
        self._gone = gone
        self._buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buf += data
        while len(self._buf) >= CHUNK:
            self._put(bytes(self._buf[:CHUNK]))
            del self._buf[:CHUNK]
        return len(data)

    def _put(self, item: bytes | BaseException | None) -> None:
        while True:
            if self._gone.is_set():
                raise _Stop
            try:
                self._out.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def finish(self, error: BaseException | None = None) -> None:
        if error is None and self._buf:
            self._put(bytes(self._buf))
            self._buf.clear()
        self._put(error)


async def tar_paths(
    entries: list[tuple[Path, str]],
    *,
    exclude: Callable[[str], bool] | None = None,
) -> AsyncIterator[bytes]:
    """A tar archive of local files and directories, produced as it is read.

    Args:
        entries: ``(local path, name in the archive)`` pairs; directories are added
            recursively.
        exclude: called with each archive name (``a/b/c``); ``True`` leaves it out (and, for
            a directory, what is under it).

    Raises:
        InvalidArgument: a path does not exist.
    """
    missing = [p for p, _ in entries if not await asyncio.to_thread(os.path.lexists, p)]
    if missing:
        raise InvalidArgument(f"{missing[0]} does not exist")
    out: queue.Queue[bytes | BaseException | None] = queue.Queue(_DEPTH)
    gone = threading.Event()
    writer = _QueueWriter(out, gone)

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if exclude is not None and exclude(info.name):
            return None
        return info

    def produce() -> None:
        try:
            with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for path, name in entries:
                    tar.add(str(path), arcname=name, recursive=True, filter=keep)
        except _Stop:
            return
        except BaseException as exc:  # reported to the consumer, in its task
            with contextlib.suppress(_Stop):
                writer.finish(exc)
            return
        with contextlib.suppress(_Stop):
            writer.finish()

    thread = threading.Thread(target=produce, name="aiodockersock-tar", daemon=True)
    thread.start()
    try:
        while True:
            item = await asyncio.to_thread(out.get)
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        gone.set()
        await asyncio.to_thread(thread.join)


class _QueueReader(io.RawIOBase):
    """The file ``tarfile`` reads from: takes the chunks the loop hands over."""

    def __init__(self, feed: queue.Queue[bytes | None]) -> None:
        self._feed = feed
        self._buf = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buf and not self._eof:
            item = self._feed.get()
            if item is None:
                self._eof = True
            else:
                self._buf = item
        n = min(len(target), len(self._buf))
        target[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _safe_members(tar: tarfile.TarFile, dest: Path) -> Any:
    """Refuse members that would land outside ``dest``: the archive comes from a container,
    which is not trusted. A member's path is resolved through what is already extracted, so
    a symlink (kept as it is, like ``docker cp`` does) cannot be written through; hard links
    must point inside; device nodes are skipped."""
    root = os.path.realpath(dest)
    for member in tar:
        target = os.path.realpath(os.path.join(root, member.name))
        if os.path.commonpath([root, target]) != root:
            raise InvalidArgument(f"the archive member {member.name!r} would land outside {dest}")
        if member.isdev():
            continue
        if member.islnk():
            link = os.path.realpath(os.path.join(root, member.linkname))
            if os.path.commonpath([root, link]) != root:
                raise InvalidArgument(
                    f"the archive member {member.name!r} is a hard link to "
                    f"{member.linkname!r}, outside {dest}"
                )
        yield member


async def extract_tar(chunks: AsyncIterable[bytes], dest: Path) -> None:
    """Extract a tar stream into the local directory ``dest`` as it arrives.

    Raises:
        InvalidArgument: a member would be written outside ``dest``.
    """
    feed: queue.Queue[bytes | None] = queue.Queue(_DEPTH)
    reader = io.BufferedReader(_QueueReader(feed), CHUNK)

    def consume() -> None:
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            for member in _safe_members(tar, dest):
                if hasattr(tarfile, "data_filter"):
                    tar.extract(member, dest, set_attrs=True, filter="fully_trusted")
                else:  # pragma: no cover - Python without extraction filters
                    tar.extract(member, dest, set_attrs=True)

    task = asyncio.ensure_future(asyncio.to_thread(consume))
    try:
        async for chunk in chunks:
            while True:
                if task.done():
                    break
                try:
                    feed.put_nowait(chunk)
                    break
                except queue.Full:
                    await asyncio.wait([task], timeout=0.01)
            if task.done():
                break
    finally:
        # end of input (or the consumer failed): let the thread finish or fail
        while not task.done():
            try:
                feed.put_nowait(None)
                break
            except queue.Full:
                await asyncio.wait([task], timeout=0.01)
        if not task.done():
            await asyncio.shield(task)
    await task
