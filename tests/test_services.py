"""The services API against a real single-node swarm (the ``swarm`` fixture) on Docker 20.10 and
28.5: create (a spec or the common arguments), list, inspect, update with the version handshake,
rollback, scale, remove, logs, and ``wait_converged`` after each kind of change."""

from __future__ import annotations

import asyncio
import contextlib
import secrets as random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from aiodockersock import (
    Conflict,
    Docker,
    InvalidArgument,
    NotFound,
    RegistryAuth,
    ServiceFailed,
    WaitTimeout,
)
from aiodockersock.models import (
    ContainerSpec,
    ReplicatedMode,
    Service,
    ServiceMode,
    ServiceSpec,
    Task,
    TaskRestartPolicy,
    TaskSpec,
)

from .conftest import (
    TEST_IMAGE,
    TEST_LABEL,
    EngineHandle,
    RegistryHandle,
    SwarmHandle,
    assert_no_swarm,
)

#: Tests that need a real engine (they take the ``swarm`` fixture).
engine_test = pytest.mark.engine

ServiceFactory = Callable[..., Awaitable[Service]]
#: Restarts 0.1 s apart, so a failing task fails again at once (the daemon's default is 5 s).
QUICK_RESTARTS = TaskRestartPolicy(condition="any", delay=100_000_000)
#: A task that stops at once when told to (``sleep`` as PID 1 would ignore SIGTERM for 10 s).
SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]


@pytest.fixture
async def make_service(swarm: SwarmHandle, swarm_docker: Docker) -> AsyncIterator[ServiceFactory]:
    """Create labelled test services (the test image by id, random names) and remove them."""
    made: list[str] = []

    async def make(**kwargs: Any) -> Service:
        if "spec" not in kwargs:
            kwargs.setdefault("image", swarm.image_id)
            kwargs.setdefault("command", SLEEPER)
            kwargs.setdefault("name", f"ads-svc-{random.token_hex(4)}")
            kwargs["labels"] = {TEST_LABEL: "1", **kwargs.get("labels", {})}
        service = await swarm_docker.services.create(**kwargs)
        assert service.id is not None
        made.append(service.id)
        return service

    yield make
    for service_id in made:
        with contextlib.suppress(NotFound):
            await swarm_docker.services.remove(service_id)


async def running(docker: Docker, service: str) -> list[Task]:
    """The service's tasks that run now."""
    tasks = await docker.tasks.list(filters={"service": service, "desired-state": "running"})
    return [t for t in tasks if t.state == "running"]


def args_of(task: Task) -> list[str] | None:
    assert task.spec is not None and task.spec.container_spec is not None
    return task.spec.container_spec.args


@engine_test
async def test_create_inspect_list_remove(
    swarm: SwarmHandle, swarm_docker: Docker, make_service: ServiceFactory
) -> None:
    service = await make_service(replicas=2, env={"MODE": "test"}, labels={"app": "web"})
    assert service.id is not None and service.spec is not None
    assert service.replicas == 2
    container = service.spec.task_template.container_spec  # type: ignore[union-attr]
    assert container is not None
    assert container.image == swarm.image_id and container.env == ["MODE=test"]
    assert service.spec.labels == {TEST_LABEL: "1", "app": "web"}
    assert service.name is not None
    assert (await swarm_docker.services.inspect(service.name)).id == service.id
    listed = await swarm_docker.services.list(filters={"label": "app=web"}, status=True)
    assert service.id in [s.id for s in listed]
    with pytest.raises(Conflict):
        await swarm_docker.services.create(image=swarm.image_id, name=service.name)
    await swarm_docker.services.remove(service.id)
    with pytest.raises(NotFound):
        await swarm_docker.services.inspect(service.id)


@engine_test
async def test_create_from_a_whole_spec(
    swarm: SwarmHandle, swarm_docker: Docker, make_service: ServiceFactory
) -> None:
    spec = ServiceSpec(
        name=f"ads-svc-{random.token_hex(4)}",
        labels={TEST_LABEL: "1"},
        task_template=TaskSpec(
            container_spec=ContainerSpec(image=swarm.image_id, command=["sleep", "600"])
        ),
        mode=ServiceMode(replicated=ReplicatedMode(replicas=1)),
    )
    service = await make_service(spec=spec)
    assert service.spec is not None and service.spec.name == spec.name
    converged = await swarm_docker.services.wait_converged(service.id or "", timeout=60)
    assert converged.id == service.id
    assert len(await running(swarm_docker, service.id or "")) == 1


async def test_bad_arguments_are_refused_before_sending() -> None:
    async with Docker("unix:///nonexistent/aiodockersock.sock") as docker:
        with pytest.raises(InvalidArgument, match="needs an image"):
            await docker.services.create(name="x")
        with pytest.raises(InvalidArgument, match="not both"):
            await docker.services.create(ServiceSpec(), image="x")
        with pytest.raises(InvalidArgument, match="replicas"):
            await docker.services.create(image="sha256:x", replicas=-1)
        with pytest.raises(InvalidArgument, match="global"):
            await docker.services.create(image="sha256:x", mode="global", replicas=2)
        with pytest.raises(InvalidArgument, match="rollback"):
            await docker.services.update("x", rollback=True, replicas=2)
        with pytest.raises(InvalidArgument, match="auth"):
            await docker.services.create(image="x", auth="user:pw")  # type: ignore[arg-type]


@engine_test
async def test_converges_after_create_scale_update_and_rollback(
    swarm: SwarmHandle, swarm_docker: Docker, make_service: ServiceFactory
) -> None:
    service = await make_service(replicas=2)
    sid = service.id or ""
    await swarm_docker.services.wait_converged(sid, timeout=60)
    assert len(await running(swarm_docker, sid)) == 2

    # Given what scale() returned, and a backstop far beyond the timeout: only the events can
    # have woken it (the tasks are listed when their containers start, not on a timer).
    scaled = await swarm_docker.services.scale(sid, 3)
    done = await swarm_docker.services.wait_converged(scaled, timeout=30, backstop=3600)
    assert done.replicas == 3 and len(await running(swarm_docker, sid)) == 3

    scaled = await swarm_docker.services.scale(sid, 1)  # woken by the deaths it waits for
    await swarm_docker.services.wait_converged(scaled, timeout=30, backstop=3600)
    assert len(await running(swarm_docker, sid)) == 1

    before = await swarm_docker.services.inspect(sid)
    updated = await swarm_docker.services.update(sid, args=["new"])
    assert updated.version is not None and before.version is not None
    assert (updated.version.index or 0) > (before.version.index or 0)
    await swarm_docker.services.wait_converged(updated, timeout=30, backstop=3600)
    now = await running(swarm_docker, sid)
    assert [args_of(t) for t in now] == [["new"]]  # no old task left running

    rolled = await swarm_docker.services.update(sid, rollback=True)
    assert rolled.spec is not None and rolled.previous_spec is not None
    assert rolled.spec.task_template.container_spec.args is None  # type: ignore[union-attr]
    await swarm_docker.services.wait_converged(rolled, timeout=30, backstop=3600)
    assert [args_of(t) for t in await running(swarm_docker, sid)] == [None]


@engine_test
async def test_update_applies_changes_to_the_current_spec(
    swarm: SwarmHandle, swarm_docker: Docker, make_service: ServiceFactory
) -> None:
    service = await make_service(env=["A=1"], labels={"keep": "me"})
    sid = service.id or ""
    updated = await swarm_docker.services.update(sid, env={"B": "2"}, force=True)
    spec = updated.spec
    assert spec is not None and spec.task_template is not None
    assert spec.task_template.container_spec.env == ["B=2"]  # type: ignore[union-attr]
    assert spec.task_template.force_update == 1
    assert spec.labels == {TEST_LABEL: "1", "keep": "me"}  # untouched
    assert updated.previous_spec is not None
    relabelled = await swarm_docker.services.update(
        sid, spec=lambda s: msgspec.structs.replace(s, labels={"only": "this"})
    )
    assert relabelled.spec is not None and relabelled.spec.labels == {"only": "this"}
    # An explicit RegistryAuth is forwarded; the daemon stores it for the nodes' pulls.
    await swarm_docker.services.update(sid, auth=RegistryAuth("alice", "s3cret"), force=True)


@engine_test
async def test_a_global_service_converges_on_every_node(
    swarm: SwarmHandle, swarm_docker: Docker, make_service: ServiceFactory
) -> None:
    service = await make_service(mode="global")
    converged = await swarm_docker.services.wait_converged(service.id or "", timeout=60)
    assert converged.spec is not None and converged.spec.mode is not None
    assert converged.spec.mode.global_ == {}
    tasks = await running(swarm_docker, service.id or "")
    assert [t.node_id for t in tasks] == [swarm.node_id]
    with pytest.raises(InvalidArgument, match="replicated"):
        await swarm_docker.services.scale(service.id or "", 2)


@engine_test
async def test_a_failing_command_fails_early_with_the_tasks_error(
    swarm: SwarmHandle, swarm_docker: Docker, make_service: ServiceFactory
) -> None:
    service = await make_service(
        command=["sh", "-c", "exit 3"], restart_policy=QUICK_RESTARTS
    )
    started = time.monotonic()
    with pytest.raises(ServiceFailed) as failed:
        # stable: on a loaded machine the crash's event can come later than the default 0.25 s
        await swarm_docker.services.wait_converged(service.id or "", timeout=60, stable=2)
    assert time.monotonic() - started < 20
    assert "non-zero exit (3)" in failed.value.task_error
    assert failed.value.failures >= 2 and failed.value.task_id is not None
    assert "non-zero exit (3)" in str(failed.value)


@engine_test
async def test_a_rolling_update_to_a_failing_command_gives_the_tasks_error(
    swarm: SwarmHandle, swarm_docker: Docker, make_service: ServiceFactory
) -> None:
    service = await make_service(replicas=2)  # the daemon's restart policy: 5 s apart
    await swarm_docker.services.wait_converged(service, timeout=60)
    updated = await swarm_docker.services.update(service.id or "", command=["sh", "-c", "exit 3"])
    with pytest.raises(ServiceFailed) as failed:
        await swarm_docker.services.wait_converged(updated, timeout=60, stable=2)
    assert "non-zero exit (3)" in failed.value.task_error


@engine_test
async def test_an_update_to_a_missing_image_fails_early(
    swarm: SwarmHandle, swarm_docker: Docker, make_service: ServiceFactory
) -> None:
    service = await make_service(restart_policy=QUICK_RESTARTS)
    sid = service.id or ""
    await swarm_docker.services.wait_converged(sid, timeout=60)
    missing = "sha256:" + "0" * 64
    await swarm_docker.services.update(sid, image=missing)
    started = time.monotonic()
    with pytest.raises(ServiceFailed) as failed:
        done = await swarm_docker.services.wait_converged(sid, timeout=60)
        tasks = await swarm_docker.tasks.list(filters={"service": sid})
        pytest.fail(f"converged: {done!r} {tasks!r}")
    assert time.monotonic() - started < 20
    assert "No such image" in failed.value.task_error or "0000000" in failed.value.task_error


@engine_test
async def test_a_timeout_says_how_far_it_got(
    swarm: SwarmHandle, swarm_docker: Docker, make_service: ServiceFactory
) -> None:
    service = await make_service(constraints=["node.labels.ads-nowhere==1"])
    with pytest.raises(WaitTimeout, match="0 of 1 tasks"):
        await swarm_docker.services.wait_converged(service.id or "", timeout=1)


@engine_test
async def test_logs_of_every_task_followed(
    swarm: SwarmHandle, swarm_docker: Docker, make_service: ServiceFactory
) -> None:
    service = await make_service(
        replicas=2, command=["sh", "-c", "echo hello from $HOSTNAME; sleep 600"]
    )
    sid = service.id or ""
    await swarm_docker.services.wait_converged(sid, timeout=60)
    seen: list[str] = []
    async with swarm_docker.services.logs(sid, follow=True, details=True) as logs:
        async for line in logs.lines():
            seen.append(line.text)
            if len(seen) == 2:
                break
    assert all("hello from" in text and "com.docker.swarm.task.id=" in text for text in seen)
    whole = await swarm_docker.services.logs(sid)
    assert whole.stdout.count(b"hello from") == 2 and not whole.tty
    with pytest.raises(NotFound):
        await swarm_docker.services.logs("ads-no-such-service")


@engine_test
async def test_concurrent_updates_both_land(
    swarm: SwarmHandle, swarm_docker: Docker, make_service: ServiceFactory
) -> None:
    service = await make_service()
    sid = service.id or ""
    # Both read the same version; the swarm refuses the second as out of sequence, and the
    # handshake reads and applies it again on the new version.
    await asyncio.gather(
        swarm_docker.services.update(sid, spec=lambda s: msgspec.structs.replace(
            s, labels={**(s.labels or {}), "a": "1"})),
        swarm_docker.services.update(sid, spec=lambda s: msgspec.structs.replace(
            s, labels={**(s.labels or {}), "b": "2"})),
    )
    labels = (await swarm_docker.services.inspect(sid)).spec.labels  # type: ignore[union-attr]
    assert labels is not None and labels["a"] == "1" and labels["b"] == "2"


@engine_test
async def test_registry_auth_reaches_the_nodes_pull(
    swarm: SwarmHandle, swarm_docker: Docker, make_service: ServiceFactory,
    auth_registry: RegistryHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))  # no credentials of the user's
    assert auth_registry.username and auth_registry.password
    good = RegistryAuth(auth_registry.username, auth_registry.password)
    image = f"{auth_registry.address}/ads/svc-{random.token_hex(4)}:1.0"
    await swarm_docker.images.tag(swarm.image_id, *image.rsplit(":", 1))
    await swarm_docker.images.push(image, auth=good)
    await swarm_docker.images.remove(image)  # so the node must pull it, by tag
    # Without credentials, the node's pull is refused and the task cannot start.
    anonymous = await make_service(image=image, restart_policy=QUICK_RESTARTS)
    with pytest.raises(ServiceFailed):
        await swarm_docker.services.wait_converged(anonymous, timeout=60)
    await swarm_docker.services.remove(anonymous.id or "")
    # With them (forwarded in X-Registry-Auth), it pulls and runs.
    service = await make_service(image=image, auth=good, restart_policy=QUICK_RESTARTS)
    await swarm_docker.services.wait_converged(service, timeout=60)
    assert len(await running(swarm_docker, service.id or "")) == 1


@engine_test
@pytest.mark.podman
@pytest.mark.not_supported_on("podman")
async def test_every_call_without_a_swarm_says_why(engine: EngineHandle, docker: Docker) -> None:
    """Podman has no swarm mode (NotSupported saying so); a Docker engine in no swarm says to
    init or join one (NotInSwarm)."""
    async def logs() -> object:
        return await docker.services.logs("ads-no-service")

    await assert_no_swarm(engine, "services", {
        "list": docker.services.list,
        "inspect": lambda: docker.services.inspect("ads-no-service"),
        "create": lambda: docker.services.create(image=TEST_IMAGE, name="ads-no-service"),
        "update": lambda: docker.services.update("ads-no-service", replicas=2),
        "scale": lambda: docker.services.scale("ads-no-service", 2),
        "logs": logs,
        "remove": lambda: docker.services.remove("ads-no-service"),
    })
