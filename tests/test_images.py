"""The images API: models and the build-context tar offline, then everything against real
engines (each engine test runs once per engine) and private registries (plain and htpasswd)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import logging
import re
import secrets
import socket
import tarfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from aiodockersock import (
    APIError,
    BadRequest,
    Docker,
    InvalidArgument,
    NotFound,
    NotSupported,
    ProgressError,
    RegistryAuth,
    RegistryAuthError,
    RegistryUnreachable,
    ServerError,
)
from aiodockersock._build_context import context_members
from aiodockersock._tar import DirectoryTar
from aiodockersock._transport import parse_version
from aiodockersock.images import _tag_from
from aiodockersock.models import (
    HistoryResponseItem,
    ImageDeleteResponseItem,
    ImageInspect,
    ImagePruneResponse,
    ImageSearchResponseItem,
    ProgressMessage,
    PushResult,
)

from .conftest import TEST_IMAGE, TEST_LABEL, EngineHandle, RegistryHandle
from .engines import unix_request
from .test_build_context import make_tree

# the engine tests below also run against Podman's Docker-compatible service
pytestmark = pytest.mark.podman


def unique(prefix: str = "ads-img") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


# ---------------------------------------------------------------------------------------------
# Models (shapes seen from Docker 20.10 / API 1.41 and Docker 28.5 / API 1.51)
# ---------------------------------------------------------------------------------------------

INSPECT_20_10 = b"""{
  "Id": "sha256:f836d0db0b3b421d4f47e8bd49edc158edba910e80bac9b430137345bd64fbd7",
  "RepoTags": ["ads-smoke:1"],
  "RepoDigests": ["127.0.0.1:46649/smoke/app@sha256:3248059eb2b2f9e0718d0e3acd44af7ab4641acb"],
  "Parent": "sha256:14067c198fc283cb6e7d14d5868472fff56a25f4ae70aea5238c97faf9e3c9be",
  "Comment": "", "Created": "2026-11-28T10:22:19.599575163Z",
  "Container": "874804d37b999470c48f3f95e2352c81218e4b3417cd6a6a66b26782c69628f5",
  "ContainerConfig": {"Hostname": "874804d37b99", "Domainname": "", "User": "",
    "AttachStdin": false, "AttachStdout": false, "AttachStderr": false, "Tty": false,
    "OpenStdin": false, "StdinOnce": false, "Env": ["PATH=/usr/bin:/bin"],
    "Cmd": ["/bin/sh", "-c", "#(nop) ", "LABEL x=y"], "Image": "sha256:14067c198fc2",
    "Volumes": null, "WorkingDir": "", "Entrypoint": null, "OnBuild": null,
    "Labels": {"stage": "base", "x": "y"}},
  "DockerVersion": "20.10.24+dfsg1", "Author": "",
  "Config": {"Hostname": "", "Domainname": "", "User": "", "AttachStdin": false,
    "AttachStdout": false, "AttachStderr": false, "Tty": false, "OpenStdin": false,
    "StdinOnce": false, "Env": ["PATH=/usr/bin:/bin"], "Cmd": ["sh"],
    "Image": "sha256:14067c198fc2", "Volumes": null, "WorkingDir": "", "Entrypoint": null,
    "OnBuild": null, "Labels": {"stage": "base", "x": "y"}},
  "Architecture": "amd64", "Os": "linux", "Size": 1984248, "VirtualSize": 1984248,
  "GraphDriver": {"Data": {"LowerDir": "/d/l1/diff:/d/l2/diff", "MergedDir": "/d/m/merged",
    "UpperDir": "/d/m/diff", "WorkDir": "/d/m/work"}, "Name": "overlay2"},
  "RootFS": {"Type": "layers", "Layers": ["sha256:768deae0e5de", "sha256:e691c6c9e2b2"]},
  "Metadata": {"LastTagTime": "2026-11-28T10:22:19.811451493Z"}}"""

INSPECT_28_5 = b"""{"Id": "sha256:68aa61e95482aa908337a575ee21748a4be4ef5165a869e77215a75939f9a0e6",
  "RepoTags": ["ads-smoke:1"], "RepoDigests": [], "Parent": "sha256:2633f9b8c6cc", "Comment": "",
  "Created": "2026-11-28T10:22:22.817497177Z", "DockerVersion": "28.5.2+dfsg4", "Author": "",
  "Architecture": "amd64", "Os": "linux", "Size": 1984248,
  "GraphDriver": {"Data": {"MergedDir": "/d/m/merged"}, "Name": "overlay2"},
  "RootFS": {"Type": "layers", "Layers": ["sha256:768deae0e5de"]},
  "Metadata": {"LastTagTime": "2026-11-28T10:22:23.015270717Z"},
  "Config": {"Cmd": ["sh"], "Entrypoint": null, "Env": ["PATH=/usr/bin:/bin"],
    "Labels": {"stage": "base"}, "OnBuild": null, "User": "", "Volumes": null,
    "WorkingDir": ""},
  "Descriptor": {"mediaType": "application/vnd.oci.image.index.v1+json",
    "digest": "sha256:0123", "size": 856},
  "Identity": {"Pull": [{"Repository": "docker.io/library/busybox"}]}}"""


def test_image_inspect_both_shapes() -> None:
    old = msgspec.json.decode(INSPECT_20_10, type=ImageInspect)
    assert old.id is not None and old.id.startswith("sha256:f836")
    assert old.repo_tags == ["ads-smoke:1"] and old.parent is not None
    assert old.container_config is not None and old.container_config.hostname == "874804d37b99"
    assert old.config is not None and old.config.cmd == ["sh"]
    assert old.config.labels == {"stage": "base", "x": "y"}
    assert (old.architecture, old.os, old.size, old.virtual_size) == (
        "amd64", "linux", 1984248, 1984248)
    assert old.graph_driver is not None and old.graph_driver.name == "overlay2"
    assert old.graph_driver.data is not None and "LowerDir" in old.graph_driver.data
    assert old.root_fs is not None and old.root_fs.type == "layers"
    assert old.root_fs.layers == ["sha256:768deae0e5de", "sha256:e691c6c9e2b2"]
    assert old.metadata is not None
    assert old.metadata.last_tag_time == "2026-11-28T10:22:19.811451493Z"
    new = msgspec.json.decode(INSPECT_28_5, type=ImageInspect)
    assert new.container_config is None and new.virtual_size is None and new.container is None
    assert new.config is not None and new.config.labels == {"stage": "base"}
    assert new.repo_digests == []


def test_small_image_responses() -> None:
    history = msgspec.json.decode(
        b'[{"Comment": "", "Created": 1795861339, "CreatedBy": "/bin/sh -c #(nop)  LABEL x=y",'
        b' "Id": "sha256:f836", "Size": 0, "Tags": ["ads-smoke:1"]},'
        b' {"Comment": "Imported from -", "Created": 1795861024, "CreatedBy": "",'
        b' "Id": "<missing>", "Size": 1984241, "Tags": null}]',
        type=list[HistoryResponseItem],
    )
    assert history[0].created_by == "/bin/sh -c #(nop)  LABEL x=y"
    assert history[0].tags == ["ads-smoke:1"] and history[1].tags is None
    assert (history[1].id, history[1].size, history[1].comment) == (
        "<missing>", 1984241, "Imported from -")
    deleted = msgspec.json.decode(
        b'[{"Untagged": "app:1"}, {"Deleted": "sha256:eb2d"}]',
        type=list[ImageDeleteResponseItem],
    )
    assert deleted == [ImageDeleteResponseItem(untagged="app:1"),
                       ImageDeleteResponseItem(deleted="sha256:eb2d")]
    pruned = msgspec.json.decode(
        b'{"ImagesDeleted": [{"Deleted": "sha256:1"}], "SpaceReclaimed": 42}',
        type=ImagePruneResponse,
    )
    assert pruned.images_deleted is not None and pruned.images_deleted[0].deleted == "sha256:1"
    assert pruned.space_reclaimed == 42
    found = msgspec.json.decode(
        b'[{"description": "Busybox base image.", "is_official": true, "is_automated": false,'
        b' "name": "busybox", "star_count": 3296}]',
        type=list[ImageSearchResponseItem],
    )
    assert found[0] == ImageSearchResponseItem(
        name="busybox", description="Busybox base image.", star_count=3296, is_official=True,
        is_automated=False)
    assert msgspec.json.encode(PushResult(tag="v1", digest="sha256:ab", size=527)) == (
        b'{"tag":"v1","digest":"sha256:ab","size":527}')


def test_tag_or_digest_from_reference() -> None:
    assert _tag_from("busybox", None, default="latest") == ("busybox", "latest")
    assert _tag_from("busybox:1.36", None, default="latest") == ("busybox", "1.36")
    assert _tag_from("busybox", "1.36", default="latest") == ("busybox", "1.36")
    assert _tag_from("127.0.0.1:5000/app", None, default="latest") == (
        "127.0.0.1:5000/app", "latest")
    digest = "sha256:" + "a" * 64
    assert _tag_from(f"app@{digest}", None, default="latest") == ("app", digest)
    with pytest.raises(InvalidArgument, match="names a tag or digest already"):
        _tag_from("busybox:1.36", "1.35", default="latest")


# ---------------------------------------------------------------------------------------------
# Build contexts: .dockerignore and the streamed tar
# ---------------------------------------------------------------------------------------------


async def test_directory_tar_streams_in_bounded_chunks(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(secrets.token_bytes(3 * 1024 * 1024))
    make_tree(tmp_path, {"Dockerfile": "FROM x\n", "sub/a.txt": "A"})
    with socket.socket(socket.AF_UNIX) as sock:  # a socket cannot be tarred: left out
        sock.bind(str(tmp_path / "sub/daemon.sock"))
        tar = DirectoryTar(tmp_path, context_members(tmp_path, "Dockerfile"))
        chunks = [chunk async for chunk in tar]
    assert max(len(c) for c in chunks) <= 256 * 1024 + 10240
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as archive:
        members = {m.name: m for m in archive.getmembers()}
        assert set(members) == {"Dockerfile", "big.bin", "sub", "sub/a.txt"}
        assert (members["big.bin"].uid, members["big.bin"].uname) == (0, "")
        extracted = archive.extractfile("big.bin")
        assert extracted is not None and extracted.read() == big.read_bytes()


async def test_directory_tar_stops_its_thread_when_closed_early(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"\0" * (8 * 1024 * 1024))
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    before = {t.ident for t in threading.enumerate()}
    tar = DirectoryTar(tmp_path, context_members(tmp_path, "Dockerfile"))
    first = await tar.__anext__()
    assert first
    tar.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate()
                 if t.ident not in before and t.name == "aiodockersock-tar"]
        if not extra:
            break
        await asyncio.sleep(0.05)
    assert not extra, "the tar thread did not stop after close()"
    with pytest.raises(StopAsyncIteration):
        await tar.__anext__()


# ---------------------------------------------------------------------------------------------
# Against real engines
# ---------------------------------------------------------------------------------------------

@contextlib.asynccontextmanager
async def cleanup(docker: Docker, *names: str) -> AsyncIterator[list[str]]:
    """Remove the named images (and any added to the yielded list) afterwards."""
    extra: list[str] = []
    try:
        yield extra
    finally:
        for name in (*names, *extra):
            with contextlib.suppress(NotFound):
                await docker.images.remove(name, force=True)


@pytest.fixture
def no_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty DOCKER_CONFIG directory: the user's own ~/.docker never leaks into a test."""
    directory = tmp_path / "docker-config"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory


@pytest.mark.engine
async def test_list_inspect_history_tag_remove(docker: Docker, engine: EngineHandle) -> None:
    name = unique()
    async with cleanup(docker, f"{name}:a", f"{name}:b"):
        await docker.images.tag(TEST_IMAGE, name, "a")
        await docker.images.tag(TEST_IMAGE, f"{name}:b")  # the tag inside the repo argument
        base = await docker.images.inspect(TEST_IMAGE)
        tagged = await docker.images.inspect(f"{name}:a")
        assert tagged.id == base.id and tagged.id is not None
        qualified = engine.image_name  # Podman: docker.io/library/…
        assert {qualified(f"{name}:a"), qualified(f"{name}:b")} <= set(tagged.repo_tags or [])
        cli = json.loads(engine.cli("image", "inspect", f"{name}:a").stdout)[0]
        assert cli["Id"] == tagged.id and cli["Size"] == tagged.size
        assert cli["RootFS"]["Layers"] == (tagged.root_fs.layers if tagged.root_fs else None)
        assert tagged.config is not None and tagged.config.cmd == ["sh"]
        assert (await docker.images.inspect(tagged.id[7:19])).id == tagged.id  # short id

        listed = await docker.images.list(filters={"reference": f"{name}:*"})
        assert [i.id for i in listed] == [tagged.id]
        assert set(listed[0].repo_tags or []) >= {qualified(f"{name}:a"), qualified(f"{name}:b")}
        assert await docker.images.list(filters={"reference": f"{name}-none:*"}) == []

        history = await docker.images.history(f"{name}:a")
        assert history[0].id == tagged.id  # "sha256:…" from Podman's bare id too
        if engine.podman:  # Podman lists no tags in the history
            assert history[0].tags is None
        else:
            assert f"{name}:a" in (history[0].tags or [])
            assert sum(h.size or 0 for h in history) == tagged.size

        untagged = await docker.images.remove(f"{name}:a")
        assert untagged == [ImageDeleteResponseItem(untagged=qualified(f"{name}:a"))]
        with pytest.raises(NotFound):
            await docker.images.inspect(f"{name}:a")
        assert not await docker.images.exists(f"{name}:a")
        assert await docker.images.exists(f"{name}:b")
    with pytest.raises(NotFound, match="image not known" if engine.podman else "No such image"):
        await docker.images.remove(f"{name}:b")


@pytest.mark.engine
async def test_bad_names_are_refused(docker: Docker, engine: EngineHandle) -> None:
    if engine.podman:  # a 500 whose cause is "invalid reference format": BadRequest
        with pytest.raises(BadRequest, match="invalid reference format"):
            await docker.images.tag(TEST_IMAGE, "Bad Name")
    else:
        with pytest.raises(APIError, match="must be lowercase"):  # 500 on 20.10, 400 on 28.5
            await docker.images.tag(TEST_IMAGE, "Bad Name")
    with pytest.raises(InvalidArgument):
        await docker.images.inspect("../containers/json")


@pytest.mark.engine
async def test_search_without_registry_access_says_so(docker: Docker) -> None:
    with pytest.raises(RegistryUnreachable) as info:
        await docker.images.search("busybox", limit=3)
    exc = info.value
    assert isinstance(exc, ServerError) and exc.registry == "docker.io"
    assert "cannot reach the registry docker.io to search for 'busybox'" in str(exc)
    assert "index.docker.io" in exc.message  # the daemon's own words are kept


@pytest.mark.engine
async def test_prune_dangling_only(docker: Docker) -> None:
    # two imports under one name: the first loses its name and dangles
    name, mark = unique(), f"ads.prune={secrets.token_hex(4)}"
    async with cleanup(docker, name) as extra:
        first = await docker.images.import_(
            tar_of({"a.txt": secrets.token_bytes(16)}), repository=name, changes=[f"LABEL {mark}"]
        )
        extra.append(first)
        second = await docker.images.import_(
            tar_of({"b.txt": secrets.token_bytes(16)}), repository=name, changes=[f"LABEL {mark}"]
        )
        assert first != second
        assert (await docker.images.inspect(first)).repo_tags in (None, [])  # dangling now
        kept = await docker.images.prune(filters={"label": "ads.no.such=label"})
        assert first not in {i.deleted for i in kept.images_deleted or []}
        pruned = await docker.images.prune(filters={"label": mark})
        deleted = {item.deleted for item in pruned.images_deleted or []}
        assert first in deleted and second not in deleted
        assert (pruned.space_reclaimed or 0) > 0
        assert not await docker.images.exists(first)
        assert await docker.images.exists(name)
        # not only the dangling ones: the named image goes too
        everything = await docker.images.prune(filters={"label": mark}, dangling_only=False)
        assert second in {item.deleted for item in everything.images_deleted or []}
        assert not await docker.images.exists(name)


# -- import, save, load ------------------------------------------------------------------------


def tar_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


async def chunked(data: bytes, size: int = 7000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


@pytest.mark.engine
async def test_import_with_changes_and_message(docker: Docker, engine: EngineHandle) -> None:
    name = unique()
    rootfs = tar_of({"hello.txt": b"hello\n", "etc/motd": b"hi\n"})
    async with cleanup(docker, f"{name}:one", f"{name}:two"):
        image_id = await docker.images.import_(
            rootfs,
            repository=name,
            tag="one",
            changes=['CMD ["/hello.txt"]', "ENV A=1 B=two", "WORKDIR /etc", "LABEL x=y"],
            message="imported by aiodockersock",
        )
        assert image_id.startswith("sha256:")
        image = await docker.images.inspect(f"{name}:one")
        assert image.id == image_id
        assert image.config is not None
        assert image.config.cmd == ["/hello.txt"]
        assert set(image.config.env or []) >= {"A=1", "B=two"}
        assert image.config.working_dir == "/etc"
        assert image.comment == "imported by aiodockersock"
        history = await docker.images.history(image_id)
        assert history[0].comment == "imported by aiodockersock"
        cli = engine.cli("image", "inspect", "--format", "{{.Config.WorkingDir}}",
                         f"{name}:one").stdout.strip()
        assert cli == "/etc"
        # the same tar streamed from an async iterable, with progress messages
        stream = docker.images.import_(chunked(rootfs), repository=f"{name}:two")
        messages = [m async for m in stream]
        assert all(isinstance(m, ProgressMessage) for m in messages)
        second = await stream
        assert (await docker.images.inspect(f"{name}:two")).id == second
    with pytest.raises(ServerError):  # "unexpected EOF" (500) on both engines
        await docker.images.import_(b"this is not a tar")
    with pytest.raises(APIError, match=r"not a valid change command|RUN"):
        await docker.images.import_(rootfs, changes=["RUN echo no"])


@pytest.mark.engine
async def test_save_several_and_load_from_stream_and_file(
    docker: Docker, tmp_path: Path, engine: EngineHandle
) -> None:
    name = unique()
    tags = [f"{name}:a", f"{name}-other:b"]
    async with cleanup(docker, *tags):
        for tag in tags:
            await docker.images.tag(TEST_IMAGE, tag)
        data = await docker.images.save(tags).read()
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        qualified = sorted(engine.image_name(tag) for tag in tags)  # Podman: docker.io/…
        assert sorted(t for entry in manifest for t in entry["RepoTags"] or []) == qualified
        single = docker.images.save(tags[0])
        async with single:
            assert single.headers.get("Content-Type") == (
                "application/octet; charset=us-ascii" if engine.podman else "application/x-tar")
            size = sum([len(chunk) async for chunk in single])
        assert size > 1_000_000
        for tag in tags:
            await docker.images.remove(tag)
        loaded = await docker.images.load(chunked(data, 64 * 1024))
        assert sorted(loaded) == qualified
        for tag in tags:
            await docker.images.remove(tag)
        path = tmp_path / "images.tar"
        path.write_bytes(data)
        with path.open("rb") as file:
            stream = docker.images.load(file, quiet=False)
            messages = [m async for m in stream]
            assert sorted(await stream) == qualified
        assert any((m.stream or "").startswith("Loaded image: ") for m in messages)
        assert await docker.images.exists(tags[1])
    # Podman refuses it up front (500), dockerd in the progress stream
    with pytest.raises(ServerError if engine.podman else ProgressError, match="unexpected EOF"):
        await docker.images.load(b"this is not an image archive")
    with pytest.raises(InvalidArgument, match=r"pathlib\.Path"):
        docker.images.load("images.tar")  # type: ignore[arg-type]


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@contextlib.asynccontextmanager
async def peak_rss() -> AsyncIterator[dict[str, int]]:
    """Sample this process's RSS every 5 ms; yields a dict filled with the growth at the end."""
    result = {"base": rss_bytes(), "peak": 0}
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            result["peak"] = max(result["peak"], rss_bytes())
            await asyncio.sleep(0.005)

    task = asyncio.create_task(sample())
    try:
        yield result
    finally:
        done.set()
        await task
        result["peak"] = max(result["peak"], rss_bytes())
        result["growth"] = result["peak"] - result["base"]


BIG_MB = 64


@pytest.mark.engine
async def test_save_and_load_a_large_image_in_bounded_memory(
    docker: Docker, engine: EngineHandle, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    name = f"{unique()}:big"
    context = tmp_path / "ctx"
    make_tree(context, {"Dockerfile": (
        f"FROM {TEST_IMAGE}\n"
        f"RUN dd if=/dev/urandom of=/big.bin bs=1048576 count={BIG_MB} 2>/dev/null\n"
    )})
    async with cleanup(docker, name):
        image_id = await docker.images.build(context, tag=name, network_mode="none")
        assert ((await docker.images.inspect(name)).size or 0) > BIG_MB * 2**20
        path = tmp_path / "big.tar"
        async with peak_rss() as saved:
            with path.open("wb") as out:
                written = await docker.images.save(name).write_to(out)
        assert written == path.stat().st_size > BIG_MB * 2**20
        await docker.images.remove(name)
        assert not await docker.images.exists(image_id)
        async with peak_rss() as loaded:
            names = await docker.images.load(path)
        assert names == [engine.image_name(name)]
        assert (await docker.images.inspect(name)).id == image_id
    record_property("save_rss_growth_mb", round(saved["growth"] / 2**20, 1))
    record_property("load_rss_growth_mb", round(loaded["growth"] / 2**20, 1))
    mb = 2**20
    print(f"\n[{engine.label}] {written / mb:.0f} MB tar: RSS base -> peak (growth): save "
          f"{saved['base'] / mb:.1f} -> {saved['peak'] / mb:.1f} MB ({saved['growth'] / mb:.1f}), "
          f"load {loaded['base'] / mb:.1f} -> {loaded['peak'] / mb:.1f} MB "
          f"({loaded['growth'] / mb:.1f})")
    # the tar is > 64 MiB; streaming keeps the process's growth to a few buffers
    assert saved["growth"] < 16 * 2**20, saved
    assert loaded["growth"] < 16 * 2**20, loaded


# -- build -----------------------------------------------------------------------------------

MULTI_STAGE = f"""\
FROM {TEST_IMAGE} AS base
ARG GREETING=hi
ARG UNUSED
COPY . /ctx/
RUN echo "$GREETING" > /greeting && find /ctx -type f | sort > /listing
LABEL stage=base
FROM base AS final
RUN echo final > /final
LABEL stage=final
"""


@pytest.mark.engine
async def test_build_directory_with_args_labels_target(
    docker: Docker, engine: EngineHandle, tmp_path: Path
) -> None:
    make_tree(tmp_path, {
        "Dockerfile": MULTI_STAGE,
        ".dockerignore": "*.secret\ncache/\n",
        "app/main.py": "print('hi')\n",
        "token.secret": "never sent\n",
        "cache/blob": "x",
    })
    name = f"{unique()}:base"
    async with cleanup(docker, name):
        stream = docker.images.build(
            tmp_path,
            tag=name,
            buildargs={"GREETING": "héllo wörld"},
            labels={TEST_LABEL: "1", "purpose": "build-test"},
            target="base",
            network_mode="none",
            forcerm=True,
        )
        prefix = "STEP " if engine.podman else "Step "  # Podman (Buildah) shouts
        steps = []
        async for message in stream:
            assert isinstance(message, ProgressMessage)
            if message.stream and message.stream.startswith(prefix):
                steps.append(message.stream)
        image_id = await stream
        assert image_id.startswith("sha256:") and len(image_id) == 71
        assert steps[0].startswith(f"{prefix}1/")
        assert (": FROM " if engine.podman else " : FROM ") in steps[0]
        assert any("RUN echo \"$GREETING\"" in step for step in steps)
        assert not any("echo final" in step for step in steps)  # target: base only
        image = await docker.images.inspect(name)
        assert image.id == image_id
        assert image.config is not None and image.config.labels is not None
        labels = dict(image.config.labels)
        if engine.podman:  # Buildah signs its work
            assert labels.pop("io.buildah.version")
        assert labels == {"stage": "base", TEST_LABEL: "1", "purpose": "build-test"}
        out = engine.cli("run", "--rm", "--network", "none", name, "sh", "-c",
                         "cat /greeting /listing; ls /final 2>&1 || true").stdout
        assert out.splitlines() == [
            "héllo wörld", "/ctx/.dockerignore", "/ctx/Dockerfile", "/ctx/app/main.py",
            "ls: /final: No such file or directory",
        ]
        # the same build again comes from the cache: the same id
        again = await docker.images.build(
            tmp_path, tag=name, buildargs={"GREETING": "héllo wörld"},
            labels={TEST_LABEL: "1", "purpose": "build-test"}, target="base",
            network_mode="none",
        )
        assert again == image_id


@pytest.mark.engine
async def test_build_from_tar_bytes_stream_and_file(docker: Docker, tmp_path: Path) -> None:
    context = tar_of({
        "build/Containerfile": f"FROM {TEST_IMAGE}\nCOPY data.txt /data.txt\n".encode(),
        "data.txt": secrets.token_hex(8).encode(),
    })
    tags = [f"{unique()}:a", f"{unique()}:b"]
    async with cleanup(docker, *tags):
        first = await docker.images.build(context, tag=tags, dockerfile="build/Containerfile",
                                          network_mode="none")
        for tag in tags:
            assert (await docker.images.inspect(tag)).id == first
        from_stream = await docker.images.build(chunked(context),
                                                dockerfile="build/Containerfile")
        path = tmp_path / "context.tar"
        path.write_bytes(context)
        with path.open("rb") as file:
            from_file = await docker.images.build(file, dockerfile="build/Containerfile")
        from_path = await docker.images.build(path, dockerfile="build/Containerfile")
        assert first == from_stream == from_file == from_path
    with pytest.raises(InvalidArgument, match="neither a directory nor a tar file"):
        docker.images.build(tmp_path / "nothing-here")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidArgument, match="no Dockerfile in the context"):
        docker.images.build(tmp_path / "empty")


@pytest.mark.engine
async def test_build_failure_carries_the_log(
    docker: Docker, tmp_path: Path, engine: EngineHandle
) -> None:
    make_tree(tmp_path, {"Dockerfile": (
        f"FROM {TEST_IMAGE}\nRUN echo preparing\n"
        "RUN echo 'something broke' >&2; exit 3\nRUN echo never\n"
    )})
    with pytest.raises(ProgressError) as info:
        await docker.images.build(tmp_path, network_mode="none", nocache=True, forcerm=True)
    exc = info.value
    assert ("while running runtime: exit status 3" if engine.podman
            else "returned a non-zero code: 3") in str(exc)
    assert exc.operation == "build"
    assert exc.code == 3  # from the message on Podman, which gives no code
    text = "".join(getattr(m, "stream", None) or "" for m in exc.log)
    assert "preparing" in text and "something broke" in text and "never" not in text
    # a Dockerfile that does not parse is refused up front (400); Podman fails the build
    make_tree(tmp_path, {"Dockerfile": f"FROM {TEST_IMAGE}\nNOPE x\n"})
    with pytest.raises(ProgressError if engine.podman else BadRequest,
                       match=r'(?i)unknown instruction: "?NOPE'):
        await docker.images.build(tmp_path)


# -- registries ------------------------------------------------------------------------------


@pytest.mark.engine
async def test_push_and_pull_through_a_registry(
    docker: Docker, engine: EngineHandle, registry: RegistryHandle, no_docker_config: Path,
    tmp_path: Path,
) -> None:
    repo = f"{registry.address}/ads/{unique('app')}"
    # a layer of its own, so that the push uploads one: the test image's layer may be in this
    # registry already (other tests push it), and is then mounted rather than pushed
    make_tree(tmp_path, {"Dockerfile": (
        f"FROM {TEST_IMAGE}\nRUN head -c 300000 /dev/urandom > /blob\n"
    )})
    async with cleanup(docker, f"{repo}:v1"):
        await docker.images.build(tmp_path, tag=f"{repo}:v1", network_mode="none")
        push = docker.images.push(repo, "v1")  # anonymous: the "{}" header 20.10 insists on
        messages = [m async for m in push]
        result = await push
        assert isinstance(result, PushResult)
        assert result.tag == "v1" and result.digest.startswith("sha256:")
        assert result.size and result.size > 0
        if engine.podman:  # no per-layer progress: the repository, then the digest
            assert [m.status for m in messages] == [
                f"The push refers to repository [{repo}:v1]",
                f"v1: digest: {result.digest} size: {result.size}",
            ]
        else:
            assert any(m.status == "Pushed" for m in messages)
            assert any(m.progress_detail is not None and m.progress_detail.total
                       for m in messages if m.status == "Pushing")
        digests = json.loads(engine.cli("image", "inspect", "--format",
                                        "{{json .RepoDigests}}", f"{repo}:v1").stdout)
        if engine.podman:  # the local manifest's digest: Podman converts it as it pushes
            assert any(d.startswith(f"{repo}@sha256:") for d in digests)
        else:
            assert f"{repo}@{result.digest}" in digests

        await docker.images.remove(f"{repo}:v1")
        pull = docker.images.pull(f"{repo}:v1")
        statuses = [m.status async for m in pull]
        image = await pull
        assert isinstance(image, ImageInspect)
        assert f"{repo}:v1" in (image.repo_tags or [])
        assert f"{repo}@{result.digest}" in (image.repo_digests or [])
        if engine.podman:  # per-layer statuses, no "Digest: …" one
            assert "Download complete" in statuses
        else:
            assert f"Digest: {result.digest}" in statuses
        # by digest too
        by_digest = await docker.images.pull(repo, result.digest)
        assert by_digest.id == image.id

        if engine.podman:  # Podman reports the registry's answer in the stream
            with pytest.raises(ProgressError, match="manifest unknown"):
                await docker.images.pull(f"{repo}:no-such-tag")
            with pytest.raises(NotFound, match="image not known"):  # and a missing image first
                await docker.images.push(f"{registry.address}/ads/{unique('nothing')}:v1")
        else:
            with pytest.raises(NotFound, match=r"manifest unknown|not found"):
                await docker.images.pull(f"{repo}:no-such-tag")
            with pytest.raises(ProgressError, match="does not exist locally"):
                await docker.images.push(f"{registry.address}/ads/{unique('nothing')}:v1")


@pytest.mark.engine
async def test_a_registry_on_localhost_is_reached_by_that_name_too(
    docker: Docker, registry: RegistryHandle, no_docker_config: Path,
) -> None:
    # the test registry listens on 127.0.0.1; a reference may name it localhost:PORT, and
    # every engine reaches it over plain HTTP under either name (Podman by its registries.conf)
    port = registry.address.rpartition(":")[2]
    repo = f"localhost:{port}/ads/{unique('local')}"
    async with cleanup(docker, f"{repo}:v1"):
        await docker.images.tag(TEST_IMAGE, f"{repo}:v1")
        pushed = await docker.images.push(repo, "v1")
        assert pushed.tag == "v1" and pushed.digest.startswith("sha256:")
        await docker.images.remove(f"{repo}:v1")
        image = await docker.images.pull(f"{repo}:v1")
        assert f"{repo}:v1" in (image.repo_tags or [])


@pytest.mark.engine
async def test_pull_from_an_unreachable_registry(
    docker: Docker, no_docker_config: Path, engine: EngineHandle
) -> None:
    if engine.podman:  # Podman says so in the progress stream, not up front
        with pytest.raises(ProgressError, match=r"pinging container registry "
                                                r"registry-1\.docker\.io") as progress:
            await docker.images.pull("aiodockersock-test/not-on-any-registry")
        assert progress.value.operation == "pull of aiodockersock-test/not-on-any-registry:latest"
        return
    with pytest.raises(RegistryUnreachable) as info:
        await docker.images.pull("aiodockersock-test/not-on-any-registry")
    assert "cannot reach the registry docker.io to pull " in str(info.value)
    assert "aiodockersock-test/not-on-any-registry:latest" in str(info.value)


@pytest.mark.engine
async def test_registry_with_basic_auth(
    docker: Docker, auth_registry: RegistryHandle, no_docker_config: Path,
    caplog: pytest.LogCaptureFixture, engine: EngineHandle,
) -> None:
    caplog.set_level(logging.DEBUG)
    assert auth_registry.username and auth_registry.password
    good = RegistryAuth(auth_registry.username, auth_registry.password)
    wrong_password = f"wrong-{secrets.token_urlsafe(12)}"
    bad = RegistryAuth(auth_registry.username, wrong_password)
    repo = f"{auth_registry.address}/ads/{unique('private')}"
    async with cleanup(docker, f"{repo}:v1"):
        await docker.images.tag(TEST_IMAGE, repo, "v1")

        # Podman says what the registry said
        no_credentials = ("unauthorized: authentication required" if engine.podman
                          else "no basic auth credentials")
        with pytest.raises(RegistryAuthError, match=no_credentials) as anonymous:
            await docker.images.push(f"{repo}:v1")
        assert anonymous.value.operation == f"push of {repo}:v1"
        assert anonymous.value.registry == auth_registry.address

        with pytest.raises(RegistryAuthError, match="unauthorized: authentication") as push:
            await docker.images.push(f"{repo}:v1", auth=bad)
        pushed = await docker.images.push(f"{repo}:v1", auth=good)
        assert pushed.digest.startswith("sha256:")

        await docker.images.remove(f"{repo}:v1")
        # a 500 on 20.10, a 401 on 28.5, an error in the progress stream on Podman: one class,
        # the same as a push's
        with pytest.raises(RegistryAuthError, match=no_credentials) as anonymous_pull:
            await docker.images.pull(f"{repo}:v1")
        assert anonymous_pull.value.operation == f"pull of {repo}:v1"
        assert anonymous_pull.value.registry == auth_registry.address
        with pytest.raises(RegistryAuthError, match="unauthorized") as pull:
            await docker.images.pull(f"{repo}:v1", auth=bad)
        assert isinstance(pull.value, ProgressError)  # as every failed pull or push
        image = await docker.images.pull(f"{repo}:v1", auth=good)
        assert f"{repo}@{pushed.digest}" in (image.repo_digests or [])

    for exc in (push.value, pull.value):
        for text in (str(exc), repr(exc), repr(getattr(exc, "log", None)), repr(exc.args)):
            assert wrong_password not in text and auth_registry.password not in text
    for secret in (wrong_password, auth_registry.password, good.header(), bad.header()):
        assert secret not in caplog.text
        assert base64.b64encode(secret.encode()).decode() not in caplog.text
    assert auth_registry.password not in repr(good)


@pytest.mark.engine
async def test_credentials_from_docker_config(
    docker: Docker, auth_registry: RegistryHandle, no_docker_config: Path, engine: EngineHandle
) -> None:
    assert auth_registry.username and auth_registry.password
    basic = f"{auth_registry.username}:{auth_registry.password}"
    (no_docker_config / "config.json").write_text(json.dumps({
        "auths": {f"http://{auth_registry.address}/v2/": {
            "auth": base64.b64encode(basic.encode()).decode()}}
    }))
    repo = f"{auth_registry.address}/ads/{unique('fromconfig')}"
    async with cleanup(docker, f"{repo}:v2"):
        await docker.images.tag(TEST_IMAGE, f"{repo}:v2")
        pushed = await docker.images.push(f"{repo}:v2")  # found in $DOCKER_CONFIG/config.json
        await docker.images.remove(f"{repo}:v2")
        image = await docker.images.pull(f"{repo}:v2")
        assert f"{repo}@{pushed.digest}" in (image.repo_digests or [])
        # an explicit anonymous RegistryAuth() skips the lookup
        await docker.images.remove(f"{repo}:v2")
        words = ("unauthorized: authentication required" if engine.podman  # the registry's
                 else "no basic auth credentials")
        with pytest.raises(RegistryAuthError, match=words):
            await docker.images.pull(f"{repo}:v2", auth=RegistryAuth())


# -- distribution inspect, build-cache prune, attestations -----------------------------------


@pytest.mark.engine
@pytest.mark.not_supported_on("podman")
async def test_distribution_reports_what_the_registry_holds(
    docker: Docker, engine: EngineHandle, registry: RegistryHandle,
    auth_registry: RegistryHandle, no_docker_config: Path,
) -> None:
    repo = f"{registry.address}/ads/{unique('dist')}"
    if engine.podman:  # Podman 4.3's service has no /distribution route
        with pytest.raises(NotSupported, match=r"does not implement GET .*/distribution/"):
            await docker.images.distribution(f"{repo}:v1")
        return
    async with cleanup(docker, f"{repo}:v1"):
        await docker.images.tag(TEST_IMAGE, repo, "v1")
        pushed = await docker.images.push(f"{repo}:v1")
        found = await docker.images.distribution(f"{repo}:v1")
        assert found.descriptor is not None
        assert found.descriptor.digest == pushed.digest  # what the push reported
        assert found.descriptor.size == pushed.size
        assert found.descriptor.media_type == (
            "application/vnd.docker.distribution.manifest.v2+json")
        version = await docker.version()
        assert [(p.os, p.architecture) for p in found.platforms or []] == [
            (version.os, version.arch)]
        # by digest, the same manifest; nothing was pulled or changed locally
        by_digest = await docker.images.distribution(f"{repo}@{pushed.digest}")
        assert by_digest.descriptor == found.descriptor
        with pytest.raises(NotFound, match="manifest unknown"):
            await docker.images.distribution(f"{repo}:no-such-tag")

    # a registry that wants credentials: refused without them, answered with them
    assert auth_registry.username and auth_registry.password
    good = RegistryAuth(auth_registry.username, auth_registry.password)
    private = f"{auth_registry.address}/ads/{unique('dist')}"
    async with cleanup(docker, f"{private}:v1"):
        await docker.images.tag(TEST_IMAGE, private, "v1")
        pushed = await docker.images.push(f"{private}:v1", auth=good)
        with pytest.raises(RegistryAuthError) as refused:
            await docker.images.distribution(f"{private}:v1")
        assert refused.value.registry == auth_registry.address
        found = await docker.images.distribution(f"{private}:v1", auth=good)
        assert found.descriptor is not None and found.descriptor.digest == pushed.digest
    with pytest.raises(RegistryUnreachable, match=r"cannot reach the registry 127\.0\.0\.1:1"):
        await docker.images.distribution("127.0.0.1:1/ads/nothing:v1")


def _buildkit_build(engine: EngineHandle, dockerfile: str) -> None:
    """A BuildKit build through the raw API (``/build?version=2``; the context goes up as the
    body, no session needed): it leaves build-cache records, which the classic builder of
    ``images.build`` does not."""
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w", format=tarfile.GNU_FORMAT) as archive:
        data = dockerfile.encode()
        member = tarfile.TarInfo("Dockerfile")
        member.size, member.mtime = len(data), int(time.time())
        archive.addfile(member, io.BytesIO(data))
    status, body = unix_request(
        engine.host.removeprefix("unix://"), "POST",
        f"/build?version=2&networkmode=none&t={unique('ads-bk')}",
        tar.getvalue(), {"Content-Type": "application/x-tar"}, timeout=120,
    )
    assert status == 200 and b'"error"' not in body, body[-500:]


@pytest.mark.engine
@pytest.mark.not_supported_on("podman")
async def test_prune_builds_removes_the_build_cache(
    docker: Docker, engine: EngineHandle
) -> None:
    if engine.podman:  # Podman 4.3's service has no /build/prune route
        with pytest.raises(NotSupported, match=r"does not implement POST .*/build/prune"):
            await docker.images.prune_builds()
        return
    if not engine.host.startswith("unix://"):
        pytest.skip("the BuildKit build that makes the cache is sent over a unix socket")
    marker = secrets.token_hex(8)
    await asyncio.to_thread(
        _buildkit_build, engine, f"FROM {TEST_IMAGE}\nRUN echo {marker} > /marker\n"
    )
    df = await docker.df()
    records = {r.id: r for r in df.build_cache or []}
    made = {i for i, r in records.items() if marker in (r.description or "")}
    assert made, records  # the RUN step's cache record
    pruned = await docker.images.prune_builds(all=True)
    assert made <= set(pruned.caches_deleted or [])
    assert pruned.space_reclaimed is not None and pruned.space_reclaimed > 0
    left = {r.id for r in (await docker.df()).build_cache or []}
    assert not made & left
    # nothing left to prune: an empty answer, as the Engine sends it (null, 0)
    again = await docker.images.prune_builds(all=True, filters={"until": "1h"}, keep_storage=0)
    assert not again.caches_deleted and again.space_reclaimed == 0

    if parse_version(engine.api_version) >= (1, 48):
        limited = await docker.images.prune_builds(max_used_space=10**9, min_free_space=0)
        assert not limited.caches_deleted
    else:
        expected = (rf"max_used_space=…\) needs API 1\.48 or newer; this daemon speaks "
                    rf"{re.escape(engine.api_version)}")
        with pytest.raises(InvalidArgument, match=expected):
            await docker.images.prune_builds(max_used_space=10**9)
    with pytest.raises(InvalidArgument, match="keep_storage must be a number of bytes"):
        await docker.images.prune_builds(keep_storage=-1)


@pytest.mark.engine
async def test_attestations_need_an_engine_of_api_1_56(
    docker: Docker, engine: EngineHandle
) -> None:
    # none of the test engines speaks API 1.56 (Podman 4.3 speaks 1.41): refused before
    # anything is sent, naming the version needed and the engine's
    with pytest.raises(InvalidArgument) as info:
        await docker.images.attestations(TEST_IMAGE)
    text = str(info.value)
    assert "GET /images/{name}/attestations) needs API 1.56 or newer" in text
    assert f"this daemon speaks {engine.api_version}" in text
    with pytest.raises(InvalidArgument, match="is not os\\[/architecture"):
        await docker.images.attestations(TEST_IMAGE, platform="linux//amd64")
    with pytest.raises(InvalidArgument, match="types must hold non-empty strings only"):
        await docker.images.attestations(TEST_IMAGE, types=[1])  # type: ignore[list-item]
