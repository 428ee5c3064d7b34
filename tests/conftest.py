"""Test engines: real Docker daemons for the tests that exercise the API.

Which engines:
- ``AIODOCKERSOCK_TEST_ENGINES`` (comma-separated labels: ``20.10``, ``26.1``, ``28.5``,
  ``podman``) — private daemons this suite starts itself (as root; it installs what is
  missing);
- otherwise ``DOCKER_HOST``, if set, is used as is (label ``external``);
- otherwise ``20.10,26.1,28.5``, plus ``podman`` for the tests marked ``podman``.
Tests that take the ``docker`` or ``engine`` fixture run once per engine. Without root and
without ``DOCKER_HOST`` they are skipped with a message saying how to run them; with
``CI=true`` a missing engine fails the run instead.

Podman (``podman system service``, Docker-compatible) runs only the tests marked
``pytest.mark.podman`` (the core, image, exec, event, event hub, many-containers, network and
volume modules; in each swarm area the one that checks Podman says it has no swarm mode) that
are not marked ``pytest.mark.docker_only``; every other engine test is Docker-only.
``AIODOCKERSOCK_TEST_PODMAN`` says whether Podman joins: ``1`` adds it to any engine set, ``0``
leaves it out even if listed; unset, it joins the default set and an explicit
``AIODOCKERSOCK_TEST_ENGINES`` that names it. ``pytest.mark.podman_only`` runs a test on Podman
alone, ``pytest.mark.first_docker_engine`` on the run's first Docker engine alone (a slow test
whose subject is the same on every version): each runs where it means something, never skipped.

Swarm: tests that take the ``swarm`` fixture (or ``swarm_docker``) run once per Docker engine of
the run (never Podman, which has no swarm) against a single-node swarm on a *private* dockerd of
that version, started for swarm tests only, so swarm mode never changes the engines the other
tests share (see :func:`swarm`).

The engine matrix: each run writes the table area by engine (pass / not supported / failed)
to ``build/engine-matrix.md`` and prints it (tests/engine_matrix.py); a test that checks, on an
engine lacking a feature, that the library raises ``NotSupported`` is marked
``pytest.mark.not_supported_on("podman")``. ``python3 scripts/engine_matrix.py --update``
copies the table into README.md.

Lanes: ``scripts/test_lanes.py`` (what ``scripts/test.sh`` runs) splits the engines between
pytest processes that run side by side. The first lane runs the whole suite on its engines; the
others (``AIODOCKERSOCK_TEST_LANE=engines-only``) keep only the tests that run once per engine
of theirs (:func:`pytest_collection_modifyitems`), so each test runs once per engine in all.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aiodockersock import Docker, NotFound, NotInSwarm, NotSupported

from .engine_matrix import (  # noqa: F401  (hooks: the area by engine table, tests/engine_matrix.py)
    pytest_collection_finish,
    pytest_configure,
    pytest_runtest_logreport,
    pytest_terminal_summary,
)
from .engines import (
    Engine,
    Registry,
    SwarmInfo,
    UnixAPI,
    build_test_image,
    ensure_installed,
    start_registry,
    swarm_init,
)
from .engines.registry import TokenAuth
from .engines.tokenauth import TokenServer
from .fake_daemon import FakeDaemon

ROOT = Path(__file__).resolve().parent.parent
TEST_IMAGE = "aiodockersock-test/busybox:latest"
TEST_LABEL = "aiodockersock.test"
DEFAULT_ENGINES = "20.10,26.1,28.5"
PODMAN = "podman"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def engine_labels() -> list[str]:
    """Every engine of this run, Podman included when it takes part (see the module doc)."""
    chosen = os.environ.get("AIODOCKERSOCK_TEST_ENGINES")
    if chosen:
        labels = [label.strip() for label in chosen.split(",") if label.strip()]
    elif os.environ.get("DOCKER_HOST"):
        labels = ["external"]
    else:
        labels = [*DEFAULT_ENGINES.split(","), PODMAN]
    podman = os.environ.get("AIODOCKERSOCK_TEST_PODMAN", "").strip().lower()
    if podman in ("0", "false", "no", "off"):
        labels = [label for label in labels if label != PODMAN]
    elif podman in ("1", "true", "yes", "on") and PODMAN not in labels:
        labels.append(PODMAN)
    return labels


#: ``AIODOCKERSOCK_TEST_LANE`` of a lane that runs only the tests of its own engines.
ENGINES_ONLY = "engines-only"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect a test for engines none of which is in the run (``podman_only`` without
    Podman: it would be skipped, and a run never skips). In an engines-only lane (see the module
    doc) deselect also every test that does not run once per engine (the first lane runs
    those), and those of the run's first Docker engine alone (``first_docker_engine``: the
    first lane holds that engine)."""
    engines_only = os.environ.get("AIODOCKERSOCK_TEST_LANE") == ENGINES_ONLY
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        labels = [params[name] for name in ("engine", "swarm") if name in params]
        per_engine = bool(labels)
        no_engine = not all(isinstance(label, str) for label in labels)  # an empty set's NOTSET
        first_only = item.get_closest_marker("first_docker_engine") is not None
        drop = no_engine or (engines_only and (not per_engine or first_only))
        (dropped if drop else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def swarm_labels() -> list[str]:
    """The engines of this run that swarm tests run on: every Docker one (Podman has no
    swarm)."""
    return [label for label in engine_labels() if label != PODMAN]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses the ``engine`` fixture once per engine: Podman only for those
    marked ``podman`` and not ``docker_only``; every test that uses the ``swarm`` fixture once
    per Docker engine."""
    if "swarm" in metafunc.fixturenames:
        metafunc.parametrize("swarm", swarm_labels(), indirect=True, scope="session")
    if "engine" not in metafunc.fixturenames:
        return
    test = metafunc.definition
    podman = (test.get_closest_marker("podman") is not None
              and test.get_closest_marker("docker_only") is None)
    labels = [label for label in engine_labels() if podman or label != PODMAN]
    if test.get_closest_marker("podman_only") is not None:
        labels = [label for label in engine_labels() if label == PODMAN]
    elif test.get_closest_marker("first_docker_engine") is not None:
        labels = [label for label in engine_labels() if label != PODMAN][:1]
    metafunc.parametrize("engine", labels, indirect=True, scope="session")


@dataclass
class EngineHandle:
    """A daemon the tests talk to."""

    label: str
    host: str
    api_version: str
    server_version: str
    managed: Engine | None = None  # the tests.engines Engine, when this suite started it
    cli_env: dict[str, str] = field(default_factory=dict)
    podman: bool = False  # Podman's Docker-compatible service rather than dockerd

    def image_name(self, name: str) -> str:
        """How the engine reports an image it was given as ``name``: as given by dockerd;
        Podman qualifies short names (``app`` → ``docker.io/library/app``, ``team/app`` →
        ``docker.io/team/app``) and keeps those that name a registry."""
        first, slash, _ = name.partition("/")
        if not self.podman or (slash and ("." in first or ":" in first or first == "localhost")):
            return name
        return f"docker.io/{name}" if slash else f"docker.io/library/{name}"

    def restart(self) -> None:
        """Restart the daemon (only for engines this suite started)."""
        if self.managed is None:
            pytest.skip("restarting needs a private engine started by the test suite")
        self.managed.restart()

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the docker CLI against this engine (to cross-check what the library did)."""
        docker = shutil.which("docker")
        if docker is None:
            pytest.skip("the docker CLI is not installed")
        return subprocess.run(
            [docker, "-H", self.host, *args],
            check=check,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "DOCKER_HOST": self.host},
        )


@dataclass
class SwarmHandle(EngineHandle):
    """A private dockerd that is the single manager of its own swarm (see :func:`swarm`).

    ``info`` holds the node id, its advertise address, the address other nodes join
    (``127.x.y.z:PORT``) and the join tokens; ``image_id`` is the test image's id on this engine
    (give services the id, so a task start never asks a registry for a digest)."""

    info: SwarmInfo | None = None
    image_id: str = ""

    @property
    def node_id(self) -> str:
        """The manager node's id."""
        assert self.info is not None
        return self.info.node_id


class EnginePool:
    """Starts engines on first use and stops them all at the end of the session."""

    def __init__(self) -> None:
        self._engines: dict[str, EngineHandle] = {}
        self._failures: dict[str, str] = {}
        self._tmp = Path(tempfile.mkdtemp(prefix="ads-", dir="/tmp"))

    def _unavailable(self, label: str, why: str) -> None:
        self._failures[label] = why
        if IN_CI:
            pytest.fail(f"CI=true and the test engine {label} is unavailable: {why}",
                        pytrace=False)
        pytest.skip(f"no Docker engine {label}: {why}. Run the suite as root "
                    "(bash scripts/test.sh installs and starts private engines) or set "
                    "DOCKER_HOST to a daemon you own.")

    def get(self, label: str) -> EngineHandle:
        if label in self._engines:
            return self._engines[label]
        if label in self._failures:
            self._unavailable(label, self._failures[label])
        if label == "external":
            return self._external()
        managed, _ = self._start(label, label, label.replace(".", ""))
        engine = EngineHandle(label, managed.host, managed.api_version, managed.server_version,
                              managed, podman=managed.kind == "podman")
        self._engines[label] = engine
        return engine

    def _start(self, key: str, label: str, dirname: str) -> tuple[Engine, str]:
        """Start a private engine ``label`` in its own directory with the test image in it;
        return it and the image's id (failures recorded under ``key``)."""
        if os.geteuid() != 0:
            self._unavailable(key, "starting a private dockerd needs root")
        try:
            ensure_installed([label])
            managed = Engine.start_engine(label, self._tmp / dirname)
            image_id = build_test_image(managed)
        except Exception as exc:  # the engine package's own errors name what failed
            self._unavailable(key, f"{type(exc).__name__}: {exc}")
        return managed, image_id

    def start_private(self, label: str) -> EngineHandle:
        """Start one more private engine ``label`` with the test image, for a test that needs a
        daemon of its own (to init, join or leave a swarm); the caller stops it
        (``handle.managed.stop()``), or the pool does at the end of the session."""
        key = f"{label}-private-{secrets.token_hex(3)}"
        managed, _ = self._start(key, label, key.replace(".", "").replace("-", ""))
        engine = EngineHandle(label, managed.host, managed.api_version, managed.server_version,
                              managed)
        self._engines[key] = engine
        return engine

    def get_swarm(self, label: str) -> SwarmHandle:
        """The single-node swarm on a private dockerd ``label`` of its own (started on first
        use; never one of the engines :meth:`get` gives the other tests)."""
        key = f"{label}-swarm"
        found = self._engines.get(key)
        if isinstance(found, SwarmHandle):
            return found
        if key in self._failures:
            self._unavailable(key, self._failures[key])
        if label == "external":  # not a missing engine, even with CI=true: a skip
            pytest.skip("swarm tests need a private dockerd this suite starts, never the "
                        "DOCKER_HOST one (run as root with "
                        "AIODOCKERSOCK_TEST_ENGINES=20.10,26.1,28.5)")
        managed, image_id = self._start(key, label, label.replace(".", "") + "sw")
        try:
            info = swarm_init(managed)
        except Exception as exc:  # the engine package's own errors name what failed
            managed.stop()
            self._unavailable(key, f"swarm init: {type(exc).__name__}: {exc}")
        engine = SwarmHandle(label, managed.host, managed.api_version, managed.server_version,
                             managed, info=info, image_id=image_id)
        self._engines[key] = engine
        return engine

    def _external(self) -> EngineHandle:
        host = os.environ["DOCKER_HOST"]
        probe = subprocess.run(
            ["docker", "-H", host, "version", "--format", "{{.Server.APIVersion}} "
             "{{.Server.Version}} {{range .Server.Components}}{{.Name}},{{end}}"],
            capture_output=True, text=True, timeout=30, check=False,
        )
        if probe.returncode != 0:
            self._unavailable("external", f"{host} does not answer: {probe.stderr.strip()}")
        api, server, components = [*probe.stdout.strip().split(" ", 2), "", ""][:3]
        engine = EngineHandle("external", host, api, server, podman="Podman" in components)
        if engine.cli("image", "inspect", TEST_IMAGE, check=False).returncode != 0:
            if not host.startswith("unix://"):
                self._unavailable("external", f"{host} lacks the test image {TEST_IMAGE}, which "
                                  "this suite imports over a unix:// socket only")
            try:
                build_test_image(UnixAPI(host.removeprefix("unix://")))
            except Exception as exc:  # the engine package's own errors name what failed
                self._unavailable("external", f"importing {TEST_IMAGE}: "
                                  f"{type(exc).__name__}: {exc}")
        self._engines["external"] = engine
        return engine

    def close(self) -> None:
        stop_all([engine.managed for engine in self._engines.values()
                  if engine.managed is not None])
        shutil.rmtree(self._tmp, ignore_errors=True)


def stop_all(engines: list[Engine]) -> None:
    """Stop engines side by side (each may wait a second or two for its containers)."""
    if len(engines) <= 1:
        for managed in engines:
            managed.stop()
        return
    with concurrent.futures.ThreadPoolExecutor(len(engines)) as pool:
        for done in [pool.submit(managed.stop) for managed in engines]:
            done.result()


@pytest.fixture(scope="session")
def engine_pool() -> Iterator[EnginePool]:
    pool = EnginePool()
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest, engine_pool: EnginePool) -> EngineHandle:
    """A running engine; tests using it run once per engine label (parametrized by
    :func:`pytest_generate_tests`)."""
    return engine_pool.get(request.param)


@pytest.fixture(scope="session")
def swarm(request: pytest.FixtureRequest, engine_pool: EnginePool) -> SwarmHandle:
    """A real single-node swarm; tests using it run once per Docker engine label (20.10, 28.5 —
    not Podman, which has no swarm).

    Each is a private dockerd of that version started for swarm tests alone (so swarm mode never
    touches the engines the ``engine``/``docker`` fixtures share), on first use, stopped at the
    end of the session. It was made the manager with ``swarm init --advertise-addr ADDR``,
    ADDR a loopback address of its own (``127.x.y.z``, as if ``127.0.0.1``: dockerd's network
    agent binds port 7946 on it, so two nodes cannot share one; see tests/engines/swarm.py),
    listening there on a free port, with a data-path port of its own: several swarms run side
    by side, and more nodes can join. The offline test image is
    loaded in it (``swarm.image_id``: reference it by id in service specs, so no task start
    waits for a registry). ``swarm.info`` has the join address and tokens for adding nodes.
    Tests share the swarm: leave it a swarm with one node, and remove the services, secrets
    and configs they create."""
    return engine_pool.get_swarm(request.param)


@pytest.fixture
def private_engines(
    swarm: SwarmHandle, engine_pool: EnginePool
) -> Iterator[Callable[[int], list[EngineHandle]]]:
    """``private_engines(n)`` starts ``n`` fresh private dockerds of the swarm's version (side
    by side, each with the test image), for tests that change an engine's swarm state (init,
    join, leave, lock); they are stopped after the test."""
    started: list[EngineHandle] = []

    def start(count: int = 1) -> list[EngineHandle]:
        with concurrent.futures.ThreadPoolExecutor(count) as pool:
            engines = list(pool.map(lambda _: engine_pool.start_private(swarm.label),
                                    range(count)))
        started.extend(engines)
        return engines

    yield start
    stop_all([engine.managed for engine in started if engine.managed is not None])
    for engine in started:
        if engine.managed is not None:
            shutil.rmtree(engine.managed.workdir, ignore_errors=True)


@pytest.fixture
async def swarm_docker(swarm: SwarmHandle) -> AsyncIterator[Docker]:
    """A client connected to the swarm manager of :func:`swarm`, closed after the test."""
    async with Docker(swarm.host) as client:
        yield client


@pytest.fixture
async def docker(engine: EngineHandle) -> AsyncIterator[Docker]:
    """A client connected to the engine, closed after the test."""
    async with Docker(engine.host) as client:
        yield client


SwarmCalls = Mapping[str, Callable[[], Awaitable[object]]]


async def assert_no_swarm(engine: EngineHandle, area: str, calls: SwarmCalls) -> None:
    """Check each call (by its name) of the swarm area ``area`` on an engine in no swarm (the
    ``docker`` fixture's): on Podman, which has no swarm mode, a ``NotSupported`` that says so
    and names the area; on Docker a ``NotInSwarm`` that says to init or join a swarm."""
    for name, call in calls.items():
        if engine.podman:
            with pytest.raises(NotSupported) as unsupported:
                await call()
            text = str(unsupported.value)
            assert text.startswith(f"Podman {engine.server_version} has no swarm mode, so it "
                                   f"has no {area} "), (name, text)
            assert "need a Docker engine that is a swarm manager" in text, (name, text)
            continue
        with pytest.raises(NotInSwarm) as no_swarm:
            await call()
        assert no_swarm.value.status == 503, name
        assert "docker.swarm.init()" in str(no_swarm.value), name
        assert "docker.swarm.join(" in str(no_swarm.value), name


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeDaemon]:
    """A fake daemon on a unix socket, for faults a real one cannot be made to produce."""
    daemon = await FakeDaemon(tmp_path / "fake.sock").start()
    yield daemon
    await daemon.stop()


ContainerFactory = Callable[..., Awaitable[str]]


@pytest.fixture
async def make_container(docker: Docker) -> AsyncIterator[ContainerFactory]:
    """Create labelled test containers (busybox, no network) and remove them afterwards."""
    created: list[str] = []

    async def make(cmd: list[str] | None = None, **extra: Any) -> str:
        body: dict[str, Any] = {
            "Image": TEST_IMAGE,
            "Cmd": cmd or ["sleep", "300"],
            "Labels": {TEST_LABEL: "1"},
            "HostConfig": {"NetworkMode": "none"},
            "StopTimeout": 1,
        }
        body.update(extra)
        name = extra.pop("name", None) or f"ads-{secrets.token_hex(4)}"
        body.pop("name", None)
        resp = await docker.containers.create(body, name=name)
        assert resp.id is not None
        created.append(resp.id)
        return resp.id

    yield make
    for cid in created:
        with contextlib.suppress(NotFound):
            await docker.containers.remove(cid, force=True)


# ---------------------------------------------------------------------------------------------
# Registries (images tests): Debian's docker-registry on 127.0.0.1, plain and with basic auth
# ---------------------------------------------------------------------------------------------


@dataclass
class RegistryHandle:
    """A private registry the engines push to and pull from (``address`` = ``127.0.0.1:PORT``;
    engines treat 127.0.0.0/8 registries as insecure, so plain HTTP needs no daemon setup)."""

    address: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    managed: Registry | None = field(default=None, repr=False)
    tokens: TokenServer | None = field(default=None, repr=False)
    """The token server of a registry with token auth (its ``log`` of requests)."""


def _start_registry(
    kind: str, username: str | None = None, password: str | None = None,
    token: TokenAuth | None = None,
) -> RegistryHandle:
    try:
        ensure_installed(["registry" if token else kind])  # as root it installs
        workdir = Path(tempfile.mkdtemp(prefix=f"ads-{kind}-", dir="/tmp"))
        managed = start_registry(workdir, username=None if token else username,
                                 password=None if token else password, token=token)
    except Exception as exc:  # the engine package's own errors name what failed
        why = f"{type(exc).__name__}: {exc}"
    else:
        return RegistryHandle(managed.address, username, password, managed)
    if IN_CI:
        pytest.fail(f"CI=true and the test {kind} is unavailable: {why}", pytrace=False)
    pytest.skip(f"no test {kind}: {why}")


def _stop_registry(handle: RegistryHandle) -> None:
    if handle.managed is not None:
        handle.managed.stop()
        shutil.rmtree(handle.managed.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def registry() -> Iterator[RegistryHandle]:
    """A plain-HTTP registry without auth, for the whole session."""
    handle = _start_registry("registry")
    yield handle
    _stop_registry(handle)


@pytest.fixture(scope="session")
def auth_registry() -> Iterator[RegistryHandle]:
    """A registry requiring HTTP basic auth (htpasswd, bcrypt); a random password."""
    handle = _start_registry(
        "registry-auth", username="ads-user", password=f"pw-{secrets.token_urlsafe(12)}"
    )
    yield handle
    _stop_registry(handle)


@pytest.fixture
async def token_registry(tmp_path: Path) -> AsyncIterator[RegistryHandle]:
    """A registry with token auth (distribution's ``auth: token:``), its token server
    (``tests/engines/tokenauth.py``) in this event loop: one user, a random password; every
    token request in ``.tokens.log``."""
    server = TokenServer(tmp_path, "ads-token-user", f"pw-{secrets.token_urlsafe(12)}")
    await server.start()
    try:
        handle = await asyncio.to_thread(_start_registry, "registry-token", server.username,
                                         server.password, server.auth)
        handle.tokens = server
        yield handle
        _stop_registry(handle)
    finally:
        await server.stop()
