"""Streamed tar archives (no engine needed): packing local trees, extracting untrusted ones."""

from __future__ import annotations

import asyncio
import io
import os
import stat
import tarfile
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiodockersock import ArchiveError, DockerError, InvalidArgument, StreamBroken
from aiodockersock._tar import CHUNK, DirectoryTar, extract_tar, tree_members, upload_body


async def chunks_of(data: bytes, size: int = 777) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def make_tar(members: list[tarfile.TarInfo], payloads: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for info in members:
            data = (payloads or {}).get(info.name)
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def info(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = linkname
    return ti


async def test_pack_then_extract_round_trips_a_tree(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "d" / "e").mkdir(parents=True)
    (src / "d" / "e" / "f.txt").write_text("deep")
    (src / "big").write_bytes(b"\x00\x01" * (2 * CHUNK + 123))  # spans several chunks
    (src / "link").symlink_to("d")  # kept as a link, not followed
    blobs = [b async for b in DirectoryTar(src, tree_members(src, "root"))]
    assert len(blobs) > 2 and max(len(b) for b in blobs) < 2 * CHUNK  # streamed in pieces
    await extract_tar(chunks_of(b"".join(blobs)), tmp_path / "out")
    out = tmp_path / "out" / "root"
    assert (out / "d" / "e" / "f.txt").read_text() == "deep"
    assert (out / "big").read_bytes() == (src / "big").read_bytes()
    assert (out / "link").is_symlink() and (out / "link" / "e" / "f.txt").exists()
    with tarfile.open(fileobj=io.BytesIO(b"".join(blobs))) as tar:
        owners = {(m.uid, m.gid, m.uname) for m in tar.getmembers()}
    assert owners == {(0, 0, "")}  # made root's unless asked to keep them


async def test_a_consumer_that_stops_early_stops_the_packing_thread(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * (20 * CHUNK))
    tar = DirectoryTar(tmp_path, tree_members(tmp_path / "big", "big"))
    first = await tar.__anext__()
    assert first
    tar.close()
    for _ in range(100):
        if "aiodockersock-tar" not in {t.name for t in threading.enumerate()}:
            break
        await asyncio.sleep(0.05)
    assert "aiodockersock-tar" not in {t.name for t in threading.enumerate()}


async def test_an_unreadable_file_is_reported_not_hung(tmp_path: Path) -> None:
    (tmp_path / "gone").write_text("x")
    tar = DirectoryTar(tmp_path, lambda: iter([(tmp_path / "missing", "missing")]))
    with pytest.raises(InvalidArgument, match="missing"):
        async for _ in tar:
            pass


@pytest.mark.parametrize(
    ("members", "payloads"),
    [
        ([info("../escape.txt")], {"../escape.txt": b"x"}),
        ([info("/abs/escape.txt")], {"/abs/escape.txt": b"x"}),
        ([info("hard", tarfile.LNKTYPE, "../../etc/passwd")], None),
        # a symlink is kept as it is, but nothing may be written through it
        ([info("link", tarfile.SYMTYPE, "/tmp"), info("link/escape.txt")],
         {"link/escape.txt": b"x"}),
    ],
    ids=["dot-dot", "absolute", "hard-link-out", "write-through-symlink"],
)
async def test_untrusted_archives_cannot_write_outside_the_destination(
    tmp_path: Path, members: list[tarfile.TarInfo], payloads: dict[str, bytes] | None
) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(InvalidArgument, match="outside"):
        await extract_tar(chunks_of(make_tar(members, payloads)), dest)
    outside = [tmp_path / "escape.txt", Path("/tmp/escape.txt")]
    assert not any(p.exists() for p in outside)


async def test_upload_body_accepts_bytes_files_paths_and_iterables(tmp_path: Path) -> None:
    assert upload_body(bytearray(b"ab"), "x") == (b"ab", None)
    path = tmp_path / "f"
    path.write_bytes(b"y" * (CHUNK + 5))
    with path.open("rb") as f:
        body, upload = upload_body(f, "x")
        assert upload is body and not isinstance(body, bytes)
        assert b"".join([c async for c in body]) == b"y" * (CHUNK + 5)
        assert not f.closed  # the caller's file stays the caller's
    body, upload = upload_body(path, "x")
    assert b"".join([c async for c in body]) == b"y" * (CHUNK + 5)  # type: ignore[union-attr]
    with pytest.raises(InvalidArgument, match="ambiguous"):
        upload_body(str(path), "load")
    with pytest.raises(InvalidArgument, match="not a file"):
        upload_body(tmp_path, "load")
    with pytest.raises(InvalidArgument, match="not int"):
        upload_body(5, "load")


def extracted(dest: Path) -> dict[str, tuple[int, int, int, str]]:
    """Each path under ``dest``: (mode, uid, gid, link target)."""
    out = {}
    for path in sorted(dest.rglob("*")):
        st = path.lstat()
        link = os.readlink(path) if path.is_symlink() else ""
        out[str(path.relative_to(dest))] = (st.st_mode, st.st_uid, st.st_gid, link)
    return out


async def test_a_relative_symlink_out_of_the_destination_is_refused_like_docker_cp(
    tmp_path: Path,
) -> None:
    dest = tmp_path / "a" / "dest"
    dest.mkdir(parents=True)
    evil = make_tar([info("evil", tarfile.DIRTYPE),
                     info("evil/up", tarfile.SYMTYPE, "../../outside")])
    with pytest.raises(InvalidArgument, match=r"invalid symlink.*'evil/up' -> '\.\./\.\./outside'"):
        await extract_tar(chunks_of(evil), dest)
    assert not (dest / "evil" / "up").is_symlink()
    # links that stay inside, and absolute ones (kept as they are, as docker cp keeps them)
    fine = make_tar([info("d", tarfile.DIRTYPE), info("d/in", tarfile.SYMTYPE, "../d"),
                     info("d/abs", tarfile.SYMTYPE, "/etc/passwd")])
    await extract_tar(chunks_of(fine), dest)
    assert os.readlink(dest / "d" / "in") == "../d"
    assert os.readlink(dest / "d" / "abs") == "/etc/passwd"


async def test_owners_and_setuid_bits_are_restored_only_when_asked(tmp_path: Path) -> None:
    def member(name: str) -> tarfile.TarInfo:
        ti = info(name)
        ti.mode, ti.uid, ti.gid, ti.uname, ti.gname = 0o6755, 1234, 4321, "root", "root"
        return ti

    archive = make_tar([member("s")], {"s": b"#!/bin/sh\n"})
    await extract_tar(chunks_of(archive), tmp_path / "plain")
    mode, uid, gid, _ = extracted(tmp_path / "plain")["s"]
    assert (stat.S_IMODE(mode), uid, gid) == (0o755, os.getuid(), os.getgid())
    if os.getuid() != 0:
        return
    await extract_tar(chunks_of(archive), tmp_path / "kept", keep_owners=True, keep_setuid=True)
    mode, uid, gid, _ = extracted(tmp_path / "kept")["s"]
    assert (stat.S_IMODE(mode), uid, gid) == (0o6755, 1234, 4321)  # by number, not by name


@pytest.mark.parametrize("kind", [tarfile.FIFOTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE])
async def test_devices_and_fifos_are_refused_unless_asked(tmp_path: Path, kind: bytes) -> None:
    node = info("d/node", kind)
    node.devmajor, node.devminor = 1, 3
    archive = make_tar([info("d", tarfile.DIRTYPE), node, info("d/after")], {"d/after": b"x"})
    with pytest.raises(InvalidArgument, match=r"'d/node' is a .*(FIFO|device).*special_files="):
        await extract_tar(chunks_of(archive), tmp_path / "refused")
    await extract_tar(chunks_of(archive), tmp_path / "skipped", special_files="skip")
    assert set(extracted(tmp_path / "skipped")) == {"d", "d/after"}
    if kind == tarfile.FIFOTYPE or os.getuid() == 0:
        await extract_tar(chunks_of(archive), tmp_path / "made", special_files="create")
        mode = extracted(tmp_path / "made")["d/node"][0]
        assert stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode)


def _corrupt_after_first(data: bytes) -> bytes:
    cut = bytearray(data)
    cut[1024:1536] = b"\xff" * 512  # the second header: bad checksum
    return bytes(cut)


@pytest.mark.parametrize(
    ("archive", "message", "member"),
    [
        (b"this is not a tar archive" * 40, r"not a valid tar", None),
        (make_tar([info("big")], {"big": b"x" * 5000})[:2048],
         r"member 'big' into .*: unexpected end of data", "big"),
        (_corrupt_after_first(make_tar([info("a"), info("b")], {"a": b"1" * 10, "b": b"2"})),
         r"cut short or corrupt after its member 'a'", None),
        (make_tar([info("h", tarfile.LNKTYPE, "missing")]),
         r"'h' .*hard link to 'missing', which is not in the archive before it", "h"),
        (make_tar([info("x", tarfile.DIRTYPE), info("x")]),
         r"member 'x' into .*replace a directory with a non-directory", "x"),
        (make_tar([info("x"), info("x/y")], {"x": b"file", "x/y": b"y"}),
         r"member 'x/y' into .*'x' is not a directory", "x/y"),
        (make_tar([info("a")], {"a": b"x"})[:1024],
         r"after its member 'a': the input ends without the end-of-archive blocks", None),
    ],
    ids=["not-a-tar", "truncated", "corrupt-header", "hard-link-to-nothing", "file-over-dir",
         "file-under-file", "no-end-blocks"],
)
async def test_malformed_archives_raise_archive_error_saying_what_was_wrong(
    tmp_path: Path, archive: bytes, message: str, member: str | None
) -> None:
    with pytest.raises(ArchiveError, match=message) as caught:
        await extract_tar(chunks_of(archive), tmp_path)
    assert caught.value.member == member
    assert isinstance(caught.value, DockerError)


async def test_a_hard_link_to_a_skipped_member_does_not_bring_it_back(tmp_path: Path) -> None:
    archive = make_tar([info("fifo", tarfile.FIFOTYPE), info("h", tarfile.LNKTYPE, "fifo")])
    with pytest.raises(ArchiveError, match="hard link to 'fifo'"):
        await extract_tar(chunks_of(archive), tmp_path, special_files="skip")
    assert not (tmp_path / "h").exists()


async def test_an_error_from_the_input_wins_over_the_cut_short_archive(tmp_path: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield make_tar([info("a")], {"a": b"x" * 4000})[:1024]
        raise StreamBroken("connection lost", address="unix:///x")

    with pytest.raises(StreamBroken):
        await extract_tar(broken(), tmp_path)


async def test_a_directory_contents_archive_leaves_the_destination_alone(tmp_path: Path) -> None:
    top = info(".", tarfile.DIRTYPE)
    top.mode = 0o700
    (tmp_path / "dest").mkdir(mode=0o755)
    await extract_tar(chunks_of(make_tar([top, info("./f")], {"./f": b"f"})), tmp_path / "dest")
    assert stat.S_IMODE((tmp_path / "dest").stat().st_mode) == 0o755
    assert (tmp_path / "dest" / "f").read_bytes() == b"f"


async def test_packing_special_files_is_refused_skipped_or_done_as_asked(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "file").write_text("x")
    os.mkfifo(src / "fifo")
    members = tree_members(src, "src")
    with pytest.raises(InvalidArgument, match=r"fifo: it is a FIFO; pass special_files="):
        _ = [b async for b in DirectoryTar(src, members, special_files="refuse")]
    skipped = b"".join([b async for b in DirectoryTar(src, members, special_files="skip")])
    made = b"".join([b async for b in DirectoryTar(src, members, special_files="create")])
    with tarfile.open(fileobj=io.BytesIO(skipped)) as tar:
        assert tar.getnames() == ["src", "src/file"]
    with tarfile.open(fileobj=io.BytesIO(made)) as tar:
        assert tar.getmember("src/fifo").isfifo()
    # the contents of a directory, without the directory itself
    contents = b"".join([b async for b in DirectoryTar(src, tree_members(src, ""),
                                                       special_files="skip")])
    with tarfile.open(fileobj=io.BytesIO(contents)) as tar:
        assert tar.getnames() == ["file"]


async def test_times_are_whole_seconds_as_the_docker_cli_sends_them(tmp_path: Path) -> None:
    """A sub-second mtime would cost each member a pax header (1 KiB more per file: a
    context of 10,000 small files grew by 10 MB); the CLI truncates to the second, so do we."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"f{i}").write_text("x")
        os.utime(src / f"f{i}", ns=(1_700_000_000_123_456_789, 1_700_000_000_987_654_321 + i))
    blob = b"".join([b async for b in DirectoryTar(src, tree_members(src, ""))])
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        members = tar.getmembers()
    assert {m.name for m in members} == {"f0", "f1", "f2"}
    assert [m.pax_headers for m in members] == [{}, {}, {}]
    assert {m.mtime for m in members} == {1_700_000_000}
