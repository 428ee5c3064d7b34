"""``python -m aiodockersock``: a small command line that shows the library at work.

Commands: ``version``, ``info``, ``ps``, ``demo`` (create and start a container while the live
event stream prints what happens, then clean up). ``--host`` (or ``DOCKER_HOST``) picks the
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
from ._exceptions import DockerError, NotFound

__all__ = ["main"]

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
    filters: dict[str, list[str]] = {}
    for item in args.filter or []:
        key, _, value = item.partition("=")
        filters.setdefault(key, []).append(value)
    containers = await docker.containers.list(all=args.all, filters=filters or None)
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
        try:
            await docker.containers.start(cid)
            state = await docker.containers.inspect(cid)
            print(f"started: running={state.state and state.state.running} "
                  f"pid={state.state and state.state.pid}")
            seen = 0
            async for ev in events:
                stamp = datetime.fromtimestamp((ev.time_nano or 0) / 1e9, timezone.utc)
                print(f"  event {stamp:%H:%M:%S.%f} {ev.type} {ev.action} "
                      f"{(ev.actor.id if ev.actor else '') or ''}"[:80])
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
            print(f"  event {ev.type} {ev.action}")
            if ev.action == "destroy":
                break
        print(f"removed {cid[:12]}; {seen + 1} events seen live")
    return 0


COMMANDS = {"version": _version, "info": _info, "ps": _ps, "demo": _demo}


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
