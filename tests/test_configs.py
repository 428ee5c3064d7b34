"""The configs API against a real single-node swarm (the ``swarm`` fixture) on Docker 20.10 and
28.5: create, list, inspect (with the content), update (labels, with the version handshake),
remove, and a config mounted in a service's task."""

from __future__ import annotations

import asyncio
import contextlib
import secrets as random
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from aiodockersock import BadRequest, Conflict, Docker, InvalidArgument, NotFound
from aiodockersock.models import Config

from .conftest import TEST_LABEL, EngineHandle, SwarmHandle, assert_no_swarm

#: Tests that need a real engine (they take the ``swarm`` fixture).
engine_test = pytest.mark.engine

ConfigFactory = Callable[..., Awaitable[Config]]
CONTENT = b"listen 8080;\nworkers 2;\n"


@pytest.fixture
async def make_config(swarm_docker: Docker) -> AsyncIterator[ConfigFactory]:
    """Create labelled test configs (random names) and remove them afterwards."""
    made: list[str] = []

    async def make(data: bytes | str = CONTENT, **kwargs: object) -> Config:
        name = f"ads-config-{random.token_hex(4)}"
        labels = {TEST_LABEL: "1", **kwargs.pop("labels", {})}  # type: ignore[dict-item]
        config = await swarm_docker.configs.create(name, data, labels=labels, **kwargs)
        assert config.id is not None
        made.append(config.id)
        return config

    yield make
    for config_id in made:
        with contextlib.suppress(NotFound):
            await swarm_docker.configs.remove(config_id)


@engine_test
async def test_create_inspect_list_remove(
    swarm: SwarmHandle, swarm_docker: Docker, make_config: ConfigFactory
) -> None:
    config = await make_config(labels={"team": "a"})
    assert config.content == CONTENT  # configs are not secret: the daemon sends them back
    assert config.spec is not None and config.spec.labels == {TEST_LABEL: "1", "team": "a"}
    assert config.name is not None
    assert (await swarm_docker.configs.inspect(config.name)).id == config.id
    listed = await swarm_docker.configs.list(filters={"name": [config.name]})
    assert [c.id for c in listed] == [config.id] and listed[0].content == CONTENT
    assert config.id is not None
    await swarm_docker.configs.remove(config.id)
    with pytest.raises(NotFound):
        await swarm_docker.configs.inspect(config.id)


@engine_test
async def test_str_content_and_conflicts(
    swarm: SwarmHandle, swarm_docker: Docker, make_config: ConfigFactory
) -> None:
    config = await make_config("héllo")
    assert config.content == "héllo".encode()
    assert config.name is not None
    with pytest.raises(Conflict):
        await swarm_docker.configs.create(config.name, b"other")
    with pytest.raises(InvalidArgument, match="bytes"):
        await swarm_docker.configs.create("x", None)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="name"):
        await swarm_docker.configs.create("", b"x")


@engine_test
async def test_update_keeps_the_content_and_replaces_labels(
    swarm: SwarmHandle, swarm_docker: Docker, make_config: ConfigFactory
) -> None:
    config = await make_config()
    assert config.id is not None and config.version is not None
    updated = await swarm_docker.configs.update(config.id, labels={"stage": "prod"})
    assert updated.spec is not None and updated.spec.labels == {"stage": "prod"}
    assert updated.content == CONTENT
    assert updated.version is not None
    assert (updated.version.index or 0) > (config.version.index or 0)


@engine_test
async def test_a_config_is_mounted_in_a_service_task(
    swarm: SwarmHandle, swarm_docker: Docker, make_config: ConfigFactory
) -> None:
    config = await make_config()
    assert config.name is not None and config.id is not None
    service = await swarm_docker.services.create(
        image=swarm.image_id,
        command=["sh", "-c", f"cat /{config.name}; sleep 60"],
        configs=[config.name],
        labels={TEST_LABEL: "1"},
    )
    assert service.id is not None
    try:
        await swarm_docker.services.wait_converged(service.id, timeout=60)
        async with swarm_docker.services.logs(service.id, follow=True) as logs:
            lines = aiter(logs.lines())
            first = await asyncio.wait_for(anext(lines), 30)
        assert first.text == "listen 8080;"
        with pytest.raises(BadRequest, match="in use"):
            await swarm_docker.configs.remove(config.id)
    finally:
        await swarm_docker.services.remove(service.id)
    with pytest.raises(InvalidArgument, match="no config named"):
        await swarm_docker.services.create(image=swarm.image_id, configs=["ads-no-such"])


@engine_test
@pytest.mark.podman
@pytest.mark.not_supported_on("podman")
async def test_every_call_without_a_swarm_says_why(engine: EngineHandle, docker: Docker) -> None:
    """Podman has no swarm mode (NotSupported saying so); a Docker engine in no swarm says to
    init or join one (NotInSwarm)."""
    await assert_no_swarm(engine, "configs", {
        "list": docker.configs.list,
        "inspect": lambda: docker.configs.inspect("ads-no-config"),
        "create": lambda: docker.configs.create("ads-no-config", CONTENT),
        "update": lambda: docker.configs.update("ads-no-config", labels={"a": "b"}),
        "remove": lambda: docker.configs.remove("ads-no-config"),
    })
