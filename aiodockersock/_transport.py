"""HTTP transport: the only module that imports aiohttp.

It owns every byte on the wire. Connections come from one factory per kind of address
(:mod:`aiodockersock._connect`: unix, TCP, TLS): aiohttp's pool takes its connections from it
through :class:`_FactoryConnector`, and :meth:`Transport.upgrade` (attach, exec) takes its own from
the same factory, with the same headers, timeouts and error mapping; :meth:`Transport.websocket`
opens aiohttp's WebSocket client over the streams' pool and hands it over as a
:class:`WebSocket`, so no aiohttp type leaves this module. Ordinary requests and streams
have a pool each, neither capped unless the client's :class:`~aiodockersock._config.Limits` say
so: a stream holds its connection for as long as it is open, and any number of open streams
leaves the requests' connections free. The transport builds every
URL in one place (:meth:`Transport.path`, :func:`encode_query`), negotiates the API version
(:meth:`Transport.api_at_least` answers version questions), and turns HTTP statuses and socket
failures into the exceptions of :mod:`aiodockersock._exceptions` — statuses in
:meth:`Transport.raise_for_status`, socket failures (:data:`_SOCKET_ERRORS`) in
``Transport._connection_error``, each written once (:meth:`Transport.mapped_errors` applies it
to a block).

Path parameters are quoted completely (``/``, ``?``, ``#``, ``%`` included) and the URL is marked
as already encoded, so neither yarl nor anything after it re-normalises it; ``.`` and ``..``
segments are refused before sending, and redirects are never followed (dockerd answers ``301``
to a path it cleaned, and following it would reach another endpoint).

It also notes which engine answers: Podman's Docker-compatible service marks every answer with a
``Libpod-Api-Version`` header (:meth:`Transport.is_podman`), and its errors are raised as the
class Docker would give them (the rules are in :mod:`aiodockersock._podman`).
"""

from __future__ import annotations

import asyncio
import base64
import enum
import errno
import re
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple, TypeVar, Union
from urllib.parse import quote, urlsplit

import aiohttp
import msgspec
from aiohttp import hdrs
from yarl import URL

from ._config import HostConfig, Limits, tls_failure
from ._connect import Connector, ResettableReader, connector_for
from ._exceptions import (
    APIError,
    BadRequest,
    ClientLimitReached,
    Conflict,
    DecodeError,
    DockerConnectionError,
    DockerError,
    DockerTimeoutError,
    Forbidden,
    InvalidArgument,
    NotFound,
    NotSupported,
    RegistryAuthError,
    ResponseTooLarge,
    ServerError,
    UnsupportedAPIVersion,
    swarm_error_class,
)
from ._framing import DECODE_FAILURES
from ._http1 import ERROR_BODY_MAX, read_error_body, read_head, request_head
from ._podman import (
    LIBPOD_HEADER,
    is_missing_endpoint,
    is_podman_answer,
    no_swarm_mode,
    podman_error_class,
)

__all__ = [
    "DEFAULT",
    "MAX_API_VERSION",
    "MIN_API_VERSION",
    "Area",
    "Body",
    "Default",
    "QueryValue",
    "RegistryToken",
    "Response",
    "StreamResponse",
    "Transport",
    "Upgraded",
    "WebSocket",
    "encode_query",
    "parse_version",
    "registry_token",
]

T = TypeVar("T")

#: The newest Engine API version whose responses this library has been checked against.
MAX_API_VERSION: Final = "1.51"
#: The largest answer to an ordinary request read into memory unless the client says otherwise
#: (no daemon answer comes near it; a larger one is a ``ResponseTooLarge``).
DEFAULT_MAX_RESPONSE: Final = 256 * 1024 * 1024
#: The oldest Engine API version this library supports.
MIN_API_VERSION: Final = "1.41"

_USER_AGENT: Final = "aiodockersock"

#: A request body sent as is: bytes, or an async iterable of bytes streamed with chunked encoding
#: (never held in memory whole).
Body = Union[bytes, AsyncIterable[bytes]]  # noqa: UP007 (runtime alias)

#: A query parameter value (see :func:`encode_query`).
QueryValue = Union[  # noqa: UP007 (runtime alias)
    str, int, float, bool, None, Mapping[str, Any], Sequence[str]
]


class Default(enum.Enum):
    """Sentinel type for "use the client's default" (see :data:`DEFAULT`)."""

    token = 0


#: Passed as ``timeout`` to mean "the client's default request timeout".
DEFAULT: Final = Default.token

_STATUS_ERRORS: Final[dict[int, type[APIError]]] = {
    400: BadRequest,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}

_ERROR_DECODER: Final = msgspec.json.Decoder(dict[str, Any])
_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def decoder_for(type_: type[T]) -> msgspec.json.Decoder[T]:
    """The shared JSON decoder for ``type_``, built once."""
    dec = _decoders.get(type_)
    if dec is None:
        dec = _decoders[type_] = msgspec.json.Decoder(type_)
    return dec


def parse_version(version: str) -> tuple[int, int]:
    """``"1.41"`` → ``(1, 41)``.

    Raises:
        InvalidArgument: not of the form MAJOR.MINOR.
    """
    try:
        major, minor = version.split(".")
        return int(major), int(minor)
    except ValueError:
        raise InvalidArgument(
            f"API version {version!r} is not of the form MAJOR.MINOR (e.g. '1.45')"
        ) from None


_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*")


def _quote_param(value: str) -> str:
    if type(value) is str and _PLAIN.fullmatch(value):
        return value  # ids and most names: nothing to quote, no dot segment possible
    if not isinstance(value, str):
        raise InvalidArgument(f"an id or name must be a str, not {type(value).__name__}")
    if not value:
        raise InvalidArgument("an id or name must not be empty")
    if any(segment in (".", "..") for segment in value.split("/")):
        raise InvalidArgument(
            f"{value!r} is not a valid id or name: '.' and '..' path segments are never part "
            "of a Docker object's name"
        )
    return quote(value, safe="")


def _query_text(key: str, value: QueryValue) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return _filters_json(key, value)
    raise InvalidArgument(f"query parameter {key!r} cannot be a {type(value).__name__}")


def _filters_json(key: str, filters: Mapping[str, Any]) -> str:
    """Encode a filter mapping as the Engine wants it: ``{"key": ["value", …]}``."""
    out: dict[str, list[str]] = {}
    for name, value in filters.items():
        if isinstance(value, str):
            out[name] = [value]
        elif isinstance(value, bool):
            out[name] = ["true" if value else "false"]
        elif isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
            values = list(value)
            if not all(isinstance(v, str) for v in values):
                raise InvalidArgument(
                    f"{key}[{name!r}] must hold strings only, got {values!r}"
                )
            out[name] = values
        else:
            raise InvalidArgument(
                f"{key}[{name!r}] must be a str or a list of str, not {type(value).__name__}"
            )
    return msgspec.json.encode(out).decode()


def encode_query(params: Mapping[str, QueryValue] | None) -> str:
    """Encode query parameters; ``None`` values are left out, booleans become ``1``/``0``,
    mappings (``filters``) become the Engine's JSON filter form, and a list or tuple repeats
    its key once per item (``names=a&names=b``)."""
    if not params:
        return ""
    parts = []
    for key, value in params.items():
        if value is None:
            continue
        name = quote(key, safe="")
        if isinstance(value, (list, tuple)):
            parts += [f"{name}={quote(_query_text(key, item), safe='')}" for item in value]
        else:
            parts.append(f"{name}={quote(_query_text(key, value), safe='')}")
    return "?" + "&".join(parts) if parts else ""


class Response:
    """A complete answer to an ordinary request."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def decode(self, type_: type[T]) -> T:
        """Decode the JSON body as ``type_``.

        Raises:
            DecodeError: the body is not JSON of that shape.
        """
        try:
            return decoder_for(type_).decode(self.body)
        except DECODE_FAILURES as exc:
            why = "nested too deeply to decode" if isinstance(exc, RecursionError) else exc
            raise DecodeError(f"cannot decode the response as {type_.__name__}: {why}",
                              data=self.body) from None


class StreamResponse:
    """An open response whose body is read chunk by chunk (logs, events, pulls…).

    Closing it drops the connection (an endless stream cannot be returned to the pool).
    """

    __slots__ = ("_address", "_consumed", "_resp", "headers", "status")

    def __init__(self, resp: aiohttp.ClientResponse, address: str) -> None:
        self._resp = resp
        self._address = address
        self._consumed = 0
        self.status = resp.status
        self.headers: Mapping[str, str] = resp.headers

    async def read_chunk(self, limit: int = -1) -> bytes:
        """The next bytes that arrived, in whatever size they came; ``b""`` at the end.

        Args:
            limit: return at most this many bytes (``-1``: all that is buffered).

        Raises:
            DockerConnectionError: the connection broke before the body ended.
        """
        content = self._resp.content
        try:
            # readany() when all that is buffered fits: it takes the buffered pieces whole,
            # without read(limit)'s size bookkeeping per piece (one per HTTP chunk)
            if limit > 0 and not 0 < content.total_bytes - self._consumed <= limit:
                chunk = await content.read(limit)
            else:
                chunk = await content.readany()
            self._consumed += len(chunk)
            return chunk
        except (aiohttp.ClientError, OSError) as exc:
            raise DockerConnectionError(
                f"the stream from {self._address} broke: {str(exc) or type(exc).__name__}",
                address=self._address,
            ) from exc

    @property
    def saturated(self) -> bool:
        """Whether the bytes received and not yet read reach the read buffer's high-water mark.

        At that point the client stops reading the socket, so the sender is blocked too.
        """
        content = self._resp.content
        return content.total_bytes - self._consumed >= content.get_read_buffer_limits()[1]

    @property
    def at_eof(self) -> bool:
        """Whether the whole body has been read."""
        return self._resp.content.at_eof()

    def close(self) -> None:
        """Drop the connection at once. Safe to call more than once."""
        self._resp.close()


class Upgraded(NamedTuple):
    """A connection switched to a raw byte pipe (:meth:`Transport.upgrade`), past the head.

    Attributes:
        reader: what the daemon sends; a reset ends it like a close (``reader.reset`` tells).
        writer: what goes to the daemon.
        status: ``101``, or ``200`` from a daemon that streams without switching protocols.
        headers: the response head's headers, names in ``Title-Case``.
        address: the daemon's address, for messages.
    """

    reader: ResettableReader
    writer: asyncio.StreamWriter
    status: int
    headers: dict[str, str]
    address: str


class _Request(aiohttp.ClientRequest):
    """aiohttp's request, with our default headers as its own: added the way aiohttp adds its
    defaults (no per-request merge of session headers: 3.3k instructions a ping less)."""

    DEFAULT_HEADERS = {  # noqa: RUF012 (aiohttp's own attribute, a dict there too)
        hdrs.ACCEPT: "*/*",
        hdrs.ACCEPT_ENCODING: "identity",  # nothing compressed (auto_decompress is off)
        hdrs.USER_AGENT: _USER_AGENT,
    }


class _FactoryConnector(aiohttp.BaseConnector):
    """aiohttp's connection pool over our connection factory: the pooled connections of
    ordinary requests and streams are made by the same :class:`Connector` as upgrades.

    A request takes the connection released last (aiohttp's pool takes the oldest): after a
    burst, sequential calls keep reusing one connection and the rest of the burst's sit idle
    until the pool closes them (the connector's ``idle_timeout``), where taking them in turn
    would keep every one of them alive for good."""

    def __init__(self, connector: Connector, *, limit: int) -> None:
        super().__init__(limit=limit, keepalive_timeout=connector.idle_timeout)
        self._connector = connector

    async def _get(self, key: Any, traces: Any) -> Any:
        conns = self._conns.get(key)
        if conns is not None and len(conns) > 1:
            conns.insert(0, conns.pop())  # released last goes first (a deque or a list)
        return await super()._get(key, traces)

    async def _create_connection(
        self, req: Any, traces: Any, timeout: aiohttp.ClientTimeout
    ) -> Any:
        opening = self._connector.create_connection(self._factory)
        if timeout.sock_connect is not None:
            _, protocol = await asyncio.wait_for(opening, timeout.sock_connect)
        else:
            _, protocol = await opening
        return protocol


#: What a failure to reach the daemon raises: socket, aiohttp and timeout errors (mapped to
#: DockerConnectionError / DockerTimeoutError by ``Transport._connection_error``).
_SOCKET_ERRORS: Final = (aiohttp.ClientError, OSError, asyncio.TimeoutError, TimeoutError)


class Area:
    """The base of an API area (``docker.containers`` …): it holds the transport, nothing else."""

    __slots__ = ("_t",)

    def __init__(self, transport: Transport) -> None:
        self._t = transport


class _MappedErrors:
    """See :meth:`Transport.mapped_errors` (a class, not a generator: it is on every request)."""

    __slots__ = ("_t",)

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, _SOCKET_ERRORS) and not isinstance(exc, DockerError):
            raise self._t._connection_error(exc) from exc


class Transport:
    """One aiohttp session to one daemon, with the URL builder and the error table.

    Args:
        host: the resolved daemon address.
        api_version: ``"auto"`` to negotiate on first use, or a pinned ``"MAJOR.MINOR"``.
        timeout: the default total timeout of an ordinary request, in seconds (``None``: none).
        connect_timeout: how long to wait for the connection itself.
        max_response: the largest answer to an ordinary request read into memory, in bytes.
        limits: caps on connections and open streams (``None``: no cap on either).
    """

    def __init__(
        self,
        host: HostConfig,
        *,
        api_version: str = "auto",
        timeout: float | None = 60.0,
        connect_timeout: float = 5.0,
        max_response: int = DEFAULT_MAX_RESPONSE,
        limits: Limits | None = None,
    ) -> None:
        self.host = host
        #: The connection factory every connection to this daemon comes from.
        self.connector = connector_for(host)
        self._mapped = _MappedErrors(self)
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=connect_timeout)
        self._stream_timeout = aiohttp.ClientTimeout(
            total=None, connect=connect_timeout, sock_read=None
        )
        self._connect_timeout = connect_timeout
        if not isinstance(max_response, int) or max_response < 1024:
            raise InvalidArgument(f"max_response must be at least 1024 bytes, not {max_response!r}")
        self._max_response = max_response
        self._limits = limits if limits is not None else Limits()
        if not isinstance(self._limits, Limits):
            raise InvalidArgument(f"limits must be a Limits, not {type(limits).__name__}")
        #: Free request connections when ``limits.connections`` is set.
        self._slots: asyncio.Semaphore | None = None
        self._open_streams = 0  # counted only when limits.streams is set
        self._session: aiohttp.ClientSession | None = None
        self._stream_session: aiohttp.ClientSession | None = None
        self._closed = False
        self._negotiate_lock: asyncio.Lock | None = None
        self._version: str | None = None
        self._daemon_version: str | None = None  # the daemon's own, once negotiated
        self._prefix = ""
        self._podman: str | None = None  # Podman's version, "" for another engine, None: unknown
        if api_version != "auto":
            parse_version(api_version)
            self._set_version(api_version)

    # -- version -------------------------------------------------------------------------

    def _set_version(self, version: str) -> None:
        self._version = version
        self._prefix = f"/v{version}"

    @property
    def api_version(self) -> str | None:
        """The API version in use, or ``None`` before ``"auto"`` has negotiated."""
        return self._version

    @property
    def daemon_api_version(self) -> str | None:
        """The newest API version the daemon itself speaks (its ``/_ping`` ``Api-Version``),
        or ``None`` when the version was pinned or has not been negotiated yet."""
        return self._daemon_version

    async def negotiate(self) -> str:
        """Settle the API version (reads ``/_ping``'s ``Api-Version`` once when ``"auto"``).

        Returns:
            The API version requests use.

        Raises:
            UnsupportedAPIVersion: the daemon is older than :data:`MIN_API_VERSION`.
            DockerConnectionError: the daemon cannot be reached.
        """
        if self._version is not None:
            return self._version
        if self._negotiate_lock is None:
            self._negotiate_lock = asyncio.Lock()
        async with self._negotiate_lock:
            if self._version is None:
                resp = await self._send("GET", "/_ping", DEFAULT)
                if resp.status >= 400:
                    self.raise_for_status(resp, "GET", "/_ping")
                daemon = resp.headers.get("Api-Version")
                if daemon is None:
                    raise DockerConnectionError(
                        f"{self.host.address} answered /_ping without an Api-Version header: "
                        "it is not a Docker Engine; pass api_version='1.xx' to pin one",
                        address=self.host.address,
                    )
                if parse_version(daemon) < parse_version(MIN_API_VERSION):
                    raise UnsupportedAPIVersion(
                        f"the daemon at {self.host.address} speaks API {daemon}, older than "
                        f"{MIN_API_VERSION}, the oldest aiodockersock supports; upgrade the engine"
                    )
                chosen = min(daemon, MAX_API_VERSION, key=parse_version)
                self._daemon_version = daemon
                self._set_version(chosen)
        assert self._version is not None
        return self._version

    async def api_at_least(self, version: str) -> bool:
        """Whether the API version in use is ``version`` or newer (negotiates first if needed)."""
        if self._version is None:
            await self.negotiate()
        assert self._version is not None
        return parse_version(self._version) >= parse_version(version)

    async def require_api(self, version: str, what: str, consequence: str = "") -> None:
        """Refuse ``what`` on a daemon older than API ``version``.

        Args:
            version: the oldest API version that has it.
            what: what needs it, for the message (``"enable_ipv4"``).
            consequence: what the older daemon would do instead, for the message.

        Raises:
            InvalidArgument: the API version in use is older.
        """
        if not await self.api_at_least(version):
            why = f" ({consequence})" if consequence else ""
            daemon = self._daemon_version
            if daemon is not None and parse_version(daemon) >= parse_version(version):
                speaks = (f"the daemon speaks {daemon}, but this client uses {self._version}, "
                          "the newest it supports")
            elif daemon is None or daemon == self._version:
                speaks = f"this daemon speaks {self._version}"
            else:
                speaks = f"this daemon speaks {daemon}"
            raise InvalidArgument(f"{what} needs API {version} or newer; {speaks}{why}")

    # -- engine ------------------------------------------------------------------------------

    @property
    def podman_version(self) -> str | None:
        """Podman's version when the daemon is Podman's Docker-compatible service, ``""`` for
        any other engine, ``None`` before its first answer."""
        return self._podman

    def note_engine(self, headers: Mapping[str, str]) -> None:
        """Learn from an answer's headers whether the daemon is Podman (once; only from an
        engine's own answers, which carry ``Api-Version``, not a proxy's)."""
        if self._podman is None and "Api-Version" in headers:
            self._podman = headers.get(LIBPOD_HEADER, "")

    async def is_podman(self) -> bool:
        """Whether the daemon is Podman's Docker-compatible service (``GET /_ping`` once, if no
        answer has told yet).

        Raises:
            DockerConnectionError: the daemon cannot be reached.
        """
        if self._podman is None and self._version is None:
            await self.negotiate()  # its ping tells
        if self._podman is None:
            if self._negotiate_lock is None:
                self._negotiate_lock = asyncio.Lock()
            async with self._negotiate_lock:
                if self._podman is None:
                    resp = await self._send("GET", "/_ping", DEFAULT)
                    self._podman = resp.headers.get(LIBPOD_HEADER, "")
        return bool(self._podman)

    # -- URLs --------------------------------------------------------------------------------

    def path(self, template: str, *params: str) -> str:
        """Fill ``template`` (``"/containers/{}/json"``) with quoted path parameters.

        The version prefix is not included (see :meth:`request`).

        Raises:
            InvalidArgument: a parameter is empty, not a str, or holds a ``.``/``..`` segment.
        """
        if not params:
            return template
        return template.format(*[_quote_param(p) for p in params])

    # -- requests ------------------------------------------------------------------------

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = self._new_session()
        return self._session

    def _get_stream_session(self) -> aiohttp.ClientSession:
        if self._stream_session is None:
            self._stream_session = self._new_session()
        return self._stream_session

    def _new_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise DockerConnectionError(
                "this Docker client is closed; create a new one", address=self.host.address
            )
        return aiohttp.ClientSession(
            # no cap in aiohttp's pool: Limits are applied here, where a wait can be named
            connector=_FactoryConnector(self.connector, limit=0),
            # our headers as the request class's defaults, not session headers (merged into a
            # new multidict per request) nor skip_auto_headers (a non-empty skip set takes
            # aiohttp off its fast path: +8.6k instructions a ping)
            request_class=_Request,
            auto_decompress=False,
        )

    @property
    def limits(self) -> Limits:
        """The caps this client applies (all ``None`` by default: none)."""
        return self._limits

    @property
    def open_streams(self) -> int:
        """How many streams are open, counted when a ``Limits.streams`` cap is set (else 0)."""
        return self._open_streams

    def _take_stream(self) -> None:
        """Count a stream about to open, or refuse it when ``Limits.streams`` are all open."""
        cap = self._limits.streams
        if cap is None:
            return
        if self._open_streams >= cap:
            raise ClientLimitReached(
                f"this client already has {self._open_streams} streams open to "
                f"{self.host.address}, its limit (Docker(limits=Limits(streams={cap}))); close "
                "streams you no longer read (a stream not closed keeps its place), or raise "
                "the limit (streams=None: no cap)",
                address=self.host.address,
                limit="streams",
                value=cap,
            )
        self._open_streams += 1

    def _give_stream(self) -> None:
        self._open_streams -= 1

    def timeout_after(self, seconds: float | None) -> float | Default | None:
        """The default request timeout lengthened by ``seconds`` the daemon itself waits."""
        total = self._timeout.total
        if not seconds or total is None:
            return DEFAULT
        return total + seconds

    def _timeout_for(self, timeout: float | Default | None) -> aiohttp.ClientTimeout:
        if timeout is DEFAULT:
            return self._timeout
        return aiohttp.ClientTimeout(total=timeout, connect=self._connect_timeout)

    def mapped_errors(self) -> _MappedErrors:
        """A context manager that turns the socket, aiohttp and timeout errors raised inside
        into :class:`DockerConnectionError` (:class:`DockerTimeoutError` for a timeout) naming
        the address and the likely fix; our own errors pass unchanged."""
        return self._mapped

    def _connection_error(self, exc: BaseException) -> DockerConnectionError:
        address = self.host.address
        explained = self.connector.explain(exc)  # the connector knows its own failures best
        if explained is not None:
            if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
                return DockerTimeoutError(explained, address=address)
            return DockerConnectionError(explained, address=address)
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
            return DockerTimeoutError(
                f"the daemon at {address} did not answer in time; is it overloaded or hung? "
                "(raise the timeout for slow calls)",
                address=address,
            )
        # TLS first: an ssl.SSLError (bare, or wrapped by aiohttp) carries errno 1 (EPERM),
        # which the errno branches below would word as a unix-socket permission problem
        tls_text = tls_failure(exc, self.host)
        if tls_text is not None:
            return DockerConnectionError(tls_text, address=address)
        os_error = getattr(exc, "os_error", None) or (exc if isinstance(exc, OSError) else None)
        code = getattr(os_error, "errno", None)
        where = self.connector.where
        if code in (errno.EMFILE, errno.ENFILE):
            return _out_of_files(address, code)
        if code == errno.ENOENT:
            text = f"cannot connect to {address}: {where} does not exist; is dockerd running?"
        elif code in (errno.EACCES, errno.EPERM):
            text = (
                f"cannot connect to {address}: permission denied on {where}; is your user "
                "in the docker group (or run as root)?"
            )
        elif code == errno.ECONNREFUSED:
            text = (
                f"cannot connect to {address}: connection refused; is dockerd running and "
                "listening there?"
            )
        elif isinstance(exc, aiohttp.ClientConnectorError):
            text = f"cannot connect to {address}: {exc.os_error}; is dockerd running?"
        else:
            text = f"the connection to {address} broke: {str(exc) or type(exc).__name__}"
            if code == errno.ECONNRESET and self.host.ssl is not None:
                text += (
                    " (a TLS daemon also resets the connection when it refuses the client "
                    "certificate: check that the daemon's CA signed it)"
                )
        return DockerConnectionError(text, address=address)

    async def _send(
        self,
        method: str,
        path: str,
        timeout: float | Default | None,
        *,
        query: str = "",
        data: Body | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        session = self._get_session()
        url = URL(self.host.base_url + path + query, encoded=True)
        try:  # not mapped_errors(): a try costs nothing on this, the hottest path
            async with session.request(
                method,
                url,
                data=data,
                headers=headers,
                allow_redirects=False,
                timeout=self._timeout_for(timeout),
            ) as resp:
                length = resp.content_length
                if length is not None and length <= self._max_response:
                    body = await resp.read()
                else:
                    body = await self._read_capped(resp, method, path)
                if self._podman is None:
                    self.note_engine(resp.headers)
                return Response(resp.status, resp.headers, body)
        except _SOCKET_ERRORS as exc:
            raise self._connection_error(exc) from exc

    async def _read_capped(self, resp: aiohttp.ClientResponse, method: str, path: str) -> bytes:
        """A body of unknown or excessive length, read up to ``max_response`` bytes."""
        limit = self._max_response
        parts: list[bytes] = []
        size = 0
        while chunk := await resp.content.readany():
            size += len(chunk)
            if size > limit:
                resp.close()  # drop the connection: the rest is not read
                raise ResponseTooLarge(
                    f"the answer to {method} {path} is larger than max_response ({limit} bytes); "
                    "no Engine answer comes near it — if this one is genuine, raise "
                    "Docker(max_response=…)",
                    data=(parts[0] if parts else chunk)[:200],  # its start, not all of it
                )
            parts.append(chunk)
        return b"".join(parts)

    async def _send_capped(
        self,
        method: str,
        path: str,
        timeout: float | Default | None,
        *,
        query: str,
        data: Body | None,
        headers: Mapping[str, str] | None,
    ) -> Response:
        """:meth:`_send` once one of the ``Limits.connections`` is free; the wait counts
        against the request's timeout, and running out of it while waiting is named."""
        cap = self._limits.connections
        assert cap is not None
        if self._slots is None:
            self._slots = asyncio.Semaphore(cap)
        slots = self._slots
        total = self._timeout.total if timeout is DEFAULT else timeout
        if slots.locked():
            loop = asyncio.get_running_loop()
            started = loop.time()
            try:
                await _within(total, slots.acquire())
            except (asyncio.TimeoutError, TimeoutError):
                raise ClientLimitReached(
                    f"all {cap} of this client's connections to {self.host.address} stayed "
                    f"busy for {total:g} s, the request's timeout, so {method} {path} was never "
                    f"sent (Docker(limits=Limits(connections={cap}))); raise the limit "
                    "(connections=None: no cap), or the timeout",
                    address=self.host.address,
                    limit="connections",
                    value=cap,
                ) from None
            if total is not None:
                timeout = max(total - (loop.time() - started), 0.001)
        else:
            await slots.acquire()
        try:
            return await self._send(
                method, path, timeout, query=query, data=data, headers=headers
            )
        finally:
            slots.release()

    def raise_for_status(self, resp: Response, method: str, path: str) -> None:
        """Raise the exception the status of an error answer stands for.

        Raises:
            APIError: always: the subclass the status (and for Podman, the message) gives.
        """
        status = resp.status
        message = _error_message(resp)
        if 300 <= status < 400:
            location = resp.headers.get("Location", "?")
            message = (
                f"the Engine redirected the request to {location} (it normalised the path); "
                "aiodockersock never follows redirects — check the id or name"
                + (f" ({message})" if message else "")
            )
            raise APIError(status, message, method=method, path=path)
        cls = _STATUS_ERRORS.get(status)
        if cls is None:
            cls = ServerError if status >= 500 else APIError
        if is_missing_endpoint(status, resp.body, resp.headers.get("Content-Type", "")):
            cls = NotSupported  # no route: Podman's service lacks this endpoint
        elif status == 500 and is_podman_answer(resp.headers):
            cls = podman_error_class(message) or cls
        elif status == 503 and message.startswith("Podman does not support"):
            cls = NotSupported  # its swarm endpoints (no Libpod header on these answers)
        elif status == 503:
            cls = swarm_error_class(message) or cls  # dockerd's "not a swarm manager" & co.
        elif status == 500 and "update out of sequence" in message:
            cls = Conflict  # a swarm object's stale version: dockerd says 500, it is a conflict
        if cls is NotSupported and (self._podman or message.startswith("Podman does not")):
            why = no_swarm_mode(path, self._podman) or ""
            raise NotSupported(status, message, method=method, path=path, why=why)
        raise cls(status, message, method=method, path=path)

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None = None,
        body: Any = None,
        data: Body | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | Default | None = DEFAULT,
        ok: tuple[int, ...] = (),
        versioned: bool = True,
    ) -> Response:
        """Send one ordinary request and read the whole answer.

        Args:
            method: ``GET``, ``POST``, …
            path: the path from :meth:`path`, without the version prefix.
            query: query parameters (see :func:`encode_query`).
            body: a struct or mapping sent as JSON.
            data: raw bytes, or an async iterable of bytes (streamed), to send instead of
                ``body``.
            headers: extra request headers.
            timeout: total seconds; :data:`DEFAULT` for the client's default, ``None`` for none.
            ok: statuses >= 300 that are not errors for this call (e.g. 304).
            versioned: prefix the path with ``/vX.Y``.

        Raises:
            APIError: the daemon answered with an error status (the subclass says which).
            DockerConnectionError: the daemon could not be reached or the connection broke.
        """
        if versioned:
            if self._version is None:
                await self.negotiate()
            full = self._prefix + path
        else:
            full = path
        if body is not None:
            data = msgspec.json.encode(body)
            headers = {"Content-Type": "application/json", **(headers or {})}
        if self._limits.connections is None:
            resp = await self._send(
                method, full, timeout, query=encode_query(query), data=data, headers=headers
            )
        else:
            resp = await self._send_capped(
                method, full, timeout, query=encode_query(query), data=data, headers=headers
            )
        if resp.status >= 300 and resp.status not in ok:
            self.raise_for_status(resp, method, full)
        return resp

    async def stream(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None = None,
        body: Any = None,
        data: Body | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | Default | None = None,
    ) -> StreamResponse:
        """Open a request whose body is read as it arrives; no read timeout applies.

        The caller must ``close()`` the returned stream.

        Args:
            method, path, query, body, headers: as for :meth:`request`.
            data: raw bytes, or an async iterable of bytes (streamed), to send instead of
                ``body``.
            timeout: seconds the daemon may take to send the response head (``None``: no
                limit; :data:`DEFAULT`: the client's request timeout); reading the body never
                times out.

        Raises:
            APIError: the daemon answered with an error status.
            DockerConnectionError: the daemon could not be reached.
        """
        if self._version is None:
            await self.negotiate()
        full = self._prefix + path
        session = self._get_stream_session()
        url = URL(self.host.base_url + full + encode_query(query), encoded=True)
        if body is not None:
            data = msgspec.json.encode(body)
            headers = {"Content-Type": "application/json", **(headers or {})}
        if timeout is DEFAULT:
            timeout = self._timeout.total
        counted = self._limits.streams is not None
        self._take_stream()
        try:
            with self.mapped_errors():
                request = session.request(
                    method,
                    url,
                    data=data,
                    headers=headers,
                    allow_redirects=False,
                    timeout=self._stream_timeout,
                )
                resp = await _within(timeout, request)
        except BaseException:
            if counted:
                self._give_stream()
            raise
        if self._podman is None:
            self.note_engine(resp.headers)
        if resp.status >= 300:
            try:
                error_body = await self._read_capped(resp, method, full)
            except (aiohttp.ClientError, OSError):
                error_body = b""
            except ResponseTooLarge as exc:
                error_body = exc.data
            finally:
                resp.close()
                if counted:
                    self._give_stream()
            self.raise_for_status(Response(resp.status, resp.headers, error_body), method, full)
        if counted:
            return _CountedStream(resp, self.host.address, self._give_stream)
        return StreamResponse(resp, self.host.address)

    async def upgrade(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None = None,
        body: Any = None,
        protocol: str = "tcp",
        headers: Mapping[str, str | Sequence[str]] | None = None,
    ) -> Upgraded:
        """Send a request that switches its connection to a raw byte pipe (attach, exec).

        The connection comes from the same factory as every other (same TLS), is never pooled,
        and belongs to the caller, who must close its writer. The head must arrive within the
        request timeout; the pipe itself never times out.

        Args:
            method, path, query, body: as for :meth:`request`.
            protocol: the ``Upgrade`` header's protocol (``tcp`` for attach and exec, ``h2c``
                for BuildKit's ``/session``).
            headers: more request headers (a sequence of values repeats the header).

        Returns:
            The open connection, just past the response head: ``101 Switching Protocols``, or
            ``200`` from a daemon that streams without switching.

        Raises:
            APIError: the daemon refused (the subclass says which, as for :meth:`request`).
            DockerConnectionError: the client is closed, or the daemon cannot be reached,
                answered something that is not HTTP, or did not answer in time.
        """
        if self._closed:
            raise DockerConnectionError(
                "this Docker client is closed; create a new one", address=self.host.address
            )
        if self._version is None:
            await self.negotiate()
        full = self._prefix + path
        payload = b"" if body is None else msgspec.json.encode(body)
        head_headers: dict[str, str | Sequence[str]] = {"User-Agent": _USER_AGENT}
        if payload:
            head_headers["Content-Type"] = "application/json"
        head_headers.update(headers or {})
        head = request_head(
            method,
            full + encode_query(query),
            urlsplit(self.host.base_url).netloc,
            head_headers,
            len(payload),
            protocol,
        )
        address = self.host.address
        counted = self._limits.streams is not None
        self._take_stream()
        try:
            with self.mapped_errors():
                reader, writer = await _within(
                    self._connect_timeout,
                    self.connector.open_stream(self._give_stream if counted else None),
                )
        except BaseException:
            if counted:
                self._give_stream()
            raise
        try:
            with self.mapped_errors():
                writer.write(head + payload)
                await _within(self._timeout.total, writer.drain())
                status, resp_headers = await _within(
                    self._timeout.total, read_head(reader, address)
                )
                if status not in (101, 200):
                    error_body = await _within(
                        self._timeout.total, read_error_body(reader, resp_headers)
                    )
                    self.raise_for_status(Response(status, resp_headers, error_body), method, full)
        except BaseException:
            writer.close()
            raise
        # not noted: which engine it is is told by ordinary answers only (see is_podman)
        return Upgraded(reader, writer, status, resp_headers, address)

    async def websocket(
        self, path: str, *, query: Mapping[str, QueryValue] | None = None
    ) -> WebSocket:
        """Open a WebSocket to the daemon (``GET`` with ``Upgrade: websocket``).

        The connection comes from the streams' session (the same factory and TLS as every
        other), counts as a stream under ``Limits.streams`` until closed, and never times out
        once open; the handshake must complete within the request timeout.

        Args:
            path, query: as for :meth:`request`.

        Returns:
            The open WebSocket; the caller must close it.

        Raises:
            APIError: the daemon refused the handshake (the subclass its status gives; a
                WebSocket refusal carries no message of the daemon's, so the text says which
                status it was).
            DockerConnectionError: the daemon cannot be reached or did not answer in time.
        """
        if self._version is None:
            await self.negotiate()
        full = self._prefix + path
        session = self._get_stream_session()
        url = URL(self.host.base_url + full + encode_query(query), encoded=True)
        counted = self._limits.streams is not None
        self._take_stream()
        try:
            with self.mapped_errors():
                try:
                    ws = await _within(self._timeout.total, session.ws_connect(url))
                except aiohttp.WSServerHandshakeError as exc:
                    self.raise_for_status(_handshake_refusal(exc), "GET", full)
        except BaseException:
            if counted:
                self._give_stream()
            raise
        return WebSocket(ws, self.host.address, self._give_stream if counted else None)

    async def close(self) -> None:
        """Close the sessions and every pooled connection, then what the connection factory
        holds (ssh's master connections). Safe to call more than once."""
        self._closed = True
        sessions = [self._session, self._stream_session]
        self._session = self._stream_session = None
        for session in sessions:
            if session is not None:
                await session.close()
        await self.connector.aclose()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._closed

    @property
    def has_session(self) -> bool:
        """Whether a session (and so possibly connections) is open."""
        return self._session is not None or self._stream_session is not None


class _CountedStream(StreamResponse):
    """A stream that gives its place back under ``Limits.streams`` when closed."""

    __slots__ = ("_give",)

    def __init__(
        self, resp: aiohttp.ClientResponse, address: str, give: Callable[[], None]
    ) -> None:
        super().__init__(resp, address)
        self._give: Callable[[], None] | None = give

    def close(self) -> None:
        give, self._give = self._give, None
        if give is not None:
            give()
        super().close()


class WebSocket:
    """An open WebSocket to the daemon (:meth:`Transport.websocket`): whole messages, each
    ``bytes`` (a binary frame) or ``str`` (a text frame).

    Pings are answered as they come; nothing else is read unless asked. Every failure leaves as
    :class:`DockerConnectionError`, naming the daemon.
    """

    __slots__ = ("_address", "_give", "_ws")

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse[bool],
        address: str,
        give: Callable[[], None] | None,
    ) -> None:
        self._ws = ws
        self._address = address
        self._give = give

    def _broken(self, why: object) -> DockerConnectionError:
        text = (str(why) or type(why).__name__) if isinstance(why, BaseException) else why
        return DockerConnectionError(
            f"the WebSocket to {self._address} broke: {text}", address=self._address
        )

    async def send(self, data: bytes | str) -> None:
        """Send one message: a binary frame for ``bytes``, a text frame for ``str``.

        Raises:
            DockerConnectionError: the connection is closed or broke.
        """
        try:
            if isinstance(data, str):
                await self._ws.send_str(data)
            else:
                await self._ws.send_bytes(bytes(data))
        except (aiohttp.ClientError, OSError, RuntimeError) as exc:
            # RuntimeError: aiohttp's "websocket connection is closing"
            raise self._broken(exc) from exc

    async def receive(self) -> bytes | str | None:
        """The next message; ``None`` once the daemon has closed the WebSocket.

        Raises:
            DockerConnectionError: the connection broke, or a message was malformed or larger
                than 4 MiB.
        """
        while True:
            try:
                msg = await self._ws.receive()
            except (aiohttp.ClientError, OSError) as exc:
                raise self._broken(exc) from exc
            kind = msg.type
            if kind is aiohttp.WSMsgType.BINARY or kind is aiohttp.WSMsgType.TEXT:
                data: bytes | str = msg.data
                return data
            if kind is aiohttp.WSMsgType.ERROR:
                raise self._broken(msg.data)
            if kind in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                        aiohttp.WSMsgType.CLOSED):
                self._release()
                return None
            # PING and PONG: answered by aiohttp itself

    @property
    def closed(self) -> bool:
        """Whether the WebSocket is closed (by either side)."""
        return self._ws.closed

    @property
    def close_code(self) -> int | None:
        """The close code (``1000``: a normal close), once closed."""
        return self._ws.close_code

    async def close(self) -> None:
        """Close cleanly: send a close frame and wait (a few seconds at most) for the daemon's.

        Safe to call more than once.
        """
        try:
            await self._ws.close()
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
            self.abort()
        finally:
            self._release()

    def abort(self) -> None:
        """Drop the connection at once, without a close frame. Safe to call more than once."""
        try:
            response = self._ws._response  # aiohttp keeps the upgraded connection there
            response.close()
        finally:
            self._release()

    def _release(self) -> None:
        give, self._give = self._give, None
        if give is not None:
            give()


def _handshake_refusal(exc: aiohttp.WSServerHandshakeError) -> Response:
    """The refused handshake as an answer for :meth:`Transport.raise_for_status` (aiohttp does
    not read the refusal's body, so its text is ours)."""
    headers = dict(exc.headers or {})
    status = exc.status
    if (status == 404 and "Api-Version" not in headers
            and headers.get("Content-Type", "").startswith("text/plain")):
        # a router's own 404 (Podman's service has no such endpoint), not an engine's error
        return Response(status, headers, b"Not Found")
    text = f"the daemon refused the WebSocket handshake with status {status}"
    return Response(status, headers, msgspec.json.encode({"message": text}))


def _out_of_files(address: str, code: int) -> ClientLimitReached:
    """The error for a connection refused by the open-file limit (each one is a file)."""
    if code == errno.ENFILE:
        text = (
            f"cannot open another connection to {address}: the system's open-file table is "
            "full (ENFILE); raise fs.file-max or close files and streams"
        )
        return ClientLimitReached(text, address=address, limit="open files", value=0)
    import resource  # POSIX only: where it is missing, EMFILE has another name too

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    text = (
        f"cannot open another connection to {address}: this process has {soft} files open, "
        f"its limit (ulimit -n: soft {soft}, hard {hard}); every open stream holds one: raise "
        "the soft limit (ulimit -n, or resource.setrlimit(resource.RLIMIT_NOFILE, …) up to "
        "the hard one) or close streams you no longer read"
    )
    return ClientLimitReached(text, address=address, limit="open files", value=soft)


async def _within(timeout: float | None, aw: Awaitable[T]) -> T:
    return await (asyncio.wait_for(aw, timeout) if timeout is not None else aw)


def _error_message(resp: Response) -> str:
    body = resp.body.strip()
    if not body:
        return ""
    if body[:1] == b"{":
        try:
            doc = _ERROR_DECODER.decode(body)
        except DECODE_FAILURES:
            pass
        else:
            message = doc.get("message")
            if isinstance(message, str):
                return message
    if len(body) > ERROR_BODY_MAX:  # not a daemon's message: say so rather than repeat it all
        shown = body[:ERROR_BODY_MAX].decode("utf-8", "replace")
        return f"{shown} … ({len(body)} bytes in all)"
    return body.decode("utf-8", "replace")


# -- registry tokens -------------------------------------------------------------------------
# A registry's token server is not the daemon: these requests go to the realm a registry named
# (BuildKit hands it to the session's FetchToken), on a short-lived session of their own.


class RegistryToken(NamedTuple):
    """A bearer token from a registry's token server."""

    token: str
    expires_in: int
    """Seconds it is valid for (0: the server did not say)."""
    issued_at: int
    """When it was issued, in Unix seconds (0: the server did not say)."""


class _TokenAnswer(msgspec.Struct):
    token: str = ""
    access_token: str = ""
    expires_in: int = 0
    issued_at: str | int = ""


_TOKEN_ANSWER = msgspec.json.Decoder(_TokenAnswer)
_TOKEN_BODY_MAX: Final = 1024 * 1024
_TOKEN_TIMEOUT: Final = 30.0


def _unix_time(text: str | int) -> int:
    """RFC 3339 (``2026-12-04T12:00:00.123456789Z``) as Unix seconds; 0 when unreadable."""
    if isinstance(text, int):
        return text
    stamp = re.sub(r"(\.\d{1,6})\d*", r"\1", text.strip()).replace("Z", "+00:00")
    try:
        return int(datetime.fromisoformat(stamp).timestamp())
    except ValueError:
        return 0


def _token_refusal(body: bytes) -> str:
    """What a token server said when it refused (OAuth ``error`` or distribution ``errors``)."""
    try:
        answer = msgspec.json.decode(body[:4096])
    except msgspec.DecodeError:
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(answer, dict):
        if isinstance(answer.get("error"), str):
            described = answer.get("error_description")
            return f"{answer['error']}: {described}" if described else str(answer["error"])
        errors = answer.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return f"{errors[0].get('code', '')}: {errors[0].get('message', '')}".strip(": ")
    return ""


async def registry_token(
    host: str, realm: str, service: str, scopes: Sequence[str], *,
    username: str = "", secret: str = "", client_id: str = "aiodockersock",
) -> RegistryToken:
    """Fetch a bearer token for ``host`` from its token server, as the Docker CLI does for
    BuildKit: with a secret, the OAuth2 form ``POST realm`` (``grant_type=password``, or
    ``refresh_token`` for an identity token, i.e. no username), falling back to ``GET`` with
    basic auth where the server does not take the POST (401, 404, 405); without one, an
    anonymous ``GET realm?service=…&scope=…``. Redirects are not followed (the credentials
    go to the realm the registry named, and nowhere else).

    Raises:
        RegistryAuthError: the token server refused (401, 403; ``.registry`` is ``host``).
        DockerConnectionError: it could not be reached, or answered something else.
    """
    parts = urlsplit(realm)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DockerConnectionError(f"registry {host} names a token realm that is not an "
                                    f"http(s) URL: {realm!r}", address=realm)
    what = f"a token for {' '.join(scopes) or 'no scope'} of {host} from {realm}"
    headers = {hdrs.USER_AGENT: _USER_AGENT}
    timeout = aiohttp.ClientTimeout(total=_TOKEN_TIMEOUT)
    try:
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
            status, body = 0, b""
            if secret:
                form = {"scope": " ".join(scopes), "service": service, "client_id": client_id}
                if username:
                    form.update(grant_type="password", username=username, password=secret)
                else:
                    form.update(grant_type="refresh_token", refresh_token=secret)
                async with session.post(realm, data=form, allow_redirects=False) as resp:
                    status, body = resp.status, await resp.content.read(_TOKEN_BODY_MAX)
            if not secret or status in (401, 404) or (status == 405 and username):
                query = [("service", service)] if service else []
                query += [("scope", s) for s in scopes]
                basic = {}
                if username or secret:
                    pair = base64.b64encode(f"{username}:{secret}".encode()).decode()
                    basic[hdrs.AUTHORIZATION] = f"Basic {pair}"
                async with session.get(realm, params=query, headers=basic,
                                       allow_redirects=False) as resp:
                    status, body = resp.status, await resp.content.read(_TOKEN_BODY_MAX)
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
        raise DockerConnectionError(f"cannot fetch {what}: {type(exc).__name__}: {exc}",
                                    address=realm) from None
    if status in (401, 403):
        said = _token_refusal(body)
        raise RegistryAuthError(
            f"unauthorized: the token server of {host} refused {what}: {status}"
            + (f" ({said})" if said else ""),
            operation=f"token for {host}", registry=host, code=status)
    if status != 200:
        raise DockerConnectionError(f"cannot fetch {what}: the token server answered {status}",
                                    address=realm)
    try:
        answer = _TOKEN_ANSWER.decode(body)
    except msgspec.DecodeError:
        answer = _TokenAnswer()
    token = answer.access_token or answer.token
    if not token:
        raise DockerConnectionError(f"cannot fetch {what}: the answer holds no token",
                                    address=realm)
    return RegistryToken(token, answer.expires_in, _unix_time(answer.issued_at))
