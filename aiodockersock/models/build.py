"""Build cache structs (the ``BuildCache`` definition of API 1.41 and 1.56), and the progress
of a BuildKit build (the ``moby.buildkit.trace`` records of ``POST /build?version=2``, decoded
from BuildKit's ``StatusResponse`` protobuf message)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from ._base import Model

__all__ = ["BuildCacheRecord", "BuildLog", "BuildStatus", "BuildVertex", "BuildVertexStatus",
           "BuildWarning"]


class BuildCacheRecord(Model):
    """One build cache record (``BuildCache`` items in GET /system/df)."""

    id: str | None = msgspec.field(default=None, name="ID")
    parent: str | None = None
    """API 1.41 sends one Parent; API 1.56 replaced it with the Parents list. Both are kept."""
    parents: list[str] | None = None
    """Not in API 1.41: API 1.56's replacement for Parent. Both are kept."""
    type: str | None = None
    """``"internal"``, ``"frontend"``, ``"source.local"``, ``"source.git.checkout"``,
    ``"exec.cachemount"``, ``"regular"``."""
    description: str | None = None
    in_use: bool | None = None
    shared: bool | None = None
    size: int | None = None
    created_at: str | None = None
    """RFC 3339 string."""
    last_used_at: str | None = None
    """RFC 3339 string."""
    usage_count: int | None = None


class BuildVertex(Model):
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


class BuildVertexStatus(Model):
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


class BuildLog(Model):
    """Output of a step (of a ``RUN``'s process: ``stream`` 1 is stdout, 2 stderr)."""

    vertex: str
    """The step's digest."""
    stream: int
    data: bytes
    timestamp: datetime | None = None


class BuildWarning(Model):
    """A warning about the build (a Dockerfile check, a deprecated form)."""

    vertex: str
    level: int = 0
    short: str = ""
    detail: list[str] = msgspec.field(default_factory=list)
    url: str = ""


class BuildStatus(Model):
    """One progress record of a BuildKit build: what changed since the previous one."""

    vertexes: list[BuildVertex] = msgspec.field(default_factory=list)
    statuses: list[BuildVertexStatus] = msgspec.field(default_factory=list)
    logs: list[BuildLog] = msgspec.field(default_factory=list)
    warnings: list[BuildWarning] = msgspec.field(default_factory=list)
