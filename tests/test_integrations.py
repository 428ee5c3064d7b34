"""Web framework integrations (aiodockersock/integrations/): FastAPI and aiohttp apps that share
one client, and Docker events served as Server-Sent Events — against real engines, through real
servers and clients (SSE needs a real socket: httpx's ASGI transport buffers whole responses)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("httpx")

import httpx
import msgspec
import uvicorn
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient as AiohttpTestClient
from aiohttp.test_utils import TestServer
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import StreamingResponse
from starlette.requests import Request as StarletteRequest

from aiodockersock import Docker, InvalidArgument
from aiodockersock.integrations import (
    SharedDocker,
    encode_comment,
    encode_event,
    event_source,
    parse_last_event_id,
)
from aiodockersock.integrations import aiohttp as aiohttp_integration
from aiodockersock.integrations.fastapi import (
    STATE_KEY,
    DockerDep,
    SharedDockerDep,
    docker_lifespan,
    event_stream_response,
    get_docker,
)
from aiodockersock.models import EventActor, EventGap, EventMessage

from .conftest import ContainerFactory, EngineHandle

HEARTBEAT = 0.3  # seconds; short so that a vanished client is noticed quickly


# ---------------------------------------------------------------------------------------------
# helpers: a uvicorn server on a free port in this event loop, and an SSE parser
# ---------------------------------------------------------------------------------------------


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # leave pytest's signal handlers alone
        yield


@contextlib.asynccontextmanager
async def serve_uvicorn(app: Any, *, signals: bool = False,
                        graceful: int = 5) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (a free port) in this loop; yield its base URL.

    ``signals``: let uvicorn install its SIGINT/SIGTERM handlers for the duration, as
    ``uvicorn app:app`` does (restored afterwards). ``graceful``: its graceful-shutdown timeout."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server_class = uvicorn.Server if signals else _Server
    server = server_class(uvicorn.Config(app, lifespan="on", log_level="warning",
                                         timeout_graceful_shutdown=graceful))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            assert time.monotonic() < deadline, "uvicorn did not start"
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def sse_messages(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, str]]:
    """Parse an event stream: yields ``{"event", "id", "data"}`` messages and
    ``{"comment": …}`` for comments."""
    message: dict[str, str] = {}
    async for line in lines:
        line = line.rstrip("\r\n")
        if not line:
            if message:
                yield message
            message = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            message[name] = message[name] + "\n" + value if name in message else value


async def next_message(
    messages: AsyncIterator[dict[str, str]],
    match: Callable[[dict[str, str]], bool],
    timeout: float = 10.0,
) -> dict[str, str]:
    async def find() -> dict[str, str]:
        async for message in messages:
            if match(message):
                return message
        raise AssertionError("the event stream ended")

    return await asyncio.wait_for(find(), timeout)


def is_event(action: str, cid: str) -> Callable[[dict[str, str]], bool]:
    def match(m: dict[str, str]) -> bool:
        if m.get("event") != "container":
            return False
        data = json.loads(m["data"])
        return bool(data["Action"] == action and data["Actor"]["ID"] == cid)

    return match


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def listeners(docker: Docker) -> int:
    """Event connections the daemon holds open (``NEventsListener``)."""
    return (await docker.info()).n_events_listener or 0


async def has_listeners(docker: Docker, expected: int) -> bool:
    return await listeners(docker) == expected


async def httpx_lines(client: httpx.AsyncClient, url: str,
                      headers: dict[str, str] | None = None) -> AsyncIterator[str]:
    async with client.stream("GET", url, headers=headers) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        assert resp.headers["cache-control"] == "no-cache"
        async for line in resp.aiter_lines():
            yield line


# ---------------------------------------------------------------------------------------------
# the encoding (no engine)
# ---------------------------------------------------------------------------------------------


def test_an_event_is_one_message_with_its_time_nano_as_id() -> None:
    ev = EventMessage(type="container", action="start", time=1700000000,
                      time_nano=1700000000123456789)
    chunk = encode_event(ev)
    assert chunk.startswith(b"id: 1700000000123456789\nevent: container\ndata: {")
    assert chunk.endswith(b"}\n\n") and chunk.count(b"\n") == 4
    data = json.loads(chunk.split(b"data: ", 1)[1])
    assert data["Type"] == "container" and data["timeNano"] == 1700000000123456789
    gap = encode_event(EventGap(since_nano=5, until_nano=None, reconnects=1))
    assert gap.startswith(b"event: gap\ndata: ") and b"id:" not in gap
    assert encode_comment("a\nb") == b": a\n: b\n\n"


def test_last_event_id_is_parsed_strictly() -> None:
    assert parse_last_event_id("1700000000123456789") == 1700000000123456789
    for bad in (None, "", "0", "-5", "abc", "12.5", "9" * 30):
        assert parse_last_event_id(bad) is None


async def test_bad_options_are_refused_before_anything_opens() -> None:
    async with SharedDocker("unix:///nonexistent.sock") as shared:
        with pytest.raises(InvalidArgument):
            event_source(shared.docker, heartbeat=0)
        with pytest.raises(InvalidArgument):
            shared.event_source(retry=-1)


async def test_an_unreachable_daemon_is_reported_in_the_stream(tmp_path: Any) -> None:
    async with SharedDocker(f"unix://{tmp_path}/missing.sock") as shared:
        for body in (shared.event_source(retry=500), event_source(shared.docker, retry=500)):
            chunks = [chunk async for chunk in body]
            assert len(chunks) == 1 and chunks[0].startswith(b"retry: 500\n\nevent: broken\n")
            assert json.loads(chunks[0].split(b"data: ")[1])["error"] == "DockerConnectionError"
        assert shared.subscribers == 0


def test_a_route_without_the_lifespan_says_what_is_missing() -> None:
    app = FastAPI()
    request = StarletteRequest({"type": "http", "app": app, "headers": []})
    with pytest.raises(RuntimeError, match="docker_lifespan"):
        get_docker(request)


# ---------------------------------------------------------------------------------------------
# FastAPI
# ---------------------------------------------------------------------------------------------


def make_fastapi_app(engine: EngineHandle) -> FastAPI:
    app = FastAPI(lifespan=docker_lifespan(engine.host))

    @app.get("/client")
    async def client_id(docker: DockerDep) -> dict[str, Any]:
        return {"id": id(docker), "api": (await docker.version()).api_version}

    @app.get("/containers")
    async def containers(docker: DockerDep) -> list[str]:
        return [c.id or "" for c in await docker.containers.list(all=True)]

    @app.get("/streams")
    async def streams(shared: SharedDockerDep) -> dict[str, int]:
        return {"subscribers": shared.subscribers}

    @app.get("/events")
    async def events(request: Request) -> StreamingResponse:
        return event_stream_response(request, filters={"type": "container"},
                                     heartbeat=HEARTBEAT)

    return app


async def test_fastapi_one_client_per_app_closed_at_shutdown(engine: EngineHandle) -> None:
    app = make_fastapi_app(engine)
    async with serve_uvicorn(app) as base, httpx.AsyncClient(base_url=base, trust_env=False,
                                                            timeout=10) as client:
        shared = getattr(app.state, STATE_KEY)
        assert isinstance(shared, SharedDocker) and not shared.closed
        first, second = await asyncio.gather(client.get("/client"), client.get("/client"))
        assert first.json()["id"] == second.json()["id"] == id(shared.docker)  # the same one
        assert first.json()["api"] == engine.api_version
        assert (await client.get("/containers")).status_code == 200
    assert shared.closed  # the lifespan closed it (an unclosed session would fail this test)
    assert not hasattr(app.state, STATE_KEY)


async def test_fastapi_sse_delivers_a_start_event_and_lets_go_on_disconnect(
    engine: EngineHandle, docker: Docker, make_container: ContainerFactory
) -> None:
    app = make_fastapi_app(engine)
    baseline = await listeners(docker)
    async with serve_uvicorn(app) as base, httpx.AsyncClient(base_url=base, trust_env=False,
                                                            timeout=10) as client:
        shared: SharedDocker = getattr(app.state, STATE_KEY)
        one = sse_messages(httpx_lines(client, "/events"))
        two = sse_messages(httpx_lines(client, "/events"))
        for messages in (one, two):
            ready = await next_message(messages, lambda m: m.get("event") == "ready")
            assert json.loads(ready["data"]) == {"resumed": False}
        # two browsers, one daemon connection
        assert shared.subscribers == 2 and len(shared.hubs) == 1
        # dockerd answers before it registers the listener: its count catches up a moment later
        await eventually(lambda: has_listeners(docker, baseline + 1))

        cid = await make_container()
        started_at = time.monotonic()
        await docker.containers.start(cid)
        for messages in (one, two):
            msg = await next_message(messages, is_event("start", cid), timeout=5)
            assert time.monotonic() - started_at < 5
            assert msg["id"] == str(json.loads(msg["data"])["timeNano"])
        # a quiet stream gets keep-alive comments
        await next_message(one, lambda m: m.get("comment") == "keep-alive", timeout=3)

        await one.aclose()  # the first browser goes away: the connection stays for the second
        await eventually(lambda: shared.subscribers == 1)
        assert await listeners(docker) == baseline + 1
        await two.aclose()  # the last one goes: the daemon connection is closed
        await eventually(lambda: shared.subscribers == 0)
        assert all(hub.stream is None for hub in shared.hubs)
        await eventually(lambda: has_listeners(docker, baseline))
        assert (await client.get("/streams")).json() == {"subscribers": 0}
    assert shared.closed


async def test_fastapi_sse_resumes_from_last_event_id(
    engine: EngineHandle, docker: Docker, make_container: ContainerFactory
) -> None:
    app = make_fastapi_app(engine)
    cid = await make_container()
    async with serve_uvicorn(app) as base, httpx.AsyncClient(base_url=base, trust_env=False,
                                                            timeout=10) as client:
        messages = sse_messages(httpx_lines(client, "/events"))
        await next_message(messages, lambda m: m.get("event") == "ready")
        await docker.containers.start(cid)
        last_id = (await next_message(messages, is_event("start", cid)))["id"]
        await messages.aclose()
        # while the browser is away:
        await docker.containers.stop(cid, timeout=0)

        resumed = sse_messages(httpx_lines(client, "/events", {"Last-Event-ID": last_id}))
        ready = await next_message(resumed, lambda m: m.get("event") == "ready")
        assert json.loads(ready["data"]) == {"resumed": True}
        replayed: list[dict[str, str]] = []

        def until_die(m: dict[str, str]) -> bool:
            replayed.append(m)
            return is_event("die", cid)(m)

        await next_message(resumed, until_die)
        events = [m for m in replayed if "event" in m]
        assert all(m["event"] == "container" for m in events)  # no gap: the replay reached back
        assert all(int(m["id"]) > int(last_id) for m in events)  # the start is not sent again
        await resumed.aclose()

        # an id the daemon no longer remembers: a gap notice first, so the page re-lists
        old = sse_messages(httpx_lines(client, "/events", {"Last-Event-ID": "1000000000"}))
        await next_message(old, lambda m: m.get("event") == "ready")
        gap = await next_message(old, lambda m: "event" in m)
        assert gap["event"] == "gap" and json.loads(gap["data"])["since_nano"] == 1000000000
        await old.aclose()


async def test_event_source_on_its_own_connection_closes_it(
    docker: Docker, make_container: ContainerFactory
) -> None:
    baseline = await listeners(docker)
    body = event_source(docker, filters={"type": "container"}, heartbeat=HEARTBEAT)
    assert await listeners(docker) == baseline  # nothing opens before the first read
    ready = await anext(body)
    assert b"event: ready" in ready
    # (polled: once, on Docker 20.10, /info counted the new listener only a moment later)
    await eventually(lambda: has_listeners(docker, baseline + 1))
    cid = await make_container()
    await docker.containers.start(cid)

    async def lines() -> AsyncIterator[str]:
        async for chunk in body:
            for line in chunk.decode().split("\n"):
                yield line

    await next_message(sse_messages(lines()), is_event("start", cid), timeout=5)
    await body.aclose()
    await eventually(lambda: has_listeners(docker, baseline))


# ---------------------------------------------------------------------------------------------
# aiohttp.web
# ---------------------------------------------------------------------------------------------


def make_aiohttp_app(engine: EngineHandle) -> web.Application:
    async def client_id(request: web.Request) -> web.Response:
        docker = aiohttp_integration.get_docker(request)
        return web.json_response({"id": id(docker),
                                  "api": (await docker.version()).api_version})

    async def events(request: web.Request) -> web.StreamResponse:
        return await aiohttp_integration.event_stream_response(
            request, filters={"type": "container"}, heartbeat=HEARTBEAT)

    app = web.Application()
    aiohttp_integration.setup_docker(app, engine.host)
    app.add_routes([web.get("/client", client_id), web.get("/events", events)])
    return app


async def aiohttp_lines(resp: Any) -> AsyncIterator[str]:
    async for raw in resp.content:
        yield raw.decode()


async def test_aiohttp_one_client_per_app_closed_at_cleanup(engine: EngineHandle) -> None:
    app = make_aiohttp_app(engine)
    async with AiohttpTestClient(TestServer(app)) as client:
        shared = app[aiohttp_integration.DOCKER_KEY]
        first = await (await client.get("/client")).json()
        second = await (await client.get("/client")).json()
        assert first["id"] == second["id"] == id(shared.docker)
        assert first["api"] == engine.api_version
        assert aiohttp_integration.get_docker(app) is shared.docker
    assert shared.closed


async def test_aiohttp_sse_delivers_a_start_event_and_lets_go_on_disconnect(
    engine: EngineHandle, docker: Docker, make_container: ContainerFactory
) -> None:
    app = make_aiohttp_app(engine)
    baseline = await listeners(docker)
    async with AiohttpTestClient(TestServer(app)) as client:
        shared = app[aiohttp_integration.DOCKER_KEY]
        resp = await client.get("/events")
        assert resp.status == 200 and resp.content_type == "text/event-stream"
        messages = sse_messages(aiohttp_lines(resp))
        await next_message(messages, lambda m: m.get("event") == "ready")
        await eventually(lambda: has_listeners(docker, baseline + 1))  # dockerd counts it late

        cid = await make_container()
        await docker.containers.start(cid)
        msg = await next_message(messages, is_event("start", cid), timeout=5)
        assert msg["id"] == str(json.loads(msg["data"])["timeNano"])
        await next_message(messages, lambda m: m.get("comment") == "keep-alive", timeout=3)

        await messages.aclose()
        resp.close()  # the browser goes away
        await eventually(lambda: shared.subscribers == 0)
        assert all(hub.stream is None for hub in shared.hubs)
        await eventually(lambda: has_listeners(docker, baseline))
    assert shared.closed


async def test_aiohttp_shutdown_ends_open_event_streams(
    engine: EngineHandle, docker: Docker
) -> None:
    app = make_aiohttp_app(engine)
    server = TestServer(app)
    await server.start_server()
    async with ClientSession() as session:
        resp = await session.get(server.make_url("/events"))
        messages = sse_messages(aiohttp_lines(resp))
        await next_message(messages, lambda m: m.get("event") == "ready")
        started = time.monotonic()
        closing = asyncio.create_task(server.close())
        broken = await next_message(messages, lambda m: m.get("event") == "broken")
        assert json.loads(broken["data"])["error"] == "StreamClosed"
        await asyncio.wait_for(closing, 10)
        assert time.monotonic() - started < 5  # not held up by the open stream
        await messages.aclose()
        resp.close()
    assert app[aiohttp_integration.DOCKER_KEY].closed


# ---------------------------------------------------------------------------------------------
# safe by default: redaction, authentication, shutdown, no thread pool
# ---------------------------------------------------------------------------------------------

SECRET = "s3cr3t-token-value"


def drop_secret_label(event: EventMessage) -> EventMessage | None:
    """The test's redactor: remove the ``ads.secret`` label, keep everything else."""
    actor = event.actor
    if actor is None or not actor.attributes:
        return event
    attributes = {k: v for k, v in actor.attributes.items() if k != "ads.secret"}
    return msgspec.structs.replace(event, actor=msgspec.structs.replace(actor,
                                                                        attributes=attributes))


def test_keep_attributes_trims_the_actor_attributes() -> None:
    from aiodockersock.integrations import keep_attributes

    event = EventMessage(type="container", action="start", actor=EventActor(
        id="abc", attributes={"name": "web", "image": "alpine", "com.example.token": SECRET}))
    trimmed = keep_attributes("name", "image")(event)
    assert trimmed is not None and trimmed.actor is not None
    assert trimmed.actor.attributes == {"name": "web", "image": "alpine"}
    assert SECRET.encode() not in encode_event(trimmed)
    assert event.actor is not None and event.actor.attributes  # the original is unchanged
    assert keep_attributes("name")(EventMessage(type="image")) == EventMessage(type="image")


async def test_fastapi_redact_removes_a_label_before_the_browser(
    engine: EngineHandle, docker: Docker
) -> None:
    app = FastAPI(lifespan=docker_lifespan(engine.host, redact=drop_secret_label))

    @app.get("/events")
    async def events(request: Request) -> StreamingResponse:
        return event_stream_response(request, filters={"type": "container"},
                                     heartbeat=HEARTBEAT)

    cid = await _labelled_container(docker)
    try:
        async with serve_uvicorn(app) as base, httpx.AsyncClient(
                base_url=base, trust_env=False, timeout=10) as client:
            raw: list[str] = []

            async def lines() -> AsyncIterator[str]:
                async for line in httpx_lines(client, "/events"):
                    raw.append(line)
                    yield line

            await _start_and_check_redacted(docker, cid, lines(), raw)
    finally:
        await docker.containers.remove(cid, force=True)


async def _start_and_check_redacted(
    docker: Docker, cid: str, lines: AsyncIterator[str], raw: list[str]
) -> None:
    """Start the container once the stream is ready; its start event reaches the browser with
    the secret label removed, and the secret appears nowhere in what was sent."""
    messages = sse_messages(lines)
    await next_message(messages, lambda m: m.get("event") == "ready")
    await docker.containers.start(cid)
    msg = await next_message(messages, is_event("start", cid), timeout=5)
    attributes = json.loads(msg["data"])["Actor"]["Attributes"]
    assert "ads.secret" not in attributes and attributes["ads.visible"] == "yes"
    assert not any(SECRET in line for line in raw)
    await messages.aclose()


async def test_aiohttp_redact_removes_a_label_before_the_browser(
    engine: EngineHandle, docker: Docker
) -> None:
    async def events(request: web.Request) -> web.StreamResponse:
        return await aiohttp_integration.event_stream_response(
            request, filters={"type": "container"}, heartbeat=HEARTBEAT)

    app = web.Application()
    aiohttp_integration.setup_docker(app, engine.host, redact=drop_secret_label)
    app.add_routes([web.get("/events", events)])
    cid = await _labelled_container(docker)
    try:
        async with AiohttpTestClient(TestServer(app)) as client:
            resp = await client.get("/events")
            raw: list[str] = []

            async def lines() -> AsyncIterator[str]:
                async for line in aiohttp_lines(resp):
                    raw.append(line)
                    yield line

            await _start_and_check_redacted(docker, cid, lines(), raw)
            resp.close()
    finally:
        await docker.containers.remove(cid, force=True)


async def _labelled_container(docker: Docker) -> str:
    from .conftest import TEST_IMAGE, TEST_LABEL

    created = await docker.containers.create({
        "Image": TEST_IMAGE, "Cmd": ["sleep", "300"], "StopTimeout": 1,
        "Labels": {TEST_LABEL: "1", "ads.secret": SECRET, "ads.visible": "yes"},
        "HostConfig": {"NetworkMode": "none"},
    })
    assert created.id is not None
    return created.id


async def require_token(request: Request) -> None:
    """The documented place for authentication: a dependency on the router or the route."""
    if request.headers.get("authorization") != "Bearer good":
        raise HTTPException(401, "log in first")


async def test_fastapi_an_auth_dependency_refuses_the_event_stream(
    engine: EngineHandle, docker: Docker
) -> None:
    app = FastAPI(lifespan=docker_lifespan(engine.host), dependencies=[Depends(require_token)])

    @app.get("/events")
    async def events(request: Request) -> StreamingResponse:
        return event_stream_response(request, heartbeat=HEARTBEAT)

    baseline = await listeners(docker)
    async with serve_uvicorn(app) as base, httpx.AsyncClient(base_url=base, trust_env=False,
                                                            timeout=10) as client:
        shared: SharedDocker = getattr(app.state, STATE_KEY)
        refused = await client.get("/events")
        assert refused.status_code == 401 and refused.json() == {"detail": "log in first"}
        assert shared.hubs == [] and await listeners(docker) == baseline  # nothing opened
        allowed = sse_messages(httpx_lines(client, "/events", {"Authorization": "Bearer good"}))
        await next_message(allowed, lambda m: m.get("event") == "ready")
        await allowed.aclose()


async def test_aiohttp_an_auth_middleware_refuses_the_event_stream(
    engine: EngineHandle, docker: Docker
) -> None:
    @web.middleware
    async def require_user(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.headers.get("Authorization") != "Bearer good":
            raise web.HTTPUnauthorized(text="log in first")
        return await handler(request)  # type: ignore[no-any-return]

    async def events(request: web.Request) -> web.StreamResponse:
        return await aiohttp_integration.event_stream_response(request, heartbeat=HEARTBEAT)

    app = web.Application(middlewares=[require_user])
    aiohttp_integration.setup_docker(app, engine.host)
    app.add_routes([web.get("/events", events)])
    baseline = await listeners(docker)
    async with AiohttpTestClient(TestServer(app)) as client:
        shared = app[aiohttp_integration.DOCKER_KEY]
        refused = await client.get("/events")
        assert refused.status == 401 and await refused.text() == "log in first"
        assert shared.hubs == [] and await listeners(docker) == baseline
        resp = await client.get("/events", headers={"Authorization": "Bearer good"})
        messages = sse_messages(aiohttp_lines(resp))
        await next_message(messages, lambda m: m.get("event") == "ready")
        await messages.aclose()
        resp.close()


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_fastapi_shutdown_ends_open_event_streams_at_once(engine: EngineHandle) -> None:
    app = make_fastapi_app(engine)
    records = _Records()
    uvicorn_logger = logging.getLogger("uvicorn.error")
    uvicorn_logger.addHandler(records)
    graceful = 8
    try:
        client = httpx.AsyncClient(trust_env=False, timeout=20)
        async with client:
            server_cm = serve_uvicorn(app, signals=True, graceful=graceful)
            base = await server_cm.__aenter__()
            try:
                streams = [sse_messages(httpx_lines(client, base + "/events")) for _ in range(3)]
                for messages in streams:
                    await next_message(messages, lambda m: m.get("event") == "ready")
                started = time.monotonic()
                # what uvicorn's signal handler does on Ctrl-C; the server then shuts down
                stopping = asyncio.ensure_future(server_cm.__aexit__(None, None, None))
                for messages in streams:
                    broken = await next_message(messages, lambda m: m.get("event") == "broken",
                                                timeout=graceful + 5)
                    assert json.loads(broken["data"])["error"] == "StreamClosed"
                await asyncio.wait_for(stopping, graceful + 5)
                elapsed = time.monotonic() - started
            finally:
                if not stopping.done():
                    await stopping
            for messages in streams:
                await messages.aclose()
    finally:
        uvicorn_logger.removeHandler(records)
    assert elapsed < 2, f"shutdown took {elapsed:.1f}s (graceful timeout {graceful}s)"
    problems = [r for r in records.records if r.levelno >= logging.WARNING or r.exc_info]
    assert not problems, [r.getMessage() for r in problems]
    assert getattr(app.state, STATE_KEY, None) is None


def test_fastapi_dependencies_are_async() -> None:
    for annotated in (DockerDep, SharedDockerDep):
        dependency = annotated.__metadata__[0].dependency
        assert inspect.iscoroutinefunction(dependency), dependency


async def test_fastapi_routes_get_the_client_without_the_thread_pool(
    engine: EngineHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fastapi.dependencies.utils

    sent: list[Any] = []
    original = fastapi.dependencies.utils.run_in_threadpool

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(func)
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(fastapi.dependencies.utils, "run_in_threadpool", counting)
    app = make_fastapi_app(engine)
    async with serve_uvicorn(app) as base, httpx.AsyncClient(base_url=base, trust_env=False,
                                                            timeout=10) as client:
        assert (await client.get("/client")).status_code == 200
        assert (await client.get("/streams")).status_code == 200
    assert sent == []
