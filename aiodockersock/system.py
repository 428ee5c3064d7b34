"""The system area of the Engine API: ping, version, info, disk usage, registry login."""

from __future__ import annotations

import asyncio

from ._auth import AUTH_REFUSED, NETWORK_FAILURE, RegistryAuth, config_key
from ._exceptions import (
    APIError,
    InvalidArgument,
    RegistryAuthError,
    RegistryUnreachable,
    ServerError,
)
from ._transport import DEFAULT, Area, Default
from .models.system import AuthResponse, PingInfo, SystemDataUsage, SystemInfo, SystemVersion

__all__ = ["System"]


class System(Area):
    """Daemon-wide calls. The ``Docker`` client exposes them directly (``docker.ping()``…)."""

    __slots__ = ()

    async def ping(self, *, timeout: float | Default | None = DEFAULT) -> PingInfo:
        """Check that the daemon answers.

        ``HEAD /_ping``, as the Docker CLI sends it (the answer is in the headers; no body to
        read); ``GET /_ping`` when that is refused (a proxy that only lets GET through).

        Args:
            timeout: seconds to wait (the client's default when omitted).

        Returns:
            What the daemon says of itself in the answer's headers (API version, OS…).

        Raises:
            DockerConnectionError: the daemon cannot be reached (the message names the address
                and the likely fix).
        """
        try:
            resp = await self._t.request("HEAD", "/_ping", versioned=False, timeout=timeout)
        except APIError:  # HEAD refused; a HEAD answer has no body to say why: ask with GET
            resp = await self._t.request("GET", "/_ping", versioned=False, timeout=timeout)
        return PingInfo.from_headers(resp.headers)

    async def version(self) -> SystemVersion:
        """The daemon's version and its components'.

        ``GET /version``
        """
        resp = await self._t.request("GET", "/version")
        return resp.decode(SystemVersion)

    async def info(self) -> SystemInfo:
        """System-wide information: counts, drivers, kernel, resources, swarm state…

        ``GET /info``
        """
        resp = await self._t.request("GET", "/info")
        return resp.decode(SystemInfo)

    async def df(self) -> SystemDataUsage:
        """Disk usage of images, containers, volumes and the build cache.

        ``GET /system/df``
        """
        resp = await self._t.request("GET", "/system/df", timeout=None)
        return resp.decode(SystemDataUsage)

    async def login(
        self,
        registry: str,
        username: str | None = None,
        password: str | None = None,
        *,
        auth: RegistryAuth | None = None,
    ) -> AuthResponse:
        """Check credentials with a registry, as ``docker login`` does (nothing is stored).

        ``POST /auth``

        The daemon logs in to the registry itself, so this proves that the daemon can pull and
        push with these credentials. Pulls and pushes do not need it first: pass the same
        ``RegistryAuth`` as their ``auth=``.

        Args:
            registry: the registry's host (``"registry.example:5000"``; ``"docker.io"`` for
                Docker Hub).
            username: the account name.
            password: its password or access token (never shown in a ``repr``, a log or an
                error).
            auth: the credentials as a :class:`~aiodockersock.RegistryAuth` (an identity token,
                say) instead of ``username`` and ``password``. With neither, the credentials
                ``docker login`` stored for ``registry`` are used.

        Returns:
            The daemon's answer: ``status`` (``"Login Succeeded"``) and, when the registry
            issues one, an ``identity_token`` to use instead of the password.

        Raises:
            RegistryAuthError: the registry refused the credentials (``.registry`` names it).
            RegistryUnreachable: the daemon cannot reach the registry.
            InvalidArgument: no registry, both ``auth`` and a username or password, or no
                credentials given and none stored for the registry.
        """
        if not isinstance(registry, str) or not registry:
            raise InvalidArgument(f"registry must be a non-empty str, not {registry!r}")
        if auth is not None:
            if username is not None or password is not None:
                raise InvalidArgument("pass either auth= or a username and password, not both")
            if not isinstance(auth, RegistryAuth):
                raise InvalidArgument(f"auth must be a RegistryAuth, not {type(auth).__name__}")
        elif username is not None or password is not None:
            auth = RegistryAuth(username, password)
        else:
            auth = await asyncio.to_thread(RegistryAuth.from_config, registry)
            if auth is None:
                raise InvalidArgument(
                    f"no credentials for {registry}: pass a username and password (or "
                    "auth=RegistryAuth(...)), or run 'docker login' first"
                )
        body = {**auth.to_json(), "serveraddress": auth.server_address or config_key(registry)}
        try:
            resp = await self._t.request("POST", "/auth", body=body)
        except APIError as exc:
            _raise_login_failure(exc, registry, auth.username)
            raise
        return resp.decode(AuthResponse) if resp.body.strip() else AuthResponse()


def _raise_login_failure(exc: APIError, registry: str, username: str | None) -> None:
    """Raise a refused login as RegistryAuthError, an unreachable registry as
    RegistryUnreachable (the daemon answers both with 500, or 401 for a refusal); return for
    any other error."""
    if exc.status in (401, 403, 500) and AUTH_REFUSED.search(exc.message):
        who = f" of {username!r}" if username else ""
        error = RegistryAuthError(exc.message, operation=f"login to {registry}",
                                  registry=registry, code=exc.status)
        error.args = (
            f"the registry {registry} refused the credentials{who}: check the username and "
            f"password (the daemon said: {exc.message})",
        )
        raise error from None
    if isinstance(exc, ServerError) and NETWORK_FAILURE.search(exc.message):
        raise RegistryUnreachable(exc.status, exc.message, method=exc.method, path=exc.path,
                                  registry=registry, action="log in") from None
