"""Swarm mode on a private dockerd: ``swarm init`` / ``swarm join`` over the raw API.

Only the standard library (like the rest of this package), so the suite's swarm fixture never
depends on the library it tests. Every swarm listens on 127.0.0.1 on a free port of its own and
gets a data-path (VXLAN) port of its own, so several swarms run side by side on one machine.
"""

import json
import random
import socket
from dataclasses import dataclass, field

from .errors import EngineError
from .registry import _free_port as free_port
from .unixhttp import EngineAPI

#: Swarm accepts data-path ports in 1024-49151 only; pick from a range below the ephemeral one.
_DATA_PATH_PORTS = range(20000, 32000)


@dataclass
class SwarmInfo:
    """What a test needs to know about a swarm: the manager's node id, the address nodes join
    (``127.0.0.1:PORT``) and the join tokens (kept out of reprs)."""

    node_id: str
    manager_addr: str
    worker_token: str = field(repr=False)
    manager_token: str = field(repr=False)


def free_udp_port() -> int:
    """Return a UDP port in the data-path range that is free on this machine right now."""
    for _ in range(200):
        port = random.choice(_DATA_PATH_PORTS)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise EngineError(f"no free UDP port in {_DATA_PATH_PORTS} for a swarm data path")


def _call(engine: EngineAPI, method: str, path: str, body: object = None) -> object:
    """Send one JSON request; return the decoded answer; raise EngineError on a non-2xx."""
    data = None if body is None else json.dumps(body).encode()
    status, answer = engine.request(
        method, path, body=data, headers={"Content-Type": "application/json"}, timeout=60
    )
    if not 200 <= status < 300:
        raise EngineError(f"{method} {path} answered {status}: {answer[:500]!r}")
    return json.loads(answer) if answer.strip() else None


def swarm_init(engine: EngineAPI) -> SwarmInfo:
    """Make ``engine`` the single manager of a new swarm advertised on 127.0.0.1 (a free
    port); return its :class:`SwarmInfo`."""
    port = free_port()
    node_id = _call(engine, "POST", "/swarm/init", {
        "ListenAddr": f"127.0.0.1:{port}",
        "AdvertiseAddr": "127.0.0.1",
        "DataPathPort": free_udp_port(),
    })  # fmt: skip
    swarm = _call(engine, "GET", "/swarm")
    assert isinstance(swarm, dict)
    tokens = swarm["JoinTokens"]
    return SwarmInfo(str(node_id), f"127.0.0.1:{port}", tokens["Worker"], tokens["Manager"])


def swarm_join(engine: EngineAPI, swarm: SwarmInfo, *, manager: bool = False) -> str:
    """Join ``engine`` to ``swarm`` (as a worker unless ``manager``), listening on 127.0.0.1
    on a free port; return the joined node's id."""
    _call(engine, "POST", "/swarm/join", {
        "ListenAddr": f"127.0.0.1:{free_port()}",
        "AdvertiseAddr": "127.0.0.1",
        "RemoteAddrs": [swarm.manager_addr],
        "JoinToken": swarm.manager_token if manager else swarm.worker_token,
    })  # fmt: skip
    info = _call(engine, "GET", "/info")
    assert isinstance(info, dict)
    return str(info["Swarm"]["NodeID"])
