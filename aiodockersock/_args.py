"""Argument types and validators shared by the API areas.

Every area may import this module; no area imports another for a type or a check. Validators
refuse bad input before anything is sent, with a message that says what was wrong and what to
do, and never repeat a value that could be a secret (build args, labels and driver options
often hold tokens): they name the key and the type.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import re
import stat
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar, Union

import msgspec
import msgspec.inspect as mi

from ._exceptions import APIError, InvalidArgument

__all__ = [
    "Filters",
    "SSHAgents",
    "TimeSpec",
    "Versioned",
    "cancel",
    "container_ref",
    "format_nanos",
    "format_time",
    "object_data",
    "read_versioned",
    "retry_out_of_sequence",
    "shielded",
    "spec_struct",
    "ssh_agents",
    "string_list",
    "string_map",
]

#: Filters as the Engine takes them: each key to one value or a list of values.
Filters = Mapping[str, Union[str, Sequence[str]]]  # noqa: UP007 (a runtime alias)

#: A point in time as ``events()`` takes it: a ``datetime`` (naive means UTC), a ``timedelta``
#: relative to now (``timedelta(minutes=-5)`` is five minutes ago), seconds since the epoch, or
#: a string: the Engine's ``"1700000000.000000001"``, a duration before now as the Docker CLI
#: takes it (``"10m"``, ``"1h30m"``, ``"45s"``), or an ISO 8601 / RFC 3339 date-time.
TimeSpec = Union[datetime, timedelta, int, float, str]  # noqa: UP007 (a runtime alias)
_NS = 1_000_000_000


def container_ref(value: str) -> str:
    """A container's id or name as the Engine takes it; a name as the Engine reports it
    (``/web``) is accepted as well as ``web``.

    Raises:
        InvalidArgument: not a str, or empty.
    """
    if not isinstance(value, str) or not value:
        raise InvalidArgument(f"a container id or name must be a non-empty str, not {value!r}")
    if value[0] == "/" and "/" not in value[1:]:
        return value[1:]
    return value


def string_list(what: str, value: Sequence[str] | None) -> list[str] | None:
    """A copy of a list of non-empty strings; one string is refused (it would be taken letter
    by letter).

    Raises:
        InvalidArgument: not a list of non-empty strings.
    """
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgument(f"{what} must be a list of strings, not {value!r}")
    names = list(value)
    if not all(isinstance(v, str) and v for v in names):
        raise InvalidArgument(f"{what} must hold non-empty strings only, got {names!r}")
    return names


def string_map(what: str, value: Mapping[str, str] | None) -> dict[str, str] | None:
    """A copy of a str → str mapping (labels, options, build args).

    Raises:
        InvalidArgument: not a mapping, or a key or value that is not a str (the message names
            the key and the value's type, never the value).
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            f"{what} must be a mapping of strings to strings, not a {type(value).__name__}"
        )
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise InvalidArgument(
                f"{what} must map strings to strings; {key!r} maps to a {type(item).__name__} "
                '(the Engine takes every value as a string, e.g. "1400")'
            )
    return dict(value)


def object_data(what: str, data: bytes | str) -> str:
    """A swarm secret's or config's content as the Engine takes it: base64 (str is UTF-8).

    Raises:
        InvalidArgument: not bytes or str (the message gives the type, never the value).
    """
    if isinstance(data, str):
        data = data.encode()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidArgument(f"{what} data must be bytes (or a str), not a {type(data).__name__}")
    return base64.b64encode(bytes(data)).decode("ascii")


#: A build's ssh agents (``images.build(ssh=...)``): id → agent socket path, or ``None`` for
#: the agent at ``$SSH_AUTH_SOCK``.
SSHAgents = Mapping[str, Union[str, os.PathLike[str], None]]  # noqa: UP007 (a runtime alias)


def ssh_agents(value: SSHAgents | None) -> dict[str, str] | None:
    """The ssh agents a build forwards, as ``{id: absolute socket path}``, each one checked.

    ``None`` for an id means the agent at ``$SSH_AUTH_SOCK``; a path must be the agent's
    socket. A key file (accepted by ``docker build --ssh``) is refused: only agents are
    forwarded, so the key never leaves the agent.

    Raises:
        InvalidArgument: not a mapping of non-empty ids; ``None`` while ``SSH_AUTH_SOCK`` is
            not set; a path that does not exist, is a regular file (a key), or is not a socket.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            "ssh must map an id to an agent socket's path or None ($SSH_AUTH_SOCK), e.g. "
            f'{{"default": None}}, not a {type(value).__name__}')
    agents = {}
    for id_, path in value.items():
        if not isinstance(id_, str) or not id_ or "," in id_ or "=" in id_:
            raise InvalidArgument(f"ssh: an id must be a non-empty str without ',' or '=', "
                                  f"not {id_!r}")
        if path is None:
            path = os.environ.get("SSH_AUTH_SOCK") or ""
            if not path:
                raise InvalidArgument(
                    f"ssh: {id_!r} is the agent at $SSH_AUTH_SOCK, but SSH_AUTH_SOCK is not "
                    "set: start an agent (eval \"$(ssh-agent)\"; ssh-add) or give its socket's "
                    "path")
        elif not isinstance(path, (str, os.PathLike)):
            raise InvalidArgument(f"ssh: {id_!r} must map to an agent socket's path or None, "
                                  f"not a {type(path).__name__}")
        path = os.path.abspath(os.fspath(path))
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            raise InvalidArgument(f"ssh: {id_!r}: no ssh agent socket at {path} "
                                  f"({exc.strerror})") from None
        if stat.S_ISREG(mode):
            raise InvalidArgument(
                f"ssh: {id_!r}: {path} is a file (a key?); only ssh agent sockets are "
                f"forwarded: load the key into an agent (ssh-add {path}) and give the "
                "agent's socket, or None for $SSH_AUTH_SOCK")
        if not stat.S_ISSOCK(mode):
            raise InvalidArgument(f"ssh: {id_!r}: {path} is not a socket (an ssh agent's "
                                  "socket is expected)")
        agents[id_] = path
    return agents


_T = TypeVar("_T")
#: How often a swarm object's update is tried when another update came in between.
SEQUENCE_ATTEMPTS = 5


async def retry_out_of_sequence(
    attempt: Callable[[], Awaitable[_T]], *, pinned: bool = False
) -> _T:
    """Run ``attempt()`` (read the object's version, send the update) again when the swarm
    refuses it as ``update out of sequence``: someone else updated the object in between.
    Between attempts, a random pause (up to 20 ms times the attempt) lets writers that
    collided fall out of step.

    Args:
        attempt: reads the current version (unless pinned) and sends the update.
        pinned: the caller gave the version the update is based on: a refusal is theirs to
            handle, raised at once.

    Raises:
        APIError: the daemon's refusal, once the attempts are spent, or any other.
    """
    for tries in range(1, SEQUENCE_ATTEMPTS + 1):
        try:
            return await attempt()
        except APIError as exc:
            if pinned or "out of sequence" not in exc.message or tries == SEQUENCE_ATTEMPTS:
                raise
        await asyncio.sleep(random.uniform(0, 0.02 * tries))
    raise AssertionError("unreachable")  # pragma: no cover


async def read_versioned(
    get: Callable[[], Awaitable[Versioned]],
    given: dict[str, Any] | None,
    version: int | None,
    what: str,
) -> tuple[dict[str, Any], int]:
    """The spec and version an update starts from: the caller's, else the object's as
    ``get()`` reads it now (read only when one of them is missing).

    Raises:
        InvalidArgument: the daemon reported no version for ``what``.
    """
    if given is not None and version is not None:
        return given, version
    current = await get()
    at = version if version is not None else current.index
    if at is None:
        raise InvalidArgument(f"the daemon reported no version for {what}")
    return (given if given is not None else current.spec or {}), at


S = TypeVar("S", bound=msgspec.Struct)


class Versioned(msgspec.Struct, frozen=True, rename="pascal"):
    """A swarm object (swarm, node, service, secret, config) as an update starts from it: its
    version and its spec exactly as the daemon sent it.

    The spec stays the daemon's JSON, fields this library does not model included: the daemon
    replaces the whole spec on update, so an update built from a typed struct would reset the
    settings a newer engine added. Decode ``GET /nodes/{id}`` (…) as this, change the keys you
    mean to, send ``spec`` back with ``version``.
    """

    version: dict[str, Any] | None = None
    spec: dict[str, Any] | None = None

    @property
    def index(self) -> int | None:
        """The version's index (what ``?version=`` takes), if the daemon sent one."""
        index = (self.version or {}).get("Index")
        return index if isinstance(index, int) and not isinstance(index, bool) else None


def spec_struct(what: str, value: S | Mapping[str, Any], type_: type[S]) -> S:
    """A request body or spec as the struct ``type_``: a struct of that type as it is, or a
    mapping in the Engine's JSON shape (``{"Labels": {…}, "Role": "manager"}``), converted.

    Raises:
        InvalidArgument: neither; a key the Engine does not know at any depth (a snake_case
            name, a typo: the daemon would ignore it silently), or a value of the wrong type.
    """
    if isinstance(value, type_):
        return value
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            f"{what} must be a {type_.__name__} or a mapping in the Engine's JSON shape, not "
            f"a {type(value).__name__}"
        )
    _check_wire_keys(what, value, mi.type_info(type_))
    try:
        return msgspec.convert(value, type_)
    except msgspec.ValidationError as exc:
        raise InvalidArgument(f"{what} is malformed: {exc}") from None


def _check_wire_keys(what: str, value: Any, info: mi.Type) -> None:
    """Refuse keys of ``value`` that no field of the struct type ``info`` takes, recursively."""
    if isinstance(info, mi.UnionType):
        for sub in info.types:
            if isinstance(sub, (mi.StructType, mi.ListType, mi.DictType)):
                info = sub
                break
    if isinstance(info, mi.StructType) and isinstance(value, Mapping):
        fields = {f.encode_name: f for f in info.fields}
        unknown = sorted(str(k) for k in value if k not in fields)
        if unknown:
            raise InvalidArgument(
                f"{what} has unknown key(s) {', '.join(map(repr, unknown))}; the Engine's names "
                f"there are {', '.join(sorted(fields))}"
            )
        for key, item in value.items():
            _check_wire_keys(f"{what}[{key!r}]", item, fields[key].type)
    elif isinstance(info, mi.ListType) and isinstance(value, list):
        for i, item in enumerate(value):
            _check_wire_keys(f"{what}[{i}]", item, info.item_type)


async def shielded(aw: Awaitable[Any]) -> None:
    """Run a cleanup to its end even if the caller is being cancelled (the cancellation is
    raised once the cleanup is done)."""
    task = asyncio.ensure_future(aw)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


async def cancel(*tasks: asyncio.Future[Any]) -> None:
    """Cancel tasks and wait until they are done; their errors are dropped (retrieved, so no
    "exception was never retrieved")."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled():
            task.exception()


def format_nanos(nanos: int) -> str:
    """Nanoseconds since the epoch → the Engine's ``seconds.nanoseconds``."""
    seconds, frac = divmod(nanos, _NS)
    return f"{seconds}.{frac:09d}"


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def format_time(value: TimeSpec) -> str:
    """Render a point in time as the Engine's ``seconds.nanoseconds``.

    Raises:
        InvalidArgument: the value is of another type, or not after the epoch.
    """
    if isinstance(value, str):
        return _format_text(value)
    if isinstance(value, bool):
        raise InvalidArgument("a bool is not a point in time")
    nanos: int
    if isinstance(value, timedelta):
        nanos = time.time_ns() + (value // timedelta(microseconds=1)) * 1000
    elif isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
        nanos = ((aware - _EPOCH) // timedelta(microseconds=1)) * 1000
    elif isinstance(value, int):
        nanos = value * 1_000_000_000
    elif isinstance(value, float):
        whole = int(value)
        nanos = whole * 1_000_000_000 + round((value - whole) * 1e9)
    else:
        raise InvalidArgument(
            "a point in time must be a datetime, timedelta, number or str, not "
            f"{type(value).__name__}"
        )
    if nanos <= 0:
        raise InvalidArgument(
            f"{value!r} is not after the epoch (the Engine reads since=0 as 'no since')"
        )
    return format_nanos(nanos)


_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)(h|ms|m|s))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_ENGINE_TIME = re.compile(r"\d+(?:\.\d{1,9})?")


def _format_text(text: str) -> str:
    value = text.strip()
    if _ENGINE_TIME.fullmatch(value):
        seconds, _, frac = value.partition(".")
        if int(seconds) == 0 and not frac.strip("0"):
            raise InvalidArgument(
                "0 is not after the epoch (the Engine reads since=0 as 'no since')"
            )
        return f"{seconds}.{frac.ljust(9, '0')}"
    if _DURATION.fullmatch(value):
        ago = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(value))
        return format_nanos(time.time_ns() - round(ago * 1e9))
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidArgument(
            f"{text!r} is not a point in time: use seconds since the epoch, a duration before "
            "now ('10m', '1h30m') or an ISO 8601 date-time ('2024-05-01T12:00:00Z')"
        ) from None
    return format_time(parsed)
