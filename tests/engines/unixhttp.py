"""HTTP requests over a unix socket (the standard library's ``http.client``)."""

import http.client
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol


class _UnixHTTPConnection(http.client.HTTPConnection):
    """An :class:`http.client.HTTPConnection` to a unix socket."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        """Prepare a connection to ``socket_path``."""
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        """Connect to the unix socket instead of TCP."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def unix_request(
    socket_path: str | Path,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> tuple[int, bytes]:
    """Send one HTTP request to the unix socket ``socket_path``; return (status, body)."""
    conn = _UnixHTTPConnection(str(socket_path), timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class EngineAPI(Protocol):
    """Anything that sends one request to an Engine API: :class:`Engine` or :class:`UnixAPI`."""

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> tuple[int, bytes]:
        """Send one HTTP request; return (status, body)."""
        ...


class UnixAPI:
    """The Engine API of a daemon this package did not start, at the unix socket ``socket_path``."""

    def __init__(self, socket_path: str | Path) -> None:
        """Talk to the daemon at ``socket_path``."""
        self.socket_path = Path(socket_path)

    def __repr__(self) -> str:
        """Name the socket."""
        return f"<{type(self).__name__} {self.socket_path}>"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> tuple[int, bytes]:
        """Send one HTTP request to the socket; return (status, body)."""
        return unix_request(self.socket_path, method, path, body, headers, timeout)
