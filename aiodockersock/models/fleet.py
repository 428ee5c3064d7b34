"""What a fleet of engines hands out: every item tagged with the host it came from."""

from __future__ import annotations

from typing import Union

import msgspec

from .events import EventGap, EventMessage

__all__ = ["FleetItem", "HostDown", "HostEvent", "HostGap", "HostUp"]


# Untracked by the cyclic garbage collector, like the event it wraps (see EventActor in
# models/events.py): it holds a str and an EventMessage, neither of which can refer back to it.
class HostEvent(msgspec.Struct, frozen=True, gc=False):
    """An event of one engine of the fleet.

    Attributes:
        host: the engine's name in the fleet.
        event: the event, as that engine's own stream delivers it (once, in order).
    """

    host: str
    event: EventMessage


class HostDown(msgspec.Struct, frozen=True):
    """An engine of the fleet cannot be reached: at the start, or its stream was lost.

    The fleet keeps trying it (its events resume from where they stopped, with the single-host
    stream's guarantees); the other engines are not held up.

    Attributes:
        host: the engine's name in the fleet.
        error: why, in words (the connection error's message).
    """

    host: str
    error: str


class HostUp(msgspec.Struct, frozen=True):
    """An engine's stream is connected: first when it connects, then each time it is back
    after a :class:`HostDown`. Its events follow from where they stopped (a :class:`HostGap`
    comes first if that cannot be proven).

    Attributes:
        host: the engine's name in the fleet.
    """

    host: str


class HostGap(msgspec.Struct, frozen=True):
    """Events of one engine may have been lost (its restart, or a consumer too slow for it):
    re-list what you track of that host, and only of that host.

    Attributes:
        host: the engine's name in the fleet.
        gap: the engine's own notice (``since_nano``, ``until_nano``, ``reconnects``).
    """

    host: str
    gap: EventGap


#: What a fleet's event stream yields.
FleetItem = Union[HostEvent, HostDown, HostUp, HostGap]  # noqa: UP007 (runtime alias)
