"""A small fake Docker daemon for faults a real one cannot be made to produce on demand.

It serves ``/_ping`` and ``GET /v*/events`` over a unix socket and behaves like dockerd where
that matters: it keeps a replay buffer of its last ``buffer_size`` events, replays those with
``timeNano >= since`` (inclusive, like the real one), honours ``until`` (ends the body cleanly)
and the ``type``/``event`` filters, then streams live events as they are published. Faults are
switched on per connection: the chunking of the body, a cut after N bytes (possibly mid-line),
raw bytes injected (malformed lines), an error status with a JSON or plain-text body.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

API_VERSION = "1.45"


def make_event(n: int, *, nano: int | None = None, action: str = "start", type_: str = "container",
               attributes: dict[str, str] | None = None) -> dict[str, Any]:
    """A realistic container event numbered ``n`` (its actor id and name carry the number)."""
    time_nano = nano if nano is not None else 1_700_000_000_000_000_000 + n * 1000
    cid = f"{n:064x}"
    attrs = {"image": "busybox:latest", "name": f"c{n}", "com.example.é": "ünïcode"}
    attrs.update(attributes or {})
    return {
        "status": action, "id": cid, "from": "busybox:latest",
        "Type": type_, "Action": action, "Actor": {"ID": cid, "Attributes": attrs},
        "scope": "local", "time": time_nano // 1_000_000_000, "timeNano": time_nano,
    }


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


@dataclass
class Connection:
    """What one /events request asked for."""

    query: dict[str, str]
    closed: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Plan:
    """Faults for the next connection (each connection pops one plan; default: none)."""

    chunk: int | Callable[[int], int] | None = None  # None: one event per chunk
    cut_after: int | None = None  # abort the connection after this many body bytes
    status: int | None = None  # answer with this error status instead
    error_body: bytes = b""
    content_type: str = "application/json"
    inject: bytes = b""  # raw bytes sent before the replay
    end_after_replay: bool = False  # end the body cleanly after the replay
    drop_when_blocked: bool = False  # like dockerd: drop live events a blocked reader won't take
    queue_size: int = 16  # with drop_when_blocked: the connection's queue (dockerd: 1024)


@dataclass
class Canned:
    """A canned answer for any other path (logs, stats, pulls…): these chunks, then the end of
    the body — or, with ``cut``, a dropped connection instead of the terminating chunk."""

    chunks: list[bytes]
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    cut: bool = False
    pause: float = 0.0  # seconds between the chunks and the end (or the cut)


class FakeDaemon:
    """Serve events on a unix socket. ``publish()`` adds live events."""

    def __init__(self, path: Path, *, buffer_size: int = 256) -> None:
        self.path = path
        self.buffer: list[dict[str, Any]] = []
        self._live: list[tuple[asyncio.Queue[dict[str, Any] | bytes], bool]] = []
        self.buffer_size = buffer_size
        self.plans: list[Plan] = []
        self.connections: list[Connection] = []
        self._runner: web.AppRunner | None = None
        self._idle_until = 0.0
        self.containers: list[dict[str, Any]] = []  # what GET /containers/json lists
        self.dropped = 0  # live events dropped for blocked connections (drop_when_blocked)
        self.canned: dict[str, Canned] = {}  # path without the version prefix -> answer

    @property
    def host(self) -> str:
        return f"unix://{self.path}"

    async def start(self) -> FakeDaemon:
        app = web.Application()
        app.router.add_get("/_ping", self._ping)
        app.router.add_get("/v{version}/events", self._events)
        app.router.add_get("/v{version}/containers/json", self._containers)
        app.router.add_route("*", "/v{version}/{tail:.*}", self._canned)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1,
                                    handler_cancellation=True)
        await self._runner.setup()
        await web.UnixSite(self._runner, str(self.path)).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def publish(self, *events: dict[str, Any]) -> None:
        """Publish events: into the replay buffer and every live connection's queue.

        A connection whose queue is full (drop_when_blocked) gets 100 ms to make room, as in
        dockerd's publisher, and then misses the event.
        """
        for event in events:
            self.buffer.append(event)
            del self.buffer[: max(0, len(self.buffer) - self.buffer_size)]
            for queue, drops in list(self._live):
                if not drops:
                    queue.put_nowait(event)
                    continue
                try:
                    await asyncio.wait_for(queue.put(event), 0.1)
                except asyncio.TimeoutError:
                    self.dropped += 1

    def forget(self) -> None:
        """Drop the replay buffer, as a restarted daemon has none."""
        self.buffer.clear()

    async def _ping(self, request: web.Request) -> web.Response:
        return web.Response(text="OK", headers={"Api-Version": API_VERSION, "OSType": "linux"})

    @staticmethod
    def _nanos(value: str | None) -> int | None:
        if not value:
            return None
        seconds, _, frac = value.partition(".")
        return int(seconds) * 1_000_000_000 + int((frac or "0").ljust(9, "0")[:9])

    def _matches(self, event: dict[str, Any], filters: dict[str, list[str]]) -> bool:
        if "type" in filters and event["Type"] not in filters["type"]:
            return False
        return not ("event" in filters and event["Action"] not in filters["event"])

    async def _events(self, request: web.Request) -> web.StreamResponse:
        plan = self.plans.pop(0) if self.plans else Plan()
        conn = Connection(dict(request.query))
        self.connections.append(conn)
        if plan.status is not None:
            return web.Response(status=plan.status, body=plan.error_body,
                                content_type=plan.content_type)
        since = self._nanos(request.query.get("since"))
        until = self._nanos(request.query.get("until"))
        filters: dict[str, list[str]] = json.loads(request.query.get("filters") or "{}")
        # subscribe before the replay, as dockerd does, so nothing falls between the two
        queue: asyncio.Queue[dict[str, Any] | bytes] = asyncio.Queue(
            plan.queue_size if plan.drop_when_blocked else 0
        )
        live = (queue, plan.drop_when_blocked)
        self._live.append(live)
        # like dockerd: no 'since', no replay
        replay = [e for e in self.buffer
                  if since is not None and e["timeNano"] >= since
                  and (until is None or e["timeNano"] <= until)]
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        sent = 0

        async def send(data: bytes) -> bool:
            """Write data in the planned chunking; False once the plan cuts the connection."""
            nonlocal sent
            pos = 0
            while pos < len(data):
                if plan.chunk is None:
                    size = len(data)
                elif isinstance(plan.chunk, int):
                    size = plan.chunk
                else:
                    size = plan.chunk(sent)
                piece = data[pos : pos + max(1, size)]
                if plan.cut_after is not None and sent + len(piece) > plan.cut_after:
                    piece = piece[: plan.cut_after - sent]
                    if piece:
                        await resp.write(piece)
                    assert request.transport is not None
                    request.transport.abort()  # no terminating chunk: a broken body
                    return False
                await resp.write(piece)
                sent += len(piece)
                pos += len(piece)
            return True

        try:
            if plan.inject and not await send(plan.inject):
                return resp
            # one write per event as dockerd does, or the whole replay in the planned chunks
            if plan.chunk is None:
                for event in replay:
                    if self._matches(event, filters) and not await send(encode(event)):
                        return resp
            else:
                blob = b"".join(encode(e) for e in replay if self._matches(e, filters))
                if not await send(blob):
                    return resp
            if until is not None or plan.end_after_replay:
                await resp.write_eof()
                return resp
            while True:
                item = await queue.get()
                if isinstance(item, bytes):
                    data = item
                elif self._matches(item, filters):
                    data = encode(item)
                else:
                    continue
                if not await send(data):
                    return resp
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            if live in self._live:
                self._live.remove(live)
            conn.closed.set()
        return resp

    async def _containers(self, request: web.Request) -> web.Response:
        filters: dict[str, list[str]] = json.loads(request.query.get("filters") or "{}")
        listed = [
            c for c in self.containers
            if all(i == c["Id"] for i in filters.get("id", []))
            and all(lb.split("=", 1)[0] in c.get("Labels", {}) for lb in filters.get("label", []))
        ]
        return web.json_response(listed)

    async def _canned(self, request: web.Request) -> web.StreamResponse:
        answer = self.canned.get("/" + request.match_info["tail"])
        if answer is None:
            return web.json_response({"message": "no canned answer"}, status=404)
        await request.read()
        resp = web.StreamResponse(headers={"Content-Type": answer.content_type, **answer.headers})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for chunk in answer.chunks:
            await resp.write(chunk)
        await asyncio.sleep(answer.pause)
        if answer.cut:
            assert request.transport is not None
            request.transport.abort()
            return resp
        await resp.write_eof()
        return resp

    async def send_raw(self, line: bytes) -> None:
        """Send raw bytes to every live connection (e.g. a malformed line)."""
        for queue, _ in self._live:
            queue.put_nowait(line)


def now_nano() -> int:
    return time.time_ns()
