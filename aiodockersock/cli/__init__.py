"""``python -m aiodockersock`` (and the ``aiodockersock`` script): a small Docker command line.

Commands: ``version``, ``info``, ``ps``, ``inspect``, ``run``, ``logs``, ``exec``, ``pull``,
``events``, ``demo`` (create and start a container while the live event stream prints what
happens, then clean up) and ``prune`` (remove what the pytest fixtures of
:mod:`aiodockersock.pytest_plugin` left behind); ``--help`` on each tells its options.

Everywhere:

- ``--host``/``-H`` (or ``DOCKER_HOST``) picks the daemon, before or after the command.
- ``--json`` prints machine-readable output: one JSON document for a command that answers once
  (``version``, ``info``, ``ps``, ``inspect``, ``exec``, ``run -d``, ``prune``), one JSON object
  per line for a stream (``events``, ``logs``, ``pull``, attached ``run``, ``demo``). Engine
  objects keep the Engine's own field names.
- Exit status: 0 on success; ``run`` and ``exec`` exit with the status of the process they ran;
  1 for an expected failure (no daemon, no such container or image, a failed pull …), which
  prints one line on stderr, ``aiodockersock: <what went wrong>``, and no traceback; 2 for a
  command line argparse cannot parse; 130 after Ctrl-C.
- Ctrl-C cancels the command, which cleans up before exiting with 130: ``run`` stops its
  container (its stop signal, then SIGKILL after its stop timeout; a second Ctrl-C kills it at
  once) and removes it with ``--rm``; streams (``logs -f``, ``events``, ``pull``) just close.

Terminals: ``exec -it`` on a terminal puts it in raw mode (restored on exit), so every key,
Ctrl-C included, goes to the process; the process's terminal gets our size and follows our
resizes (SIGWINCH); ctrl-p ctrl-q detaches (exit 0). ``exec -t`` without ``-i`` gives the process
a terminal and relays its raw output; ``-it`` with stdin not a terminal is refused. ``pull``
redraws its layer lines in place only when stdout is a terminal. ``run`` attaches no stdin and
no terminal (no ``-i``/``-t``).

The package: ``app`` runs a command line (event loop, Ctrl-C, exit status), ``parser`` is its
grammar, ``commands`` holds one coroutine per command, ``render`` writes what they print,
``terminal`` handles our terminal and keyboard, ``tasks`` the asyncio cleanups.
"""

from .app import main
from .render import PullDisplay, format_event

__all__ = ["PullDisplay", "format_event", "main"]
