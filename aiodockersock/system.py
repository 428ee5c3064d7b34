"""The system area of the Engine API: ping, version, info, disk usage."""

from __future__ import annotations

from ._exceptions import APIError
from ._transport import DEFAULT, Area, Default
from .models.system import PingInfo, SystemDataUsage, SystemInfo, SystemVersion

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
