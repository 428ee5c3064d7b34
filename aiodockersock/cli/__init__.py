"""``python -m aiodockersock`` (and the ``aiodockersock`` script): a small Docker command line;
``--help`` tells the commands and their options.

What every command keeps to: ``--json`` prints one JSON document for an answer and one object
per line for a stream, with the Engine's field names; an expected failure (a ``DockerError``)
is one line on stderr and exit status 1; Ctrl-C cancels the command, which cleans up (stops
the container of ``run``, closes streams) and exits 130.

``app`` runs a command line (event loop, Ctrl-C, exit status), ``parser`` is its grammar,
``commands`` holds one coroutine per command, ``render`` writes what they print, ``terminal``
handles our terminal and keyboard, ``tasks`` the asyncio cleanups.
"""

from .app import main
from .render import PullDisplay, format_event

__all__ = ["PullDisplay", "format_event", "main"]
