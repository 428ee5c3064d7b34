"""Where the daemon is and how to talk to it: host resolution and TLS. Standard library only.

The address is taken from, in this order: the ``url`` or ``context`` argument, the ``DOCKER_HOST``
environment variable, ``DOCKER_CONTEXT``, the CLI's current context (``docker context use``),
then ``unix:///var/run/docker.sock`` — the order the Docker CLI uses (contexts: :mod:`._contexts`).

TLS follows the Docker CLI's environment: ``DOCKER_TLS_VERIFY`` (non-empty) turns TLS on and
verifies the daemon against ``$DOCKER_CERT_PATH/ca.pem``, which must exist (as for the CLI, the
system CAs are no fallback); ``DOCKER_TLS`` (non-empty) turns TLS on without verifying the
daemon; ``DOCKER_CERT_PATH`` (default ``~/.docker``) holds ``ca.pem``, ``cert.pem`` and
``key.pem``; the client certificate is used when both of its files exist. A file that cannot be
loaded is named in the error, and an encrypted key needs ``TLSConfig.key_passphrase``: nothing
ever prompts on a terminal. :func:`tls_failure` words a failed TLS handshake for the transport.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final, Literal, get_args
from urllib.parse import unquote, urlsplit

from ._contexts import DEFAULT_CONTEXT, DockerContext, current_context, load_context
from ._exceptions import InvalidArgument

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_SSH_SESSIONS",
    "SSH_MODES",
    "HostConfig",
    "Limits",
    "SSHMode",
    "SSHTarget",
    "TLSConfig",
    "resolve_host",
    "tls_failure",
]

DEFAULT_HOST = "unix:///var/run/docker.sock"
DEFAULT_TLS_PORT = 2376
DEFAULT_TCP_PORT = 2375
#: sshd's default ``MaxSessions``: the sessions (connections) one ssh connection may carry.
DEFAULT_SSH_SESSIONS = 10

#: How an ``ssh://`` connection reaches the daemon (``Docker(url, ssh_mode=…)``):
#: ``"auto"``, ``"forward"`` (sshd connects to the socket the URL names: no remote process) or
#: ``"dial-stdio"`` (the remote ``docker system dial-stdio``, as the Docker CLI).
SSHMode = Literal["auto", "forward", "dial-stdio"]
SSH_MODES: Final[tuple[SSHMode, ...]] = get_args(SSHMode)


_NO_CA: Final = (
    "with DOCKER_TLS_VERIFY (or tls=True) the daemon is verified against ca.pem in "
    "DOCKER_CERT_PATH, as by the Docker CLI, which fails the same way without it: put the CA "
    "that signed the daemon's certificate there, or fix DOCKER_CERT_PATH or TLSConfig.ca_cert"
)
_NO_CLIENT_FILE: Final = "fix DOCKER_CERT_PATH or TLSConfig.client_cert"


class _NoPassphrase(Exception):
    """Raised by the password callback of a key loaded without a passphrase (see ssl_context)."""


@dataclass(frozen=True)
class TLSConfig:
    """TLS settings for a ``tcp://`` or ``https://`` daemon.

    Attributes:
        ca_cert: the CA bundle that signed the daemon's certificate (``ca.pem``); ``None``
            verifies against the system's CAs.
        client_cert: the client certificate and key (``cert.pem``, ``key.pem``), if the daemon
            asks for one.
        verify: verify the daemon's certificate and host name (``DOCKER_TLS_VERIFY``).
        key_passphrase: the passphrase of an encrypted client key. Never shown by ``repr``.
            Without it an encrypted key is an error: the library never prompts on a terminal.
    """

    ca_cert: Path | None = None
    client_cert: tuple[Path, Path] | None = None
    verify: bool = True
    key_passphrase: str | bytes | None = field(default=None, repr=False)

    @classmethod
    def from_cert_path(
        cls,
        cert_path: str | os.PathLike[str],
        *,
        verify: bool = True,
        key_passphrase: str | bytes | None = None,
    ) -> TLSConfig:
        """Build the settings from a directory holding ``ca.pem``, ``cert.pem``, ``key.pem``,
        as the Docker CLI reads ``DOCKER_CERT_PATH``.

        With ``verify``, the daemon is verified against ``ca.pem``, which must exist
        (:meth:`ssl_context` says so if it does not; the system CAs are not a fallback). The
        client certificate is used when both ``cert.pem`` and ``key.pem`` exist.

        Args:
            cert_path: the directory (``~`` is expanded).
            verify: verify the daemon's certificate (``DOCKER_TLS_VERIFY``).
            key_passphrase: the passphrase of an encrypted ``key.pem``.

        Returns:
            The settings; nothing is read but the directory listing.
        """
        base = Path(cert_path).expanduser()
        ca = base / "ca.pem"
        cert, key = base / "cert.pem", base / "key.pem"
        return cls(
            ca_cert=ca if verify or ca.is_file() else None,
            client_cert=(cert, key) if cert.is_file() and key.is_file() else None,
            verify=verify,
            key_passphrase=key_passphrase,
        )

    def ssl_context(self) -> ssl.SSLContext:
        """Make the ``ssl.SSLContext`` these settings describe.

        Returns:
            A client context: verifying the daemon unless ``verify`` is false, with the client
            certificate loaded when there is one.

        Raises:
            InvalidArgument: a certificate or key file is missing, unreadable or not what it
                should be, the key does not match the certificate, or the key is encrypted and
                ``key_passphrase`` is missing or wrong; the message names the file.
        """
        if self.ca_cert is None:
            ctx = ssl.create_default_context()  # the system's CAs
        else:  # only this CA: given one, create_default_context loads no others
            _read(self.ca_cert, "the CA certificate", _NO_CA)  # to name it if unreadable
            try:
                ctx = ssl.create_default_context(cafile=str(self.ca_cert))
            except (OSError, ValueError):  # ssl.SSLError: no PEM certificate in it
                raise InvalidArgument(
                    f"the CA certificate {self.ca_cert} holds no PEM CA certificate "
                    "(-----BEGIN CERTIFICATE-----); check DOCKER_CERT_PATH or TLSConfig.ca_cert"
                ) from None
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.client_cert is not None:
            self._load_client_cert(ctx, *self.client_cert)
        return ctx

    def _load_client_cert(self, ctx: ssl.SSLContext, cert: Path, key: Path) -> None:
        cert_pem = _read(cert, "the client certificate", _NO_CLIENT_FILE)
        key_pem = _read(key, "the client key", _NO_CLIENT_FILE)
        if b"-----BEGIN CERTIFICATE-----" not in cert_pem:
            raise InvalidArgument(
                f"the client certificate {cert} holds no PEM certificate "
                "(-----BEGIN CERTIFICATE-----); check DOCKER_CERT_PATH or TLSConfig.client_cert"
            )
        if b"PRIVATE KEY-----" not in key_pem:
            raise InvalidArgument(
                f"the client key {key} holds no PEM private key (-----BEGIN ... PRIVATE "
                "KEY-----); check DOCKER_CERT_PATH or TLSConfig.client_cert"
            )
        asked = False

        def passphrase() -> str | bytes:
            # Always a callable: with no password at all, OpenSSL would prompt on the terminal.
            nonlocal asked
            asked = True
            if self.key_passphrase is None:
                raise _NoPassphrase
            return self.key_passphrase

        try:
            ctx.load_cert_chain(str(cert), str(key), password=passphrase)
        except _NoPassphrase:
            raise InvalidArgument(
                f"the client key {key} is encrypted; give its passphrase as "
                "TLSConfig(..., key_passphrase=...) (or TLSConfig.from_cert_path(..., "
                "key_passphrase=...))"
            ) from None
        except OSError as exc:  # ssl.SSLError included; a file replaced under us
            if asked:
                text = (f"the passphrase for the client key {key} is wrong (or the key is "
                        "damaged)")
            elif getattr(exc, "reason", None) == "KEY_VALUES_MISMATCH":
                text = (f"the client key {key} does not belong to the client certificate "
                        f"{cert}; use the key the certificate was made for")
            else:
                text = (f"cannot load the client certificate {cert} with the key {key}: "
                        f"{getattr(exc, 'reason', None) or exc}")
            raise InvalidArgument(text) from None


def _read(path: Path, what: str, fix: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidArgument(
            f"cannot read {what} {path}: {exc.strerror or type(exc).__name__}; {fix}"
        ) from None


@dataclass(frozen=True)
class Limits:
    """Caps on how many connections one client opens; by default there are none.

    Ordinary requests and streams never share a cap: a stream (events, followed logs, stats,
    attach, exec, a pull's progress) holds a connection for as long as it is open, so streams
    are counted apart and any number of them leaves the requests' connections free. Give a cap
    when something between the client and the daemon has one (a proxy, an ``ssh`` server's
    ``MaxSessions``) or to bound what one client may ask of a shared daemon::

        Docker(limits=Limits(connections=16, streams=500))

    Attributes:
        connections: how many ordinary requests may be on the wire at once (``None``: no cap).
            One more waits for a free connection, within its own timeout; a wait that runs
            out raises ``ClientLimitReached`` naming this limit.
        streams: how many streams may be open at once (``None``: no cap). Opening one more
            raises ``ClientLimitReached`` at once (a stream may stay open for days: waiting
            for one to close could wait forever).
    """

    connections: int | None = None
    streams: int | None = None

    def __post_init__(self) -> None:
        for name in ("connections", "streams"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 1
            ):
                raise InvalidArgument(
                    f"Limits({name}=…) must be a positive int or None (no cap), not {value!r}"
                )


@dataclass(frozen=True)
class SSHTarget:
    """Where an ``ssh://user@host[:port][/socket/path]`` address leads, and how to get there.

    Attributes:
        hostname: the host as written in the URL (an alias of ``~/.ssh/config`` works).
        user: the login name, or ``None`` for ssh's own choice (``~/.ssh/config``, then the
            local user name).
        port: the port, or ``None`` for ssh's own choice.
        socket_path: the daemon's socket on the remote host, or ``None`` for the remote
            ``docker``'s default (its own ``DOCKER_HOST`` or context).
        options: extra arguments for every ``ssh`` run (``["-F", "path/to/ssh_config"]``,
            ``["-o", "ProxyJump=bastion"]``…).
        sessions: how many sessions (one per HTTP connection or stream) one ssh connection
            carries before another is opened: the server's ``MaxSessions``.
        connect_timeout: seconds for the ssh handshake (``ssh -o ConnectTimeout``).
        mode: how a connection reaches the daemon (see :data:`SSH_MODES`): ``"auto"``
            forwards it to ``socket_path`` when the URL names one and the server forwards it,
            else ``docker system dial-stdio``; ``"forward"`` always forwards (an error where
            the server refuses); ``"dial-stdio"`` always runs the remote ``docker``, as the CLI.
    """

    hostname: str
    user: str | None = None
    port: int | None = None
    socket_path: str | None = None
    options: tuple[str, ...] = ()
    sessions: int = DEFAULT_SSH_SESSIONS
    connect_timeout: float = 5.0
    mode: SSHMode = "auto"


@dataclass(frozen=True)
class HostConfig:
    """A resolved daemon address.

    Attributes:
        address: the address as the user gave it, for messages (``unix:///var/run/docker.sock``).
        base_url: the HTTP origin requests go to (``http://localhost`` over a unix socket).
        socket_path: the unix socket's path, or ``None`` for TCP.
        ssl: the TLS context for ``https``, or ``None``.
        tls: the settings ``ssl`` was made from, for error messages (``None`` when the caller
            gave an ``ssl.SSLContext``, or without TLS).
        context: the Docker context the address came from, if any.
        ssh: for an ``ssh://`` address, where it leads (``None`` otherwise).
    """

    address: str
    base_url: str
    socket_path: str | None = None
    ssl: ssl.SSLContext | None = None
    tls: TLSConfig | None = None
    context: str | None = None
    ssh: SSHTarget | None = None


#: Alerts a daemon sends when it does not take the client certificate it was given.
_CLIENT_CERT_REFUSED: Final = frozenset({
    "TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_BAD_CERTIFICATE", "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE", "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    "SSLV3_ALERT_CERTIFICATE_REVOKED", "TLSV1_ALERT_ACCESS_DENIED",
})
#: What OpenSSL says when the other side answers something other than TLS (plain HTTP).
_NOT_TLS: Final = frozenset(
    {"WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE"}
)
#: X509_V_ERR_*: the certificate is for another host or address; it is expired / not yet valid.
_NAME_MISMATCH: Final = frozenset({62, 64})
_OUT_OF_DATE: Final = frozenset({9, 10})


def tls_failure(exc: BaseException, host: HostConfig) -> str | None:
    """Say what went wrong when ``exc`` comes from TLS with the daemon at ``host``.

    Looks for an ``ssl.SSLError`` in ``exc``, in the exception it wraps (aiohttp's
    ``os_error``, ``certificate_error``) and in its causes, and words it: a daemon certificate
    refused (why, and which CA it was checked against), a client certificate the daemon asked
    for or refused, a daemon that does not speak TLS.

    Args:
        exc: the failure of a connection, a request or a stream.
        host: the daemon's resolved address (its ``tls`` settings name the files).

    Returns:
        The message, naming the address, or ``None`` when ``exc`` is not a TLS failure.
    """
    error: BaseException | None = exc
    for _ in range(8):  # a short walk: the chain is the exception and what it wraps
        # aiohttp's wrappers are SSLErrors themselves, without the details: prefer the wrapped
        inner = getattr(error, "certificate_error", None) or getattr(error, "os_error", None)
        if isinstance(inner, ssl.SSLError) and inner is not error:
            error = inner
        elif error is None or isinstance(error, ssl.SSLError):
            break
        else:
            error = error.__cause__ or error.__context__
    if not isinstance(error, ssl.SSLError):
        return None
    address, tls = host.address, host.tls
    said = str(error.args[1]) if len(error.args) > 1 else str(error)
    said = re.sub(r"^\[[^\]]*\]\s*|\s*\(_ssl\.c:\d+\)$", "", said) or type(error).__name__
    if isinstance(error, ssl.SSLCertVerificationError):
        said = (getattr(error, "verify_message", None) or said).rstrip(".")
        code = getattr(error, "verify_code", None)
        if code in _NAME_MISMATCH:
            fix = ("connect by a name or address the daemon's certificate lists (its "
                   "subjectAltName), or have a certificate issued for "
                   f"{urlsplit(host.base_url).hostname}")
        elif code in _OUT_OF_DATE:
            fix = "renew the daemon's certificate (or correct this machine's clock)"
        else:
            if tls is None:
                trusted = "the CAs of the ssl.SSLContext given"
            elif tls.ca_cert is None:
                trusted = "the system's CAs"
            else:
                trusted = f"the CA in {tls.ca_cert}"
            fix = (f"it was checked against {trusted}: point DOCKER_CERT_PATH (its ca.pem) or "
                   "TLSConfig.ca_cert at the CA that signed the daemon's certificate")
        return (f"cannot connect to {address}: the daemon's TLS certificate was refused "
                f"({said}); {fix}")
    reason = getattr(error, "reason", None) or ""
    cert = tls.client_cert[0] if tls is not None and tls.client_cert is not None else None
    if reason == "TLSV13_ALERT_CERTIFICATE_REQUIRED" or (
        reason in _CLIENT_CERT_REFUSED and tls is not None and cert is None
    ):
        return (
            f"cannot connect to {address}: the daemon asks for a client certificate ({said}) "
            "and none was sent: put cert.pem and key.pem, signed by the daemon's CA, in "
            "DOCKER_CERT_PATH, or give TLSConfig(client_cert=(cert, key))"
        )
    if reason in _CLIENT_CERT_REFUSED:
        which = f" {cert}" if cert is not None else ""
        return (
            f"cannot connect to {address}: the daemon refused the client certificate{which} "
            f"({said}); use one signed by the CA the daemon trusts (its --tlscacert)"
        )
    if reason in _NOT_TLS:
        return (
            f"cannot connect to {address}: it does not speak TLS ({said}); is it a plain "
            "tcp:// daemon (port 2375)? Connect with tls=False, or to its TLS port (2376)"
        )
    return f"TLS with {address} failed: {said}"


def _tls_from_env(env: Mapping[str, str]) -> TLSConfig | None:
    verify = bool(env.get("DOCKER_TLS_VERIFY"))
    if not verify and not env.get("DOCKER_TLS"):
        return None
    cert_path = env.get("DOCKER_CERT_PATH") or "~/.docker"
    return TLSConfig.from_cert_path(cert_path, verify=verify)


def resolve_host(
    url: str | None = None,
    *,
    context: str | None = None,
    tls: TLSConfig | ssl.SSLContext | bool | None = None,
    env: Mapping[str, str] | None = None,
    ssh_options: Sequence[str] = (),
    ssh_sessions: int = DEFAULT_SSH_SESSIONS,
    connect_timeout: float = 5.0,
    ssh_mode: SSHMode = "auto",
) -> HostConfig:
    """Resolve the daemon address as the Docker CLI does: ``url`` or ``context``, then
    ``DOCKER_HOST``, then ``DOCKER_CONTEXT``, then the CLI's current context (``docker context
    use``), then ``unix:///var/run/docker.sock``.

    Args:
        url: ``unix:///path``, ``tcp://host:port``, ``http://host:port``, ``https://host:port``
            or ``ssh://[user@]host[:port][/remote/socket/path]``.
        context: the name of a Docker context in the CLI's store (``docker context ls``).
        tls: ``None`` takes TLS from the context, if one is used, else from the environment
            (``DOCKER_TLS_VERIFY``, ``DOCKER_TLS``, ``DOCKER_CERT_PATH``); ``False`` turns it
            off; ``True`` turns it on with the certificates from ``DOCKER_CERT_PATH`` and
            verifies the daemon against its ``ca.pem`` (even when ``DOCKER_TLS`` is set); a
            ``TLSConfig`` or ``ssl.SSLContext`` is used as given.
        env: the environment to read (``os.environ`` when ``None``).
        ssh_options: extra ``ssh`` arguments for an ``ssh://`` address (see :class:`SSHTarget`).
        ssh_sessions: the sessions one ssh connection carries (the server's ``MaxSessions``).
        connect_timeout: the ssh handshake's timeout, in seconds.
        ssh_mode: how an ``ssh://`` connection reaches the daemon (:data:`SSH_MODES`).

    Returns:
        The resolved ``HostConfig``.

    Raises:
        InvalidArgument: both ``url`` and ``context``; no such context; the address has a scheme
            this library cannot use, or no host/path; an ``ssh://`` address with a password
            or a query, or TLS asked for one; or a TLS file cannot be loaded (see
            :meth:`TLSConfig.ssl_context`).
    """
    environ = os.environ if env is None else env
    ssh = _SSHSettings(
        _ssh_options(ssh_options), _ssh_sessions(ssh_sessions), connect_timeout, _mode(ssh_mode)
    )
    if url and context:
        raise InvalidArgument(
            f"give url= ({url!r}) or context= ({context!r}), not both — as the Docker CLI "
            "refuses --host with --context"
        )
    chosen: DockerContext | None = None
    if context is not None:
        chosen = load_context(context, environ)
    elif not url and not environ.get("DOCKER_HOST"):
        name = current_context(environ)
        if name != DEFAULT_CONTEXT:
            chosen = load_context(name, environ)
    if chosen is not None and chosen.host is not None:
        if tls is None:
            tls = _tls_from_context(chosen)
        host = _resolve_address(chosen.host, tls, environ, ssh)
        return replace(host, context=chosen.name)
    return _resolve_address(url or environ.get("DOCKER_HOST") or DEFAULT_HOST, tls, environ, ssh)


def _tls_from_context(context: DockerContext) -> TLSConfig | bool:
    """TLS as the CLI sets it up for a context's endpoint (see :mod:`._contexts`)."""
    files = context.tls_dir
    if files is None and not context.skip_tls_verify:
        return False
    ca = files / "ca.pem" if files is not None else None
    cert = files / "cert.pem" if files is not None else None
    key = files / "key.pem" if files is not None else None
    return TLSConfig(
        ca_cert=ca if ca is not None and ca.is_file() else None,
        client_cert=(cert, key) if cert and key and cert.is_file() and key.is_file() else None,
        verify=not context.skip_tls_verify,
    )


@dataclass(frozen=True)
class _SSHSettings:
    options: tuple[str, ...]
    sessions: int
    connect_timeout: float
    mode: SSHMode


def _mode(mode: SSHMode) -> SSHMode:
    if mode not in SSH_MODES:
        raise InvalidArgument(f"ssh_mode must be one of {', '.join(SSH_MODES)}, not {mode!r}")
    return mode


def _ssh_options(options: Sequence[str]) -> tuple[str, ...]:
    if isinstance(options, (str, bytes)) or not all(isinstance(o, str) for o in options):
        raise InvalidArgument(
            "ssh_options must be a list of strings, one per ssh argument: "
            "['-F', '/path/to/ssh_config'], not " + repr(options)
        )
    return tuple(options)


def _ssh_sessions(sessions: int) -> int:
    if not isinstance(sessions, int) or isinstance(sessions, bool) or sessions < 1:
        raise InvalidArgument(
            f"ssh_sessions must be a positive int (the server's MaxSessions), not {sessions!r}"
        )
    return sessions


def _resolve_ssh(
    address: str, tls: TLSConfig | ssl.SSLContext | bool | None, settings: _SSHSettings
) -> HostConfig:
    """``ssh://[user@]host[:port][/socket/path]``, as the Docker CLI reads it."""
    parts = urlsplit(address)
    if parts.password is not None:
        raise InvalidArgument(
            f"{_without_password(address)!r}: a password in an ssh:// URL is refused (ssh never "
            "takes one on its command line, and it would show in process listings and logs); "
            "log in with a key (ssh-agent, or IdentityFile in ~/.ssh/config)"
        )
    if not parts.hostname:
        raise InvalidArgument(f"{address!r} names no host; write it as ssh://USER@HOST[:PORT]")
    if parts.query or parts.fragment:
        raise InvalidArgument(
            f"{address!r}: an ssh:// address takes no query or fragment; write it as "
            "ssh://USER@HOST[:PORT][/path/to/docker.sock]"
        )
    if tls is not None and tls is not False:
        raise InvalidArgument(
            f"{address!r}: TLS does not apply to ssh:// (ssh encrypts the connection); "
            "leave tls= unset"
        )
    try:
        port = parts.port
    except ValueError:
        raise InvalidArgument(f"{address!r} has an invalid port") from None
    path = unquote(parts.path)
    if settings.mode == "forward" and path in ("", "/"):
        raise InvalidArgument(
            f"{address!r}: ssh_mode='forward' connects to the daemon's socket on the host, so "
            "the URL must name it (ssh://USER@HOST/var/run/docker.sock); or leave ssh_mode "
            "at 'auto' to let the remote docker find it"
        )
    return HostConfig(
        address=address,
        base_url="http://localhost",  # the remote docker dials the daemon's socket
        ssh=SSHTarget(
            hostname=parts.hostname,
            user=unquote(parts.username) if parts.username else None,
            port=port,
            socket_path=path if path not in ("", "/") else None,
            options=settings.options,
            sessions=settings.sessions,
            connect_timeout=settings.connect_timeout,
            mode=settings.mode,
        ),
    )


def _without_password(address: str) -> str:
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", address)


def _resolve_address(
    address: str,
    tls: TLSConfig | ssl.SSLContext | bool | None,
    environ: Mapping[str, str],
    ssh: _SSHSettings,
) -> HostConfig:
    parts = urlsplit(address)
    scheme = parts.scheme.lower()

    if scheme == "ssh":
        return _resolve_ssh(address, tls, ssh)

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
        context: ssl.SSLContext | None = None
        config: TLSConfig | None = None
        if isinstance(tls, ssl.SSLContext):
            context = tls
        elif isinstance(tls, TLSConfig):
            config = tls
        elif tls is True:  # verifies, whatever DOCKER_TLS says
            config = TLSConfig.from_cert_path(environ.get("DOCKER_CERT_PATH") or "~/.docker")
        elif tls is None and scheme != "http":
            config = _tls_from_env(environ)
            if config is None and scheme == "https":
                config = TLSConfig()  # the system's CAs
        if config is not None:
            context = config.ssl_context()
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
        return HostConfig(address=address, base_url=origin, ssl=context, tls=config)

    if scheme in ("npipe", "fd"):
        raise InvalidArgument(
            f"{address!r}: {scheme}:// daemons are not supported; use unix://, tcp:// or ssh://"
        )
    raise InvalidArgument(
        f"{address!r} is not a daemon address; use unix:///path/to/docker.sock, "
        "tcp://HOST:PORT or ssh://USER@HOST"
    )
