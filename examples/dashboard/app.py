"""A live Docker dashboard: FastAPI, aiodockersock and one page of plain JavaScript.

The page (``index.html``, no build step, nothing from a CDN) lists the containers and keeps the
list current from the daemon's events, which it receives as Server-Sent Events; each row has
Start and Stop buttons.

Run it (the engine is ``DOCKER_HOST``, or ``/var/run/docker.sock``)::

    pip install 'aiodockersock[fastapi]'
    python examples/dashboard/app.py --port 8000      # then open http://127.0.0.1:8000/

Security. Whoever can use this page controls the daemon, and the daemon is root on its host;
the example has no login, so it is only safe where nobody else can reach it:

- It listens on 127.0.0.1 only. ``--host`` with another address refuses to start unless you
  also name the host names it may be reached by (``--allowed-host``) — and then anyone who can
  reach that address controls your containers: put real authentication in front of it first.
- It answers only requests whose ``Host`` header is one of its own names (``localhost``,
  ``127.0.0.1``, ``[::1]``, and ``--allowed-host``): a page on another site can point its own
  domain name at 127.0.0.1 (DNS rebinding) and would otherwise read the container list.
- It refuses a state-changing request (``POST``) sent by a page of another origin (its
  ``Origin``, or ``Sec-Fetch-Site``, says so): any site you visit could otherwise stop your
  containers with a hidden form (cross-site request forgery).
- The event stream carries only the attributes the page shows: labels often hold secrets.

Routes:
    GET  /                              the page
    GET  /api/containers                every container, running or not
    GET  /api/containers/{id}           one container (404 when it is gone)
    POST /api/containers/{id}/start     start it
    POST /api/containers/{id}/stop      stop it
    GET  /api/events                    container events, as text/event-stream
"""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Iterable, Sequence
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from aiodockersock import APIError, InvalidArgument
from aiodockersock.integrations.fastapi import (
    DockerDep,
    docker_lifespan,
    event_stream_response,
)
from aiodockersock.integrations.sse import keep_attributes
from aiodockersock.models import ContainerSummary

INDEX = Path(__file__).with_name("index.html")

#: The names this app answers to when no other is allowed (any port).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
#: The request methods that change something, refused from another origin.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: What the page uses of an event (the rest, labels included, never leaves the server).
EVENT_ATTRIBUTES = ("name", "image", "exitCode")


def _host_name(host: str) -> str:
    """``Host`` without its port, lower-cased (``[::1]:8000`` → ``[::1]``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class LocalOnly:
    """ASGI middleware: refuse a foreign ``Host`` (DNS rebinding) and cross-origin writes (CSRF).

    Args:
        app: the app it protects.
        allowed_hosts: the host names (no port) the app may be reached by.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(_host_name(h) for h in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan (the dashboard has no websockets)
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if _host_name(host) not in self.allowed:
            refusal = PlainTextResponse(
                f"refused: Host {host!r} is not one of this dashboard's names", status_code=400)
            await refusal(scope, receive, send)
            return
        if scope["method"] in UNSAFE_METHODS:
            why = _cross_origin(headers, scope.get("scheme", "http"), host)
            if why is not None:
                await PlainTextResponse(f"refused: {why}", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _cross_origin(headers: dict[str, str], scheme: str, host: str) -> str | None:
    """Why this request comes from another origin, or ``None`` when it does not.

    Browsers send ``Origin`` with every POST; ``Sec-Fetch-Site`` with every request of a modern
    one. A request with neither is not a browser's (curl): no other site can have made it.
    """
    origin = headers.get("origin")
    if origin is not None:
        if origin.lower() != f"{scheme}://{host}".lower():
            return f"a request from the page of another origin ({origin})"
        return None
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return f"a request from another site (Sec-Fetch-Site: {site})"
    return None


class ContainerRow(BaseModel):
    """One row of the page's table."""

    id: str
    name: str
    image: str
    state: str
    status: str


class Outcome(BaseModel):
    """What a start or stop did: ``changed`` is false when it was already so."""

    id: str
    changed: bool


def _row(summary: ContainerSummary) -> ContainerRow:
    names = summary.names or []
    return ContainerRow(
        id=summary.id or "",
        name=names[0].lstrip("/") if names else (summary.id or "")[:12],
        image=summary.image or "",
        state=summary.state or "",
        status=summary.status or "",
    )


def create_app(
    docker_host: str | None = None, *, heartbeat: float = 15.0,
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
) -> FastAPI:
    """The dashboard app.

    Args:
        docker_host: the engine's address; ``None`` reads ``DOCKER_HOST`` (then the default
            socket).
        heartbeat: seconds between keep-alive comments on a quiet event stream.
        allowed_hosts: the names (without port) in a ``Host`` header it answers to.
    """
    app = FastAPI(
        title="aiodockersock dashboard",
        lifespan=docker_lifespan(docker_host, redact=keep_attributes(*EVENT_ATTRIBUTES)),
    )
    app.add_middleware(LocalOnly, allowed_hosts=allowed_hosts)

    @app.exception_handler(APIError)
    async def engine_error(request: Request, exc: APIError) -> JSONResponse:
        status = exc.status if 400 <= exc.status < 600 else 502
        return JSONResponse({"detail": exc.message}, status_code=status)

    @app.exception_handler(InvalidArgument)
    async def bad_argument(request: Request, exc: InvalidArgument) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(INDEX, media_type="text/html")

    @app.get("/api/containers")
    async def list_containers(docker: DockerDep) -> list[ContainerRow]:
        return [_row(c) for c in await docker.containers.list(all=True)]

    @app.get("/api/containers/{cid}")
    async def one_container(cid: str, docker: DockerDep) -> ContainerRow:
        # the listing's fields (state, "Up 3 seconds"), for just this container
        found = await docker.containers.list(all=True, filters={"id": cid})
        match = [c for c in found if c.id == cid] or found
        if not match:
            raise HTTPException(404, f"no such container: {cid}")
        return _row(match[0])

    @app.post("/api/containers/{cid}/start")
    async def start(cid: str, docker: DockerDep) -> Outcome:
        return Outcome(id=cid, changed=await docker.containers.start(cid))

    @app.post("/api/containers/{cid}/stop")
    async def stop(cid: str, docker: DockerDep) -> Outcome:
        return Outcome(id=cid, changed=await docker.containers.stop(cid))

    @app.get("/api/events")
    async def events(request: Request) -> StreamingResponse:
        return event_stream_response(
            request, filters={"type": "container"}, heartbeat=heartbeat, retry=1000
        )

    return app


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; exits with a message when it would expose the daemon.

    Args:
        argv: the arguments (``None``: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--docker-host", default=None, help="default: DOCKER_HOST")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="a further host name the page may be reached by (repeatable)")
    args = parser.parse_args(argv)
    if not _is_loopback(args.host) and not args.allowed_host:
        parser.error(
            f"--host {args.host} would let anyone who reaches it control the Docker daemon "
            "(root on this machine) without logging in; put authentication in front of it, "
            "then name the host names it is reached by with --allowed-host"
        )
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run the dashboard with uvicorn (see the module's docstring for the options)."""
    import uvicorn

    args = parse_args(argv)
    app = create_app(args.docker_host, allowed_hosts=[*LOOPBACK_HOSTS, *args.allowed_host])
    # the event streams end as soon as uvicorn begins to shut down (the lifespan sees it)
    uvicorn.run(app, host=args.host, port=args.port, timeout_graceful_shutdown=3)


if __name__ == "__main__":
    main()
