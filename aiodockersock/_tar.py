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
import stat
import tarfile
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal, Union

from ._exceptions import ArchiveError, DockerError, InvalidArgument
from ._transport import Body

__all__ = ["CHUNK", "DirectoryTar", "FileChunks", "SpecialFiles", "Upload", "UploadSource",
           "check_special_files", "extract_tar", "tree_members", "upload_body"]

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
        special_files: what to do with device nodes, FIFOs and sockets (see
            :data:`SpecialFiles`; a socket cannot be archived, so ``"create"`` refuses it);
            ``None`` (build contexts, as ``docker build``) keeps device nodes and FIFOs and
            leaves sockets out.

    A worker thread writes the tar (``tarfile`` in stream mode) in chunks of :data:`CHUNK`;
    closing it stops the thread.
    """

    def __init__(
        self, root: Path, members: Callable[[], Iterator[tuple[Path, str]]], *,
        keep_owners: bool = False, special_files: SpecialFiles | None = None,
    ) -> None:
        self._root = root
        self._members = members
        self._keep_owners = keep_owners
        self._special_files = special_files
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

    def _refuse(self, path: Path, info: tarfile.TarInfo | None) -> InvalidArgument:
        kind = "socket" if info is None else _special_kind(info)
        what = ("sockets cannot be archived: pass special_files='skip' to leave them out"
                if info is None else "pass special_files='skip' to leave such files out, or "
                "'create' to create them in the container")
        self.error = InvalidArgument(f"cannot copy {path}: it is a {kind}; {what}")
        return self.error

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
                    if info is None or info.isdev():  # a socket, a FIFO or a device node
                        if self._special_files == "skip" or (
                                info is None and self._special_files is None):
                            continue
                        if info is None or self._special_files == "refuse":
                            raise self._refuse(path, info)
                    # whole seconds, as the Docker CLI sends them: a fraction costs the
                    # member a pax header (1 KiB more per file)
                    info.mtime = int(info.mtime)
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
    not followed) named ``name`` at the top, for :class:`DirectoryTar`; with ``name`` empty,
    what is under the directory ``src`` without ``src`` itself (``docker cp dir/.``)."""

    def members() -> Iterator[tuple[Path, str]]:
        if name:
            yield src, name
        if src.is_symlink() or not src.is_dir():
            return
        for current, dirs, files in os.walk(src):
            base = os.path.relpath(current, src).replace(os.sep, "/")
            prefix = "" if base == "." else base + "/"
            if name:
                prefix = f"{name}/{prefix}"
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


#: What to do with device nodes and FIFOs (and, when packing, sockets): ``"refuse"`` them with
#: an error naming the first one, ``"skip"`` them, or ``"create"`` them (device nodes need root).
SpecialFiles = Literal["refuse", "skip", "create"]
_SPECIAL_FILES = ("refuse", "skip", "create")


def check_special_files(value: object) -> SpecialFiles:
    """``value`` as a :data:`SpecialFiles` choice.

    Raises:
        InvalidArgument: it is none of them.
    """
    if value not in _SPECIAL_FILES:
        raise InvalidArgument(
            f"special_files must be 'refuse', 'skip' or 'create', not {value!r}")
    return value  # type: ignore[return-value]


def _special_kind(member: tarfile.TarInfo) -> str:
    return ("FIFO" if member.isfifo() else
            "character device" if member.ischr() else "block device")


#: tarfile's header errors (not in its ``__all__``, nor in typeshed).
_BAD_HEADER: tuple[type[Exception], ...] = tuple(
    getattr(tarfile, name) for name in
    ("InvalidHeaderError", "TruncatedHeaderError", "EmptyHeaderError"))
_SubsequentHeaderError: type[Exception] = getattr(tarfile, "SubsequentHeaderError")  # noqa: B009


class _StrictTarInfo(tarfile.TarInfo):
    """Tells a corrupt or cut-short header after the first member from the end of the archive
    (``tarfile`` takes all of them for the end, and extraction would stop early, silently)."""

    @classmethod
    def fromtarfile(cls, tar: tarfile.TarFile) -> Any:
        try:
            return super().fromtarfile(tar)
        except _BAD_HEADER as exc:
            if not tar.offset:
                raise
            why = ("the input ends without the end-of-archive blocks"
                   if type(exc).__name__ == "EmptyHeaderError" else str(exc))
            raise _SubsequentHeaderError(why) from None  # tarfile makes it a ReadError


class _UntrustedTar(tarfile.TarFile):
    """Extracts without giving files the archive's owners unless :attr:`keep_owners`, and then
    by number (the names are the container's, not this host's)."""

    keep_owners = False

    def chown(self, tarinfo: tarfile.TarInfo, targetpath: Any, numeric_owner: bool) -> None:
        if self.keep_owners:
            super().chown(tarinfo, targetpath, numeric_owner=True)


def _inside(root: str, path: str) -> bool:
    return os.path.commonpath([root, path]) == root


def _safe_members(
    tar: tarfile.TarFile, dest: Path, *, keep_setuid: bool, special_files: SpecialFiles,
) -> Iterator[tarfile.TarInfo]:
    """The members of an archive that come from a container (not trusted), checked as
    ``docker cp`` does and then some.

    A member's directory is resolved through what is already extracted, and what is at its path
    is replaced, not written through (a directory is never replaced by anything else), so
    nothing is written through a symlink. A relative symlink must point inside ``dest`` (an
    absolute one is kept as it is, like ``docker cp`` does: it names a path of whatever system
    reads it); hard links must point inside, to a member already extracted; device nodes and
    FIFOs follow ``special_files``; setuid and setgid bits are dropped unless ``keep_setuid``;
    a top ``.`` directory (an archive of ``dir/.``) leaves ``dest``'s own metadata alone, as
    ``docker cp`` does.
    """
    root = os.path.realpath(dest)
    for member in tar:
        name = os.path.normpath(member.name)
        if name == "." and member.isdir():
            continue
        parent = os.path.realpath(os.path.join(root, os.path.dirname(name)))
        target = os.path.join(parent, os.path.basename(name))
        if not _inside(root, parent) or not _inside(root, target) or target == root:
            raise InvalidArgument(f"the archive member {member.name!r} would land outside {dest}")
        if member.isdev():
            if special_files == "skip":
                continue
            if special_files == "refuse":
                raise InvalidArgument(
                    f"the archive member {member.name!r} is a {_special_kind(member)}: pass "
                    "special_files='skip' to leave such files out, or 'create' to create them "
                    "(device nodes need root)")
        if member.issym() and not os.path.isabs(member.linkname):
            link = os.path.normpath(os.path.join(root, os.path.dirname(name), member.linkname))
            if not _inside(root, link):
                raise InvalidArgument(
                    f"invalid symlink in the archive: {member.name!r} -> {member.linkname!r} "
                    f"points outside {dest} (docker cp refuses it too)")
        if member.islnk():
            link = os.path.realpath(os.path.join(root, member.linkname))
            if not _inside(root, link):
                raise InvalidArgument(
                    f"the archive member {member.name!r} is a hard link to "
                    f"{member.linkname!r}, outside {dest}"
                )
            if not os.path.lexists(link):  # tarfile would extract that member again, unchecked
                raise ArchiveError(
                    f"cannot extract the archive member {member.name!r} into {dest}: it is a "
                    f"hard link to {member.linkname!r}, which is not in the archive before it "
                    "(or was skipped)", member=member.name)
        if not keep_setuid:
            member.mode &= ~0o6000
        _make_room(target, member, dest)
        yield member


def _make_room(path: str, member: tarfile.TarInfo, dest: Path) -> None:
    """What ``docker cp`` does with a path that exists already: a directory stays (and takes
    a directory's metadata) but is never replaced by anything else; anything else is removed
    first, so nothing is written through a link."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except NotADirectoryError:
        raise ArchiveError(
            f"cannot extract the archive member {member.name!r} into {dest}: "
            f"{os.path.dirname(os.path.normpath(member.name))!r} is not a directory",
            member=member.name) from None
    if stat.S_ISDIR(st.st_mode):
        if not member.isdir():
            raise ArchiveError(
                f"cannot extract the archive member {member.name!r} into {dest}: it would "
                "replace a directory with a non-directory", member=member.name)
        return
    os.unlink(path)


def _archive_error(
    exc: BaseException, member: tarfile.TarInfo | None, last: str | None, dest: Path
) -> ArchiveError:
    """What went wrong while reading (``member`` is ``None``; ``last`` is the last member read)
    or extracting ``member``, said in words."""
    if member is None:
        if last is None:
            return ArchiveError(f"the archive is not a valid tar: {exc}")
        return ArchiveError(f"the archive is cut short or corrupt after its member {last!r}: {exc}")
    if isinstance(exc, KeyError):  # a hard link to a member it does not hold
        why = f"it is a hard link to {member.linkname!r}, which is not in the archive before it"
    elif isinstance(exc, tarfile.StreamError) and member.islnk():
        why = (f"it is a hard link to {member.linkname!r}, which was not extracted (skipped or "
               "refused) and cannot be read back from a streamed archive")
    elif isinstance(exc, OSError):
        why = f"{exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else "")
    else:
        why = str(exc) or type(exc).__name__
    return ArchiveError(f"cannot extract the archive member {member.name!r} into {dest}: {why}",
                        member=member.name)


async def extract_tar(
    chunks: AsyncIterable[bytes], dest: Path, *, keep_owners: bool = False,
    keep_setuid: bool = False, special_files: SpecialFiles = "refuse",
) -> None:
    """Extract a tar stream into the local directory ``dest`` as it arrives.

    Files become the caller's, without setuid or setgid bits, and device nodes and FIFOs are
    refused, unless asked otherwise.

    Args:
        chunks: the archive.
        dest: an existing local directory.
        keep_owners: give the files the archive's owners, by number (needs root).
        keep_setuid: keep setuid and setgid bits.
        special_files: what to do with device nodes and FIFOs (see :data:`SpecialFiles`).

    Raises:
        InvalidArgument: a member is unsafe (see :func:`_safe_members`).
        ArchiveError: the archive is malformed, or a member cannot be written.
        Exception: whatever ``chunks`` raises (it wins over what the extraction then reports).
    """
    feed: queue.Queue[bytes | None] = queue.Queue(_AHEAD)
    reader = io.BufferedReader(_QueueReader(feed), CHUNK)

    def consume() -> None:
        member: tarfile.TarInfo | None = None  # being extracted
        last: str | None = None  # the last member read
        try:
            with _UntrustedTar.open(fileobj=reader, mode="r|", tarinfo=_StrictTarInfo) as tar:
                tar.keep_owners = keep_owners
                for checked in _safe_members(
                        tar, dest, keep_setuid=keep_setuid, special_files=special_files):
                    member = checked
                    if hasattr(tarfile, "data_filter"):
                        tar.extract(member, dest, set_attrs=True, filter="fully_trusted")
                    else:  # pragma: no cover - Python without extraction filters
                        tar.extract(member, dest, set_attrs=True)
                    last, member = member.name, None
        except (tarfile.TarError, KeyError, OSError) as exc:
            raise _archive_error(exc, member, last, dest) from exc

    async def put(item: bytes | None) -> None:
        while not task.done():  # the thread stops taking items if it fails
            try:
                return feed.put_nowait(item)
            except queue.Full:
                await asyncio.wait([task], timeout=0.01)

    async def finish() -> None:
        await put(None)  # end of input (or the consumer failed): let the thread finish or fail
        if not task.done():
            await asyncio.wait([task])

    task = asyncio.ensure_future(asyncio.to_thread(consume))
    try:
        async for chunk in chunks:
            await put(chunk)
            if task.done():
                break
    except BaseException:
        await finish()
        if not task.cancelled():
            task.exception()  # retrieved: the input's own error says what happened
        raise
    await finish()
    await task
