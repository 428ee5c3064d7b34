"""aiohttp.web: one Docker client per app (``cleanup_ctx`` + an ``AppKey``) and live events as SSE.

::

    from aiohttp import web
    from aiodockersock.integrations.aiohttp import event_stream_response, get_docker, setup_docker

    async def containers(request: web.Request) -> web.Response:
        docker = get_docker(request)                  # the app's one client
        return web.json_response([c.id for c in await docker.containers.list()])

    async def events(request: web.Request) -> web.StreamResponse:
        return await event_stream_response(request, filters={"type": "container"})

    app = web.Application()
    setup_docker(app)                                  # DOCKER_HOST, or setup_docker(app, "unix://…")
    app.add_routes([web.get("/containers", containers), web.get("/events", events)])

The client is made at startup and closed at cleanup. At shutdown the open event streams are
ended first (``on_shutdown``; each gets ``event: broken``), so that the server does not wait
for them.

Security: whoever reaches these routes controls the daemon, which is root on its host.
Authentication belongs in a middleware that runs before every handler that uses Docker — the
event stream included — so that a refused request never reaches the daemon::

    @web.middleware
    async def require_user(request, handler):
        if not authorized(request):
            raise web.HTTPUnauthorized()
        return await handler(request)

    app = web.Application(middlewares=[require_user])

``setup_docker(app, redact=keep_attributes("name", "image"))`` rewrites or drops every event
before a browser sees it: labels often carry secrets. See the Security guide for the Host and
Origin checks a browser-facing app needs as well.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any, Final

from aiohttp import web

from .._client import Docker
from .._hub import SlowPolicy
from ..events import EventFilters
from .sse import SSE_HEADERS, SSE_MEDIA_TYPE, SharedDocker

__all__ = [
    "DOCKER_KEY",
    "docker_context",
    "event_stream_response",
    "get_docker",
    "get_shared_docker",
    "setup_docker",
]

#: Where an app keeps its :class:`SharedDocker`: ``app[DOCKER_KEY]``.
DOCKER_KEY: Final = web.AppKey("aiodockersock", SharedDocker)


def docker_context(
    url: str | None = None, **options: Any
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx`` entry: the app's :class:`SharedDocker` from startup to cleanup.

    ``setup_docker(app)`` appends it (and an ``on_shutdown`` hook); use it directly to choose
    its place among your own contexts: ``app.cleanup_ctx.append(docker_context())``.

    Args:
        url: the daemon's address (``None``: ``DOCKER_HOST``, then the default socket).
        **options: passed to :class:`SharedDocker` (``redact=``) and on to
            :class:`~aiodockersock.Docker`.
    """

    async def context(app: web.Application) -> AsyncIterator[None]:
        shared = SharedDocker(url, **options)
        app[DOCKER_KEY] = shared
        try:
            yield
        finally:
            await shared.aclose()

    return context


async def _end_streams(app: web.Application) -> None:
    shared = app.get(DOCKER_KEY)
    if shared is not None:
        await shared.close_streams()


def setup_docker(app: web.Application, url: str | None = None, **options: Any) -> None:
    """Give ``app`` one Docker client, opened at startup and closed at cleanup.

    Open event streams are ended on shutdown, before aiohttp waits for handlers to finish.

    Args:
        app: the application (not yet started).
        url: the daemon's address (``None``: ``DOCKER_HOST``, then the default socket).
        **options: passed to :class:`SharedDocker` (``redact=``, a :data:`Redactor` applied to
            every event before a browser sees it) and on to :class:`~aiodockersock.Docker`
            (``api_version``, ``timeout``…).
    """
    app.cleanup_ctx.append(docker_context(url, **options))
    app.on_shutdown.append(_end_streams)


def get_shared_docker(request: web.Request | web.Application) -> SharedDocker:
    """The app's :class:`SharedDocker`.

    Raises:
        RuntimeError: the app has none (no ``setup_docker``, or it is not running).
    """
    app = request.app if isinstance(request, web.Request) else request
    shared = app.get(DOCKER_KEY)
    if shared is None:
        raise RuntimeError("this app has no Docker client: call setup_docker(app) before it starts")
    return shared


def get_docker(request: web.Request | web.Application) -> Docker:
    """The app's one :class:`~aiodockersock.Docker` client.

    Raises:
        RuntimeError: the app has none (see :func:`get_shared_docker`).
    """
    return get_shared_docker(request).docker


async def event_stream_response(
    request: web.Request, *, filters: EventFilters | None = None, heartbeat: float = 15.0,
    retry: int | None = None, maxsize: int = 1024, policy: SlowPolicy = "disconnect",
) -> web.StreamResponse:
    """Serve the daemon's events to this request as ``text/event-stream``, until it goes away.

    ``GET /events`` (one daemon connection per distinct ``filters`` for all clients).

    A browser's ``Last-Event-ID`` is honoured (the events it missed are replayed first). The
    messages are described in :mod:`aiodockersock.integrations.sse`. A client that disconnects
    is noticed at the latest at the next heartbeat; its subscription, and the daemon connection
    if it was the last one, are closed then.

    Args:
        request: the request.
        filters: as for ``docker.events()``, fixed per route.
        heartbeat: seconds of quiet after which a ``: keep-alive`` comment is sent.
        retry: milliseconds the browser should wait before reconnecting.
        maxsize: events buffered for this client.
        policy: when its buffer is full (see :meth:`SharedDocker.event_source`).

    Returns:
        The response, finished (return it from the handler).

    Raises:
        RuntimeError: the app has no client (see :func:`get_shared_docker`).
        InvalidArgument: ``heartbeat`` or ``retry`` is out of range.
    """
    body = get_shared_docker(request).event_source(
        filters=filters, last_event_id=request.headers.get("Last-Event-ID"), heartbeat=heartbeat,
        retry=retry, maxsize=maxsize, policy=policy,
    )
    response = web.StreamResponse(headers=SSE_HEADERS)
    response.content_type = SSE_MEDIA_TYPE
    async with aclosing(body) as chunks:
        await response.prepare(request)
        try:
            async for chunk in chunks:
                await response.write(chunk)
        except ConnectionResetError:  # the client went away
            return response
    await response.write_eof()
    return response
