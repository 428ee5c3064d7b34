"""``python -m aiodockersock``: a small command line that shows the library at work.

Commands: ``version``, ``info``, ``ps``, ``events``, ``demo`` (create and start a container while
the live event stream prints what happens, then clean up). ``--host`` (or ``DOCKER_HOST``) picks the
daemon; ``--json`` prints machine-readable output. Expected failures (no daemon, no such
container) print one line on stderr and exit non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import msgspec

from ._client import Docker
from ._exceptions import DockerError, InvalidArgument, NotFound
from .models.events import EventMessage

__all__ = ["format_event", "main"]

DEMO_IMAGES = ("aiodockersock-test/busybox:latest", "busybox:latest", "alpine:latest")


def _print_json(value: Any) -> None:
    sys.stdout.write(msgspec.json.encode(value).decode() + "\n")


def _age(created: int | None) -> str:
    if not created:
        return "?"
    seconds = max(0, int(time.time()) - created)
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} seconds ago"


async def _version(docker: Docker, args: argparse.Namespace) -> int:
    v = await docker.version()
    if args.json:
        _print_json(v)
        return 0
    print(f"Engine:      {v.version}")
    print(f"API version: {v.api_version} (min {v.min_api_version}); client uses "
          f"{docker.api_version}")
    print(f"OS/Arch:     {v.os}/{v.arch}  kernel {v.kernel_version}")
    print(f"Go version:  {v.go_version}  commit {v.git_commit}")
    for component in v.components or []:
        print(f"  {component.name}: {component.version}")
    return 0


async def _info(docker: Docker, args: argparse.Namespace) -> int:
    info = await docker.info()
    if args.json:
        _print_json(info)
        return 0
    print(f"Name:        {info.name}")
    print(f"Containers:  {info.containers} (running {info.containers_running}, "
          f"paused {info.containers_paused}, stopped {info.containers_stopped})")
    print(f"Images:      {info.images}")
    print(f"Server:      {info.server_version}  storage {info.driver}  cgroup "
          f"{info.cgroup_driver} v{info.cgroup_version}")
    print(f"OS:          {info.operating_system}  kernel {info.kernel_version}  "
          f"{info.ncpu} CPUs  {(info.mem_total or 0) / 2**30:.1f} GiB")
    print(f"Root dir:    {info.docker_root_dir}")
    return 0


async def _ps(docker: Docker, args: argparse.Namespace) -> int:
    containers = await docker.containers.list(all=args.all, filters=_filters(args.filter) or None)
    if args.json:
        _print_json(containers)
        return 0
    rows = [("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES")]
    for c in containers:
        command = c.command or ""
        if len(command) > 20:
            command = command[:19] + "…"
        rows.append((
            (c.id or "")[:12],
            c.image or "",
            f'"{command}"',
            _age(c.created),
            c.status or "",
            ",".join(n.lstrip("/") for n in c.names or []),
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _demo_line(ev: EventMessage) -> str:
    stamp = datetime.fromtimestamp((ev.time_nano or 0) / 1e9, timezone.utc)
    extra = f" exitCode={ev.exit_code}" if ev.exit_code is not None else ""
    return (f"  event {stamp:%H:%M:%S.%f} {ev.type} {ev.action:<8} {(ev.actor_id or '')[:12]} "
            f"name={ev.name}{extra}")


async def _demo(docker: Docker, args: argparse.Namespace) -> int:
    from .models.containers import ContainerCreateBody, HostConfig

    ping = await docker.ping()
    version = await docker.version()
    print(f"connected to {docker.url}: Docker {version.version}, API {ping.api_version} "
          f"(using {docker.api_version})")
    label = f"aiodockersock.demo={int(time.time() * 1000)}"
    config = ContainerCreateBody(
        image="",
        cmd=["sh", "-c", "echo hello from $(hostname); sleep 0.5; echo bye >&2; exit 3"],
        labels=dict([label.split("=", 1)]),
        host_config=HostConfig(network_mode="none"),
    )
    images = [args.image] if args.image else list(DEMO_IMAGES)
    events = docker.events(filters={"type": ["container"], "label": [label]})
    async with events:
        created = None
        for image in images:
            try:
                created = await docker.containers.create(
                    msgspec.structs.replace(config, image=image)
                )
                break
            except NotFound:
                continue
        if created is None or created.id is None:
            print(f"none of the images {', '.join(images)} is present; pull or import one "
                  "(or pass --image)", file=sys.stderr)
            return 1
        cid = created.id
        print(f"created container {cid[:12]} from {image}")
        seen = 0
        try:
            await docker.containers.start(cid)
            state = await docker.containers.inspect(cid)
            print(f"started: running={state.state and state.state.running} "
                  f"pid={state.state and state.state.pid}")
            async for ev in events:
                print(_demo_line(ev))
                seen += 1
                if ev.action == "die":
                    break
            waited = await docker.containers.wait(cid)
            logs = await docker.containers.logs(cid)
            print(f"exited with status {waited.status_code}")
            print(f"  stdout: {logs.stdout.decode().strip()!r}")
            print(f"  stderr: {logs.stderr.decode().strip()!r}")
        finally:
            await docker.containers.remove(cid, force=True)
        async for ev in events:
            print(_demo_line(ev))
            seen += 1
            if ev.action == "destroy":
                break
        print(f"removed {cid[:12]}; {seen} events seen live")
    return 0


def _filters(items: Sequence[str] | None) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidArgument(f"--filter takes KEY=VALUE (e.g. type=container), not {item!r}")
        filters.setdefault(key, []).append(value)
    return filters


def format_event(ev: EventMessage) -> str:
    """One line per event, as ``docker events`` prints it."""
    stamp = "?"
    if ev.time_nano is not None:
        seconds, nanos = divmod(ev.time_nano, 1_000_000_000)
        when = datetime.fromtimestamp(seconds, timezone.utc)
        stamp = f"{when:%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"
    attributes = (ev.actor.attributes if ev.actor is not None else None) or {}
    detail = ", ".join(f"{k}={v}" for k, v in sorted(attributes.items()))
    line = f"{stamp} {ev.type} {ev.action} {ev.actor_id or ''}"
    return f"{line} ({detail})" if detail else line


async def _events(docker: Docker, args: argparse.Namespace) -> int:
    stream = docker.events(
        since=args.since, until=args.until, filters=_filters(args.filter) or None
    )
    out = sys.stdout
    async with stream:
        async for ev in stream:
            if args.json:
                out.write(msgspec.json.encode(ev).decode() + "\n")
            else:
                out.write(format_event(ev) + "\n")
            out.flush()
    return 0


COMMANDS = {
    "version": _version,
    "info": _info,
    "ps": _ps,
    "events": _events,
    "demo": _demo,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aiodockersock", description="A typed asyncio client for the Docker Engine API."
    )
    parser.add_argument("--host", "-H", help="daemon address (default: DOCKER_HOST, then "
                        "unix:///var/run/docker.sock)")
    parser.add_argument("--api-version", default="auto", help="pin the API version (e.g. 1.45)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("version", "show the engine's version"),
                            ("info", "show system-wide information")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--json", action="store_true", help="print JSON")
    ps = sub.add_parser("ps", help="list containers")
    ps.add_argument("--all", "-a", action="store_true", help="include stopped containers")
    ps.add_argument("--filter", "-f", action="append", metavar="KEY=VALUE", help="filter")
    ps.add_argument("--json", action="store_true", help="print JSON")
    events = sub.add_parser("events", help="print the daemon's live events (Ctrl-C ends)")
    events.add_argument("--filter", "-f", action="append", metavar="KEY=VALUE",
                        help="filter, e.g. type=container, event=die, label=app=web")
    events.add_argument("--since", help="replay from: seconds since the epoch, a duration "
                        "before now (10m) or an ISO 8601 date-time")
    events.add_argument("--until", help="stop at this point (same forms as --since)")
    events.add_argument("--json", action="store_true", help="print one JSON object per line")
    demo = sub.add_parser(
        "demo", help="create and start a container while printing its live events, then clean up"
    )
    demo.add_argument("--image", help=f"image to run (default: first of {', '.join(DEMO_IMAGES)})")
    return parser


async def _run(args: argparse.Namespace) -> int:
    async with Docker(args.host, api_version=args.api_version) as docker:
        return await COMMANDS[args.command](docker, args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except DockerError as exc:
        print(f"aiodockersock: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into head
        return 0
