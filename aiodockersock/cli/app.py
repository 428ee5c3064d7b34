"""Running the command line: parse it, run the command in an event loop with Ctrl-C handled,
and turn the outcome into the exit status."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from .. import Docker, DockerError, Fleet, InvalidArgument
from .commands import COMMANDS, FLEET_COMMANDS
from .parser import build_parser
from .render import one_line
from .terminal import Interrupts

__all__ = ["main"]


async def _main(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    interrupts = Interrupts(task)
    args.hurry = interrupts.hurry
    handled = False
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, interrupts)
        handled = True
    hosts: list[str] = args.host or []
    contexts: list[str] = args.context or []
    try:
        if len(hosts) + len(contexts) > 1:
            return await _over_fleet(args, hosts, contexts)
        async with Docker(
            hosts[0] if hosts else None,
            context=contexts[0] if contexts else None,
            api_version=args.api_version,
        ) as docker:
            name = args.command
            if getattr(args, "subcommand", None):
                name = f"{name} {args.subcommand}"
            return await COMMANDS[name](docker, args)
    except asyncio.CancelledError:
        if interrupts.count:
            return 130
        raise
    finally:
        if handled:
            loop.remove_signal_handler(signal.SIGINT)


async def _over_fleet(args: argparse.Namespace, hosts: list[str], contexts: list[str]) -> int:
    command = FLEET_COMMANDS.get(args.command)
    if command is None:
        raise InvalidArgument(
            f"{args.command} takes one engine; -H/--context were given "
            f"{len(hosts) + len(contexts)} times (ps and events take several)"
        )
    names = hosts + contexts
    if len(set(names)) != len(names):
        raise InvalidArgument("an engine was named twice in -H/--context")
    entries = {url: url for url in hosts} | {name: name for name in contexts}
    for url in hosts:
        if "://" not in url:
            raise InvalidArgument(f"-H {url!r} is not an address; write unix:///path or tcp://HOST")
    async with Fleet(entries, api_version=args.api_version) as fleet:
        return await command(fleet, args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    check = getattr(args, "check", None)
    if check is not None and (problem := check(args)) is not None:
        args.usage_error(problem)  # exits 2, as argparse does
    try:
        return asyncio.run(_main(args))
    except DockerError as exc:
        print(f"aiodockersock: {one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into head: stop quietly, as other tools do
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # nothing left to flush at exit
        return 0
