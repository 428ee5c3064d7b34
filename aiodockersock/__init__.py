"""aiodockersock: an asyncio-native, typed client for the Docker Engine API.

    import aiodockersock

    async with aiodockersock.Docker() as docker:
        print((await docker.version()).version)
        for c in await docker.containers.list(all=True):
            print(c.id[:12], c.image, c.state)

Every response is a ``msgspec.Struct`` (see :mod:`aiodockersock.models`); every error derives
from :class:`DockerError`.
"""

from __future__ import annotations

from ._attach import AttachStream, AttachWebSocket
from ._auth import RegistryAuth
from ._bodies import ArchiveStream, ByteStream, JSONStream, LogStream, ProgressStream
from ._buildkit._progress import BuildProgress
from ._client import Docker
from ._config import DEFAULT_HOST, Limits, TLSConfig
from ._contexts import DockerContext, list_contexts
from ._engines import Fleet, FleetEvents, FleetResults, FleetWatch, HostChange, HostResult
from ._exceptions import (
    APIError,
    ArchiveError,
    BadRequest,
    BuildError,
    ClientLimitReached,
    Conflict,
    ContainerError,
    DecodeError,
    DockerConnectionError,
    DockerError,
    DockerTimeoutError,
    EventsLost,
    Forbidden,
    InvalidArgument,
    NotFound,
    NotInSwarm,
    NotSupported,
    NotSwarmManager,
    PrivilegesNotGranted,
    ProgressError,
    RegistryAuthError,
    RegistryUnreachable,
    ResponseTooLarge,
    ServerError,
    ServiceFailed,
    StreamBroken,
    StreamClosed,
    SubscriberTooSlow,
    SwarmLocked,
    SwarmUnavailable,
    UnsupportedAPIVersion,
    WaitTimeout,
)
from ._hub import EventHub, Subscription
from ._many import MergedLogs, StatsRow, StatsTable, StatsUpdate, TaggedLogLine
from ._streams import EventStream, EventStreamStats, ReconnectPolicy
from ._transport import MAX_API_VERSION, MIN_API_VERSION
from ._watch import ContainerChange, ContainerWatch

__version__ = "0.1.0.dev0"

__all__ = [
    "DEFAULT_HOST",
    "MAX_API_VERSION",
    "MIN_API_VERSION",
    "APIError",
    "ArchiveError",
    "ArchiveStream",
    "AttachStream",
    "AttachWebSocket",
    "BadRequest",
    "BuildError",
    "BuildProgress",
    "ByteStream",
    "ClientLimitReached",
    "Conflict",
    "ContainerChange",
    "ContainerError",
    "ContainerWatch",
    "DecodeError",
    "Docker",
    "DockerConnectionError",
    "DockerContext",
    "DockerError",
    "DockerTimeoutError",
    "EventHub",
    "EventStream",
    "EventStreamStats",
    "EventsLost",
    "Fleet",
    "FleetEvents",
    "FleetResults",
    "FleetWatch",
    "Forbidden",
    "HostChange",
    "HostResult",
    "InvalidArgument",
    "JSONStream",
    "Limits",
    "LogStream",
    "MergedLogs",
    "NotFound",
    "NotInSwarm",
    "NotSupported",
    "NotSwarmManager",
    "PrivilegesNotGranted",
    "ProgressError",
    "ProgressStream",
    "ReconnectPolicy",
    "RegistryAuth",
    "RegistryAuthError",
    "RegistryUnreachable",
    "ResponseTooLarge",
    "ServerError",
    "ServiceFailed",
    "StatsRow",
    "StatsTable",
    "StatsUpdate",
    "StreamBroken",
    "StreamClosed",
    "SubscriberTooSlow",
    "Subscription",
    "SwarmLocked",
    "SwarmUnavailable",
    "TLSConfig",
    "TaggedLogLine",
    "UnsupportedAPIVersion",
    "WaitTimeout",
    "__version__",
    "list_contexts",
]
