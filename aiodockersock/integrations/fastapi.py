"""FastAPI (and Starlette): one Docker client per app, handed to routes, and live events as SSE.

Needs the ``fastapi`` extra (``pip install 'aiodockersock[fastapi]'``)::

    from fastapi import FastAPI, Request
    from fastapi.responses import StreamingResponse
    from aiodockersock.integrations.fastapi import DockerDep, docker_lifespan, event_stream_response

    app = FastAPI(lifespan=docker_lifespan())        # DOCKER_HOST, or docker_lifespan("unix://…")

    @app.get("/containers")
    async def containers(docker: DockerDep) -> list[str]:
        return [c.id for c in await docker.containers.list() if c.id]

    @app.get("/events")                              # EventSource("/events") in the browser
    async def events(request: Request) -> StreamingResponse:
        return event_stream_response(request, filters={"type": "container"})

The client is made at startup and closed at shutdown; every request gets the same one. With a
lifespan of your own, enter :func:`shared_docker` inside it instead of ``docker_lifespan``.

Security: whoever reaches these routes controls the daemon, which is root on its host.
Authentication belongs in FastAPI's dependencies, on every route that uses Docker — the event
stream included — so that a refused request never reaches the daemon::

    router = APIRouter(dependencies=[Depends(require_user)])   # raises HTTPException(401)

``redact=`` (``docker_lifespan(redact=keep_attributes("name", "image"))``) rewrites or drops
every event before a browser sees it: labels often carry secrets. See the Security guide for
the Host and Origin checks a browser-facing app needs as well.

Shutdown: uvicorn waits for open responses before it runs the lifespan's shutdown, and an event
stream never ends by itself. Under uvicorn the streams are therefore ended (each with
``event: broken``, which makes a browser reconnect elsewhere or later) as soon as the server
begins to shut down: the lifespan watches the ``should_exit`` flag of the uvicorn server whose
signal handler is installed. Under another server call :meth:`SharedDocker.close_streams` when
its shutdown begins, or give it a graceful-shutdown timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from fastapi.responses import StreamingResponse
from starlette.applications import Starlette

from .._client import Docker
from .._hub import SlowPolicy
from ..events import EventFilters
from .sse import SSE_HEADERS, SSE_MEDIA_TYPE, SharedDocker

__all__ = [
    "STATE_KEY",
    "DockerDep",
    "SharedDockerDep",
    "docker_lifespan",
    "event_stream_response",
    "get_docker",
    "get_shared_docker",
    "shared_docker",
]

#: The attribute of ``app.state`` that holds the app's :class:`SharedDocker`.
STATE_KEY: Final = "aiodockersock"

_SHUTDOWN_POLL: Final = 0.1  # seconds between looks at the server's should_exit


def _serving_server() -> Any | None:
    """The uvicorn ``Server`` serving this process, found through its signal handler (uvicorn
    installs its bound ``handle_exit`` while it serves, in the main thread); ``None`` when
    another server, or none, handles the signal."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        owner = getattr(signal.getsignal(sig), "__self__", None)
        if isinstance(getattr(owner, "should_exit", None), bool):
            return owner
    return None


async def _end_streams_on_shutdown(shared: SharedDocker, server: Any) -> None:
    # uvicorn offers no event to wait on: the flag is all there is
    while not server.should_exit:  # noqa: ASYNC110
        await asyncio.sleep(_SHUTDOWN_POLL)
    await shared.close_streams()


@asynccontextmanager
async def shared_docker(
    app: Starlette, url: str | None = None, **options: Any
) -> AsyncIterator[SharedDocker]:
    """Open the app's :class:`SharedDocker` for as long as the block runs, then close it.

    For an app with a lifespan of its own::

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            async with shared_docker(app, "unix:///run/docker.sock"):
                yield

    Under uvicorn, the event streams are ended as soon as the server begins to shut down (see
    the module's docstring).

    Args:
        app: the application; the client is stored in ``app.state``.
        url: the daemon's address (``None``: ``DOCKER_HOST``, then the default socket).
        **options: passed to :class:`SharedDocker` (``redact=``) and on to
            :class:`~aiodockersock.Docker`.
    """
    shared = SharedDocker(url, **options)
    setattr(app.state, STATE_KEY, shared)
    server = _serving_server()
    watcher = (
        asyncio.ensure_future(_end_streams_on_shutdown(shared, server))
        if server is not None else None
    )
    try:
        yield shared
    finally:
        try:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            await shared.aclose()
        finally:
            delattr(app.state, STATE_KEY)


def docker_lifespan(
    url: str | None = None, **options: Any
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """A lifespan for ``FastAPI(lifespan=...)``: one shared client from startup to shutdown.

    Args:
        url: the daemon's address (``None``: ``DOCKER_HOST``, then the default socket).
        **options: passed to :class:`SharedDocker` (``redact=``, a :data:`Redactor` applied to
            every event before a browser sees it) and on to :class:`~aiodockersock.Docker`
            (``api_version``, ``timeout``…).
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with shared_docker(app, url, **options):
            yield

    return lifespan


def get_shared_docker(request: Request) -> SharedDocker:
    """The app's :class:`SharedDocker`.

    A plain function, for middleware and the like; in routes use ``SharedDockerDep``, whose
    dependency is ``async`` (FastAPI runs a plain dependency in its thread pool on every request).

    Raises:
        RuntimeError: the app has none (no ``docker_lifespan``/``shared_docker``, or it is not
            running).
    """
    shared = getattr(request.app.state, STATE_KEY, None)
    if not isinstance(shared, SharedDocker):
        raise RuntimeError(
            "this app has no Docker client: create it with FastAPI(lifespan=docker_lifespan()) "
            "or enter shared_docker(app) in your own lifespan"
        )
    return shared


def get_docker(request: Request) -> Docker:
    """The app's one :class:`~aiodockersock.Docker` client.

    A plain function; in routes use ``DockerDep`` (an ``async`` dependency, see
    :func:`get_shared_docker`).

    Raises:
        RuntimeError: the app has none (see :func:`get_shared_docker`).
    """
    return get_shared_docker(request).docker


async def _shared_docker_dependency(request: Request) -> SharedDocker:
    # async: FastAPI awaits it in the event loop instead of sending it to a worker thread
    return get_shared_docker(request)


async def _docker_dependency(request: Request) -> Docker:
    return get_shared_docker(request).docker


#: A route parameter annotated with this gets the app's client: ``docker: DockerDep``.
DockerDep = Annotated[Docker, Depends(_docker_dependency)]
#: A route parameter annotated with this gets the app's :class:`SharedDocker`.
SharedDockerDep = Annotated[SharedDocker, Depends(_shared_docker_dependency)]


def event_stream_response(
    request: Request, *, filters: EventFilters | None = None, heartbeat: float = 15.0,
    retry: int | None = None, maxsize: int = 1024, policy: SlowPolicy = "disconnect",
) -> StreamingResponse:
    """A ``text/event-stream`` response of the daemon's events, from the app's shared hub.

    ``GET /events`` (one daemon connection per distinct ``filters`` for all clients).

    A browser's ``Last-Event-ID`` (sent when ``EventSource`` reconnects) is honoured: the
    events it missed are replayed first. The messages are described in
    :mod:`aiodockersock.integrations.sse`; the daemon connection is given up when the client
    disconnects.

    Args:
        request: the request (for the app's client and the ``Last-Event-ID`` header).
        filters: as for ``docker.events()``, fixed per route.
        heartbeat: seconds of quiet after which a ``: keep-alive`` comment is sent.
        retry: milliseconds the browser should wait before reconnecting.
        maxsize: events buffered for this client.
        policy: when its buffer is full (see :meth:`SharedDocker.event_source`).

    Raises:
        RuntimeError: the app has no client (see :func:`get_shared_docker`).
        InvalidArgument: ``heartbeat`` or ``retry`` is out of range.
    """
    body = get_shared_docker(request).event_source(
        filters=filters, last_event_id=request.headers.get("last-event-id"), heartbeat=heartbeat,
        retry=retry, maxsize=maxsize, policy=policy,
    )
    return StreamingResponse(body, media_type=SSE_MEDIA_TYPE, headers=dict(SSE_HEADERS))
