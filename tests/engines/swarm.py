"""Swarm mode on a private dockerd: ``swarm init`` over the raw API.

Only the standard library (like the rest of this package), so the suite's swarm fixture never
depends on the library it tests.

Several swarms (and several nodes of one swarm) run side by side on one machine: each node
advertises a loopback address of its own (``127.x.y.z``, picked at random, never 127.0.0.1),
listens there on a free port, and gets a data-path (VXLAN) port of its own. Why not all on
127.0.0.1: dockerd's network agent (memberlist gossip) binds port 7946 on the advertise address,
a port no option changes. A second node on the same address fails to start it ("Error in
agentInit … 127.0.0.1:7946: bind: address already in use" in its log): overlay networks then do
not work there, and leaving the swarm waits 5 s for an ingress removal that never comes.
"""

import json
import random
import socket
from dataclasses import dataclass, field

from .errors import EngineError
from .unixhttp import EngineAPI

#: Swarm accepts data-path ports in 1024-49151 only; pick from a range below the ephemeral one.
_DATA_PATH_PORTS = range(20000, 32000)


#: The port dockerd's network agent binds on a node's advertise address (fixed in dockerd).
GOSSIP_PORT = 7946


@dataclass
class SwarmInfo:
    """What a test needs to know about a swarm: the manager's node id, its advertise address
    (``127.x.y.z``), the address nodes join (``127.x.y.z:PORT``) and the join tokens as they
    were at ``swarm init`` (kept out of reprs)."""

    node_id: str
    advertise_addr: str
    manager_addr: str
    worker_token: str = field(repr=False)
    manager_token: str = field(repr=False)


def free_loopback_addr() -> str:
    """A loopback address (``127.x.y.z``, never in 127.0.0.0/16) whose gossip port is free, for
    one swarm node: its advertise and listen address."""
    for _ in range(100):
        addr = (f"127.{random.randint(1, 254)}.{random.randint(0, 255)}."
                f"{random.randint(1, 254)}")
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                with socket.socket(socket.AF_INET, kind) as s:
                    s.bind((addr, GOSSIP_PORT))
        except OSError:
            continue
        return addr
    raise EngineError(f"no loopback address with port {GOSSIP_PORT} free for a swarm node")


def free_port_on(addr: str) -> int:
    """A TCP port free on ``addr`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((addr, 0))
        port: int = s.getsockname()[1]
        return port


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


def node_address() -> tuple[str, str]:
    """For one more swarm node: its advertise address and its listen address (``addr:port``),
    both on a loopback address of its own."""
    addr = free_loopback_addr()
    return addr, f"{addr}:{free_port_on(addr)}"


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
    """Make ``engine`` the single manager of a new swarm, advertised on a loopback address of
    its own (see the module doc); return its :class:`SwarmInfo`."""
    addr, listen = node_address()
    node_id = _call(engine, "POST", "/swarm/init", {
        "ListenAddr": listen,
        "AdvertiseAddr": addr,
        "DataPathPort": free_udp_port(),
    })  # fmt: skip
    swarm = _call(engine, "GET", "/swarm")
    assert isinstance(swarm, dict)
    tokens = swarm["JoinTokens"]
    return SwarmInfo(str(node_id), addr, listen, tokens["Worker"], tokens["Manager"])
