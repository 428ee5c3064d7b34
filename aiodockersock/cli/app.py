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

from .. import Docker, DockerError
from .commands import COMMANDS
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
    try:
        async with Docker(args.host, context=args.context, api_version=args.api_version) as docker:
            return await COMMANDS[args.command](docker, args)
    except asyncio.CancelledError:
        if interrupts.count:
            return 130
        raise
    finally:
        if handled:
            loop.remove_signal_handler(signal.SIGINT)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
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
