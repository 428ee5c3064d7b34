"""A live Docker dashboard: FastAPI, aiodockersock and one page of plain JavaScript.

The page (``index.html``, no build step, nothing from a CDN) lists the containers and keeps the
list current from the daemon's events, which it receives as Server-Sent Events; each row has
Start and Stop buttons.

Run it (the engine is ``DOCKER_HOST``, or ``/var/run/docker.sock``)::

    pip install 'aiodockersock[fastapi]'
    python examples/dashboard/app.py --port 8000      # then open http://127.0.0.1:8000/

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
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel

from aiodockersock import APIError, InvalidArgument
from aiodockersock.integrations.fastapi import (
    DockerDep,
    docker_lifespan,
    event_stream_response,
)
from aiodockersock.models import ContainerSummary

INDEX = Path(__file__).with_name("index.html")


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


def create_app(docker_host: str | None = None, *, heartbeat: float = 15.0) -> FastAPI:
    """The dashboard app.

    Args:
        docker_host: the engine's address; ``None`` reads ``DOCKER_HOST`` (then the default
            socket).
        heartbeat: seconds between keep-alive comments on a quiet event stream.
    """
    app = FastAPI(title="aiodockersock dashboard", lifespan=docker_lifespan(docker_host))

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


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--docker-host", default=None, help="default: DOCKER_HOST")
    args = parser.parse_args()
    # an event stream never ends by itself: do not let open tabs hold a shutdown up
    uvicorn.run(create_app(args.docker_host), host=args.host, port=args.port,
                timeout_graceful_shutdown=3)


if __name__ == "__main__":
    main()
