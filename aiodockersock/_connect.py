"""The one way onto the wire: a connection factory per kind of daemon address.

Every byte the library exchanges with a daemon travels over a connection made here: the pooled
HTTP connections of ordinary requests and streams (aiohttp's pool calls
:meth:`Connector.create_connection` through the transport's connector adapter) and the upgraded
connections of attach and exec (:meth:`Connector.open_stream`). A new kind of host (``ssh://``)
is a new :class:`Connector`; nothing else changes.

This module uses asyncio alone: no HTTP, no aiohttp.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import Final, TypeVar
from urllib.parse import urlsplit

from ._config import HostConfig

__all__ = ["Connector", "ResettableReader", "TCPConnector", "UnixConnector", "connector_for"]

P = TypeVar("P", bound=asyncio.BaseProtocol)

#: The reader limit of an upgraded connection: the longest response head accepted; reading from
#: the socket pauses once twice this much is buffered unread (backpressure to the daemon).
STREAM_LIMIT: Final = 256 * 1024


class ResettableReader(asyncio.StreamReader):
    """A stream reader that keeps what arrived readable after a reset.

    asyncio reports a reset (or a failed write into a closed connection) by failing every later
    read, even of bytes that arrived before it. Here the reset ends the stream like a close,
    after those bytes, and is kept in :attr:`reset` for the owner to judge; writes still fail.
    """

    reset: Exception | None = None

    def set_exception(self, exc: Exception) -> None:
        if isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            self.reset = exc
            self.feed_eof()
            return
        super().set_exception(exc)


class Connector:
    """How to open a connection to one daemon.

    Attributes:
        host: the resolved address it connects to.
    """

    def __init__(self, host: HostConfig) -> None:
        self.host = host

    @property
    def where(self) -> str:
        """What a connection error should name: the socket path, or the address."""
        return self.host.address

    async def create_connection(
        self, protocol_factory: Callable[[], P]
    ) -> tuple[asyncio.Transport, P]:
        """Open a connection driven by the protocol ``protocol_factory`` makes.

        Raises:
            OSError: the connection could not be made (the transport maps it).
        """
        raise NotImplementedError

    async def open_stream(
        self, on_lost: Callable[[], None] | None = None
    ) -> tuple[ResettableReader, asyncio.StreamWriter]:
        """Open a connection as an asyncio reader/writer pair (for upgraded connections).

        Args:
            on_lost: called once when the connection ends, whichever side closes it.

        Raises:
            OSError: the connection could not be made (the transport maps it).
        """
        loop = asyncio.get_running_loop()
        reader = ResettableReader(limit=STREAM_LIMIT, loop=loop)
        transport, protocol = await self.create_connection(
            lambda: _StreamProtocol(reader, on_lost, loop=loop)
        )
        return reader, asyncio.StreamWriter(transport, protocol, reader, loop)


class _StreamProtocol(asyncio.StreamReaderProtocol):
    """asyncio's stream protocol that also tells its owner when the connection is gone."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        on_lost: Callable[[], None] | None,
        *,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(reader, loop=loop)
        self._on_lost = on_lost

    def connection_lost(self, exc: Exception | None) -> None:
        on_lost, self._on_lost = self._on_lost, None
        if on_lost is not None:
            on_lost()
        super().connection_lost(exc)


class UnixConnector(Connector):
    """Connections to a unix socket (``unix:///var/run/docker.sock``)."""

    @property
    def where(self) -> str:
        return self.host.socket_path or self.host.address

    async def create_connection(
        self, protocol_factory: Callable[[], P]
    ) -> tuple[asyncio.Transport, P]:
        path = self.host.socket_path
        assert path is not None
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_unix_connection(protocol_factory, path)
        return transport, protocol


class TCPConnector(Connector):
    """Connections over TCP (``tcp://host:port``), with TLS when the host has a context."""

    def __init__(self, host: HostConfig) -> None:
        super().__init__(host)
        parts = urlsplit(host.base_url)  # always with a host and a port (_config)
        self._hostname = parts.hostname or ""
        self._port = parts.port or 0
        self._ssl: ssl.SSLContext | None = host.ssl

    async def create_connection(
        self, protocol_factory: Callable[[], P]
    ) -> tuple[asyncio.Transport, P]:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_connection(
            protocol_factory,
            self._hostname,
            self._port,
            ssl=self._ssl,
            server_hostname=self._hostname if self._ssl is not None else None,
        )
        return transport, protocol


def connector_for(host: HostConfig) -> Connector:
    """The connection factory for a resolved address."""
    if host.socket_path is not None:
        return UnixConnector(host)
    return TCPConnector(host)
