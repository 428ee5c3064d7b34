"""A consistent list-then-watch cache of containers (the informer pattern).

:class:`ContainerWatch` subscribes to container events first, then lists the containers, then
applies each event by looking at the one container it names again. Events that happened before
the list are harmless (looking again finds the current state, and an unchanged container gives
no change), and nothing can fall between the list and the subscription. When the event stream
cannot prove it missed nothing (:class:`EventsLost`), the whole list is read again and compared.
It runs no task of its own: the cache advances as the watch is iterated.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Literal

import msgspec

from ._exceptions import EventsLost
from ._resource import Resource
from ._streams import EventStream
from .models.containers import ContainerSummary
from .models.events import EventMessage

#: Lists containers (``all=True``) with the given filters: ``Containers.list``, in effect.
Lister = Callable[[dict[str, list[str]] | None], Awaitable[list[ContainerSummary]]]

__all__ = ["ContainerChange", "ContainerWatch"]

# actions that change nothing a container listing shows
_QUIET = frozenset({
    "attach", "detach", "resize", "top", "copy", "export", "commit", "archive-path",
    "extract-to-dir", "exec_create", "exec_start", "exec_detach", "exec_die",
})


class ContainerChange(msgspec.Struct, frozen=True):
    """One change to the watched set of containers.

    Attributes:
        kind: ``"added"``, ``"updated"`` or ``"removed"``.
        id: the container's id.
        container: its listing after the change (before it, for ``"removed"``).
        action: the event that caused it (``"start"``, ``"die"``…), or ``None`` for the first
            listing and for a re-list after a gap.
    """

    kind: Literal["added", "updated", "removed"]
    id: str
    container: ContainerSummary
    action: str | None = None


def _comparable(summary: ContainerSummary) -> ContainerSummary:
    # "Up 5 seconds" becomes "Up 6 seconds" with nothing happening: not a change
    return msgspec.structs.replace(summary, status=None)


class ContainerWatch(Resource):
    """Containers kept up to date from the event stream; iterate it for the changes.

    Made by ``docker.containers.watch()``::

        async with docker.containers.watch(label="app=web") as watch:
            async for change in watch:         # "added" for each existing one first
                print(change.kind, change.id[:12], change.container.state)
                watch.get(some_id)             # the cache, as of the last change

    """

    _resource_name = "a ContainerWatch"

    def __init__(
        self,
        lister: Lister,
        stream: EventStream[EventMessage],
        labels: Sequence[str],
        known: Mapping[str, ContainerSummary] | None = None,
    ) -> None:
        self._list = lister
        self._stream = stream
        self._labels = list(labels)
        # a watch that takes over from an earlier one starts from its cache: its first listing
        # then reports only what changed meanwhile
        self._cache: dict[str, ContainerSummary] = dict(known or {})
        self._queue: list[ContainerChange] = []
        self._started = False

    async def start(self) -> None:
        """Subscribe, then list: fills the cache and queues an ``"added"`` per container.

        ``GET /events``, then ``GET /containers/json``.
        """
        if self._started:
            return
        self._started = True
        await self._stream.open()
        try:
            await self._relist(None)
        except BaseException:
            self._stream.close()
            raise

    async def _enter(self) -> None:
        await self.start()

    def _release(self) -> None:
        self._stream.close()  # the event connection (the stream warns itself if leaked)

    @property
    def containers(self) -> list[ContainerSummary]:
        """Every container in the cache, as of the last change handed out or queued."""
        return list(self._cache.values())

    def get(self, container: str) -> ContainerSummary | None:
        """The cached listing of a container, by id, unique id prefix or name."""
        found = self._cache.get(container)
        if found is not None:
            return found
        name = "/" + container.lstrip("/")
        matches = [
            c for cid, c in self._cache.items()
            if cid.startswith(container) or name in (c.names or [])
        ]
        return matches[0] if len(matches) == 1 else None

    def __aiter__(self) -> ContainerWatch:
        return self

    async def __anext__(self) -> ContainerChange:
        if not self._started:
            await self.start()
        while not self._queue:
            try:
                event = await self._stream.__anext__()
            except EventsLost:
                await self._relist(None)
                continue
            await self._apply(event)
        return self._queue.pop(0)

    def _listing_filters(self, cid: str | None) -> dict[str, list[str]] | None:
        filters: dict[str, list[str]] = {}
        if self._labels:
            filters["label"] = self._labels
        if cid is not None:
            filters["id"] = [cid]
        return filters or None

    async def _relist(self, action: str | None) -> None:
        listed = await self._list(self._listing_filters(None))
        fresh = {c.id: c for c in listed if c.id is not None}
        for cid in list(self._cache):
            if cid not in fresh:
                self._queue.append(
                    ContainerChange("removed", cid, self._cache.pop(cid), action))
        for cid, summary in fresh.items():
            self._put(cid, summary, action)

    def _put(self, cid: str, summary: ContainerSummary, action: str | None) -> None:
        old = self._cache.get(cid)
        self._cache[cid] = summary
        if old is None:
            self._queue.append(ContainerChange("added", cid, summary, action))
        elif _comparable(old) != _comparable(summary):
            self._queue.append(ContainerChange("updated", cid, summary, action))

    async def _apply(self, event: EventMessage) -> None:
        cid = event.actor_id
        action = event.base_action
        if cid is None or action in _QUIET:
            return
        if action == "destroy":
            old = self._cache.pop(cid, None)
            if old is not None:
                self._queue.append(ContainerChange("removed", cid, old, action))
            return
        listed = await self._list(self._listing_filters(cid))
        now = next((c for c in listed if c.id == cid), None)
        if now is not None:
            self._put(cid, now, action)
        elif cid in self._cache:
            self._queue.append(ContainerChange("removed", cid, self._cache.pop(cid), action))

