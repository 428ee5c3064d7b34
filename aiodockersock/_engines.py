"""Many engines as one: a :class:`Fleet` of named Docker clients.

A fleet holds one :class:`~aiodockersock.Docker` client per engine (from URLs, Docker contexts,
or clients made by the caller) and gives three things no single client can:

- :meth:`Fleet.gather`: one call run on every engine at once, its results and its errors side
  by side (:class:`FleetResults`); an unreachable engine costs its own timeout and nothing more.
- :meth:`Fleet.events`: one merged, typed event stream (:class:`FleetEvents`). Each engine has
  its own stream with the single-engine guarantees (once, in order, resumed from its own last
  event, a :class:`~aiodockersock.models.HostGap` when that cannot be proven) and a never-ending
  reconnect policy; :class:`~aiodockersock.models.HostDown` and
  :class:`~aiodockersock.models.HostUp` say when an engine goes and comes back. One bounded
  buffer serves every engine, with the hub's slow-consumer policies.
- :meth:`Fleet.watch`: the container informer across engines (:class:`FleetWatch`): one
  :class:`~aiodockersock.ContainerWatch` per engine, each re-listing only its own engine after a
  gap or an outage.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Generic, TypeVar

from ._args import TimeSpec, format_time
from ._client import Docker
from ._exceptions import (
    DockerConnectionError,
    DockerError,
    DockerTimeoutError,
    InvalidArgument,
    StreamClosed,
    SubscriberTooSlow,
)
from ._hub import SlowPolicy, check_buffer
from ._resource import AsyncResource, Resource
from ._streams import ReconnectPolicy, event_stream
from ._watch import ContainerChange, ContainerWatch
from .models.containers import ContainerSummary
from .models.events import EventGap, EventMessage
from .models.fleet import FleetItem, HostDown, HostEvent, HostGap, HostUp

__all__ = ["Fleet", "FleetEvents", "FleetResults", "FleetWatch", "HostChange", "HostResult"]

T = TypeVar("T")

#: How a fleet's streams reconnect: forever, every 5 s at the slowest (an engine may be down
#: for hours and still come back).
_FOREVER = ReconnectPolicy(attempts=None, initial_delay=0.1, max_delay=5.0)

#: A producer lets the loop run each time this many counted items are buffered (see
#: ``_Merged._put``); a fleet's event reader, whenever the merged buffer holds this many.
_HANDOFF = 64


@dataclass(frozen=True)
class HostResult(Generic[T]):
    """What one engine answered to :meth:`Fleet.gather`: a value or an error, never both.

    Attributes:
        host: the engine's name in the fleet.
        value: the call's result (``None`` when it failed).
        error: the ``DockerError`` it raised (``None`` when it succeeded).
    """

    host: str
    value: T | None
    error: DockerError | None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded on this engine."""
        return self.error is None

    def unwrap(self) -> T:
        """The value, or raise the error.

        Raises:
            DockerError: the error the call raised on this engine.
        """
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


class FleetResults(Mapping[str, HostResult[T]]):
    """The results of :meth:`Fleet.gather`, by engine name, in the fleet's order."""

    __slots__ = ("_results",)

    def __init__(self, results: Sequence[HostResult[T]]) -> None:
        self._results = {r.host: r for r in results}

    def __getitem__(self, host: str) -> HostResult[T]:
        return self._results[host]

    def __iter__(self) -> Iterator[str]:
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)

    @property
    def values_ok(self) -> dict[str, T]:
        """The value of every engine that answered."""
        return {h: r.value for h, r in self._results.items() if r.error is None}  # type: ignore[misc]

    @property
    def errors(self) -> dict[str, DockerError]:
        """The error of every engine that failed."""
        return {h: r.error for h, r in self._results.items() if r.error is not None}

    def __repr__(self) -> str:
        return f"<FleetResults ok={list(self.values_ok)} failed={list(self.errors)}>"


class HostChange(ContainerChange, frozen=True, kw_only=True):
    """A :class:`~aiodockersock.ContainerChange` on one engine of a :class:`FleetWatch`.

    Attributes:
        host: the engine's name in the fleet.
    """

    host: str


class Fleet(AsyncResource):
    """One object over N named engines.

    Each entry is a Docker client made from a URL (``"unix:///…"``, ``"tcp://…"``), a Docker
    context's name (anything without ``://``; ``"default"`` included), or a ``Docker`` client
    you made (then you keep closing it yourself)::

        async with Fleet({"web1": "tcp://web1:2376", "db": "db-context"}) as fleet:
            listed = await fleet.gather(lambda d: d.containers.list(), timeout=5)
            for host, result in listed.items():
                print(host, len(result.value) if result.ok else result.error)

    Args:
        hosts: engine name → URL, context name, or ``Docker``.
        **client_options: passed to every ``Docker`` the fleet makes (``timeout``,
            ``connect_timeout``, ``limits``, …).

    Raises:
        InvalidArgument: no engines, an empty name, or an address that does not resolve.
    """

    _resource_name = "a Fleet"

    def __init__(self, hosts: Mapping[str, str | Docker], **client_options: Any) -> None:
        if not hosts:
            raise InvalidArgument("a Fleet needs at least one engine: {name: url or context}")
        self._clients: dict[str, Docker] = {}
        self._owned: list[Docker] = []  # made here (they open nothing until used)
        for name, spec in hosts.items():
            if not isinstance(name, str) or not name:
                raise InvalidArgument(f"engine names must be non-empty strings, not {name!r}")
            if isinstance(spec, Docker):
                client = spec
            elif isinstance(spec, str) and "://" in spec:
                client = Docker(spec, **client_options)
                self._owned.append(client)
            elif isinstance(spec, str):
                client = Docker(context=spec, **client_options)
                self._owned.append(client)
            else:
                raise InvalidArgument(
                    f"engine {name!r}: give a URL, a context name or a Docker client, "
                    f"not {type(spec).__name__}"
                )
            self._clients[name] = client

    @property
    def hosts(self) -> list[str]:
        """The engines' names, in the order given."""
        return list(self._clients)

    def __getitem__(self, host: str) -> Docker:
        """The client of one engine (``fleet["web1"].containers.inspect(...)``).

        Raises:
            KeyError: no engine of that name.
        """
        return self._clients[host]

    def __iter__(self) -> Iterator[str]:
        return iter(self._clients)

    def __len__(self) -> int:
        return len(self._clients)

    async def gather(
        self, call: Callable[[Docker], Awaitable[T]], *, timeout: float | None = None
    ) -> FleetResults[T]:
        """Run ``call(client)`` on every engine at once.

        An engine that fails gives its ``DockerError`` in its result, never an exception here;
        none waits for another. Errors that are not a ``DockerError`` (a bug in ``call``)
        propagate.

        Args:
            call: what to run on one engine, e.g. ``lambda d: d.containers.list()``.
            timeout: seconds each engine has (``None``: each client's own request timeout).

        Returns:
            The results, by engine name, in the fleet's order.
        """

        async def one(host: str, client: Docker) -> HostResult[T]:
            try:
                if timeout is None:
                    value = await call(client)
                else:
                    value = await asyncio.wait_for(call(client), timeout)
            except DockerError as exc:
                return HostResult(host, None, exc)
            except (asyncio.TimeoutError, TimeoutError):
                return HostResult(host, None, DockerTimeoutError(
                    f"engine {host!r} ({client.url}) did not answer within {timeout:g} s",
                    address=client.url,
                ))
            return HostResult(host, value, None)

        done = await asyncio.gather(*(one(h, c) for h, c in self._clients.items()))
        return FleetResults(done)

    def events(
        self,
        *,
        filters: Mapping[str, Any] | None = None,
        since: TimeSpec | None = None,
        until: TimeSpec | None = None,
        maxsize: int = 4096,
        policy: SlowPolicy = "wait",
        reconnect: ReconnectPolicy = _FOREVER,
    ) -> FleetEvents:
        """Every engine's events as one stream, each tagged with its engine.

        ``GET /events`` on each engine.

        Use as ``async with fleet.events() as events: async for item in events:``. Items are
        :class:`~aiodockersock.models.HostEvent`, and the notices ``HostDown``, ``HostUp``
        and ``HostGap``. Each engine's events come once and in order; engines interleave.

        Args:
            filters: as for ``docker.events()``, applied on every engine.
            since: replay from this time on, on every engine (the daemons keep 256 events).
            until: end each engine's stream at this time; the merged stream ends when every
                engine's has (without it, it is endless).
            maxsize: events buffered for the consumer, all engines together (notices are
                never dropped and do not count).
            policy: when the buffer is full: ``"wait"`` (the engines' readers wait: dockerd
                may then drop events, reported as a ``HostGap``), ``"drop_oldest"`` (counted
                per engine in ``dropped``), or ``"disconnect"`` (``SubscriberTooSlow`` after
                what is buffered).
            reconnect: each engine's policy (default: never give up, at most 5 s apart).

        Returns:
            A ``FleetEvents`` (not yet connected).

        Raises:
            InvalidArgument: a bad option.
        """
        check_buffer(maxsize, policy)
        return FleetEvents(
            self,
            filters,
            format_time(since) if since is not None else None,
            format_time(until) if until is not None else None,
            maxsize,
            policy,
            reconnect,
        )

    def watch(
        self, *, label: str | Sequence[str] | None = None, maxsize: int = 4096
    ) -> FleetWatch:
        """A container cache over every engine, and the stream of its changes.

        As ``docker.containers.watch()`` on each engine (events, then a listing); changes
        come as :class:`HostChange` (a ``ContainerChange`` with ``host``), with ``HostDown``
        and ``HostUp`` notices. After an outage or a gap, only that engine is listed again,
        and only its differences are reported.

        Args:
            label: only containers with these labels (``"k"`` or ``"k=v"``).
            maxsize: changes buffered for the consumer, all engines together; when it is
                full the engines' watches wait (what they miss meanwhile comes back as a
                re-list of that engine).

        Returns:
            A ``FleetWatch`` (not yet started).

        Raises:
            InvalidArgument: ``maxsize`` is not a positive int.
        """
        check_buffer(maxsize, "wait")
        labels = [label] if isinstance(label, str) else list(label or [])
        return FleetWatch(self, labels, maxsize)

    async def aclose(self) -> None:
        """Close the clients the fleet made (not those given to it). Safe to call twice."""
        self._closed = True
        owned, self._owned = self._owned, []
        for client in owned:
            await client.aclose()

    def _holds(self) -> bool:
        return any(c._holds() for c in self._owned)


class _Merged(Resource):
    """The bounded buffer one task per engine feeds, and its consumer side."""

    def __init__(self, fleet: Fleet, maxsize: int, policy: SlowPolicy) -> None:
        self._fleet = fleet
        self._maxsize = maxsize
        self._policy = policy
        self._items: deque[Any] = deque()
        self._counted = 0  # items in _items that count against maxsize
        self._readable = asyncio.Event()
        self._room = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._running = 0  # engines whose reader has not ended
        self._error: BaseException | None = None
        self._up: dict[str, bool] = {}  # an engine's last notice: up (True) or down
        #: Events dropped per engine under ``policy="drop_oldest"``.
        self.dropped: dict[str, int] = {}

    async def _enter(self) -> None:
        self._start()

    def _start(self) -> None:
        if self._closed:
            raise StreamClosed(f"{self._resource_name} is closed")
        if not self._tasks:
            self._running = len(self._fleet._clients)
            self._tasks = [
                asyncio.create_task(self._guarded(host, client), name=f"aiodockersock {host}")
                for host, client in self._fleet._clients.items()
            ]

    async def _guarded(self, host: str, client: Docker) -> None:
        try:
            await self._run(host, client)
        except _CutOff:
            pass
        except Exception as exc:  # a bug, not an engine's failure: the consumer must see it
            self._fail(exc)
        finally:
            self._running -= 1
            if not self._running:
                self._readable.set()  # every engine's stream has ended

    async def _run(self, host: str, client: Docker) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        self._readable.set()

    def _holds(self) -> bool:
        return any(not t.done() for t in self._tasks)

    async def aclose(self) -> None:
        """Stop every engine's reader and close its connection."""
        tasks = list(self._tasks)
        self.close()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- the producers' side --------------------------------------------------------------

    def _notice(self, item: HostDown | HostUp | HostGap) -> None:
        """A notice: never dropped, never waits (one per engine per change of state)."""
        if isinstance(item, HostDown):
            if self._up.get(item.host) is False:
                return
            self._up[item.host] = False
        elif isinstance(item, HostUp):
            if self._up.get(item.host) is True:
                return
            self._up[item.host] = True
        self._items.append(item)
        self._readable.set()

    async def _put(self, host: str, item: Any) -> None:
        """Add an item that counts against ``maxsize``, applying the policy when it is full.

        Every ``_HANDOFF`` counted items buffered, the producer lets the loop run once, so
        that a consumer that keeps up takes them while they are young: otherwise an engine
        whose data is already received decodes up to ``maxsize`` events ahead of the
        consumer, and every garbage collection meanwhile traverses all of them (see
        benchmarks/README.md, "A fleet's merged events").
        """
        while self._counted >= self._maxsize:
            if self._policy == "wait":
                self._room.clear()
                await self._room.wait()
            elif self._policy == "drop_oldest":
                self._drop_oldest()
            else:
                self._fail(SubscriberTooSlow(
                    f"the consumer of {self._resource_name} fell {self._maxsize} events "
                    f"behind (policy='disconnect'); it was cut off while engine {host!r} "
                    "had more: read faster, raise maxsize, or choose policy='drop_oldest'"
                ))
                self._release()
                raise _CutOff
        items = self._items
        if not items:
            self._readable.set()  # the consumer waits only on an empty buffer
        items.append(item)
        self._counted += 1
        if not self._counted % _HANDOFF:
            await asyncio.sleep(0)

    def _drop_oldest(self) -> None:
        for index, old in enumerate(self._items):
            host = _counted_host(old)
            if host is not None:
                del self._items[index]
                self._counted -= 1
                self.dropped[host] = self.dropped.get(host, 0) + 1
                return

    def _fail(self, error: BaseException) -> None:
        if self._error is None:
            self._error = error
        self._readable.set()

    # -- the consumer's side ---------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        self._start()
        items = self._items
        popleft = items.popleft
        maxsize = self._maxsize
        while True:
            if items:
                item = popleft()
                if type(item) is HostEvent or type(item) is HostChange:  # counted
                    if self._counted >= maxsize:
                        self._room.set()  # a producer may wait for room
                    self._counted -= 1
                yield item
                continue
            if self._error is not None:
                raise self._error
            if self._closed or not self._running:
                return
            self._readable.clear()
            await self._readable.wait()


class _CutOff(Exception):
    """Ends an engine's reader when the consumer was cut off (``policy="disconnect"``)."""


def _counted_host(item: Any) -> str | None:
    """The engine of an item that counts against the buffer's size (not a notice)."""
    if type(item) is HostEvent or type(item) is HostChange:
        return item.host
    return None


class FleetEvents(_Merged):
    """The merged event stream of a :class:`Fleet` (made by :meth:`Fleet.events`).

    Iterate it for :data:`~aiodockersock.models.FleetItem` values. ``dropped`` counts the
    events dropped per engine (``policy="drop_oldest"``); :meth:`stats` tells each engine's
    stream counters.
    """

    _resource_name = "a fleet event stream"

    def __init__(
        self,
        fleet: Fleet,
        filters: Mapping[str, Any] | None,
        since: str | None,
        until: str | None,
        maxsize: int,
        policy: SlowPolicy,
        reconnect: ReconnectPolicy,
    ) -> None:
        super().__init__(fleet, maxsize, policy)
        self._filters = filters
        self._since = since
        self._until = until
        self._reconnect = reconnect

    def __aiter__(self) -> AsyncIterator[FleetItem]:
        return self._iterate()

    async def _run(self, host: str, client: Docker) -> None:
        def connection(cause: DockerError | None) -> None:
            if cause is None:
                self._notice(HostUp(host))
            else:
                self._notice(HostDown(host, str(cause)))

        stream = event_stream(
            client._transport,
            since=self._since,
            until=self._until,
            filters=self._filters,
            reconnect=self._reconnect,
            on_gap="yield",
            on_connection=connection,
        )
        try:
            attempt = 0
            while True:  # an engine down from the start: keep trying, as the stream would
                try:
                    await stream.open()
                    break
                except DockerConnectionError as exc:
                    connection(exc)
                    attempt += 1
                    await asyncio.sleep(self._reconnect.delay(attempt))
            connection(None)
            items = self._items
            maxsize = self._maxsize
            take = stream._take
            while True:
                if len(items) >= _HANDOFF:
                    # the consumer has a backlog: let it run before decoding more, so that
                    # events are taken while young (K readers each decoding ahead keep K
                    # times as many events alive, and out of the caches, by their turn)
                    await asyncio.sleep(0)
                # one step per chunk the stream decoded, not per event: take what it has,
                # as much as the buffer has room for
                room = maxsize - self._counted
                try:
                    batch = await take(room if room > 0 else 1)
                except StopAsyncIteration:
                    return
                n = len(batch)
                if n <= room and type(batch[-1]) is EventMessage:  # events only
                    # the usual case, inline (no coroutine per event): see _put
                    if not items:
                        self._readable.set()
                    items.extend(map(HostEvent, repeat(host, n), batch))
                    self._counted += n
                    continue
                for item in batch:  # the buffer is full, or a notice
                    if type(item) is EventMessage:
                        await self._put(host, HostEvent(host, item))
                    elif isinstance(item, EventGap):
                        self._notice(HostGap(host, item))
        except DockerError as exc:  # the engine refused the stream (a bad filter) or gave up
            self._notice(HostDown(host, str(exc)))
        finally:
            stream.close()


class FleetWatch(_Merged):
    """The container informer across a :class:`Fleet` (made by :meth:`Fleet.watch`).

    Iterate it for :class:`HostChange` values and ``HostDown`` / ``HostUp`` notices;
    :meth:`containers` and :meth:`get` read the cache.
    """

    _resource_name = "a fleet container watch"

    def __init__(self, fleet: Fleet, labels: list[str], maxsize: int) -> None:
        super().__init__(fleet, maxsize=maxsize, policy="wait")
        self._labels = labels
        self._caches: dict[str, Mapping[str, ContainerSummary]] = {}

    def __aiter__(self) -> AsyncIterator[HostChange | HostDown | HostUp]:
        return self._iterate()

    def containers(self, host: str | None = None) -> list[tuple[str, ContainerSummary]]:
        """Every cached container as ``(engine, summary)``, of one engine or of all."""
        hosts = [host] if host is not None else list(self._caches)
        return [(h, c) for h in hosts for c in self._caches.get(h, {}).values()]

    def get(self, host: str, container: str) -> ContainerSummary | None:
        """One engine's cached container by id."""
        return self._caches.get(host, {}).get(container)

    async def _run(self, host: str, client: Docker) -> None:
        filters: dict[str, list[str]] = {"type": ["container"]}
        if self._labels:
            filters["label"] = self._labels
        known: Mapping[str, ContainerSummary] = {}
        attempt = 0
        while True:
            def connection(cause: DockerError | None) -> None:
                if cause is None:
                    self._notice(HostUp(host))
                else:
                    self._notice(HostDown(host, str(cause)))

            stream: Any = event_stream(
                client._transport, filters=filters, reconnect=_FOREVER,
                on_malformed="skip", on_connection=connection,
            )
            watch = ContainerWatch(
                client.containers._watch_list, stream, self._labels, known
            )
            self._caches[host] = watch._cache
            try:
                await watch.start()
                connection(None)
                attempt = 0
                async for change in watch:
                    await self._put(host, HostChange(
                        change.kind, change.id, change.container, change.action, host=host
                    ))
            except DockerConnectionError as exc:
                connection(exc)
            finally:
                known = dict(watch._cache)
                watch.close()
            attempt += 1
            await asyncio.sleep(_FOREVER.delay(attempt))
