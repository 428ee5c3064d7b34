"""Uploads and tar archives streamed between local files and the Engine, never held whole in
memory: image tarballs, build contexts, container archives.

Blocking work (``tarfile``, reading files) runs in worker threads that exchange fixed-size
chunks with the event loop through a small bounded buffer: the thread waits while the other side
is behind, and stops at its next chunk when that side goes away (an early exit, an error, a
cancel).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import os
import queue
import tarfile
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import IO, Any, Union

from ._exceptions import DockerError, InvalidArgument
from ._transport import Body

__all__ = ["CHUNK", "DirectoryTar", "FileChunks", "Upload", "UploadSource", "extract_tar",
           "tree_members", "upload_body"]

#: Bytes per chunk exchanged with a worker thread.
CHUNK = 256 * 1024
#: Chunks a worker thread may have ready ahead of the other side.
_AHEAD = 4

#: What an upload (an archive, an image tarball) may be given as: bytes, an async iterable of
#: bytes, a binary file object (its ``read`` may be sync or async), or the path of a file.
UploadSource = Union[
    bytes, bytearray, memoryview, AsyncIterable[bytes], IO[bytes], "os.PathLike[str]"
]


class Upload(AsyncIterator[bytes]):
    """An upload body (its own async iterator of bytes) that may hold a resource (a thread,
    an open file) to release."""

    error: DockerError | None = None

    def close(self) -> None:
        """Release the resource; the upload ends early if it was still running."""


class FileChunks(Upload):
    """A binary file object (sync or async ``read``) or a file path, read in chunks; sync reads
    run in a worker thread."""

    def __init__(self, file: Any = None, path: Path | None = None) -> None:
        self._file = file
        self._path = path
        self._own = file is None
        self._done = False

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        try:
            if self._file is None:
                assert self._path is not None
                self._file = await asyncio.to_thread(open, self._path, "rb")
            read = self._file.read
            if inspect.iscoroutinefunction(read):
                data = await read(CHUNK)
            else:
                data = await asyncio.to_thread(read, CHUNK)
                if inspect.isawaitable(data):
                    data = await data
        except OSError as exc:
            self.error = InvalidArgument(f"cannot read {self._path or 'the file'}: {exc}")
            self.close()
            raise self.error from None
        if isinstance(data, str):
            self.error = InvalidArgument("the file must be opened in binary mode ('rb')")
            self.close()
            raise self.error
        if not data:
            self.close()
            raise StopAsyncIteration
        return bytes(data)

    def close(self) -> None:
        self._done = True
        if self._own and self._file is not None:
            file, self._file = self._file, None
            file.close()


class _Stop(Exception):
    """The consumer went away: stop writing the tar."""


class DirectoryTar(Upload):
    """A tar of local files as an async iterator of bytes.

    Args:
        root: what is being packed (named in errors).
        members: called in the worker thread; yields ``(local path, archive name)`` for each
            file, directory or link to add (directories are not recursed into by the tar:
            ``members`` lists what is under them).
        keep_owners: keep the files' owners (otherwise they become root's, uid/gid 0).

    A worker thread writes the tar (``tarfile`` in stream mode) in chunks of :data:`CHUNK`;
    closing it stops the thread.
    """

    def __init__(
        self, root: Path, members: Callable[[], Iterator[tuple[Path, str]]], *,
        keep_owners: bool = False,
    ) -> None:
        self._root = root
        self._members = members
        self._keep_owners = keep_owners
        self._slots = threading.Semaphore(_AHEAD)
        self._stop = threading.Event()
        self._queue: asyncio.Queue[bytes | BaseException | None] | None = None
        self._thread: threading.Thread | None = None
        self._finished = False

    async def __anext__(self) -> bytes:
        if self._finished:
            raise StopAsyncIteration
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._thread = threading.Thread(
                target=self._produce, args=(asyncio.get_running_loop(), self._queue),
                name="aiodockersock-tar", daemon=True)
            self._thread.start()
        item = await self._queue.get()
        if isinstance(item, bytes):
            self._slots.release()
            return item
        self._finished = True
        if item is None:
            raise StopAsyncIteration
        raise item

    def close(self) -> None:
        self._finished = True
        self._stop.set()
        self._slots.release()  # wake the writer if it waits for room

    def _produce(
        self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[bytes | BaseException | None]
    ) -> None:
        buffer = bytearray()

        def send(item: bytes | BaseException | None) -> None:
            if isinstance(item, bytes):
                while not self._slots.acquire(timeout=0.5):
                    if self._stop.is_set() or loop.is_closed():
                        raise _Stop
            if self._stop.is_set():
                raise _Stop
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed
                raise _Stop from None

        class Writer(io.RawIOBase):
            def writable(self) -> bool:
                return True

            def write(self, data: Any) -> int:
                buffer.extend(data)
                if len(buffer) >= CHUNK:
                    send(bytes(buffer))
                    buffer.clear()
                return len(data)

        try:
            with tarfile.open(fileobj=Writer(), mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for path, name in self._members():
                    info = tar.gettarinfo(str(path), arcname=name)
                    if info is None:  # a socket: nothing a container could use
                        continue
                    if not self._keep_owners:
                        info.uid = info.gid = 0
                        info.uname = info.gname = ""
                    if not info.isreg():
                        tar.addfile(info)
                        continue
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
            if buffer:
                send(bytes(buffer))
            send(None)
        except _Stop:
            pass
        except BaseException as exc:  # OSError: the files; else a bug: report it, do not hang
            if isinstance(exc, OSError):
                exc = self.error = InvalidArgument(
                    f"cannot tar {self._root}: {exc.strerror or exc} ({exc.filename or ''})")
            with contextlib.suppress(_Stop):
                send(exc)


def upload_body(source: Any, what: str) -> tuple[Body, Upload | None]:
    """Turn an :data:`UploadSource` into a request body, and the resource to close after.

    Raises:
        InvalidArgument: ``source`` is none of the accepted kinds (a ``str`` is refused as
            ambiguous), or a path is not a file.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), None
    if isinstance(source, os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise InvalidArgument(f"{what}: {path} is not a file")
        upload = FileChunks(path=path)
        return upload, upload
    if isinstance(source, str):
        raise InvalidArgument(
            f"{what}: a str is ambiguous; pass bytes, a binary file, an async iterable of "
            "bytes, or pathlib.Path(...) for a file"
        )
    if isinstance(source, AsyncIterable):
        return source, None
    if callable(getattr(source, "read", None)):
        upload = FileChunks(file=source)
        return upload, upload
    raise InvalidArgument(
        f"{what} must be bytes, a binary file object, an async iterable of bytes or a path, "
        f"not {type(source).__name__}"
    )


def tree_members(src: Path, name: str) -> Callable[[], Iterator[tuple[Path, str]]]:
    """The members of a tar of ``src`` (a file, a link or a directory and all under it, links
    not followed) named ``name`` at the top, for :class:`DirectoryTar`."""

    def members() -> Iterator[tuple[Path, str]]:
        yield src, name
        if src.is_symlink() or not src.is_dir():
            return
        for current, dirs, files in os.walk(src):
            base = os.path.relpath(current, src).replace(os.sep, "/")
            prefix = name + "/" if base == "." else f"{name}/{base}/"
            dirs.sort()
            for d in dirs:
                yield Path(current, d), prefix + d
            dirs[:] = [d for d in dirs if not Path(current, d).is_symlink()]
            for f in sorted(files):
                yield Path(current, f), prefix + f

    return members


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
            self._eof, self._buf = item is None, item or b""
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
    feed: queue.Queue[bytes | None] = queue.Queue(_AHEAD)
    reader = io.BufferedReader(_QueueReader(feed), CHUNK)

    def consume() -> None:
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            for member in _safe_members(tar, dest):
                if hasattr(tarfile, "data_filter"):
                    tar.extract(member, dest, set_attrs=True, filter="fully_trusted")
                else:  # pragma: no cover - Python without extraction filters
                    tar.extract(member, dest, set_attrs=True)

    async def put(item: bytes | None) -> None:
        while not task.done():  # the thread stops taking items if it fails
            try:
                return feed.put_nowait(item)
            except queue.Full:
                await asyncio.wait([task], timeout=0.01)

    task = asyncio.ensure_future(asyncio.to_thread(consume))
    try:
        async for chunk in chunks:
            await put(chunk)
            if task.done():
                break
    finally:
        await put(None)  # end of input (or the consumer failed): let the thread finish or fail
        if not task.done():
            await asyncio.shield(task)
    await task
