"""The ``Docker`` client: owns the transport, negotiates the API version, attaches the areas."""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Coroutine, Sequence
from typing import Any

from ._auth import RegistryAuth
from ._config import DEFAULT_SSH_SESSIONS, Limits, SSHMode, TLSConfig, resolve_host
from ._resource import AsyncResource
from ._transport import DEFAULT, DEFAULT_MAX_RESPONSE, Default, Transport
from .configs import Configs
from .containers import Containers
from .events import Events
from .execs import Execs
from .images import Images
from .models.system import AuthResponse, PingInfo, SystemDataUsage, SystemInfo, SystemVersion
from .networks import Networks
from .nodes import Nodes
from .plugins import Plugins
from .secrets import Secrets
from .services import Services
from .swarm import Swarm
from .system import System
from .tasks import Tasks
from .volumes import Volumes

__all__ = ["Docker"]


class Docker(AsyncResource):
    """An asyncio client for one Docker Engine.

    Use it as ``async with Docker() as docker: ...`` or ``await docker.aclose()`` when done::

        async with aiodockersock.Docker() as docker:
            created = await docker.containers.create({"Image": "busybox", "Cmd": ["true"]})
            await docker.containers.start(created.id)

    Args:
        url: the daemon's address — ``unix:///path``, ``tcp://host:port``, ``http://…``,
            ``https://…``, ``ssh://[user@]host[:port][/remote/socket/path]`` (through the
            system's ``ssh``, see ``docs/remote-hosts.md``). When ``None`` (and no
            ``context``): ``DOCKER_HOST``, then the ``DOCKER_CONTEXT`` or current Docker
            context, then ``unix:///var/run/docker.sock``.
        context: a Docker context by name, as ``docker --context NAME`` (its endpoint and TLS
            files, from ``$DOCKER_CONFIG`` or ``~/.docker``); not with ``url``.
        api_version: ``"auto"`` (default) asks the daemon once, on first use, and uses the lower
            of its version and the newest this library knows; ``"1.45"`` pins a version.
        timeout: total seconds for an ordinary request (``None``: no limit). Streams (events,
            followed logs) have no timeout; ``containers.wait`` has its own.
        connect_timeout: seconds to wait for the connection itself.
        tls: ``None`` reads ``DOCKER_TLS_VERIFY``/``DOCKER_TLS``/``DOCKER_CERT_PATH``; ``False``
            disables TLS; ``True`` enables it with the certificates in ``DOCKER_CERT_PATH``
            and verifies the daemon against its ``ca.pem`` (which must exist), even when
            ``DOCKER_TLS`` is set; a ``TLSConfig`` (``key_passphrase=`` for an encrypted key)
            or ``ssl.SSLContext`` is used as given.
        max_response: the largest answer to an ordinary request read into memory, in bytes
            (default 256 MiB, far above any real answer; streams are read as they arrive and
            are not limited by it). A larger answer raises ``ResponseTooLarge``.
        limits: caps on the connections of ordinary requests and on open streams
            (``Limits(connections=…, streams=…)``); by default there are none, and streams
            never take the connections requests need. A cap reached raises
            ``ClientLimitReached``, which names it.
        ssh_options: extra arguments for every ``ssh`` an ``ssh://`` address runs, one list
            item per argument: ``["-F", "/path/to/ssh_config"]``, ``["-i", KEY]``,
            ``["-o", "ProxyJump=bastion"]``. Your ``~/.ssh/config`` applies without them.
        ssh_sessions: how many connections (requests and streams) one ssh connection carries
            before the client opens another: the server's ``MaxSessions`` (sshd's default, 10).
            No connection ever waits for a free session.
        ssh_mode: how an ``ssh://`` connection reaches the daemon. ``"auto"`` (default): when
            the URL names the daemon's socket (``ssh://me@host/var/run/docker.sock``), sshd
            connects to it directly (stream-local forwarding over the shared ssh connection:
            no remote process, no ``MaxSessions`` limit), falling back to the remote
            ``docker system dial-stdio`` where the server refuses to forward; without a path,
            ``dial-stdio`` as the Docker CLI. ``"forward"`` forwards or fails;
            ``"dial-stdio"`` always runs the remote ``docker``.

    Attributes:
        configs: swarm configs (``docker.configs.create(name, data)``…; managers only).
        containers: the containers API (``docker.containers.create(...)``…).
        events: the event stream: ``docker.events(filters=...)`` returns an ``EventStream``.
        execs: commands in running containers (``docker.execs.run(...)``, ``.open(...)``…).
        images: the images API (``docker.images.pull(...)``, ``.build(...)``, ``.push(...)``…).
        networks: the networks API (``docker.networks.create(...)``, ``.connect(...)``…).
        plugins: the plugins API (``docker.plugins.create(...)``, ``.enable(...)``…).
        secrets: swarm secrets (``docker.secrets.create(name, data)``…; managers only).
        services: swarm services (``docker.services.create(...)``, ``.update(...)``,
            ``.wait_converged(...)``…; managers only).
        nodes: a swarm's nodes (``docker.nodes.list()``, ``.update(id, availability=...)``…).
        swarm: the swarm API (``docker.swarm.init(...)``, ``.join(...)``, ``.inspect()``…).
        system: the system API; its calls are also available directly on the client.
        tasks: the tasks of swarm services (``docker.tasks.list(service=...)``…).
        volumes: the volumes API (``docker.volumes.create(...)``…).

    Raises:
        InvalidArgument: the address or the API version is malformed; an ``ssh://`` address
            holds a password.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        context: str | None = None,
        api_version: str = "auto",
        timeout: float | None = 60.0,
        connect_timeout: float = 5.0,
        tls: TLSConfig | ssl.SSLContext | bool | None = None,
        max_response: int = DEFAULT_MAX_RESPONSE,
        limits: Limits | None = None,
        ssh_options: Sequence[str] = (),
        ssh_sessions: int = DEFAULT_SSH_SESSIONS,
        ssh_mode: SSHMode = "auto",
    ) -> None:
        self._transport = Transport(
            resolve_host(
                url,
                context=context,
                tls=tls,
                ssh_options=ssh_options,
                ssh_sessions=ssh_sessions,
                connect_timeout=connect_timeout,
                ssh_mode=ssh_mode,
            ),
            api_version=api_version,
            timeout=timeout,
            connect_timeout=connect_timeout,
            max_response=max_response,
            limits=limits,
        )
        self._resource_name = f"the Docker client for {self._transport.host.address}"
        self.system = System(self._transport)
        self.containers = Containers(self._transport)
        self.execs = Execs(self._transport)
        self.images = Images(self._transport)
        self.networks = Networks(self._transport)
        self.volumes = Volumes(self._transport)
        self.plugins = Plugins(self._transport)
        self.swarm = Swarm(self._transport)
        self.nodes = Nodes(self._transport)
        self.events = Events(self._transport)
        self.secrets = Secrets(self._transport)
        self.configs = Configs(self._transport)
        self.services = Services(self._transport)
        self.tasks = Tasks(self._transport)

    @property
    def url(self) -> str:
        """The daemon's address, as given or resolved."""
        return self._transport.host.address

    @property
    def api_version(self) -> str | None:
        """The API version in use; ``None`` until ``"auto"`` has negotiated (first request)."""
        return self._transport.api_version

    async def negotiate(self) -> str:
        """Settle the API version now rather than on the first request.

        ``GET /_ping``

        Returns:
            The version used from now on.

        Raises:
            UnsupportedAPIVersion: the daemon is too old for this library.
            DockerConnectionError: the daemon cannot be reached.
        """
        return await self._transport.negotiate()

    def ping(self, *, timeout: float | Default | None = DEFAULT) -> Coroutine[Any, Any, PingInfo]:
        """Check that the daemon answers: ``await docker.ping()``. See :meth:`System.ping`.

        ``HEAD /_ping`` (``GET /_ping`` where HEAD is refused)

        Raises:
            DockerConnectionError: the daemon cannot be reached.
        """
        return self.system.ping(timeout=timeout)  # the coroutine itself: no extra frame

    async def version(self) -> SystemVersion:
        """The daemon's version. See :meth:`System.version`.

        ``GET /version``
        """
        return await self.system.version()

    async def info(self) -> SystemInfo:
        """System-wide information. See :meth:`System.info`.

        ``GET /info``
        """
        return await self.system.info()

    async def df(self) -> SystemDataUsage:
        """Disk usage. See :meth:`System.df`.

        ``GET /system/df``
        """
        return await self.system.df()

    async def login(
        self,
        registry: str,
        username: str | None = None,
        password: str | None = None,
        *,
        auth: RegistryAuth | None = None,
    ) -> AuthResponse:
        """Check credentials with a registry. See :meth:`System.login`.

        ``POST /auth``
        """
        return await self.system.login(registry, username, password, auth=auth)

    async def aclose(self) -> None:
        """Close every connection. Safe to call more than once.

        Streams opened from this client hold their own connections: close them first (or
        use them with ``async with``).
        """
        self._closed = True
        await self._transport.close()

    async def close(self) -> None:
        """Deprecated: use :meth:`aclose` (or ``async with``).

        Every other ``close()`` in the library (streams, the hub, the watch) drops its
        connection at once without awaiting; this one is a coroutine. It stays one release as
        an alias of :meth:`aclose`, with a ``DeprecationWarning``.
        """
        warnings.warn(
            "Docker.close() is deprecated; use 'await docker.aclose()' or 'async with Docker()'",
            DeprecationWarning,
            stacklevel=2,
        )
        await self.aclose()

    def _holds(self) -> bool:
        return not self._transport.closed and self._transport.has_session

    def __repr__(self) -> str:
        version = self.api_version or "auto"
        state = " closed" if self.closed else ""
        return f"<Docker {self.url} api={version}{state}>"
