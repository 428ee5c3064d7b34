"""Events from ``GET /events``."""

from __future__ import annotations

import msgspec

from ._base import Model

__all__ = ["EventActor", "EventMessage"]


class EventActor(Model, frozen=True):
    """The object an event is about: its id and attributes (name, image, labels, exit code…)."""

    id: str | None = msgspec.field(default=None, name="ID")
    attributes: dict[str, str] | None = None


class EventMessage(Model, frozen=True):
    """One event of ``GET /events``.

    Attributes:
        type: the kind of object (``"container"``, ``"image"``, ``"network"``, …; an open set).
        action: what happened (``"create"``, ``"start"``, ``"die"``,
            ``"health_status: healthy"``, …; an open set).
        actor: the object's id and attributes.
        scope: ``"local"`` or ``"swarm"``.
        time: seconds since the epoch.
        time_nano: nanoseconds since the epoch (the resume point of a stream).
        status: legacy field (the action, for container and image events), API < 1.52.
        id: legacy field (the actor's id), API < 1.52.
        from_: legacy field (the container's image), API < 1.52.
    """

    type: str | None = None
    action: str | None = None
    actor: EventActor | None = None
    scope: str | None = msgspec.field(default=None, name="scope")
    time: int | None = msgspec.field(default=None, name="time")
    time_nano: int | None = msgspec.field(default=None, name="timeNano")
    status: str | None = msgspec.field(default=None, name="status")
    id: str | None = msgspec.field(default=None, name="id")
    from_: str | None = msgspec.field(default=None, name="from")
