"""Many containers at once: a live stats table of every running container, and the followed
logs of all of them merged into one stream (what ``docker stats`` and ``docker compose logs -f``
do, and what users otherwise write by hand).

Both are driven by a :class:`ContainerWatch` (events first, then a listing), so containers join
as they start and leave as they stop or are removed, without polling. Each member container has
its own stream (``GET /containers/{id}/stats``, ``GET /containers/{id}/logs?follow=1``), opened
when it joins, concurrently with the others, and read by its own task; the tasks are owned by the
table (or the merged stream) and are cancelled, and their connections closed, when it is closed.
One member's stream failing (the container was removed meanwhile, its log driver cannot be read)
makes that member leave, with the reason; it never ends the whole. Only a failure of the watch
itself (the event stream broke and could not resume) ends it, after the items already buffered.

What the member tasks produce goes through one bounded buffer, with the event hub's slow-consumer
policies (:data:`~aiodockersock._hub.SlowPolicy`): ``"wait"`` holds the producing member's stream
back until there is room (backpressure on that container's connection only; the daemon keeps a
followed log in its file, so nothing is lost); ``"drop_oldest"`` drops the oldest buffered item
and counts it in ``dropped``; ``"disconnect"`` ends the iteration with :class:`SubscriberTooSlow`
after the items already buffered. The stats table's rows are updated before an update is
buffered, so :attr:`StatsTable.rows` is current whatever the consumer's pace.

The module takes what it needs from the containers area as callables (listing, one sample,
opening a stream, inspecting), as the watch takes a lister: it imports no area.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable, Generator
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

import anyio
import msgspec
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._args import cancel
from ._bodies import JSONStream, LogStream
from ._exceptions import DockerError, NotFound, StreamClosed, SubscriberTooSlow
from ._hub import SlowPolicy, check_buffer
from ._resource import Resource
from ._watch import ContainerChange, ContainerWatch
from .models.containers import ContainerInspect, ContainerSummary
from .models.stats import ContainerStats

__all__ = [
    "MergedLogs", "StatsRow", "StatsTable", "StatsUpdate", "TaggedLogLine",
    "sample_all",
]

T = TypeVar("T")

#: Makes the watch that drives membership (``containers.watch(label=…)``, not started).
WatchFactory = Callable[[], ContainerWatch]
#: Lists the running containers (``containers.list(filters=…)``).
RunningLister = Callable[[], Awaitable[list[ContainerSummary]]]
#: One sample of one container (``containers.stats``).
Sampler = Callable[[str], Awaitable[ContainerStats]]
#: A container's stats stream (``containers.stats_stream``).
StatsOpener = Callable[[str], JSONStream[ContainerStats]]
#: A container's followed log: (id, since, tail) → ``containers.logs(id, follow=True, …)``.
LogOpener = Callable[[str, str | None, int | str | None], LogStream]
#: ``containers.inspect``.
Inspector = Callable[[str], Awaitable[ContainerInspect]]

# the states in which a container has a live cgroup and output (docker stats lists both)
_LIVE = frozenset({"running", "paused"})
_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")


class StatsRow(msgspec.Struct, frozen=True):
    """One container's line of a stats table.

    Attributes:
        id: the container's id.
        name: its name, without the leading slash.
        stats: its latest sample (``cpu_percent``, ``memory_usage`` …); ``None`` until the
            first one arrives (a container that has just joined).
        image: the image it runs, as listed.
    """

    id: str
    name: str
    stats: ContainerStats | None = None
    image: str | None = None


class StatsUpdate(msgspec.Struct, frozen=True):
    """A change to a live stats table (what iterating a :class:`StatsTable` yields).

    Attributes:
        kind: ``"joined"`` (a container started or was there at first; no sample yet),
            ``"sample"`` (a new sample) or ``"left"`` (it stopped, was removed, or its stream
            failed: see ``reason``).
        id: the container's id.
        name: its name, without the leading slash.
        stats: the sample (``"sample"`` only).
        reason: why it left (``"exited"``, ``"removed"``, or the error of its stream).
    """

    kind: Literal["joined", "sample", "left"]
    id: str
    name: str
    stats: ContainerStats | None = None
    reason: str | None = None


class TaggedLogLine(msgspec.Struct, frozen=True):
    """One line of output of one of many containers (what a :class:`MergedLogs` yields).

    Attributes:
        id: the container's id.
        name: its name, without the leading slash.
        stream: ``"stdout"`` or ``"stderr"`` (a TTY container's output is all ``"stdout"``).
        text: the line without its line ending.
        timestamp: the daemon's RFC 3339 timestamp, when asked for with ``timestamps=True``.
    """

    id: str
    name: str
    stream: str
    text: str
    timestamp: str | None = None


def _left_as(state: str | None) -> str:
    """Why a container left, from the state it is in (``"removing"`` is as good as gone)."""
    return "removed" if state == "removing" else state or "stopped"


def _name(summary: ContainerSummary) -> str:
    names = summary.names or []
    return names[0].lstrip("/") if names else (summary.id or "")[:12]


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


async def sample_all(list_running: RunningLister, sample: Sampler) -> list[StatsRow]:
    """One sample of every running container, all taken at once (``docker stats --no-stream``).

    Containers that are removed while they are sampled are left out.

    Returns:
        One row per container, sorted by name.
    """
    listed = [c for c in await list_running() if c.id is not None]

    async def one(summary: ContainerSummary) -> StatsRow | None:
        assert summary.id is not None
        try:
            stats = await sample(summary.id)
        except NotFound:  # removed since the listing
            return None
        return StatsRow(summary.id, _name(summary), stats, summary.image)

    tasks = [asyncio.ensure_future(one(c)) for c in listed]
    try:
        rows = await asyncio.gather(*tasks)
    except BaseException:
        await cancel(*tasks)
        raise
    return sorted((r for r in rows if r is not None), key=lambda r: (r.name, r.id))


class _Member:
    """One container taking part: its task and the stream the task reads."""

    __slots__ = ("id", "image", "initial", "name", "row", "stopping", "stream", "task")

    def __init__(self, summary: ContainerSummary, initial: bool) -> None:
        assert summary.id is not None
        self.id: str = summary.id
        self.name = _name(summary)
        self.image = summary.image
        self.initial = initial  # in the first listing (logs: ``tail`` applies)
        self.row = StatsRow(self.id, self.name, None, self.image)
        self.stopping = False  # the watch saw it stop (logs: its stream is being drained)
        self.stream: Resource | None = None
        self.task: asyncio.Task[None] | None = None

    def close(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
        if self.stream is not None:
            self.stream.close()


class _Fleet(Resource, Generic[T]):
    """What the stats table and the merged logs share: the watch that drives membership, the
    member tasks, and the one bounded buffer with its slow-consumer policy."""

    def __init__(self, watch: WatchFactory, *, maxsize: int, policy: SlowPolicy) -> None:
        check_buffer(maxsize, policy)
        self._make_watch = watch
        self._maxsize = maxsize
        #: what happens when the buffer is full (``"wait"``, ``"drop_oldest"``, ``"disconnect"``)
        self.policy: SlowPolicy = policy
        #: items dropped because the consumer fell behind (``"drop_oldest"``)
        self.dropped = 0
        self._watch: ContainerWatch | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._members: dict[str, _Member] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._send: MemoryObjectSendStream[T] | None = None
        self._receive: MemoryObjectReceiveStream[T] | None = None
        self._oldest: MemoryObjectReceiveStream[T] | None = None
        self._error: BaseException | None = None
        self._entered = False
        self._stopping: list[asyncio.Task[None]] = []

    # -- lifecycle -------------------------------------------------------------------------

    async def _enter(self) -> None:
        if self._entered or self._closed:
            raise StreamClosed(f"{self._resource_name} can be entered once")
        self._entered = True
        self._send, self._receive = anyio.create_memory_object_stream[T](self._maxsize)
        if self.policy == "drop_oldest":
            self._oldest = self._receive.clone()
        watch = self._watch = self._make_watch()
        try:
            await watch.start()  # subscribed, then listed: nothing can fall in between
        except BaseException:
            self.close()
            raise
        for summary in watch.containers:  # the first listing joins at once
            if summary.id is not None and summary.state in _LIVE:
                self._join(summary, initial=True)
        self._supervisor = asyncio.create_task(
            self._follow(watch), name="aiodockersock-many-watch")

    def _release(self) -> None:
        tasks = list(self._tasks)
        if self._supervisor is not None:
            tasks.append(self._supervisor)
            self._supervisor.cancel()
            self._supervisor = None
        for member in list(self._members.values()):
            member.close()
        self._members.clear()
        for task in self._tasks:
            task.cancel()
        self._stopping.extend(t for t in tasks if not t.done())
        if self._watch is not None:
            self._watch.close()
        for stream in (self._send, self._receive, self._oldest):
            if stream is not None:
                stream.close()

    def _holds(self) -> bool:
        return (self._supervisor is not None or bool(self._tasks)
                or (self._watch is not None and not self._watch.closed))

    async def aclose(self) -> None:
        """Close it: every member's stream is closed and its task has ended when this returns;
        an iteration in progress ends with ``StreamClosed``."""
        self.close()
        stopping, self._stopping = self._stopping, []
        if stopping:
            await asyncio.shield(asyncio.wait(stopping))
            for task in stopping:
                if not task.cancelled():
                    task.exception()  # retrieved (a member's error is reported when it leaves)

    # -- consuming -------------------------------------------------------------------------

    def __aiter__(self) -> _Fleet[T]:
        return self

    async def __anext__(self) -> T:
        if not self._entered:
            if self._closed:
                raise StreamClosed(f"{self._resource_name} is closed")
            await self._enter()
        receive = self._receive
        assert receive is not None
        try:
            try:
                item = receive.receive_nowait()
            except anyio.WouldBlock:
                item = await receive.receive()
        except anyio.EndOfStream:
            if self._error is not None:
                raise self._error from None
            raise StopAsyncIteration from None
        except anyio.ClosedResourceError:
            raise StreamClosed(f"{self._resource_name} was closed") from None
        return item

    @property
    def buffered(self) -> int:
        """Items waiting in the buffer."""
        receive = self._receive
        if receive is None or self._closed:
            return 0
        return receive.statistics().current_buffer_used

    @property
    def members(self) -> dict[str, str]:
        """The containers taking part now: id → name."""
        return {m.id: m.name for m in self._members.values()}

    # -- producing -------------------------------------------------------------------------

    async def _deliver(self, item: T) -> None:
        send = self._send
        assert send is not None
        try:
            send.send_nowait(item)
            return
        except anyio.WouldBlock:
            pass
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return
        if self.policy == "wait":
            with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                await send.send(item)
        elif self.policy == "drop_oldest":
            assert self._oldest is not None
            self._oldest.receive_nowait()
            self.dropped += 1
            send.send_nowait(item)
        else:
            self._fail(SubscriberTooSlow(
                f"the consumer of {self._resource_name} fell {self._maxsize} items behind "
                "and was disconnected (policy 'disconnect')"
            ))

    def _fail(self, error: BaseException) -> None:
        """End the iteration with ``error`` (after what is buffered) and stop every stream."""
        if self._error is None:
            self._error = error
        current = asyncio.current_task()
        for member in list(self._members.values()):
            if member.task is not current:
                member.close()
            elif member.stream is not None:  # its task ends at its next read
                member.stream.close()
        self._members.clear()
        if self._supervisor is not None and self._supervisor is not current:
            self._supervisor.cancel()
        if self._watch is not None:
            self._watch.close()
        if self._send is not None:
            self._send.close()

    async def _follow(self, watch: ContainerWatch) -> None:
        """The supervisor: apply each change of the watch to the membership."""
        try:
            async for change in watch:
                await self._apply(change)
        except DockerError as exc:
            self._fail(exc)
        else:
            if self._send is not None:
                self._send.close()

    async def _apply(self, change: ContainerChange) -> None:
        member = self._members.get(change.id)
        if change.kind == "removed":
            if member is not None:
                await self._stopped(member, "removed")
            return
        if change.container.state in _LIVE:
            if member is None or member.stopping:
                self._join(change.container, initial=False)
            else:
                member.name = _name(change.container)  # renamed, perhaps
            return
        if member is not None:
            await self._stopped(member, _left_as(change.container.state))

    def _join(self, summary: ContainerSummary, *, initial: bool) -> None:
        member = _Member(summary, initial)
        self._members[member.id] = member
        task = asyncio.create_task(
            self._member(member), name=f"aiodockersock-many-{member.id[:12]}")
        member.task = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _member(self, member: _Member) -> None:
        """What a member's task does (per kind)."""
        raise NotImplementedError

    async def _stopped(self, member: _Member, state: str) -> None:
        """The watch saw a member stop or go (``state``: ``"exited"``, ``"removed"`` …)."""
        raise NotImplementedError

    async def _left(self, member: _Member, reason: str) -> None:
        """A member leaves (removed, or its stream ended or failed)."""
        if self._members.get(member.id) is member:
            del self._members[member.id]
        if member.task is not asyncio.current_task():
            member.close()
        elif member.stream is not None:
            member.stream.close()


class StatsTable(_Fleet[StatsUpdate]):
    """Live resource usage of every running container, as ``docker stats`` shows it.

    Made by ``docker.containers.stats_all()``::

        async with docker.containers.stats_all() as table:
            async for update in table:        # "joined", "sample" or "left"
                for row in table.rows:        # the whole table, current
                    print(row.name, row.stats and row.stats.cpu_percent)

    ``await docker.containers.stats_all()`` is the one-shot form (``docker stats
    --no-stream``): one sample of every running container, all taken at once.

    Attributes:
        policy: what happens when the update buffer is full.
        dropped: updates dropped because the consumer fell behind (``"drop_oldest"``); the
            rows are current all the same.
    """

    _resource_name = "a stats table"

    def __init__(
        self, watch: WatchFactory, open_stats: StatsOpener, list_running: RunningLister,
        sample: Sampler, inspect: Inspector, *, maxsize: int = 1024,
        policy: SlowPolicy = "drop_oldest",
    ) -> None:
        super().__init__(watch, maxsize=maxsize, policy=policy)
        self._open_stats = open_stats
        self._list_running = list_running
        self._sample = sample
        self._inspect = inspect

    @property
    def rows(self) -> list[StatsRow]:
        """Every running container's row, sorted by name (``stats`` is ``None`` until its first
        sample)."""
        return sorted((m.row for m in self._members.values()), key=lambda r: (r.name, r.id))

    async def read(self) -> list[StatsRow]:
        """One sample of every running container, all taken at once (``docker stats
        --no-stream``); containers removed meanwhile are left out.

        ``GET /containers/json``, then ``GET /containers/{id}/stats?stream=false`` for each.

        Returns:
            One row per container, sorted by name.
        """
        return await sample_all(self._list_running, self._sample)

    def __await__(self) -> Generator[Any, None, list[StatsRow]]:
        return self.read().__await__()

    def _join(self, summary: ContainerSummary, *, initial: bool) -> None:
        old = self._members.get(summary.id or "")
        if old is not None:
            old.close()
        super()._join(summary, initial=initial)
        member = self._members[summary.id or ""]
        self._emit_nowait(StatsUpdate("joined", member.id, member.name))

    def _emit_nowait(self, update: StatsUpdate) -> None:
        # membership changes from synchronous code: through the policy, in a task if it waits
        send = self._send
        if send is None:
            return
        try:
            send.send_nowait(update)
        except anyio.WouldBlock:
            task = asyncio.ensure_future(self._deliver(update))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass

    async def _member(self, member: _Member) -> None:
        stream = self._open_stats(member.id)
        member.stream = stream
        try:
            async with stream:
                async for sample in stream:
                    if self._members.get(member.id) is not member:
                        return
                    member.row = StatsRow(member.id, member.name, sample, member.image)
                    await self._deliver(StatsUpdate("sample", member.id, member.name, sample))
            reason = await self._why_ended(member.id)
        except NotFound:
            reason = "removed"
        except DockerError as exc:  # its connection broke …: it leaves, the others go on
            reason = _reason(exc)
        await self._left(member, reason)

    async def _why_ended(self, cid: str) -> str:
        # the daemon ends a stats stream when the container goes, often before its event
        try:
            info = await self._inspect(cid)
        except NotFound:
            return "removed"
        state = info.state.status if info.state is not None else None
        return "its stats stream ended" if state in _LIVE or not state else _left_as(state)

    async def _stopped(self, member: _Member, state: str) -> None:
        await self._left(member, state)

    async def _left(self, member: _Member, reason: str) -> None:
        current = self._members.get(member.id) is member
        await super()._left(member, reason)
        if current:
            await self._deliver(StatsUpdate("left", member.id, member.name, reason=reason))


class MergedLogs(_Fleet[TaggedLogLine]):
    """The followed output of many containers, merged into one stream of tagged lines, as
    ``docker compose logs -f`` shows it.

    Made by ``docker.containers.logs_all()``::

        async with docker.containers.logs_all(label="app=web") as logs:
            async for line in logs:
                print(f"{line.name} | {line.text}")

    The containers running when it starts give their last ``tail`` lines first; a container
    that starts later is followed from the start of that run (a restarted container's earlier
    runs are not repeated). A container's stream ends when it stops, after its last line. A
    run so short that it has ended before the watch looks at the container is not followed.

    Attributes:
        policy: what happens when the line buffer is full.
        dropped: lines dropped because the consumer fell behind (``"drop_oldest"``).
        failures: the containers whose stream failed (id → the error); they left.
    """

    _resource_name = "a merged log stream"

    def __init__(
        self, watch: WatchFactory, open_logs: LogOpener, inspect: Inspector, *,
        tail: int | str | None = "all", maxsize: int = 1024, policy: SlowPolicy = "wait",
    ) -> None:
        super().__init__(watch, maxsize=maxsize, policy=policy)
        self._open_logs = open_logs
        self._inspect = inspect
        self._tail = tail
        self.failures: dict[str, DockerError] = {}

    async def _member(self, member: _Member) -> None:
        try:
            await self._follow_output(member)
        except DockerError as exc:  # removed meanwhile, no readable log driver …: it leaves
            self.failures[member.id] = exc
            await self._left(member, _reason(exc))
            return
        await self._left(member, "exited")
        if self._closed or self._error is not None or self._members.get(member.id) is not None:
            return
        # it may have been started again before the watch told (a quick restart): follow the
        # new run if so; the watch joins it otherwise
        with contextlib.suppress(NotFound):
            info = await self._inspect(member.id)
            if info.state is not None and info.state.running and member.id not in self._members:
                summary = ContainerSummary(id=member.id, names=[member.name],
                                           image=member.image, state="running")
                self._join(summary, initial=False)

    async def _follow_output(self, member: _Member) -> None:
        since: str | None = None
        tail = self._tail
        if not member.initial:  # from the start of this run: after the previous one finished
            info = await self._inspect(member.id)
            since = _after_previous_run(info)
            tail = None
        stream = self._open_logs(member.id, since, tail)
        member.stream = stream
        async with stream:
            async for line in stream.lines():
                await self._deliver(
                    TaggedLogLine(member.id, member.name, line.stream, line.text, line.timestamp))

    async def _stopped(self, member: _Member, state: str) -> None:
        member.stopping = True  # its stream ends by itself after its last line: let it drain


def _after_previous_run(info: ContainerInspect) -> str | None:
    """``since`` for a container's current run: just after its previous run finished (the
    daemon keeps ``FinishedAt`` of the last run while it runs again), ``None`` for a first
    run. Not ``StartedAt``: the daemon records it after the process may have written."""
    finished = info.state.finished_at if info.state is not None else None
    match = _RFC3339.fullmatch(finished or "")
    if match is None or finished is None or finished.startswith("0001-"):
        return None
    stamp, frac, zone = match.groups()
    when = datetime.fromisoformat(stamp + ("+00:00" if zone == "Z" else zone))
    nanos = int(when.timestamp()) * 1_000_000_000 + int((frac or "0").ljust(9, "0")) + 1
    seconds, rest = divmod(nanos, 1_000_000_000)
    return f"{seconds}.{rest:09d}"
