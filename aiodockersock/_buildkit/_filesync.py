"""The file sync of a BuildKit session: ``/moby.filesync.v1.FileSync/DiffCopy``, sending side.

BuildKit asks for a directory by the name the build gave it (``dir-name``: ``context`` or
``dockerfile``), with the patterns it wants (``include-patterns``, ``exclude-patterns``,
``followpaths``; the Dockerfile frontend sends ``.dockerignore``'s patterns as excludes). The
exchange is fsutil's: we send one ``STAT`` packet per entry, walked depth first, each
directory's entries sorted by name (byte order), a parent directory before its children, then
an empty ``STAT``; BuildKit answers with ``REQ`` packets naming the regular files whose content
it needs (by the index of their ``STAT`` among all of them), each answered with ``DATA``
packets and an empty ``DATA``; its ``FIN`` is answered with ``FIN`` and the call ends. BuildKit
compares the ``STAT``s with its copy from the previous build of the same directory, so a
rebuild fetches only what changed.

Modes are Go's ``os.FileMode`` bits (the type in the high bits), owners are reset to 0 as the
Docker CLI does it. Not yet as fsutil does it: ``followpaths`` are taken as include patterns
(a symbolic link among them is sent as the link, not followed), extended attributes and
hard links are not sent as such (a hard link is sent as a file of its own).
"""

from __future__ import annotations

import asyncio
import os
import stat as st
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote_plus

from .._build_context import IgnoreRules
from ._grpc import GrpcCall, GrpcStatus
from .proto import stat_pb2, wire_pb2

__all__ = ["SyncedDir", "diff_copy"]

_CHUNK = 32 * 1024

# Go's os.FileMode bits
_GO_DIR = 1 << 31
_GO_SYMLINK = 1 << 27
_GO_DEVICE = 1 << 26
_GO_PIPE = 1 << 25
_GO_SETUID = 1 << 23
_GO_SETGID = 1 << 22
_GO_CHARDEV = 1 << 21
_GO_STICKY = 1 << 20


@dataclass(frozen=True)
class SyncedDir:
    """A directory BuildKit may ask for.

    Attributes:
        root: the directory.
        excludes: patterns left out whatever BuildKit asks (``.dockerignore``'s, already
            read), matched as the Docker CLI matches them.
    """

    root: Path
    excludes: tuple[str, ...] = ()


def go_mode(mode: int) -> int:
    """A ``st_mode`` as Go's ``os.FileMode``."""
    go = mode & 0o777
    kind = st.S_IFMT(mode)
    if kind == st.S_IFDIR:
        go |= _GO_DIR
    elif kind == st.S_IFLNK:
        go |= _GO_SYMLINK
    elif kind == st.S_IFBLK:
        go |= _GO_DEVICE
    elif kind == st.S_IFCHR:
        go |= _GO_DEVICE | _GO_CHARDEV
    elif kind == st.S_IFIFO:
        go |= _GO_PIPE
    if mode & st.S_ISUID:
        go |= _GO_SETUID
    if mode & st.S_ISGID:
        go |= _GO_SETGID
    if mode & st.S_ISVTX:
        go |= _GO_STICKY
    return go


def _stat(path: Path, name: str) -> tuple[stat_pb2.Stat, bool]:
    """The entry's ``Stat``, and whether it is a regular file (whose data may be asked for)."""
    info = path.lstat()
    out = stat_pb2.Stat(path=name, mode=go_mode(info.st_mode), uid=0, gid=0,
                        modTime=info.st_mtime_ns)
    if st.S_ISLNK(info.st_mode):
        out.linkname = os.readlink(path)
        out.size = info.st_size
    elif not st.S_ISDIR(info.st_mode):
        out.size = info.st_size
    if st.S_ISBLK(info.st_mode) or st.S_ISCHR(info.st_mode):
        out.devmajor = os.major(info.st_rdev)
        out.devminor = os.minor(info.st_rdev)
    return out, st.S_ISREG(info.st_mode)


def walk(synced: SyncedDir, includes: list[str], excludes: list[str]) -> Iterator[tuple[Path, str]]:
    """The entries sent, in fsutil's order: ``(local path, name)``; a directory is sent when
    it is itself kept, or (just before its first kept entry) when something under it is."""
    skip = IgnoreRules([*synced.excludes, *excludes], source="exclude patterns")
    want = IgnoreRules(includes, source="include patterns") if includes else None

    pending: list[tuple[Path, str]] = []  # directories walked but not sent yet

    def entries(directory: Path, prefix: str) -> Iterator[tuple[Path, str]]:
        try:
            names = sorted(os.listdir(directory), key=os.fsencode)
        except OSError:
            return
        for entry in names:
            name = prefix + entry
            path = directory / entry
            excluded = skip.excluded(name)
            wanted = want is None or want.excluded(name)  # an include pattern matches it
            is_dir = path.is_dir() and not path.is_symlink()
            if not excluded and wanted:
                yield from pending
                pending.clear()
                yield path, name
                if is_dir:
                    yield from entries(path, name + "/")
            elif is_dir and (not excluded or skip.may_include_under(name)) and (
                    want is None or _may_match(includes, name)):
                mark = (path, name)
                pending.append(mark)
                yield from entries(path, name + "/")
                if pending and pending[-1] is mark:
                    pending.pop()

    return entries(synced.root, "")


def _may_match(patterns: list[str], directory: str) -> bool:
    """Whether an include pattern may match something under ``directory``."""
    parts = directory.split("/")
    for pattern in patterns:
        comps = pattern.split("/")
        for i, part in enumerate(parts):
            if i >= len(comps):
                return True
            if "**" in comps[i]:
                return True
            if not fnmatchcase(part, comps[i]):
                break
        else:
            return True
    return False


def _packet(type_: int, **fields: object) -> bytes:
    return bytes(wire_pb2.Packet(type=type_, **fields).SerializeToString())  # type: ignore[arg-type]


async def diff_copy(call: GrpcCall, dirs: dict[str, SyncedDir]) -> None:
    """Serve one ``DiffCopy`` call: the directory it names, as the patterns ask."""
    meta = call.metadata
    name = (meta.get("dir-name") or [""])[0]
    synced = dirs.get(name)
    if synced is None:
        raise GrpcStatus(5, f"no access allowed to dir {name!r}")

    def values(key: str) -> list[str]:
        found = meta.get(key, [])
        if (meta.get(key + "-encoded") or ["0"])[0] in ("1", "true"):
            found = [unquote_plus(v) for v in found]
        return found

    includes = values("include-patterns") + values("followpaths")
    excludes = values("exclude-patterns")
    entries = await asyncio.to_thread(
        lambda: [(path, *_stat(path, name)) for path, name in walk(synced, includes, excludes)])
    files: dict[int, tuple[Path, int]] = {}
    batch: list[bytes] = []
    size = 0
    for index, (path, stat, regular) in enumerate(entries):
        if regular:
            files[index] = (path, stat.size)
        batch.append(_packet(wire_pb2.Packet.PACKET_STAT, stat=stat))
        size += len(batch[-1])
        if size >= _CHUNK:  # written a batch at a time: one write per file costs ~1 ms each
            await call.send_many(batch)
            batch, size = [], 0
    batch.append(_packet(wire_pb2.Packet.PACKET_STAT))
    await call.send_many(batch)
    while True:
        message = await call.recv()
        if message is None:
            return
        packet = wire_pb2.Packet.FromString(message)
        if packet.type == wire_pb2.Packet.PACKET_REQ:
            if packet.ID not in files:
                raise GrpcStatus(3, f"invalid file id {packet.ID}")
            await _send_file(call, packet.ID, *files.pop(packet.ID))
        elif packet.type == wire_pb2.Packet.PACKET_FIN:
            await call.send(_packet(wire_pb2.Packet.PACKET_FIN))
            return
        elif packet.type == wire_pb2.Packet.PACKET_ERR:
            raise GrpcStatus(2, f"error from receiver: {packet.data.decode(errors='replace')}")


async def _send_file(call: GrpcCall, id_: int, path: Path, size: int) -> None:
    if size < _CHUNK:
        # a small file (most of a context) is read here: its read costs less than a hop to a
        # thread and back (10,000 small files: 2.05 s of client CPU -> 0.78 s; see
        # benchmarks/README.md, "Session 10: small files read without a thread hop")
        f, chunk = _open_and_read(path)
    else:
        f, chunk = await asyncio.to_thread(_open_and_read, path)
    with f:
        # a small file is read whole at once and sent in one write with the empty packet
        # that ends it
        while len(chunk) == _CHUNK:
            await call.send(_packet(wire_pb2.Packet.PACKET_DATA, ID=id_, data=chunk))
            chunk = await asyncio.to_thread(f.read, _CHUNK)  # short only at the end
    end = [_packet(wire_pb2.Packet.PACKET_DATA, ID=id_)]
    if chunk:
        end.insert(0, _packet(wire_pb2.Packet.PACKET_DATA, ID=id_, data=chunk))
    await call.send_many(end)


def _open_and_read(path: Path) -> tuple[BinaryIO, bytes]:
    f = path.open("rb")
    try:
        return f, f.read(_CHUNK)
    except BaseException:
        f.close()
        raise
