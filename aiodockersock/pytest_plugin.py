"""pytest fixtures for your own tests against a real Docker engine — opt-in.

The plugin is installed with the package (entry point ``pytest11``, name ``aiodockersock``), so
pytest loads it in every session; it does nothing until it is enabled. Enabled, it provides
four function-scoped fixtures:

- ``docker_client``: a :class:`~aiodockersock.Docker` connected to the engine, closed after the
  test. When no daemon answers, the test is skipped (or failed: ``--aiodockersock-missing=fail``).
- ``docker_container``, ``docker_network``, ``docker_volume``: factories (``await
  docker_container("redis:7")``) for throwaway objects that are removed when the test ends,
  passed or failed: containers first (forced, with their anonymous volumes), then networks,
  then volumes.

Enable it with a flag or in the ini file::

    pytest --aiodockersock                     # or [pytest] aiodockersock = true
    pytest --aiodockersock --aiodockersock-host=tcp://127.0.0.1:2375

| command line | ini option | meaning |
| --- | --- | --- |
| ``--aiodockersock`` | ``aiodockersock = true`` | enable the fixtures |
| ``--aiodockersock-host=URL`` | ``aiodockersock_host`` | the daemon (else ``DOCKER_HOST``) |
| ``--aiodockersock-missing=fail`` | ``aiodockersock_missing`` | no daemon: ``skip``/``fail`` |

The fixtures are async: they are written for pytest-asyncio (``asyncio_mode = auto``, or
``@pytest.mark.asyncio`` tests in strict mode). Do not also list the plugin in
``pytest_plugins``: it is loaded already (with ``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``, load it
with ``-p aiodockersock``).

Every object the factories create carries three labels: ``aiodockersock.pytest=1``,
``aiodockersock.pytest.session=<id>`` (one id per pytest process, shown in the report header)
and ``aiodockersock.pytest.test=<node id>``. A session that is killed cannot clean up; remove
what it left with :func:`prune` or from a shell::

    python -m aiodockersock prune --older-than 1h   # --session ID, --dry-run, --host URL, --json
"""

from __future__ import annotations

import contextlib
import itertools
import re
import secrets
import shlex
import sys
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any

import msgspec
import pytest

from ._client import Docker
from ._exceptions import DockerConnectionError, DockerError, InvalidArgument, NotFound
from .models.containers import ContainerCreateBody, ContainerInspect
from .models.networks import Network
from .models.volumes import Volume

__all__ = [
    "LABEL",
    "SESSION_LABEL",
    "TEST_LABEL",
    "ContainerFactory",
    "NetworkFactory",
    "Pruned",
    "VolumeFactory",
    "main",
    "prune",
]

#: Every object the fixtures create carries ``LABEL=1``.
LABEL = "aiodockersock.pytest"
#: The id of the pytest session (process) that created the object.
SESSION_LABEL = "aiodockersock.pytest.session"
#: The node id of the test that created the object.
TEST_LABEL = "aiodockersock.pytest.test"

_MISSING_CHOICES = ("skip", "fail")
_SESSION = pytest.StashKey["_Session"]()


# -- Options and hooks (all that runs when the plugin is not enabled)
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aiodockersock", "aiodockersock fixtures (opt-in)")
    group.addoption("--aiodockersock", action="store_true", help="enable the fixtures "
                    "docker_client, docker_container, docker_network and docker_volume (ini: "
                    "aiodockersock = true)")
    group.addoption("--aiodockersock-host", metavar="URL", help="the Docker daemon for the "
                    "fixtures (ini: aiodockersock_host; default: DOCKER_HOST, then "
                    "unix:///var/run/docker.sock)")
    group.addoption("--aiodockersock-missing", choices=_MISSING_CHOICES, help="what a test "
                    "using the fixtures does when no daemon answers: skip (default) or fail "
                    "(ini: aiodockersock_missing)")
    parser.addini("aiodockersock", "enable the aiodockersock fixtures", type="bool", default=False)
    parser.addini("aiodockersock_host", "the Docker daemon for the aiodockersock fixtures")
    parser.addini("aiodockersock_missing",
                  "skip (default) or fail tests using the aiodockersock fixtures when no daemon "
                  "answers")


@dataclass
class _Session:
    """What an enabled plugin keeps for the pytest session."""

    id: str
    host: str | None
    missing: str
    unavailable: str | None = None  # why the daemon did not answer, once seen
    names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


def pytest_configure(config: pytest.Config) -> None:
    if not (config.getoption("aiodockersock") or config.getini("aiodockersock")):
        return
    missing = (config.getoption("aiodockersock_missing")
               or config.getini("aiodockersock_missing") or "skip")
    if missing not in _MISSING_CHOICES:
        raise pytest.UsageError(f"aiodockersock_missing must be 'skip' or 'fail', not {missing!r}")
    host = config.getoption("aiodockersock_host") or config.getini("aiodockersock_host")
    config.stash[_SESSION] = _Session(secrets.token_hex(6), host or None, missing)
    config.pluginmanager.register(_fixtures_module(), "aiodockersock.fixtures")


def pytest_report_header(config: pytest.Config) -> str | None:
    session = config.stash.get(_SESSION, None)
    if session is None:
        return None
    host = session.host or "DOCKER_HOST or the default socket"
    return f"aiodockersock: fixtures on {host}; labels {SESSION_LABEL}={session.id}"


# -- The fixtures (registered by pytest_configure only when enabled)
def _fixtures_module() -> ModuleType:
    """A module holding the fixtures, registered as a plugin of its own when enabled."""
    try:
        import pytest_asyncio

        async_fixture: Callable[..., Any] = pytest_asyncio.fixture
    except ImportError:  # anyio's plugin, or another that runs plain async fixtures
        async_fixture = pytest.fixture

    @async_fixture
    async def docker_client(request: pytest.FixtureRequest) -> AsyncIterator[Docker]:
        """An ``aiodockersock.Docker`` connected to the engine (``--aiodockersock-host``,
        ``DOCKER_HOST`` or the default socket); skips the test when no daemon answers."""
        session = request.config.stash[_SESSION]
        if session.unavailable is not None:
            _unavailable(session)
        client = Docker(session.host)
        try:
            await client.ping(timeout=10.0)
        except DockerConnectionError as exc:
            await client.aclose()
            session.unavailable = f"no Docker daemon answers at {client.url}: {exc}"
            _unavailable(session)
        try:
            yield client
        finally:
            await client.aclose()

    @async_fixture
    async def _aiodockersock_made(
        request: pytest.FixtureRequest, docker_client: Docker
    ) -> AsyncIterator[_Made]:
        """What this test's factories created; removed at teardown, in a safe order."""
        session = request.config.stash[_SESSION]
        labels = {LABEL: "1", SESSION_LABEL: session.id, TEST_LABEL: request.node.nodeid}
        made = _Made(docker_client, labels, session)
        yield made
        if problems := await made.remove_all():
            pytest.fail("aiodockersock could not remove what the test created: "
                        f"{'; '.join(problems)} (prune it later: python -m aiodockersock prune "
                        f"--session {session.id})", pytrace=False)

    @pytest.fixture
    def docker_container(_aiodockersock_made: _Made) -> ContainerFactory:
        """``await docker_container(image_or_config, cmd=None, *, name=None, start=True)``:
        a labelled container, removed (forced) after the test."""
        return ContainerFactory(_aiodockersock_made)

    @pytest.fixture
    def docker_network(_aiodockersock_made: _Made) -> NetworkFactory:
        """``await docker_network(name=None, **options)``: a labelled network, removed after
        the test (after its containers)."""
        return NetworkFactory(_aiodockersock_made)

    @pytest.fixture
    def docker_volume(_aiodockersock_made: _Made) -> VolumeFactory:
        """``await docker_volume(name=None, *, driver=None, driver_opts=None)``: a labelled
        volume, removed after the test (after its containers)."""
        return VolumeFactory(_aiodockersock_made)

    module = ModuleType("aiodockersock.pytest_plugin.fixtures")
    module.__dict__.update(docker_client=docker_client, _aiodockersock_made=_aiodockersock_made,
                           docker_container=docker_container, docker_network=docker_network,
                           docker_volume=docker_volume)
    return module


def _unavailable(session: _Session) -> None:
    message = (f"{session.unavailable}. Start dockerd, or point the tests at a daemon with "
               "DOCKER_HOST or --aiodockersock-host.")
    if session.missing == "fail":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


#: How the fixtures remove each kind of object, in an order that works: a network or volume
#: cannot go while a container uses it.
_REMOVE: dict[str, Callable[[Docker, str], Awaitable[None]]] = {
    "container": lambda docker, cid: docker.containers.remove(cid, force=True, volumes=True),
    "network": lambda docker, nid: docker.networks.remove(nid),
    "volume": lambda docker, name: docker.volumes.remove(name),
}


@dataclass
class _Made:
    """The objects one test created through the factories, by kind."""

    docker: Docker
    labels: dict[str, str]
    session: _Session
    ids: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind in _REMOVE})

    async def remove_all(self) -> list[str]:
        """Remove everything, newest first, kind by kind. Returns what could not be removed."""
        problems: list[str] = []
        for kind, names in self.ids.items():
            for name in reversed(names):
                try:
                    await _REMOVE[kind](self.docker, name)
                except NotFound:
                    pass  # the test removed it itself
                except DockerError as exc:
                    problems.append(f"{kind} {name[:12]}: {exc}")
            names.clear()
        return problems


class _Factory:
    """What the three factories share. Each names ``labels`` again, so that the API reference
    lists it with the factory."""

    def __init__(self, made: _Made) -> None:
        self._made = made

    @property
    def labels(self) -> dict[str, str]:
        """The labels every object of this test gets."""
        return dict(self._made.labels)


class ContainerFactory(_Factory):
    """The ``docker_container`` fixture: creates labelled containers, removed after the test.

    ``await docker_container("redis:7")`` creates and starts a container and returns its
    :class:`~aiodockersock.models.ContainerInspect`.
    """

    labels = _Factory.labels

    async def __call__(
        self, config: str | ContainerCreateBody | Mapping[str, Any],
        cmd: str | Sequence[str] | None = None, *, name: str | None = None, start: bool = True,
        platform: str | None = None,
    ) -> ContainerInspect:
        """Create (and start) a container.

        ``POST /containers/create``, ``POST /containers/{id}/start``, ``GET
        /containers/{id}/json``

        Args:
            config: an image name, a ``ContainerCreateBody`` or a mapping in the Engine's JSON
                shape; the plugin's labels are added to its own.
            cmd: the command, replacing the image's (a string is split like a shell would).
            name: the container's name (the daemon picks one when ``None``).
            start: start it; ``False`` leaves it created.
            platform: the image platform, e.g. ``"linux/amd64"``.

        Returns:
            The container as ``docker.containers.inspect()`` reports it after the start.

        Raises:
            NotFound: the image does not exist locally (pull it first).
            Conflict: the name is in use.
        """
        docker = self._made.docker
        body = _labelled(config, cmd, self._made.labels)
        created = await docker.containers.create(body, name=name, platform=platform)
        cid = created.id
        assert cid is not None
        self._made.ids["container"].append(cid)
        if start:
            await docker.containers.start(cid)
        return await docker.containers.inspect(cid)


class NetworkFactory(_Factory):
    """The ``docker_network`` fixture: creates labelled networks, removed after the test.

    ``await docker_network()`` creates a network named ``pytest-<session>-<n>`` and returns its
    :class:`~aiodockersock.models.Network`; keyword arguments go to
    ``docker.networks.create()`` (``driver=``, ``internal=``, ``ipam=``…).
    """

    labels = _Factory.labels

    async def __call__(self, name: str | None = None, **options: Any) -> Network:
        """Create a network.

        ``POST /networks/create``, ``GET /networks/{id}``

        Args:
            name: the network's name (default: ``pytest-<session id>-<n>``).
            **options: passed to ``docker.networks.create()``; ``labels`` are merged with the
                plugin's.

        Returns:
            The network as ``docker.networks.inspect()`` reports it.

        Raises:
            Conflict: a network of that name exists.
        """
        docker = self._made.docker
        if name is None:
            name = f"pytest-{self._made.session.id}-{next(self._made.session.names)}"
        labels = {**(options.pop("labels", None) or {}), **self._made.labels}
        created = await docker.networks.create(name, labels=labels, **options)
        assert created.id is not None
        self._made.ids["network"].append(created.id)
        return await docker.networks.inspect(created.id)


class VolumeFactory(_Factory):
    """The ``docker_volume`` fixture: creates labelled volumes, removed after the test.

    ``await docker_volume()`` creates a volume with a generated name and returns its
    :class:`~aiodockersock.models.Volume`.
    """

    labels = _Factory.labels

    async def __call__(
        self, name: str | None = None, *, driver: str | None = None,
        driver_opts: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None,
    ) -> Volume:
        """Create a volume.

        ``POST /volumes/create``

        Args:
            name: the volume's name (the daemon generates one when ``None``).
            driver: the volume driver (``"local"`` when omitted).
            driver_opts: driver options.
            labels: more labels (the plugin's are added).

        Returns:
            The volume.

        Raises:
            InvalidArgument: a volume of that name exists already and was not made by this
                test (the daemon would return it instead of a new one, and it would then be
                removed at teardown).
        """
        labels = {**(labels or {}), **self._made.labels}
        created = await self._made.docker.volumes.create(
            name, driver=driver, driver_opts=driver_opts, labels=labels
        )
        assert created.name is not None
        theirs = created.labels or {}
        if any(theirs.get(key) != self._made.labels[key] for key in (SESSION_LABEL, TEST_LABEL)):
            raise InvalidArgument(
                f"the volume {created.name!r} exists already and was not made by this test; "
                "choose another name (or none)"
            )
        if created.name not in self._made.ids["volume"]:
            self._made.ids["volume"].append(created.name)
        return created


def _labelled(
    config: str | ContainerCreateBody | Mapping[str, Any], cmd: str | Sequence[str] | None,
    labels: Mapping[str, str],
) -> ContainerCreateBody | dict[str, Any]:
    """The container body with the command replaced and the plugin's labels added."""
    command = shlex.split(cmd) if isinstance(cmd, str) else (list(cmd) if cmd else None)
    if isinstance(config, str):
        return ContainerCreateBody(image=config, cmd=command, labels=dict(labels))
    if isinstance(config, ContainerCreateBody):
        changes: dict[str, Any] = {"labels": {**(config.labels or {}), **labels}}
        if command is not None:
            changes["cmd"] = command
        return msgspec.structs.replace(config, **changes)
    if isinstance(config, Mapping):
        body = dict(config)
        body["Labels"] = {**(body.get("Labels") or {}), **labels}
        if command is not None:
            body["Cmd"] = command
        return body
    raise InvalidArgument("a container config is an image name, a ContainerCreateBody or a "
                          f"mapping, not {type(config).__name__}")


# -- Leftovers of sessions that could not clean up
@dataclass(frozen=True)
class Pruned:
    """What :func:`prune` removed (or, with ``dry_run``, would remove): ids and names."""

    containers: list[str]
    networks: list[str]
    volumes: list[str]


async def prune(
    docker: Docker, *, session: str | None = None, older_than: float | None = None,
    dry_run: bool = False,
) -> Pruned:
    """Remove the containers, networks and volumes the fixtures left behind.

    ``GET /containers/json``, ``GET /networks``, ``GET /volumes`` (filtered by label), then
    ``DELETE`` each one found.

    Args:
        docker: the client of the daemon to clean.
        session: only this session's objects (its id is in the report header and in the
            ``aiodockersock.pytest.session`` label); default: every session's.
        older_than: only objects created at least this many seconds ago, so that sessions
            still running on the same daemon keep theirs (an object whose creation time the
            daemon does not report is kept).
        dry_run: find, but remove nothing.

    Returns:
        The ids of the containers and networks and the names of the volumes removed.

    Raises:
        APIError: the daemon refused a removal (a volume still used by a container that is
            not the fixtures' own, for instance).
    """
    filters = {"label": f"{SESSION_LABEL}={session}" if session else f"{LABEL}=1"}
    cutoff = None if older_than is None else time.time() - older_than

    def old(created: float | None) -> bool:
        return cutoff is None or (created is not None and created <= cutoff)

    containers = [c.id for c in await docker.containers.list(all=True, filters=filters)
                  if c.id and old(c.created)]
    networks = [n.id for n in await docker.networks.list(filters=filters)
                if n.id and old(_timestamp(n.created))]
    volumes = [v.name for v in await docker.volumes.list(filters=filters)
               if v.name and old(_timestamp(v.created_at))]
    if not dry_run:
        for kind, names in zip(_REMOVE, (containers, networks, volumes), strict=True):
            for name in names:
                with contextlib.suppress(NotFound):
                    await _REMOVE[kind](docker, name)
    return Pruned(containers, networks, volumes)


_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)(?:\.(\d+))?\s*(Z|[+-]\d\d:?\d\d)?",
                      re.IGNORECASE)


def _timestamp(text: str | None) -> float | None:
    """Seconds since the epoch of the Engine's RFC 3339 times (nanoseconds, ``Z``)."""
    match = _RFC3339.match(text or "")
    if match is None:
        return None
    base, fraction, zone = match.groups()
    zone = "+00:00" if zone is None or zone.upper() == "Z" else zone
    if ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    stamp = f"{base.replace(' ', 'T')}.{(fraction or '0')[:6].ljust(6, '0')}{zone}"
    return datetime.fromisoformat(stamp).timestamp()


_DEPRECATED = (
    "'python -m aiodockersock.pytest_plugin prune' is deprecated and goes away in the next "
    "release: use 'python -m aiodockersock prune' (or 'aiodockersock prune'), which takes the "
    "same options"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Deprecated: run ``python -m aiodockersock prune`` (or ``aiodockersock prune``) instead.

    ``python -m aiodockersock.pytest_plugin prune [--older-than D] [--session ID] [--dry-run]
    [--host URL]`` still works for one release: it warns, then hands its arguments to the
    ``prune`` command of :func:`aiodockersock.cli.main`.

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit status of ``python -m aiodockersock prune``.
    """
    warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
    return _prune_command(argv)


def _prune_command(argv: Sequence[str] | None) -> int:
    """``prune …`` as the old command line took it, run by the one command line."""
    from .cli import main as cli_main

    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["-h"], ["--help"]):
        args = ["prune", "--help"]
    if args[:1] != ["prune"]:  # as before: nothing is removed without the command's name
        print("usage: python -m aiodockersock prune [--older-than DURATION] [--session ID] "
              "[--dry-run] [--host URL] [--json]", file=sys.stderr)
        return 2
    return cli_main(args)


if __name__ == "__main__":
    print(f"DeprecationWarning: {_DEPRECATED}", file=sys.stderr, flush=True)
    raise SystemExit(_prune_command(None))
