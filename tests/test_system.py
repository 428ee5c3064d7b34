"""The system API against real engines: ping, version, info, df."""

from __future__ import annotations

import pytest

from aiodockersock import Docker
from aiodockersock._transport import MAX_API_VERSION, parse_version

from .conftest import TEST_IMAGE, ContainerFactory, EngineHandle

pytestmark = [pytest.mark.engine, pytest.mark.podman]


async def test_ping_reports_the_daemon(docker: Docker, engine: EngineHandle) -> None:
    ping = await docker.ping()
    assert ping.api_version == engine.api_version
    if engine.podman:  # no OSType header; "experimental"; its own version
        assert (ping.os_type, ping.experimental) == (None, True)
        assert ping.podman_version == engine.server_version
    else:
        assert ping.os_type == "linux"
        assert ping.experimental is False
        assert ping.podman_version is None


async def test_auto_negotiates_min_of_daemon_and_client(
    docker: Docker, engine: EngineHandle
) -> None:
    assert docker.api_version is None
    used = await docker.negotiate()
    expected = min(engine.api_version, MAX_API_VERSION, key=parse_version)
    assert used == expected == docker.api_version


async def test_pinned_version_is_used(engine: EngineHandle) -> None:
    async with Docker(engine.host, api_version="1.41") as docker:
        v = await docker.version()
        assert docker.api_version == "1.41"
        assert v.api_version == engine.api_version  # the daemon reports its own max


async def test_version_decodes_every_field(docker: Docker, engine: EngineHandle) -> None:
    v = await docker.version()
    assert v.version == engine.server_version
    assert v.api_version == engine.api_version
    assert v.min_api_version and parse_version(v.min_api_version) <= (1, 24)
    assert v.os == "linux" and v.arch
    assert v.go_version and v.go_version.startswith("go")
    assert v.kernel_version
    names = {c.name for c in v.components or []}
    if engine.podman:  # Debian's build records no commit
        assert v.git_commit == ""
        assert {"Podman Engine", "Conmon"} <= names
    else:
        assert v.git_commit
        assert "Engine" in names and "containerd" in names
    assert v.platform is not None and v.platform.name is not None


async def test_info_decodes_counts_and_host_facts(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container()
    await docker.containers.start(cid)
    info = await docker.info()
    assert info.id
    assert info.containers is not None and info.containers >= 1
    assert info.containers_running is not None and info.containers_running >= 1
    assert info.images is not None and info.images >= 1
    assert info.ncpu is not None and info.ncpu >= 1
    assert info.mem_total is not None and info.mem_total > 2**28
    assert info.os_type == "linux"
    assert info.docker_root_dir and info.docker_root_dir.startswith("/")
    assert info.driver
    assert info.kernel_version
    assert info.server_version
    assert info.runtimes and "runc" in info.runtimes
    assert info.swarm is not None and info.swarm.local_node_state == "inactive"
    assert info.registry_config is not None


async def test_df_lists_images_and_containers(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    cid = await make_container()
    df = await docker.df()
    mine = [c for c in df.containers or [] if c.id == cid]
    assert len(mine) == 1
    if engine.podman:
        # Podman's df: no layer total, one entry per tag naming only the tag, bare ids, and a
        # container's image given by its id
        image_id = (await docker.images.inspect(TEST_IMAGE)).id
        assert image_id is not None
        assert df.layers_size == 0
        assert any(img.id == image_id[7:] and img.repo_tags == ["latest"] and img.size
                   for img in df.images or [])
        assert mine[0].image == image_id[7:]
    else:
        assert df.layers_size is not None and df.layers_size > 0
        assert any(TEST_IMAGE in (img.repo_tags or []) for img in df.images or [])
        assert mine[0].image == TEST_IMAGE
    assert df.volumes is not None or df.volumes is None  # an empty engine may send null
    assert isinstance(df.build_cache, (list, type(None)))
