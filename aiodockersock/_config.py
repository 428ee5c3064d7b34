"""Where the daemon is and how to talk to it: host resolution and TLS. Standard library only.

The address is taken from, in this order: the ``url`` argument, the ``DOCKER_HOST`` environment
variable, then ``unix:///var/run/docker.sock`` — the order the Docker CLI uses (contexts aside).

TLS follows the Docker CLI's environment: ``DOCKER_TLS_VERIFY`` (non-empty) turns TLS on and
verifies the daemon against ``$DOCKER_CERT_PATH/ca.pem``; ``DOCKER_TLS`` (non-empty) turns TLS on
without verifying the daemon; ``DOCKER_CERT_PATH`` (default ``~/.docker``) holds ``ca.pem``,
``cert.pem`` and ``key.pem``; the client certificate is used when both of its files exist.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ._exceptions import InvalidArgument

__all__ = ["DEFAULT_HOST", "HostConfig", "TLSConfig", "resolve_host"]

DEFAULT_HOST = "unix:///var/run/docker.sock"
DEFAULT_TLS_PORT = 2376
DEFAULT_TCP_PORT = 2375


@dataclass(frozen=True)
class TLSConfig:
    """TLS settings for a ``tcp://`` or ``https://`` daemon.

    Attributes:
        ca_cert: the CA bundle that signed the daemon's certificate (``ca.pem``).
        client_cert: the client certificate and key (``cert.pem``, ``key.pem``), if the daemon
            asks for one.
        verify: verify the daemon's certificate and host name (``DOCKER_TLS_VERIFY``).
    """

    ca_cert: Path | None = None
    client_cert: tuple[Path, Path] | None = None
    verify: bool = True

    @classmethod
    def from_cert_path(cls, cert_path: str | os.PathLike[str], *, verify: bool = True) -> TLSConfig:
        """Build the settings from a directory holding ``ca.pem``, ``cert.pem``, ``key.pem``."""
        base = Path(cert_path).expanduser()
        ca = base / "ca.pem"
        cert, key = base / "cert.pem", base / "key.pem"
        return cls(
            ca_cert=ca if ca.is_file() else None,
            client_cert=(cert, key) if cert.is_file() and key.is_file() else None,
            verify=verify,
        )

    def ssl_context(self) -> ssl.SSLContext:
        """Make the ``ssl.SSLContext`` these settings describe.

        Raises:
            InvalidArgument: a certificate file is missing or unreadable.
        """
        try:
            ctx = ssl.create_default_context(
                cafile=str(self.ca_cert) if self.ca_cert is not None else None
            )
            if not self.verify:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            if self.client_cert is not None:
                ctx.load_cert_chain(str(self.client_cert[0]), str(self.client_cert[1]))
        except (OSError, ssl.SSLError) as exc:
            raise InvalidArgument(
                f"cannot load the TLS certificates ({exc}); check DOCKER_CERT_PATH "
                "or the TLSConfig paths"
            ) from exc
        return ctx


@dataclass(frozen=True)
class HostConfig:
    """A resolved daemon address.

    Attributes:
        address: the address as the user gave it, for messages (``unix:///var/run/docker.sock``).
        base_url: the HTTP origin requests go to (``http://localhost`` over a unix socket).
        socket_path: the unix socket's path, or ``None`` for TCP.
        ssl: the TLS context for ``https``, or ``None``.
    """

    address: str
    base_url: str
    socket_path: str | None = None
    ssl: ssl.SSLContext | None = None


def _tls_from_env(env: Mapping[str, str]) -> TLSConfig | None:
    verify = bool(env.get("DOCKER_TLS_VERIFY"))
    if not verify and not env.get("DOCKER_TLS"):
        return None
    cert_path = env.get("DOCKER_CERT_PATH") or "~/.docker"
    return TLSConfig.from_cert_path(cert_path, verify=verify)


def resolve_host(
    url: str | None = None,
    *,
    tls: TLSConfig | ssl.SSLContext | bool | None = None,
    env: Mapping[str, str] | None = None,
) -> HostConfig:
    """Resolve the daemon address: ``url`` > ``DOCKER_HOST`` > ``unix:///var/run/docker.sock``.

    Args:
        url: ``unix:///path``, ``tcp://host:port``, ``http://host:port`` or ``https://host:port``.
        tls: ``None`` takes TLS from the environment (``DOCKER_TLS_VERIFY``, ``DOCKER_TLS``,
            ``DOCKER_CERT_PATH``); ``False`` turns it off; ``True`` turns it on with the
            certificates from ``DOCKER_CERT_PATH``; a ``TLSConfig`` or ``ssl.SSLContext`` is used
            as given.
        env: the environment to read (``os.environ`` when ``None``).

    Returns:
        The resolved ``HostConfig``.

    Raises:
        InvalidArgument: the address has a scheme this library cannot use, or no host/path.
    """
    environ = os.environ if env is None else env
    address = url or environ.get("DOCKER_HOST") or DEFAULT_HOST
    parts = urlsplit(address)
    scheme = parts.scheme.lower()

    if scheme == "unix":
        path = unquote(parts.path if not parts.netloc else parts.netloc + parts.path)
        if not path:
            raise InvalidArgument(
                f"{address!r} names no socket path; write it as unix:///var/run/docker.sock"
            )
        return HostConfig(address=address, base_url="http://localhost", socket_path=path)

    if scheme in ("tcp", "http", "https"):
        if not parts.hostname:
            raise InvalidArgument(f"{address!r} names no host; write it as tcp://HOST:PORT")
        if parts.path not in ("", "/"):
            raise InvalidArgument(
                f"{address!r} has a path; a TCP daemon address is only tcp://HOST:PORT"
            )
        context: ssl.SSLContext | None
        if isinstance(tls, ssl.SSLContext):
            context = tls
        elif isinstance(tls, TLSConfig):
            context = tls.ssl_context()
        elif tls is True:
            from_env = _tls_from_env(environ) or TLSConfig.from_cert_path(
                environ.get("DOCKER_CERT_PATH") or "~/.docker"
            )
            context = from_env.ssl_context()
        elif tls is False or scheme == "http":
            context = None
        else:
            env_tls = _tls_from_env(environ)
            context = env_tls.ssl_context() if env_tls is not None else None
            if context is None and scheme == "https":
                context = ssl.create_default_context()
        if scheme == "http" and context is not None:
            raise InvalidArgument(f"{address!r} is plain http but TLS was asked for; use https://")
        https = context is not None
        try:
            port = parts.port or (DEFAULT_TLS_PORT if https else DEFAULT_TCP_PORT)
        except ValueError as exc:
            raise InvalidArgument(f"{address!r} has an invalid port") from exc
        host = parts.hostname
        if ":" in host:  # an IPv6 literal
            host = f"[{host}]"
        origin = f"{'https' if https else 'http'}://{host}:{port}"
        return HostConfig(address=address, base_url=origin, ssl=context)

    if scheme in ("npipe", "ssh", "fd"):
        raise InvalidArgument(
            f"{address!r}: {scheme}:// daemons are not supported; use unix:// or tcp:// "
            "(for ssh, forward the socket: ssh -L /tmp/docker.sock:/var/run/docker.sock HOST)"
        )
    raise InvalidArgument(
        f"{address!r} is not a daemon address; use unix:///path/to/docker.sock or tcp://HOST:PORT"
    )
