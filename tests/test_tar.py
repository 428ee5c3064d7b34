"""Streamed tar archives (no engine needed): packing local trees, extracting untrusted ones."""

from __future__ import annotations

import asyncio
import io
import tarfile
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiodockersock import InvalidArgument
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
    (src / "big").write_bytes(b"\x00\x01" * (CHUNK + 123))  # spans several chunks
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
