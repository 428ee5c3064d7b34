"""The progress of a BuildKit build: the JSON stream of ``POST /build?version=2``, with its
``moby.buildkit.trace`` records decoded into :class:`~aiodockersock.models.BuildStatus`.

Imports no protobuf until a trace record is decoded, so the type is usable (and exported)
without the ``buildkit`` extra.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from typing import Any

from .._auth import AUTH_REFUSED, registry_of
from .._bodies import Opener, ProgressStream
from .._exceptions import BuildError, ProgressError, RegistryAuthError
from ..models import (
    BuildLog,
    BuildStatus,
    BuildVertex,
    BuildVertexStatus,
    BuildWarning,
    ProgressMessage,
)

__all__ = ["BuildProgress", "decode_trace"]

TRACE_ID = "moby.buildkit.trace"
_OUTPUT_KEEP = 20


def _time(stamp: Any) -> datetime | None:
    if stamp is None or (not stamp.seconds and not stamp.nanos):
        return None
    return datetime.fromtimestamp(stamp.seconds + stamp.nanos / 1e9, timezone.utc)


def decode_trace(data: str | bytes) -> BuildStatus:
    """Decode one ``moby.buildkit.trace`` record (the base64 ``aux`` of its message).

    Raises:
        ValueError: not base64 of a BuildKit ``StatusResponse``.
    """
    from google.protobuf.message import DecodeError

    from .proto import control_pb2

    raw = base64.b64decode(data, validate=True)
    try:
        msg = control_pb2.StatusResponse.FromString(raw)
    except DecodeError as exc:
        raise ValueError(f"not a BuildKit status record: {exc}") from None
    return BuildStatus(
        vertexes=[
            BuildVertex(
                digest=v.digest, name=v.name, inputs=list(v.inputs), cached=v.cached,
                started=_time(v.started if v.HasField("started") else None),
                completed=_time(v.completed if v.HasField("completed") else None),
                error=v.error,
            ) for v in msg.vertexes
        ],
        statuses=[
            BuildVertexStatus(
                id=s.ID, vertex=s.vertex, name=s.name, current=s.current, total=s.total,
                timestamp=_time(s.timestamp if s.HasField("timestamp") else None),
                started=_time(s.started if s.HasField("started") else None),
                completed=_time(s.completed if s.HasField("completed") else None),
            ) for s in msg.statuses
        ],
        logs=[
            BuildLog(vertex=log.vertex, stream=log.stream, data=log.msg,
                     timestamp=_time(log.timestamp if log.HasField("timestamp") else None))
            for log in msg.logs
        ],
        warnings=[
            BuildWarning(vertex=w.vertex, level=w.level,
                         short=w.short.decode("utf-8", "replace"),
                         detail=[d.decode("utf-8", "replace") for d in w.detail], url=w.url)
            for w in msg.warnings
        ],
    )


#: The image a failing ``[internal] load metadata for REF`` step (or its message) names.
_METADATA_FOR = re.compile(r"metadata for (\S+?):?(?:\s|$)")


class BuildAuthError(BuildError, RegistryAuthError):
    """A BuildKit build failed because a registry wanted (other) credentials: both a
    :class:`BuildError` (``.step``, ``.output``) and a :class:`RegistryAuthError`
    (``.registry``)."""

    def __init__(self, message: str, *, operation: str, registry: str, step: str | None = None,
                 output: list[str] | None = None, code: int | None = None,
                 log: list[object] | None = None) -> None:
        # BuildError's __init__ would pass on to RegistryAuthError's (the MRO) without registry
        ProgressError.__init__(self, message, operation=operation, code=code, log=log)
        self.registry = registry
        self.step = step
        self.output = output or []
        if step:
            tail = "".join(f"\n  {line}" for line in self.output)
            self.args = (f"{operation} failed at {step}: {message}{tail}",)


class BuildProgress(ProgressStream[ProgressMessage, str]):
    """The progress of a BuildKit build: await it for the image id, iterate :meth:`statuses`
    for typed progress, or iterate it for the raw messages.

    Its state so far: :attr:`vertexes` (each step's latest state, in the order they first
    came) and :meth:`output` (a step's log). A failed build raises :class:`BuildError` naming
    the step that failed and its last output lines.
    """

    def __init__(self, opener: Opener, what: str,
                 finish: Callable[[list[ProgressMessage]], Any],
                 on_close: Callable[[], None]) -> None:
        super().__init__(opener, ProgressMessage, what, finish, self._build_failure)
        self._on_close = on_close
        self._statuses: list[BuildStatus] = []
        self.vertexes: dict[str, BuildVertex] = {}
        """Each step's latest state, by digest, in the order the steps first came."""
        self.warnings: list[BuildWarning] = []
        """The build's warnings so far."""
        self._logs: dict[str, bytearray] = {}

    def _release(self) -> None:
        super()._release()
        self._on_close()

    async def _read(self, size: int) -> bytes:
        chunk = await super()._read(size)
        if not chunk:  # the build is over: so is its session
            self._on_close()
        return chunk

    def _check(self, item: ProgressMessage) -> ProgressMessage:
        if item.id == TRACE_ID and isinstance(item.aux, str):
            status = decode_trace(item.aux)
            self._statuses.append(status)
            for v in status.vertexes:
                self.vertexes[v.digest] = v
            for log in status.logs:
                self._logs.setdefault(log.vertex, bytearray()).extend(log.data)
            self.warnings.extend(status.warnings)
        return super()._check(item)

    def output(self, vertex: str) -> str:
        """All the output of a step (by digest) so far, as text."""
        return self._logs.get(vertex, b"").decode("utf-8", "replace")

    async def statuses(self) -> AsyncIterator[BuildStatus]:
        """The build's progress records as they come (the stream's other messages skipped).

        Raises:
            BuildError: the build failed (after the records before the failure).
        """
        async for message in self:
            if message.id == TRACE_ID and isinstance(message.aux, str):
                yield self._statuses[-1]

    def _build_failure(self, message: str, **kwargs: Any) -> ProgressError:
        failed = [v for v in self.vertexes.values() if v.error]
        step = failed[-1] if failed else None
        lines = self.output(step.digest).splitlines()[-_OUTPUT_KEEP:] if step else []
        name = step.name if step else None
        if AUTH_REFUSED.search(message):
            found = _METADATA_FOR.search(name or "") or _METADATA_FOR.search(message)
            if found is not None:
                return BuildAuthError(message, registry=registry_of(found[1]), step=name,
                                      output=lines, **kwargs)
        return BuildError(message, step=name, output=lines, **kwargs)
