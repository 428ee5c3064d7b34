"""Streamed tar archives (no engine needed): packing local trees, extracting untrusted ones."""

from __future__ import annotations

import io
import tarfile
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiodockersock import InvalidArgument
from aiodockersock._tar import CHUNK, extract_tar, tar_paths, upload_body


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
    (src / "skip.log").write_text("left out")
    blobs = [b async for b in tar_paths([(src, "root")], exclude=lambda n: n.endswith(".log"))]
    assert len(blobs) > 2 and all(len(b) <= CHUNK for b in blobs)
    await extract_tar(chunks_of(b"".join(blobs)), tmp_path / "out")
    out = tmp_path / "out" / "root"
    assert (out / "d" / "e" / "f.txt").read_text() == "deep"
    assert (out / "big").read_bytes() == (src / "big").read_bytes()
    assert not (out / "skip.log").exists()


async def test_a_consumer_that_stops_early_stops_the_packing_thread(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * (20 * CHUNK))
    before = {t.name for t in threading.enumerate()}
    stream = tar_paths([(tmp_path / "big", "big")])
    first = await stream.__anext__()
    assert first
    await stream.aclose()
    assert "aiodockersock-tar" not in {t.name for t in threading.enumerate()} - before


async def test_a_missing_path_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="does not exist"):
        async for _ in tar_paths([(tmp_path / "nope", "nope")]):
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


async def test_upload_body_accepts_bytes_files_and_iterables(tmp_path: Path) -> None:
    assert upload_body(bytearray(b"ab"), "x") == b"ab"
    path = tmp_path / "f"
    path.write_bytes(b"y" * (CHUNK + 5))
    with path.open("rb") as f:
        body = upload_body(f, "x")
        assert not isinstance(body, bytes)
        assert b"".join([c async for c in body]) == b"y" * (CHUNK + 5)
    with pytest.raises(InvalidArgument, match="binary file"):
        upload_body(str(path), "load")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="not int"):
        upload_body(5, "load")  # type: ignore[arg-type]
