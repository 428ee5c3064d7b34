"""The commands: one coroutine each (in the order of ``--help``), taking the client and the
parsed arguments and returning the exit status."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import shutil
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec

from .. import (
    BuildError,
    BuildProgress,
    Conflict,
    Docker,
    DockerError,
    Fleet,
    InvalidArgument,
    NotFound,
    ProgressError,
    StatsRow,
)
from .._args import shielded
from ..models import (
    ContainerCreateBody,
    ContainerSummary,
    HostConfig,
    HostDown,
    HostEvent,
    HostGap,
    HostUp,
    LogFrame,
)
from .render import (
    BuildDisplay,
    LineSplitter,
    OutputLine,
    PullDisplay,
    age,
    demo_line,
    format_event,
    one_line,
    print_json,
    print_table,
    relay,
    short_image,
    since,
    stats_line,
    stats_table,
    warn,
)
from .tasks import cancel
from .terminal import DetachWatch, feed_stdin, follow_resizes, raw_terminal, terminal_size

__all__ = ["COMMANDS", "DEMO_IMAGES", "FLEET_COMMANDS", "Command", "FleetCommand"]

#: The images ``demo`` tries, in this order, when ``--image`` is not given.
DEMO_IMAGES = ("aiodockersock-test/busybox:latest", "busybox:latest", "alpine:latest")

#: A command: the client and the parsed arguments in, the exit status out.
Command = Callable[[Docker, argparse.Namespace], Awaitable[int]]


async def _version(docker: Docker, args: argparse.Namespace) -> int:
    v = await docker.version()
    if args.json:
        print_json(v)
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
        print_json(info)
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
    containers = await docker.containers.list(all=args.all, filters=_filters(args.filter))
    if args.json:
        print_json(containers)
        return 0
    rows: list[tuple[str, ...]] = [
        ("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES")
    ]
    rows += [_ps_row(c) for c in containers]
    print_table(rows)
    return 0


def _ps_row(c: ContainerSummary) -> tuple[str, ...]:
    command = c.command or ""
    if len(command) > 20:
        command = command[:19] + "…"
    return (
        (c.id or "")[:12],
        c.image or "",
        f'"{command}"',
        age(c.created),
        c.status or "",
        ",".join(n.lstrip("/") for n in c.names or []),
    )


async def _fleet_ps(fleet: Fleet, args: argparse.Namespace) -> int:
    filters = _filters(args.filter)
    listed = await fleet.gather(lambda d: d.containers.list(all=args.all, filters=filters))
    if args.json:
        for host, result in listed.values_ok.items():
            for c in result:
                print_json({"Host": host, **msgspec.to_builtins(c)})
    else:
        rows: list[tuple[str, ...]] = [
            ("HOST", "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES")
        ]
        for host, result in listed.values_ok.items():
            rows += [(host, *_ps_row(c)) for c in result]
        print_table(rows)
    for host, error in listed.errors.items():  # the others' rows are printed all the same
        warn(f"{host}: {one_line(error)}")
    return 1 if listed.errors else 0


async def _inspect(docker: Docker, args: argparse.Namespace) -> int:
    found: list[Any] = []
    missing: list[str] = []
    for name in args.names:
        obj: Any = None
        if args.type in (None, "container"):
            with contextlib.suppress(NotFound):
                obj = await docker.containers.inspect(name, size=args.size)
        if obj is None and args.type in (None, "image"):
            with contextlib.suppress(NotFound):
                obj = await docker.images.inspect(name)
        if obj is None:
            missing.append(name)
        else:
            found.append(obj)
    encoded = msgspec.json.encode(found)
    print((encoded if args.json else msgspec.json.format(encoded, indent=4)).decode(), flush=True)
    for name in missing:
        warn(f"no such {args.type or 'container or image'}: {name}")
    return 1 if missing else 0


def _env(items: Sequence[str] | None) -> list[str] | None:
    """``-e NAME=value`` as given; ``-e NAME`` takes NAME from our environment (or is
    dropped if it is not set there), as the Docker CLI does; ``None`` for none."""
    env = []
    for item in items or []:
        name, sep, _ = item.partition("=")
        if not name:
            raise InvalidArgument(f"-e takes NAME=value or NAME, not {item!r}")
        if sep:
            env.append(item)
        elif name in os.environ:
            env.append(f"{name}={os.environ[name]}")
    return env or None


async def _remove(docker: Docker, cid: str, *ignored: type[DockerError]) -> None:
    """Remove a container even if we are being cancelled; the errors ``ignored`` are dropped."""
    with contextlib.suppress(*ignored):
        await shielded(docker.containers.remove(cid, force=True))


async def _run(docker: Docker, args: argparse.Namespace) -> int:
    body = ContainerCreateBody(
        image=args.image,
        cmd=list(args.cmd) or None,
        env=_env(args.env),
        working_dir=args.workdir,
        user=args.user,
        stop_timeout=args.stop_timeout,
        host_config=HostConfig(
            network_mode=args.network, auto_remove=True if args.rm and args.detach else None
        ),
    )
    created = await docker.containers.create(body, name=args.name)
    for warning in created.warnings or []:
        warn(f"warning: {warning}")
    cid = created.id
    assert cid is not None
    if not args.detach:
        return await _run_attached(docker, args, cid)
    try:
        await docker.containers.start(cid)
    except BaseException:
        if args.rm:  # it may have removed itself already
            await _remove(docker, cid, DockerError)
        raise
    if args.json:
        print_json(created)
    else:
        print(cid, flush=True)
    return 0


async def _run_attached(docker: Docker, args: argparse.Namespace, cid: str) -> int:
    splitter = LineSplitter() if args.json else None

    async def relay_all() -> None:
        async for frame in output:
            if splitter is None:
                relay(frame)
            else:
                for line in splitter.feed(frame):
                    print_json(line)

    # attached before it starts, so no output can be missed (as `docker run` does)
    output = docker.containers.attach(cid)
    relaying: asyncio.Future[None] | None = None
    try:
        await output.open()
        await docker.containers.start(cid)
        relaying = asyncio.ensure_future(relay_all())
        await asyncio.shield(relaying)  # Ctrl-C interrupts the waiting, not the relaying
        waited = await docker.containers.wait(cid)
    except asyncio.CancelledError:
        await shielded(_interrupted(docker, cid, relaying, args))
        raise
    except BaseException:
        if args.rm:
            await _remove(docker, cid, DockerError)
        raise
    finally:
        if relaying is not None:
            await cancel(relaying)
        await output.aclose()
    if args.rm:
        await _remove(docker, cid, NotFound)
    code = waited.status_code if waited.status_code is not None else 1
    if splitter is not None:
        for line in splitter.flush():
            print_json(line)
        print_json({"id": cid, "exit_code": code, "removed": args.rm})
    return code


async def _interrupted(
    docker: Docker, cid: str, relaying: asyncio.Future[None] | None, args: argparse.Namespace
) -> None:
    """Ctrl-C during an attached run: stop the container (its stop signal, then SIGKILL after
    its stop timeout, or at once on a second Ctrl-C), relaying what it writes meanwhile (say,
    how it shuts down), then remove it with ``--rm``."""
    if sys.stderr.isatty():
        warn(f"stopping {cid[:12]} (Ctrl-C again to kill it)")
    stopping = asyncio.ensure_future(docker.containers.stop(cid))
    hurried = asyncio.ensure_future(args.hurry.wait())
    try:
        await asyncio.wait({stopping, hurried}, return_when=asyncio.FIRST_COMPLETED)
        if not stopping.done():
            with contextlib.suppress(Conflict, NotFound):
                await docker.containers.kill(cid)
        with contextlib.suppress(NotFound):
            await stopping
    finally:
        await cancel(stopping, hurried)
    if relaying is not None:
        await asyncio.wait([relaying], timeout=5)  # the output ends as the container stops
    if args.rm:  # Conflict: being removed already
        await _remove(docker, cid, NotFound, Conflict)


async def _logs(docker: Docker, args: argparse.Namespace) -> int:
    stream = docker.containers.logs(
        args.container, follow=args.follow, tail=args.tail, timestamps=args.timestamps
    )
    async with stream:
        if args.json:
            async for line in stream.lines():
                print_json(OutputLine(line.stream, line.text, line.timestamp))
        else:
            async for frame in stream:
                relay(frame)
    return 0


async def _exec(docker: Docker, args: argparse.Namespace) -> int:
    if not args.cmd:
        raise InvalidArgument("exec needs a command to run: exec CONTAINER CMD [ARG…]")
    stdin_is_terminal = args.interactive and os.isatty(0)
    if args.tty and args.interactive and not stdin_is_terminal:
        raise InvalidArgument(
            "-t with -i needs a terminal on stdin (stdin is not a TTY); drop -t to pipe input"
        )
    stream = docker.execs.open(
        args.container,
        args.cmd,
        stdin=args.interactive,
        tty=args.tty,
        env=_env(args.env),
        workdir=args.workdir,
        user=args.user,
        console_size=terminal_size() if args.tty else None,
    )
    frames: list[LogFrame] | None = [] if args.json else None
    watch = DetachWatch() if args.tty else None

    async def relay_output() -> None:
        async for frame in stream:
            if frames is None:
                relay(frame)
            else:
                frames.append(frame)

    async with stream:
        with contextlib.ExitStack() as terminal:
            if args.tty and stdin_is_terminal:
                terminal.enter_context(raw_terminal(0))
                terminal.enter_context(follow_resizes(stream))
            output = asyncio.ensure_future(relay_output())
            tasks: set[asyncio.Future[None]] = {output}
            if args.interactive:
                feeding = feed_stdin(stream, tty=args.tty, watch=watch)
                tasks.add(asyncio.ensure_future(feeding))
            try:
                while not output.done():
                    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    for task in done - {output}:
                        task.result()  # the input side failed (e.g. TLS cannot half-close)
                        tasks.discard(task)
                output.result()
            finally:
                await cancel(*tasks)
        exec_id = stream.exec_id
    assert exec_id is not None
    if watch is not None and watch.seen:
        warn(f"detached from exec {exec_id[:12]}")
        return 0
    info = await docker.execs.wait(exec_id)
    # no exit code: the process never started (the Engine's reason is in the output)
    code = info.exit_code if info.exit_code is not None else 126
    if frames is not None:
        stdout = b"".join(f.data for f in frames if f.stream != "stderr")
        stderr = b"".join(f.data for f in frames if f.stream == "stderr")
        print_json({"id": exec_id, "exit_code": code, "stdout": stdout.decode("utf-8", "replace"),
                    "stderr": stderr.decode("utf-8", "replace")})
    return code


async def _pull(docker: Docker, args: argparse.Namespace) -> int:
    stream = docker.images.pull(args.image, platform=args.platform)
    display = None
    if not args.json:
        display = PullDisplay(sys.stdout, tty=sys.stdout.isatty(),
                              width=shutil.get_terminal_size().columns)
    async with stream:
        async for message in stream:
            if display is None:
                print_json(message)
            else:
                display.show(message)
    return 0


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


async def _which_builder(docker: Docker, args: argparse.Namespace) -> str:
    """``--builder``, else ``DOCKER_BUILDKIT`` (as the Docker CLI reads it), else BuildKit
    where it can be used: on Docker, with the ``buildkit`` extra installed; otherwise the
    classic builder, with a note saying why."""
    if args.builder:
        return str(args.builder)
    env = os.environ.get("DOCKER_BUILDKIT", "").strip().lower()
    if env in _TRUE or env in _FALSE:
        return "buildkit" if env in _TRUE else "classic"
    if env:
        raise InvalidArgument(f"DOCKER_BUILDKIT={env!r}: set it to 1 or 0 (or unset it)")
    from .._buildkit import require

    if (await docker.ping()).podman_version is not None:
        why = "Podman's service has no BuildKit"
    else:
        try:
            require()
            return "buildkit"
        except InvalidArgument as exc:
            why = str(exc)
    if not args.json and args.progress != "quiet":
        warn(f"note: {why}; building with the classic builder")
    return "classic"


async def _build(docker: Docker, args: argparse.Namespace) -> int:
    builder = await _which_builder(docker, args)
    tags: list[str] = args.tag or []
    buildargs = {k: v for k, v in args.build_arg or [] if v is not None}
    stream = docker.images.build(
        args.path, tag=tags, dockerfile=args.dockerfile, buildargs=buildargs or None,
        labels=dict(args.label or []) or None, target=args.target, nocache=args.no_cache,
        pull=args.pull, network_mode=args.network, platform=args.platform,
        quiet=builder == "classic" and args.progress == "quiet",
        builder="buildkit" if builder == "buildkit" else "classic",
        secrets=dict(args.secret or []) or None,
        ssh=dict(args.ssh or []) or None,
    )
    try:
        async with stream:
            if isinstance(stream, BuildProgress):
                display = BuildDisplay(sys.stdout) if args.progress == "plain" else None
                async for status in stream.statuses():
                    if args.json:
                        print_json(status)
                    elif display is not None:
                        display.show(status)
                if display is not None:
                    display.finish()
            else:
                pulls = PullDisplay(sys.stdout, tty=sys.stdout.isatty(),
                                    width=shutil.get_terminal_size().columns)
                async for message in stream:
                    if args.json:
                        print_json(message)
                    elif args.progress == "plain":
                        pulls.show(message)
            image_id = await stream
    except BuildError as exc:
        return _build_failed(exc, args)
    if args.json:
        print_json({"id": image_id, "tags": tags})
    elif args.progress == "quiet":
        print(image_id, flush=True)
    elif builder == "buildkit":  # the classic builder's own last lines say as much
        print(f"\nBuilt {image_id}", flush=True)
        for tag in tags:
            print(f"Tagged {tag}", flush=True)
    return 0


def _build_failed(exc: ProgressError, args: argparse.Namespace) -> int:
    """A failed BuildKit build: the step and its last output lines, as the Docker CLI shows
    them, then the error; exit 1."""
    step = getattr(exc, "step", None)
    output: list[str] = getattr(exc, "output", [])
    if args.json:
        print_json({"error": exc.message, "step": step, "output": output})
    elif step:
        block = "".join(f"{line}\n" for line in output)
        sys.stdout.flush()
        sys.stderr.write(f"------\n > {step}:\n{block}------\n")
    warn(f"{exc.operation} failed{f' at {step}' if step else ''}: {exc.message}")
    return 1


def _filters(items: Sequence[str] | None) -> dict[str, list[str]] | None:
    """``-f KEY=VALUE`` options as the Engine's filters; ``None`` for none."""
    filters: dict[str, list[str]] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidArgument(f"--filter takes KEY=VALUE (e.g. type=container), not {item!r}")
        filters.setdefault(key, []).append(value)
    return filters or None


async def _events(docker: Docker, args: argparse.Namespace) -> int:
    stream = docker.events(since=args.since, until=args.until, filters=_filters(args.filter))
    async with stream:
        async for ev in stream:
            if args.json:
                print_json(ev)
            else:
                print(format_event(ev), flush=True)
    return 0


async def _fleet_events(fleet: Fleet, args: argparse.Namespace) -> int:
    stream = fleet.events(since=args.since, until=args.until, filters=_filters(args.filter))
    down: set[str] = set()
    async with stream:
        async for item in stream:
            if isinstance(item, HostEvent):
                if args.json:
                    print_json({"Host": item.host, **msgspec.to_builtins(item.event)})
                else:
                    print(f"{item.host}   {format_event(item.event)}", flush=True)
            elif isinstance(item, HostDown):
                down.add(item.host)
                warn(f"{item.host} is down ({item.error}); retrying")
            elif isinstance(item, HostUp):
                if item.host in down:
                    warn(f"{item.host} is back")
                down.discard(item.host)
            elif isinstance(item, HostGap):
                warn(f"{item.host}: events may have been lost (it restarted, or output was slow)")
    return 1 if down else 0


#: How often ``stats`` redraws its table (the daemon samples once a second).
STATS_REFRESH = 1.0


def _show_stats(
    rows: Sequence[StatsRow], *, as_json: bool, redraw: bool, live: bool = True
) -> None:
    if as_json:
        for row in rows:
            line = stats_line(row)
            if line is not None:
                print_json(line)
        return
    if redraw:  # home and clear, as docker stats does on a terminal
        sys.stdout.write("\x1b[H\x1b[2J")
    print_table(stats_table(rows))
    if live and not redraw:  # one table after another: a blank line between them
        print()
    sys.stdout.flush()


async def _stats(docker: Docker, args: argparse.Namespace) -> int:
    label = args.label or None
    if args.no_stream:
        _show_stats(await docker.containers.stats_all(label=label), as_json=args.json,
                    redraw=False, live=False)
        return 0
    redraw = not args.json and sys.stdout.isatty()

    async def drain() -> None:  # the rows are kept current; the updates only wake us
        async for _ in table:
            pass

    async with docker.containers.stats_all(label=label) as table:
        draining = asyncio.ensure_future(drain())
        try:
            while True:
                await asyncio.wait([draining], timeout=STATS_REFRESH)
                if draining.done():
                    draining.result()  # the event stream failed: raise it
                    return 0
                _show_stats(table.rows, as_json=args.json, redraw=redraw)
        finally:
            await cancel(draining)


async def _service(docker: Docker, args: argparse.Namespace) -> int:
    command = {"ls": _service_ls, "ps": _service_ps, "logs": _service_logs}
    return await command[args.service_command](docker, args)


async def _service_ls(docker: Docker, args: argparse.Namespace) -> int:
    services = await docker.services.list(filters=_filters(args.filter), status=True)
    if args.json:
        print_json(services)
        return 0
    rows: list[tuple[str, ...]] = [("ID", "NAME", "MODE", "REPLICAS", "IMAGE")]
    for service in sorted(services, key=lambda s: s.name or ""):
        spec = service.spec
        mode = spec.mode if spec else None
        status = service.service_status
        counts = (f"{status.running_tasks}/{status.desired_tasks}" if status
                  else f"?/{service.replicas if service.replicas is not None else '?'}")
        task = spec.task_template if spec else None
        image = task.container_spec.image if task and task.container_spec else None
        rows.append((
            (service.id or "")[:12],
            service.name or "",
            "replicated" if mode is None or mode.replicated else
            "global" if mode.global_ is not None else "job",
            counts,
            short_image(image or ""),
        ))
    print_table(rows)
    return 0


async def _service_ps(docker: Docker, args: argparse.Namespace) -> int:
    service = await docker.services.inspect(args.service)  # NotFound names it
    filters: dict[str, list[str]] = {**(_filters(args.filter) or {}), "service": [service.id or ""]}
    tasks = await docker.tasks.list(filters=filters)
    tasks.sort(key=lambda t: t.created_at or "", reverse=True)
    tasks.sort(key=lambda t: (t.slot or 0, t.node_id or ""))  # by slot, newest first in each
    if args.json:
        print_json(tasks)
        return 0
    nodes = {node.id: node for node in await docker.nodes.list()}
    rows: list[tuple[str, ...]] = [
        ("ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR")
    ]
    for task in tasks:
        node = nodes.get(task.node_id)
        host = node.description.hostname if node and node.description else None
        status = task.status
        container = task.spec.container_spec if task.spec else None
        rows.append((
            (task.id or "")[:12],
            f"{service.name}.{task.slot if task.slot else (task.node_id or '')[:12]}",
            short_image(container.image if container and container.image else ""),
            host or (task.node_id or "")[:12],
            (task.desired_state or "").capitalize(),
            f"{(task.state or '').capitalize()} {since(status.timestamp if status else None)}",
            (status.err or "") if status else "",
        ))
    print_table(rows)
    return 0


async def _service_logs(docker: Docker, args: argparse.Namespace) -> int:
    stream = docker.services.logs(
        args.service, follow=args.follow, tail=args.tail, timestamps=args.timestamps
    )
    async with stream:
        if args.json:
            async for line in stream.lines():
                print_json(OutputLine(line.stream, line.text, line.timestamp))
        else:
            async for frame in stream:
                relay(frame)
    return 0


async def _demo(docker: Docker, args: argparse.Namespace) -> int:
    def say(text: str) -> None:
        if not args.json:
            print(text, flush=True)

    async def show_until(action: str) -> int:
        """Show the live events up to the first ``action`` one; returns how many."""
        seen = 0
        async for ev in events:
            seen += 1
            if args.json:
                print_json(ev)
            else:
                print(demo_line(ev), flush=True)
            if ev.action == action:
                break
        return seen

    ping = await docker.ping()
    version = await docker.version()
    say(f"connected to {docker.url}: Docker {version.version}, API {ping.api_version} "
        f"(using {docker.api_version})")
    label = f"aiodockersock.demo={int(time.time() * 1000)}"
    body = ContainerCreateBody(
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
            with contextlib.suppress(NotFound):
                created = await docker.containers.create(msgspec.structs.replace(body, image=image))
                break
        if created is None or created.id is None:
            warn(f"none of the images {', '.join(images)} is present; pull or import one "
                  "(or pass --image)")
            return 1
        cid = created.id
        say(f"created container {cid[:12]} from {image}")
        try:
            await docker.containers.start(cid)
            state = await docker.containers.inspect(cid)
            say(f"started: running={state.state and state.state.running} "
                f"pid={state.state and state.state.pid}")
            seen = await show_until("die")
            waited = await docker.containers.wait(cid)
            logs = await docker.containers.logs(cid)
            say(f"exited with status {waited.status_code}")
            say(f"  stdout: {logs.stdout.decode().strip()!r}")
            say(f"  stderr: {logs.stderr.decode().strip()!r}")
        finally:
            await shielded(docker.containers.remove(cid, force=True))
        seen += await show_until("destroy")
        say(f"removed {cid[:12]}; {seen} events seen live")
    return 0


async def _prune(docker: Docker, args: argparse.Namespace) -> int:
    try:
        from ..pytest_plugin import prune
    except ImportError as exc:
        if exc.name != "pytest":
            raise
        raise DockerError("prune needs pytest, which the fixtures it cleans up after came "
                          "with: pip install pytest") from exc
    pruned = await prune(
        docker, session=args.session, older_than=args.older_than, dry_run=args.dry_run
    )
    if args.json:  # what was (or would be) removed: container and network ids, volume names
        print_json({"dry_run": args.dry_run, **dataclasses.asdict(pruned)})
        return 0
    verb = "would remove" if args.dry_run else "removed"
    kinds = [("container", pruned.containers), ("network", pruned.networks),
             ("volume", pruned.volumes)]
    for kind, names in kinds:
        for name in names:
            print(f"{verb} {kind} {name}")
    print(verb, ", ".join(f"{len(names)} {kind}(s)" for kind, names in kinds))
    return 0


#: The commands by name (the parser in :mod:`.parser` declares their arguments).
#: A command over several engines (``-H``/``--context`` given more than once).
async def _node_ls(docker: Docker, args: argparse.Namespace) -> int:
    nodes = await docker.nodes.list(filters=_filters(args.filter))
    if args.json:
        print_json(nodes)
        return 0
    swarm = (await docker.info()).swarm
    me = swarm.node_id if swarm is not None else None
    rows: list[tuple[str, ...]] = [
        ("ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION")
    ]
    for node in sorted(nodes, key=lambda n: (n.hostname or "", n.id or "")):
        manager = node.manager_status
        engine = node.description.engine if node.description is not None else None
        rows.append((
            f"{node.id or ''}{' *' if node.id == me else ''}",
            node.hostname or "",
            (node.state or "").capitalize(),
            (node.availability or "").capitalize(),
            "Leader" if node.leader else (manager.reachability or "").capitalize()
            if manager is not None else "",
            (engine.engine_version or "") if engine is not None else "",
        ))
    print_table(rows)
    return 0


async def _swarm_init(docker: Docker, args: argparse.Namespace) -> int:
    node_id = await docker.swarm.init(
        advertise_addr=args.advertise_addr,
        listen_addr=args.listen_addr,
        data_path_port=args.data_path_port,
        force_new_cluster=args.force_new_cluster,
    )
    if args.autolock:
        await docker.swarm.update(autolock=True)
    swarm = await docker.swarm.inspect()
    tokens = swarm.join_tokens
    worker = tokens.worker if tokens is not None else None
    manager = tokens.manager if tokens is not None else None
    key = await docker.swarm.unlock_key() if args.autolock else None
    info = (await docker.info()).swarm
    managers = (info.remote_managers if info is not None else None) or []
    join_addr = managers[0].addr if managers else None
    if args.json:
        print_json({"node_id": node_id, "join_addr": join_addr, "worker_token": worker,
                    "manager_token": manager, "unlock_key": key})
        return 0
    print(f"Swarm initialized: current node ({node_id}) is now a manager.\n")
    print("To add a worker to this swarm, run the following command:\n")
    print(f"    docker swarm join --token {worker} {join_addr}\n")
    print("To add a manager, use the manager token instead: aiodockersock swarm init --json "
          "shows both.")
    if key:
        print(f"\nThe managers are locked after a restart; unlock them with this key:\n\n"
              f"    {key}")
    return 0


async def _swarm_leave(docker: Docker, args: argparse.Namespace) -> int:
    await docker.swarm.leave(force=args.force)
    if args.json:
        print_json({"left": True})
    else:
        print("Node left the swarm.")
    return 0


FleetCommand = Callable[[Fleet, argparse.Namespace], Awaitable[int]]

#: The commands that take several engines.
FLEET_COMMANDS: dict[str, FleetCommand] = {"ps": _fleet_ps, "events": _fleet_events}

COMMANDS: dict[str, Command] = {
    command.__name__.lstrip("_"): command
    for command in (_version, _info, _ps, _inspect, _run, _logs, _exec, _pull, _build, _events,
                    _stats, _service, _demo, _prune)
}
# commands with subcommands, as "COMMAND SUBCOMMAND"
COMMANDS.update({"node ls": _node_ls, "swarm init": _swarm_init, "swarm leave": _swarm_leave})
