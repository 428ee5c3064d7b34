"""The volumes API against real engines, and the volume structs against recorded answers."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import pytest

from aiodockersock import BadRequest, Conflict, Docker, InvalidArgument, NotFound, NotSupported
from aiodockersock._transport import parse_version
from aiodockersock.models import (
    ClusterVolumeSpec,
    Volume,
    VolumeCreateOptions,
    VolumeList,
    VolumeListResponse,
    VolumePruneResponse,
)

from .conftest import TEST_IMAGE, TEST_LABEL, ContainerFactory, EngineHandle
from .test_models import unmatched_keys

VolumeFactory = Callable[..., Awaitable[str]]

# An address no daemon listens on: a call that raises InvalidArgument there sent nothing.
NOWHERE = "unix:///nonexistent/aiodockersock.sock"
# (mode, not size: Podman 4.3 takes a size option for a disk quota, even for a tmpfs, and refuses
# it on a filesystem without project quotas)
TMPFS = {"type": "tmpfs", "device": "tmpfs", "o": "mode=0700"}

#: Tests that need a real engine (they take the ``docker`` fixture).
engine_test = pytest.mark.engine
#: Every engine test runs on Podman too.
pytestmark = pytest.mark.podman


@pytest.fixture
async def make_volume(docker: Docker) -> AsyncIterator[VolumeFactory]:
    """Create labelled test volumes (random names unless anonymous) and remove them afterwards."""
    created: list[str] = []

    async def make(name: str | None = "", **kwargs: Any) -> str:
        if name == "":
            name = f"ads-vol-{secrets.token_hex(4)}"
        labels = {TEST_LABEL: "1", **kwargs.pop("labels", {})}
        vol = await docker.volumes.create(name, labels=labels, **kwargs)
        assert vol.name is not None
        created.append(vol.name)
        return vol.name

    yield make
    for name in created:
        await docker.volumes.remove(name, force=True)


def _is_old(engine: EngineHandle) -> bool:
    """API 1.41: prune considers every unused volume, not only anonymous ones."""
    return parse_version(engine.api_version) < (1, 42)


# ---------------------------------------------------------------------------------------------
# Against real engines
# ---------------------------------------------------------------------------------------------


@engine_test
async def test_create_with_driver_options_and_labels(
    docker: Docker, engine: EngineHandle
) -> None:
    name = f"ads-vol-{secrets.token_hex(4)}"
    vol = await docker.volumes.create(
        name, driver="local", driver_opts=TMPFS, labels={TEST_LABEL: "1", "purpose": "tmpfs"}
    )
    try:
        assert vol.name == name
        assert vol.driver == "local" and vol.scope == "local"
        assert vol.options == TMPFS
        assert vol.labels == {TEST_LABEL: "1", "purpose": "tmpfs"}
        assert vol.mountpoint and vol.mountpoint.endswith(f"/volumes/{name}/_data")
        assert vol.created_at and vol.created_at.startswith("20")
        again = await docker.volumes.inspect(name)
        assert (again.name, again.options, again.labels) == (name, TMPFS, vol.labels)
        out = engine.cli("volume", "inspect", "--format",
                         "{{.Driver}} {{json .Options}} {{json .Labels}}", name).stdout.split()
        assert out[0] == "local"
        assert json.loads(out[1]) == TMPFS
        assert json.loads(out[2]) == {TEST_LABEL: "1", "purpose": "tmpfs"}
        # the driver options take effect: the volume is a tmpfs of mode 0700 in a container
        run = await docker.containers.run(
            {"Image": TEST_IMAGE, "Cmd": ["grep", " /data ", "/proc/mounts"],
             "Labels": {TEST_LABEL: "1"},
             "HostConfig": {"NetworkMode": "none", "Binds": [f"{name}:/data"]}},
            remove=True,
        )
        assert run.logs is not None
        mount = run.logs.stdout.decode()
        assert mount.startswith("tmpfs /data tmpfs") and "mode=700" in mount
    finally:
        await docker.volumes.remove(name)
    with pytest.raises(NotFound):
        await docker.volumes.inspect(name)
    assert engine.cli("volume", "ls", "-q", "--filter", f"name={name}").stdout.strip() == ""


@engine_test
async def test_create_returns_an_existing_volume_unchanged(
    docker: Docker, make_volume: VolumeFactory
) -> None:
    name = await make_volume(labels={"generation": "1"})
    again = await docker.volumes.create(name, labels={TEST_LABEL: "1", "generation": "2"},
                                        driver_opts=TMPFS)
    assert again.name == name
    assert again.labels == {TEST_LABEL: "1", "generation": "1"}
    assert not again.options


@engine_test
async def test_anonymous_volume_gets_a_generated_name(
    docker: Docker, engine: EngineHandle, make_volume: VolumeFactory
) -> None:
    name = await make_volume(None)
    assert re.fullmatch(r"[0-9a-f]{64}", name)
    labels = (await docker.volumes.inspect(name)).labels or {}
    assert labels.get(TEST_LABEL) == "1"
    if not _is_old(engine):
        # newer daemons mark anonymous volumes, which is how prune tells them apart
        assert "com.docker.volume.anonymous" in labels


@engine_test
async def test_list_with_filters(docker: Docker, make_volume: VolumeFactory) -> None:
    tag = secrets.token_hex(4)
    first = await make_volume(labels={"batch": tag})
    second = await make_volume(labels={"batch": tag, "role": "db"})
    await make_volume()

    batch = await docker.volumes.list(filters={"label": f"batch={tag}"})
    assert isinstance(batch, VolumeList) and isinstance(batch, list)
    assert batch.warnings == []
    assert sorted(v.name or "" for v in batch) == sorted([first, second])
    assert all(isinstance(v, Volume) and v.driver == "local" for v in batch)
    both = await docker.volumes.list(filters={"label": [f"batch={tag}", "role=db"]})
    assert [v.name for v in both] == [second]
    by_name = await docker.volumes.list(filters={"name": second})
    assert [v.name for v in by_name] == [second]
    assert by_name[0].labels == {TEST_LABEL: "1", "batch": tag, "role": "db"}


@engine_test
async def test_remove_in_use_missing_and_forced(
    docker: Docker, make_volume: VolumeFactory, make_container: ContainerFactory
) -> None:
    name = await make_volume()
    cid = await make_container(HostConfig={"NetworkMode": "none", "Binds": [f"{name}:/data"]})
    # (Podman: "… volume is being used")
    with pytest.raises(Conflict, match=r"volume is (in use|being used)") as in_use:
        await docker.volumes.remove(name)  # even by a container that never ran
    assert in_use.value.status == 409
    await docker.containers.remove(cid)
    await docker.volumes.remove(name)
    with pytest.raises(NotFound, match="no such volume") as missing:
        await docker.volumes.remove(name)
    assert missing.value.status == 404
    await docker.volumes.remove(name, force=True)  # a missing volume is fine with force


@engine_test
async def test_create_errors(docker: Docker) -> None:
    # Docker answers 400, Podman 500 with its own words: both raise BadRequest
    with pytest.raises(BadRequest, match=r"invalid characters|names must match \["):
        await docker.volumes.create("a b")
    with pytest.raises(BadRequest, match=r"invalid (mount )?option"):
        await docker.volumes.create(f"ads-vol-{secrets.token_hex(4)}",
                                    driver_opts={"bogus": "1"})
    # (an unknown driver is a NotFound too, but dockerd looks for a plugin of that name for
    # 15 s first: not worth the suite's time)


@engine_test
async def test_prune_default_spares_named_volumes_from_api_1_42(
    docker: Docker, engine: EngineHandle, make_volume: VolumeFactory,
    make_container: ContainerFactory,
) -> None:
    tag = secrets.token_hex(4)
    batch = {"label": f"batch={tag}"}
    named = await make_volume(labels={"batch": tag})
    anonymous = await make_volume(None, labels={"batch": tag})
    in_use = await make_volume(labels={"batch": tag})
    mounted = await make_volume(driver_opts=TMPFS, labels={"batch": tag})
    await make_container(HostConfig={"NetworkMode": "none", "Binds": [f"{in_use}:/data"]})

    # Docker never prunes a volume created with driver options; Podman (API 1.41: every unused
    # volume) does
    kept = {in_use} if engine.podman else {in_use, mounted}
    pruned = await docker.volumes.prune(filters=batch)
    if engine.podman:
        assert sorted(pruned.volumes_deleted or []) == sorted([named, anonymous, mounted])
    elif _is_old(engine):
        assert sorted(pruned.volumes_deleted or []) == sorted([named, anonymous])
    else:
        assert pruned.volumes_deleted == [anonymous]
    assert pruned.space_reclaimed is not None and pruned.space_reclaimed >= 0
    left = {v.name for v in await docker.volumes.list(filters=batch)}
    assert kept <= left  # in use (or, on Docker, created with driver options): never pruned
    assert anonymous not in left

    everything = await docker.volumes.prune(filters=batch, all=True)
    assert everything.volumes_deleted == ([] if _is_old(engine) else [named])
    assert {v.name for v in await docker.volumes.list(filters=batch)} == kept


@engine_test
async def test_prune_all_false_keeps_named_volumes_or_is_refused_at_api_1_41(
    engine: EngineHandle,
) -> None:
    tag = secrets.token_hex(4)
    async with Docker(engine.host) as docker:
        named = (await docker.volumes.create(
            f"ads-vol-{tag}", labels={TEST_LABEL: "1", "batch": tag})).name
        assert named is not None
        try:
            if _is_old(engine):
                with pytest.raises(InvalidArgument, match=r"needs API 1\.42"):
                    await docker.volumes.prune(filters={"label": f"batch={tag}"}, all=False)
            else:
                kept = await docker.volumes.prune(filters={"label": f"batch={tag}"}, all=False)
                assert not kept.volumes_deleted
            assert (await docker.volumes.inspect(named)).name == named
            # a client pinned to API 1.41 gets 1.41's meaning from any daemon
            async with Docker(engine.host, api_version="1.41") as old:
                with pytest.raises(InvalidArgument, match="all=False"):
                    await old.volumes.prune(filters={"label": f"batch={tag}"}, all=False)
                assert (await old.volumes.prune(filters={"label": f"batch={tag}"})
                        ).volumes_deleted == [named]
        finally:
            await docker.volumes.remove(named, force=True)


@engine_test
async def test_real_answers_decode_without_leftovers(
    docker: Docker, make_volume: VolumeFactory
) -> None:
    """Every key the engine sends for a volume is a field of our structs."""
    name = await make_volume(driver_opts=TMPFS)
    await make_volume(None)
    raw = (await docker._transport.request("GET", f"/volumes/{name}")).body
    assert unmatched_keys(json.loads(raw), Volume) == []
    assert msgspec.json.decode(raw, type=Volume) == await docker.volumes.inspect(name)
    raw_list = (await docker._transport.request("GET", "/volumes")).body
    assert unmatched_keys(json.loads(raw_list), VolumeListResponse) == []


# ---------------------------------------------------------------------------------------------
# Refused before anything is sent (the client points at no daemon)
# ---------------------------------------------------------------------------------------------


async def test_bad_arguments_are_refused_before_sending() -> None:
    async with Docker(NOWHERE, api_version="1.41") as docker:
        vols = docker.volumes
        with pytest.raises(InvalidArgument, match="non-empty str"):
            await vols.create("")
        with pytest.raises(InvalidArgument, match="driver must be a non-empty str"):
            await vols.create("v", driver="")
        with pytest.raises(InvalidArgument, match="labels must map strings to strings"):
            await vols.create("v", labels={"size": 1})  # type: ignore[dict-item]
        with pytest.raises(InvalidArgument, match="driver_opts must be a mapping"):
            await vols.create("v", driver_opts="type=tmpfs")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument, match="must not be empty"):
            await vols.inspect("")
        with pytest.raises(InvalidArgument, match="path segments"):
            await vols.remove("../containers/x")
        with pytest.raises(InvalidArgument, match="not both"):
            await vols.prune(filters={"all": "true"}, all=True)
        with pytest.raises(InvalidArgument, match=r"needs API 1\.42.*speaks 1\.41"):
            await vols.prune(all=False)


def test_create_body_is_the_engine_json_shape() -> None:
    body = VolumeCreateOptions(name="v", driver_opts={"type": "tmpfs"}, labels={"a": "b"})
    assert json.loads(msgspec.json.encode(body)) == {
        "Name": "v", "DriverOpts": {"type": "tmpfs"}, "Labels": {"a": "b"}}
    assert msgspec.json.encode(VolumeCreateOptions()) == b"{}"


def test_volume_list_is_a_list_with_warnings() -> None:
    vols = VolumeList([Volume(name="a")], ["driver x: timeout"])
    assert vols == [Volume(name="a")] and vols.warnings == ["driver x: timeout"]
    assert VolumeList().warnings == [] and VolumeList() == []
    assert "warnings=['driver x: timeout']" in repr(vols)


# ---------------------------------------------------------------------------------------------
# Recorded answers
# ---------------------------------------------------------------------------------------------

LIST_20_10 = b"""{"Volumes":[{"CreatedAt":"2026-11-28T10:15:39Z","Driver":"local","Labels":{"k":"v"},"Mountpoint":"/tmp/nvx/e20/data/volumes/nvx-vol/_data","Name":"nvx-vol","Options":{"device":"tmpfs","o":"size=1m","type":"tmpfs"},"Scope":"local"},{"CreatedAt":"2026-11-28T10:15:39Z","Driver":"local","Labels":null,"Mountpoint":"/tmp/nvx/e20/data/volumes/4ef03c2f70b74feb78a6cee8e0221b0864114d004569a18f0f708d726b2317a2/_data","Name":"4ef03c2f70b74feb78a6cee8e0221b0864114d004569a18f0f708d726b2317a2","Options":null,"Scope":"local"}],"Warnings":null}"""  # noqa: E501

LIST_28_5 = b"""{"Volumes":[{"CreatedAt":"2026-11-28T10:15:39Z","Driver":"local","Labels":{"k":"v"},"Mountpoint":"/tmp/nvx/e28/data/volumes/nvx-vol/_data","Name":"nvx-vol","Options":{"device":"tmpfs","o":"size=1m","type":"tmpfs"},"Scope":"local"},{"CreatedAt":"2026-11-28T10:15:39Z","Driver":"local","Labels":{"com.docker.volume.anonymous":""},"Mountpoint":"/tmp/nvx/e28/data/volumes/b30344172d4adce7728ba516af337a955701028fa46fb8b1eb6eddbe50667b18/_data","Name":"b30344172d4adce7728ba516af337a955701028fa46fb8b1eb6eddbe50667b18","Options":null,"Scope":"local"}],"Warnings":null}"""  # noqa: E501


@pytest.mark.parametrize("doc", [LIST_20_10, LIST_28_5], ids=["20.10", "28.5"])
def test_recorded_list_decodes(doc: bytes) -> None:
    assert unmatched_keys(json.loads(doc), VolumeListResponse) == []
    listed = msgspec.json.decode(doc, type=VolumeListResponse)
    assert listed.warnings is None
    assert listed.volumes is not None and len(listed.volumes) == 2
    named, anonymous = listed.volumes
    assert named.name == "nvx-vol" and named.labels == {"k": "v"}
    assert named.options == {"device": "tmpfs", "o": "size=1m", "type": "tmpfs"}
    assert named.created_at == "2026-11-28T10:15:39Z"
    assert named.mountpoint and named.mountpoint.endswith("/volumes/nvx-vol/_data")
    assert anonymous.name and len(anonymous.name) == 64 and anonymous.options is None
    assert (anonymous.driver, anonymous.scope) == ("local", "local")
    assert named.usage_data is None and named.status is None


def test_warnings_and_prune_answers_decode() -> None:
    doc = b"""{"Volumes": [], "Warnings": ["failed to list volumes from driver nfsplugin"]}"""
    listed = msgspec.json.decode(doc, type=VolumeListResponse)
    assert listed.volumes == [] and listed.warnings == [
        "failed to list volumes from driver nfsplugin"]
    pruned = msgspec.json.decode(b'{"VolumesDeleted":["a","b"],"SpaceReclaimed":4096}',
                                 type=VolumePruneResponse)
    assert pruned == VolumePruneResponse(volumes_deleted=["a", "b"], space_reclaimed=4096)


@engine_test
async def test_update_without_cluster_volumes_says_what_the_engine_answered(
    docker: Docker, engine: EngineHandle, make_volume: VolumeFactory
) -> None:
    name = await make_volume()
    local = await docker.volumes.inspect(name)
    assert local.cluster_volume is None  # a local volume has no cluster part to update
    with pytest.raises(NotSupported) as info:
        await docker.volumes.update(name, ClusterVolumeSpec(availability="drain"), version=0)
    exc, text = info.value, str(info.value)
    assert text.startswith(f"cannot update volume {name!r}: ")
    if engine.podman:  # its router has GET and DELETE /volumes/{name} only
        assert exc.status == 405
        assert "this engine has no cluster volumes at all" in text
        assert "answered 405 'Method Not Allowed'" in text
    elif parse_version(engine.api_version) < (1, 42):  # Docker 20.10: no such route at all
        assert exc.status == 404
        assert "this engine has no cluster volumes at all (PUT /volumes/{name} is API 1.42" in text
        assert "answered 404 'page not found'" in text
    else:  # a route, but no swarm: 503
        assert exc.status == 503
        assert "this engine is not a swarm manager" in text
        assert "answered 503 'volume update only valid for cluster volumes, but swarm is " \
               "unavailable'" in text
    assert exc.message  # the engine's own words, kept
    assert (await docker.volumes.inspect(name)) == local  # untouched


async def test_update_arguments_are_checked_before_sending() -> None:
    async with Docker(NOWHERE, api_version="1.51") as docker:
        with pytest.raises(InvalidArgument, match="spec must be a ClusterVolumeSpec"):
            await docker.volumes.update("v", {"Availability": "drain"}, version=1)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument, match=r"version must be the volume's "
                                                  r"cluster_volume\.version\.index"):
            await docker.volumes.update("v", ClusterVolumeSpec(), version="1")  # type: ignore[arg-type]
