"""Events from ``GET /events``, with the known types and actions as constants.

Types and actions are open sets: a newer Engine may send values not listed here, and they pass
through as plain ``str``.
"""

from __future__ import annotations

import datetime as dt
from typing import Final, NamedTuple

import msgspec

from ._base import Model

__all__ = [
    "AttributeChange",
    "EventActions",
    "EventActor",
    "EventGap",
    "EventMessage",
    "EventTypes",
    "with_legacy_fields",
]


class EventTypes:
    """The ``type`` values the Engine sends (``EventMessage.type``)."""

    BUILDER: Final = "builder"
    CONFIG: Final = "config"
    CONTAINER: Final = "container"
    DAEMON: Final = "daemon"
    IMAGE: Final = "image"
    NETWORK: Final = "network"
    NODE: Final = "node"
    PLUGIN: Final = "plugin"
    SECRET: Final = "secret"
    SERVICE: Final = "service"
    VOLUME: Final = "volume"


class EventActions:
    """Common ``action`` values (``EventMessage.action``; compare ``base_action`` for those
    that carry a detail after a colon, such as ``health_status: healthy``)."""

    # containers
    ATTACH: Final = "attach"
    COMMIT: Final = "commit"
    COPY: Final = "copy"
    CREATE: Final = "create"
    DESTROY: Final = "destroy"
    DETACH: Final = "detach"
    DIE: Final = "die"
    EXEC_CREATE: Final = "exec_create"
    EXEC_DETACH: Final = "exec_detach"
    EXEC_DIE: Final = "exec_die"
    EXEC_START: Final = "exec_start"
    EXPORT: Final = "export"
    HEALTH_STATUS: Final = "health_status"
    KILL: Final = "kill"
    OOM: Final = "oom"
    PAUSE: Final = "pause"
    RENAME: Final = "rename"
    RESIZE: Final = "resize"
    RESTART: Final = "restart"
    START: Final = "start"
    STOP: Final = "stop"
    TOP: Final = "top"
    UNPAUSE: Final = "unpause"
    UPDATE: Final = "update"
    PRUNE: Final = "prune"
    # images
    DELETE: Final = "delete"
    IMPORT: Final = "import"
    LOAD: Final = "load"
    PULL: Final = "pull"
    PUSH: Final = "push"
    SAVE: Final = "save"
    TAG: Final = "tag"
    UNTAG: Final = "untag"
    # networks and volumes
    CONNECT: Final = "connect"
    DISCONNECT: Final = "disconnect"
    REMOVE: Final = "remove"
    MOUNT: Final = "mount"
    UNMOUNT: Final = "unmount"
    # daemon
    RELOAD: Final = "reload"


class AttributeChange(NamedTuple):
    """One attribute a swarm object's update changed: its value before and after (``None``
    where dockerd sent only one side, as for a service's ``updatestate``)."""

    old: str | None
    new: str | None


# Events are untracked by CPython's cyclic garbage collector (``gc=False``): a stream decodes
# them by the hundred thousand and a fleet holds many engines' read-ahead at once, and each
# tracked object alive counts towards the next collection (see benchmarks/README.md, "A fleet's
# merged events"). That is safe only if no reference cycle can pass through them, and none can:
# an event holds str, int and None values and its actor; the actor holds str and a dict of str
# to str (CPython does not track such a dict either; it starts tracking it only if something
# tracked is stored in it). A cycle would need code to store a container or an object into
# ``attributes``, against its type; were it to, the cycle would leak, not crash. Subclasses
# inherit ``gc=False``: give them no field that could refer back to the event.
class EventActor(Model, gc=False):
    """The object an event is about: its id and attributes (name, image, labels, exit code…)."""

    id: str | None = msgspec.field(default=None, name="ID")
    attributes: dict[str, str] | None = None


class EventMessage(Model, gc=False):
    """One event of ``GET /events``.

    Attributes:
        type: the kind of object (``"container"``, ``"image"``, …; see :class:`EventTypes`).
        action: what happened (``"create"``, ``"die"``, ``"health_status: healthy"``, …; see
            :class:`EventActions`).
        actor: the object's id and attributes.
        scope: ``"local"`` or ``"swarm"``.
        time: seconds since the epoch.
        time_nano: nanoseconds since the epoch (where a resumed stream picks up).
        status: legacy field (the action, for container and image events). The Engine dropped
            it in API 1.52; aiodockersock derives it there so older code keeps working.
        id: legacy field (the actor's id), derived likewise from API 1.52.
        from_: legacy field (a container's image, JSON ``from``), derived likewise from 1.52.
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

    def attribute(self, key: str) -> str | None:
        """The actor's attribute ``key`` (a label, ``name``, ``image``, …), or ``None``."""
        actor = self.actor
        if actor is None or actor.attributes is None:
            return None
        return actor.attributes.get(key)

    def changes(self) -> dict[str, AttributeChange]:
        """What an update of a swarm object changed, from the ``X.old``/``X.new`` attribute
        pairs dockerd sends on swarm-scope ``update`` events.

        ``{"replicas": AttributeChange(old="1", new="2")}`` for ``docker service scale``,
        ``{"availability": AttributeChange(old="active", new="drain")}`` for a node drained;
        also ``image``, ``role``, ``state``, ``updatestate`` (``new`` only) and others, as
        the engine sends them. Changes dockerd does not report (labels) are not there. Empty
        for every other event: a local event's attributes hold labels, whose names may end
        in ``.old`` or ``.new`` without meaning a change.
        """
        actor = self.actor
        if self.scope != "swarm" or actor is None or not actor.attributes:
            return {}
        pairs: dict[str, list[str | None]] = {}
        for key, value in actor.attributes.items():
            name, dot, side = key.rpartition(".")
            if dot and name and side in ("old", "new"):
                pair = pairs.setdefault(name, [None, None])
                pair[0 if side == "old" else 1] = value
        return {name: AttributeChange(old, new) for name, (old, new) in pairs.items()}

    @property
    def actor_id(self) -> str | None:
        """The actor's id (a container's or image's id, a network's id…)."""
        return self.actor.id if self.actor is not None else None

    @property
    def name(self) -> str | None:
        """The actor's ``name`` attribute (a container's name, without a leading ``/``)."""
        return self.attribute("name")

    @property
    def image(self) -> str | None:
        """A container event's image (its ``image`` attribute)."""
        return self.attribute("image")

    @property
    def base_action(self) -> str | None:
        """The action without its detail: ``"health_status"`` for
        ``"health_status: healthy"``, ``"exec_start"`` for ``"exec_start: sh -c …"``."""
        action = self.action
        if action is None:
            return None
        head, _, _ = action.partition(":")
        return head

    @property
    def exit_code(self) -> int | None:
        """A ``die`` event's exit code (its ``exitCode`` attribute), else ``None``."""
        value = self.attribute("exitCode")
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            return None

    @property
    def health_status(self) -> str | None:
        """``"healthy"``, ``"unhealthy"`` or ``"starting"`` for a ``health_status: …`` event."""
        action = self.action
        if action is None or not action.startswith("health_status:"):
            return None
        return action.partition(":")[2].strip() or None

    @property
    def datetime(self) -> dt.datetime | None:
        """When the event happened, as an aware UTC ``datetime`` (microsecond precision)."""
        if self.time_nano is not None:
            return dt.datetime.fromtimestamp(self.time_nano / 1e9, dt.timezone.utc)
        if self.time is not None:
            return dt.datetime.fromtimestamp(self.time, dt.timezone.utc)
        return None


def with_legacy_fields(event: EventMessage) -> EventMessage:
    """Fill the legacy ``status``/``id``/``from`` fields the way older Engines did.

    API 1.52 stopped sending them; older API versions get them from the daemon itself. For
    container and image events ``status`` is the action and ``id`` the actor's id, and a
    container event's ``from`` is its image. An event that has them is returned as it is.
    """
    if event.status is not None or event.type not in ("container", "image"):
        return event
    return msgspec.structs.replace(
        event,
        status=event.action,
        id=event.actor_id,
        from_=event.image if event.type == "container" else None,
    )


class EventGap(msgspec.Struct, frozen=True):
    """Notice that events may have been lost: a resumed stream could not prove continuity, or a
    stalled consumer left the connection unread long enough for dockerd to drop events.

    The daemon replays only its last 256 events (and none across its own restart); when the
    stream reconnects and the last event it delivered is no longer replayed, any events in
    between are gone. Re-list what you track.

    Attributes:
        since_nano: ``time_nano`` of the last event delivered before the connection broke.
        until_nano: ``time_nano`` of the first event after the reconnect; ``None`` after a stall
            (the end of the gap is not known).
        reconnects: how many reconnects the stream had made, this one included.
    """

    since_nano: int
    until_nano: int | None
    reconnects: int
