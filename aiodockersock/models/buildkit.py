"""The progress of a BuildKit build: the ``moby.buildkit.trace`` records of
``POST /build?version=2``, decoded from BuildKit's ``StatusResponse`` protobuf message
(``aiodockersock/_buildkit/_progress.py``).

These are built by the client from protobuf, not decoded from JSON response bodies, so they are
not checked against a spec definition.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

__all__ = ["BuildLog", "BuildStatus", "BuildVertex", "BuildVertexStatus", "BuildWarning"]


class BuildVertex(msgspec.Struct, frozen=True):
    """A step of a BuildKit build (a vertex of its graph), as its state changes.

    The same vertex (``digest``) comes again each time it changes: started, then completed
    (or cached, or failed).
    """

    digest: str
    """The step's id; logs and statuses name their step by it."""
    name: str = ""
    """What the Docker CLI prints: ``[2/3] RUN make``, ``[internal] load .dockerignore`` …"""
    inputs: list[str] = msgspec.field(default_factory=list)
    """The digests of the steps it depends on."""
    cached: bool = False
    """Its result came from the build cache (the CLI's ``CACHED``)."""
    started: datetime | None = None
    completed: datetime | None = None
    error: str = ""
    """Why it failed; empty unless it did."""


class BuildVertexStatus(msgspec.Struct, frozen=True):
    """Progress of one item of a step (a layer downloaded, a file transferred)."""

    id: str
    vertex: str
    """The step's digest."""
    name: str = ""
    current: int = 0
    total: int = 0
    timestamp: datetime | None = None
    started: datetime | None = None
    completed: datetime | None = None


class BuildLog(msgspec.Struct, frozen=True):
    """Output of a step (of a ``RUN``'s process: ``stream`` 1 is stdout, 2 stderr)."""

    vertex: str
    """The step's digest."""
    stream: int
    data: bytes
    timestamp: datetime | None = None


class BuildWarning(msgspec.Struct, frozen=True):
    """A warning about the build (a Dockerfile check, a deprecated form)."""

    vertex: str
    level: int = 0
    short: str = ""
    detail: list[str] = msgspec.field(default_factory=list)
    url: str = ""


class BuildStatus(msgspec.Struct, frozen=True):
    """One progress record of a BuildKit build: what changed since the previous one."""

    vertexes: list[BuildVertex] = msgspec.field(default_factory=list)
    statuses: list[BuildVertexStatus] = msgspec.field(default_factory=list)
    logs: list[BuildLog] = msgspec.field(default_factory=list)
    warnings: list[BuildWarning] = msgspec.field(default_factory=list)
