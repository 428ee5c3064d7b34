"""Web framework integrations: one shared client per app, and Docker events as Server-Sent Events.

- :mod:`aiodockersock.integrations.fastapi` — a lifespan that opens one :class:`SharedDocker`
  and closes it at shutdown, a ``DockerDep`` dependency, ``event_stream_response()``
  (needs the ``fastapi`` extra: ``pip install 'aiodockersock[fastapi]'``);
- :mod:`aiodockersock.integrations.aiohttp` — the same for ``aiohttp.web`` through
  ``cleanup_ctx`` and an ``AppKey``;
- :mod:`aiodockersock.integrations.sse` — the framework-free part: :class:`SharedDocker`, the
  SSE body generators and the message encoding, documented there.

Importing this package imports neither FastAPI nor ``aiohttp.web``.
"""

from __future__ import annotations

from .sse import *  # noqa: F403  (the names of sse.__all__)
from .sse import __all__ as __all__
