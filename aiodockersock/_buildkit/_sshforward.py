"""ssh-agent forwarding of a BuildKit session (``moby.sshforward.v1.SSH``), read-only.

``RUN --mount=type=ssh[,id=…]`` gives the step a socket inside the container; each connection
to it becomes a ``ForwardAgent`` call on the session (a two-way stream of ``BytesMessage``,
the id in the call's ``buildkit.ssh.id`` metadata, ``default`` when absent), after BuildKit
asked ``CheckAgent`` whether the id is served. Each call opens its own connection to the agent
socket (:func:`~aiodockersock._connect.open_local_socket`) and relays the ssh agent protocol
(``uint32`` length, then the message: its type byte first) one request at a time.

Only reads go through: ``SSH_AGENTC_REQUEST_IDENTITIES`` (11) and ``SSH_AGENTC_SIGN_REQUEST``
(13). Anything else a build step asks (adding or removing keys, locking the agent,
extensions…) is answered ``SSH_AGENT_FAILURE`` (5) here, and the agent never sees it: a
Dockerfile can use the keys, not change them. :class:`AgentMessages` splits the bytes of the
stream into messages whatever the chunks (a message split across ``BytesMessage``\\ s, or several
in one); a message longer than :data:`MAX_MESSAGE` ends the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Mapping

from .._connect import open_local_socket
from ._grpc import GrpcCall, GrpcStatus
from .proto import ssh_pb2

__all__ = ["MAX_MESSAGE", "AgentMessages", "AgentProtocolError", "check_agent", "forward_agent",
           "forwarded"]

#: The longest agent message relayed, either way (OpenSSH's agent has the same limit).
MAX_MESSAGE = 256 * 1024
#: The requests relayed to the agent: list the identities (11), sign with one (13).
FORWARDED = frozenset({11, 13})
#: ``SSH_AGENT_FAILURE``, framed: the answer to every other request.
FAILURE = struct.pack(">IB", 1, 5)
#: The call metadata naming the agent (BuildKit's ``sshforward.KeySSHID``).
ID_KEY = "buildkit.ssh.id"
DEFAULT_ID = "default"


class AgentProtocolError(Exception):
    """Bytes that are not ssh agent messages (a length over :data:`MAX_MESSAGE`)."""


class AgentMessages:
    """Splits a byte stream into whole ssh agent messages (sans-I/O).

    ``feed`` takes whatever bytes arrived and returns the messages completed by them, each with
    its 4-byte length prefix; the rest waits for the next bytes.
    """

    def __init__(self, limit: int = MAX_MESSAGE) -> None:
        self._buffer = bytearray()
        self._limit = limit

    def feed(self, data: bytes) -> list[bytes]:
        """The messages that ``data`` completes, in order.

        Raises:
            AgentProtocolError: a message announces more than the limit.
        """
        self._buffer += data
        messages = []
        while len(self._buffer) >= 4:
            (length,) = struct.unpack_from(">I", self._buffer)
            if length > self._limit:
                raise AgentProtocolError(
                    f"an ssh agent message of {length} bytes: more than the {self._limit} "
                    "bytes allowed (MAX_MESSAGE)")
            if len(self._buffer) < 4 + length:
                break
            messages.append(bytes(self._buffer[:4 + length]))
            del self._buffer[:4 + length]
        return messages

    @property
    def pending(self) -> int:
        """How many bytes of an incomplete message are held."""
        return len(self._buffer)


def forwarded(message: bytes) -> bool:
    """Whether a request (length-prefixed) is one the agent may see (:data:`FORWARDED`)."""
    return len(message) > 4 and message[4] in FORWARDED


async def _answer(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readexactly(4)
    (length,) = struct.unpack(">I", head)
    if length > MAX_MESSAGE:
        raise AgentProtocolError(f"the ssh agent answered {length} bytes: more than the "
                                 f"{MAX_MESSAGE} bytes allowed (MAX_MESSAGE)")
    return head + await reader.readexactly(length)


def _agent_path(agents: Mapping[str, str], wanted: str) -> str:
    """The socket of the agent ``wanted`` (``""``: the default); ``NOT_FOUND`` naming it when
    the build was not given it."""
    wanted = wanted or DEFAULT_ID
    path = agents.get(wanted)
    if path is None:
        raise GrpcStatus(5, f"ssh agent {wanted!r} was not given to the build "
                            f"(ssh= has {sorted(agents)})")
    return path


async def check_agent(call: GrpcCall, agents: Mapping[str, str]) -> None:
    """``CheckAgent``: OK for an id the build was given, ``NOT_FOUND`` naming it otherwise."""
    request = await call.request()
    _agent_path(agents, ssh_pb2.CheckAgentRequest.FromString(request).ID)
    await call.send(ssh_pb2.CheckAgentResponse().SerializeToString())


async def forward_agent(call: GrpcCall, agents: Mapping[str, str]) -> None:
    """``ForwardAgent``: relay one connection of a build step to the agent, reads only."""
    wanted = (call.metadata.get(ID_KEY) or [""])[0] or DEFAULT_ID
    path = _agent_path(agents, wanted)
    try:
        reader, writer = await open_local_socket(path)
    except OSError as exc:
        raise GrpcStatus(14, f"ssh agent {wanted!r}: cannot connect to {path}: "
                             f"{exc.strerror or exc}") from None
    try:
        messages = AgentMessages()
        while (data := await call.recv()) is not None:
            try:
                requests = messages.feed(ssh_pb2.BytesMessage.FromString(data).data)
            except AgentProtocolError as exc:
                raise GrpcStatus(3, str(exc)) from None
            for request in requests:
                if forwarded(request):
                    writer.write(request)
                    try:
                        await writer.drain()
                        answer = await _answer(reader)
                    except (OSError, EOFError) as exc:
                        raise GrpcStatus(14, f"ssh agent {wanted!r} at {path} closed the "
                                             f"connection ({type(exc).__name__})") from None
                    except AgentProtocolError as exc:
                        raise GrpcStatus(3, str(exc)) from None
                else:
                    answer = FAILURE
                await call.send(ssh_pb2.BytesMessage(data=answer).SerializeToString())
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
