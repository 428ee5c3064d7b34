"""The secrets API against a real single-node swarm (the ``swarm`` fixture) on Docker 20.10 and
28.5: create, list, inspect, update (labels, with the version handshake), remove; and the
secret's data never shown."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import secrets as random
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from aiodockersock import BadRequest, Conflict, Docker, InvalidArgument, NotFound, NotSupported
from aiodockersock.models import Secret, SecretSpec

from .conftest import TEST_LABEL, EngineHandle, SwarmHandle, assert_no_swarm

#: Tests that need a real engine (they take the ``swarm`` fixture).
engine_test = pytest.mark.engine

SecretFactory = Callable[..., Awaitable[Secret]]
DATA = b"hunter2-" + random.token_hex(8).encode()


@pytest.fixture
async def make_secret(swarm_docker: Docker) -> AsyncIterator[SecretFactory]:
    """Create labelled test secrets (random names) and remove them afterwards."""
    made: list[str] = []

    async def make(data: bytes = DATA, **kwargs: object) -> Secret:
        name = f"ads-secret-{random.token_hex(4)}"
        labels = {TEST_LABEL: "1", **kwargs.pop("labels", {})}  # type: ignore[dict-item]
        secret = await swarm_docker.secrets.create(name, data, labels=labels, **kwargs)
        assert secret.id is not None
        made.append(secret.id)
        return secret

    yield make
    for secret_id in made:
        with contextlib.suppress(NotFound):
            await swarm_docker.secrets.remove(secret_id)


@engine_test
async def test_create_inspect_list_remove(
    swarm: SwarmHandle, swarm_docker: Docker, make_secret: SecretFactory
) -> None:
    secret = await make_secret(labels={"team": "a"})
    assert secret.spec is not None and secret.spec.labels == {TEST_LABEL: "1", "team": "a"}
    assert secret.spec.data is None  # the daemon never sends it back
    assert secret.name is not None and secret.name.startswith("ads-secret-")
    by_name = await swarm_docker.secrets.inspect(secret.name)
    assert by_name.id == secret.id
    listed = await swarm_docker.secrets.list(filters={"names": [secret.name]})
    assert [s.id for s in listed] == [secret.id]
    assert await swarm_docker.secrets.list(filters={"label": "team=b"}) == []
    assert secret.id is not None
    await swarm_docker.secrets.remove(secret.id)
    with pytest.raises(NotFound):
        await swarm_docker.secrets.inspect(secret.id)
    with pytest.raises(NotFound):
        await swarm_docker.secrets.remove(secret.id)


@engine_test
async def test_a_name_in_use_is_a_conflict(
    swarm: SwarmHandle, swarm_docker: Docker, make_secret: SecretFactory
) -> None:
    secret = await make_secret()
    assert secret.name is not None
    with pytest.raises(Conflict):
        await swarm_docker.secrets.create(secret.name, b"other")


@engine_test
async def test_update_replaces_labels_and_bumps_the_version(
    swarm: SwarmHandle, swarm_docker: Docker, make_secret: SecretFactory
) -> None:
    secret = await make_secret()
    assert secret.id is not None and secret.version is not None
    updated = await swarm_docker.secrets.update(secret.id, labels={"stage": "prod"})
    assert updated.spec is not None and updated.spec.labels == {"stage": "prod"}
    assert updated.version is not None and updated.version.index is not None
    assert updated.version.index > (secret.version.index or 0)
    # Again, by name: the handshake reads the new version itself.
    assert secret.name is not None
    again = await swarm_docker.secrets.update(secret.name, labels={"stage": "test"})
    assert again.spec is not None and again.spec.labels == {"stage": "test"}


@engine_test
async def test_the_data_is_never_shown(
    swarm: SwarmHandle,
    swarm_docker: Docker,
    make_secret: SecretFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = await make_secret()
    assert secret.name is not None
    spec = SecretSpec(name="x", data="aHVudGVyMg==")
    assert "aHVudGVy" not in repr(spec) and "data=<hidden>" in repr(spec)
    errors: list[str] = []
    with pytest.raises(Conflict) as conflict:  # the daemon's refusal, with the data sent
        await swarm_docker.secrets.create(secret.name, DATA)
    errors.append(str(conflict.value))
    with pytest.raises(InvalidArgument) as invalid:
        await swarm_docker.secrets.create("x", 12345)  # type: ignore[arg-type]
    errors.append(str(invalid.value))
    assert "12345" not in errors[-1]
    shown = " ".join([*errors, repr(secret), repr(await swarm_docker.secrets.list()),
                      caplog.text])
    for form in (DATA.decode(), base64.b64encode(DATA).decode()):
        assert form not in shown


@engine_test
async def test_a_secret_reaches_a_service_task(
    swarm: SwarmHandle, swarm_docker: Docker, make_secret: SecretFactory
) -> None:
    secret = await make_secret()
    assert secret.name is not None and secret.id is not None
    service = await swarm_docker.services.create(
        image=swarm.image_id,
        command=["sh", "-c", f"cat /run/secrets/{secret.name}; echo; sleep 60"],
        secrets=[secret.name],
        labels={TEST_LABEL: "1"},
    )
    assert service.id is not None
    try:
        await swarm_docker.services.wait_converged(service.id, timeout=60)
        refs = service.spec.task_template.container_spec.secrets  # type: ignore[union-attr]
        assert refs is not None and refs[0].secret_id == secret.id
        async with swarm_docker.services.logs(service.id, follow=True) as logs:
            frame = await asyncio.wait_for(anext(aiter(logs)), 30)
        assert frame.data.rstrip() == DATA
        with pytest.raises(BadRequest, match="in use"):
            await swarm_docker.secrets.remove(secret.id)
    finally:
        await swarm_docker.services.remove(service.id)


@engine_test
@pytest.mark.podman
async def test_without_a_swarm_docker_says_why_and_podman_keeps_its_own(
    engine: EngineHandle, docker: Docker
) -> None:
    """A Docker engine in no swarm says to init or join one (NotInSwarm). Podman has no swarm
    mode but secrets of its own, outside any swarm, behind the same endpoints: they are
    created, inspected, listed and removed as on Docker (updated: see the next test)."""
    name = f"ads-secret-{random.token_hex(4)}"
    if not engine.podman:
        await assert_no_swarm(engine, "secrets", {
            "list": docker.secrets.list,
            "inspect": lambda: docker.secrets.inspect(name),
            "create": lambda: docker.secrets.create(name, DATA),
            "update": lambda: docker.secrets.update(name, labels={"a": "b"}),
            "remove": lambda: docker.secrets.remove(name),
        })
        return
    secret = await docker.secrets.create(name, DATA, labels={TEST_LABEL: "1"})
    try:
        assert secret.id and secret.name == name
        assert secret.spec is not None and secret.spec.data is None
        assert (await docker.secrets.inspect(name)).id == secret.id
        assert secret.id in {s.id for s in await docker.secrets.list()}
        with pytest.raises(Conflict):
            await docker.secrets.create(name, DATA)
    finally:
        await docker.secrets.remove(secret.id or name)
    with pytest.raises(NotFound):
        await docker.secrets.inspect(name)


@engine_test
@pytest.mark.podman_only
@pytest.mark.not_supported_on("podman")
async def test_podman_cannot_update_a_secret(engine: EngineHandle, docker: Docker) -> None:
    secret = await docker.secrets.create(f"ads-secret-{random.token_hex(4)}", DATA,
                                         labels={TEST_LABEL: "1"})
    assert secret.id is not None
    try:
        with pytest.raises(NotSupported) as info:
            await docker.secrets.update(secret.id, labels={"team": "b"})
        assert str(info.value).startswith("Podman cannot update a secret (its secrets are its "
                                          "own, outside any swarm): remove it and create it")
        assert info.value.status == 501
        assert (await docker.secrets.inspect(secret.id)).spec == secret.spec  # untouched
    finally:
        await docker.secrets.remove(secret.id)
