"""The ssh-agent relay of a BuildKit session without an engine: the agent protocol's framing
(messages split across chunks, several in one, too long) and the read-only filter, against a
real ``ssh-agent``; the relay through a real build is in ``test_buildkit``."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Iterable
from typing import Any

import pytest

from aiodockersock._buildkit import _sshforward
from aiodockersock._buildkit._grpc import GrpcStatus
from aiodockersock._buildkit._sshforward import MAX_MESSAGE, AgentMessages, forward_agent
from aiodockersock._buildkit.proto import ssh_pb2

from .sshagent import start_agent


def frame(type_: int, body: bytes = b"") -> bytes:
    return struct.pack(">IB", 1 + len(body), type_) + body


STREAM = frame(11) + frame(13, b"k" * 300) + frame(19) + frame(27, b"session-bind")


def test_messages_whatever_the_chunks() -> None:
    want = [frame(11), frame(13, b"k" * 300), frame(19), frame(27, b"session-bind")]
    for cut in range(len(STREAM) + 1):  # split at every offset
        splitter = AgentMessages()
        got = splitter.feed(STREAM[:cut]) + splitter.feed(STREAM[cut:])
        assert got == want, cut
        assert splitter.pending == 0
    splitter = AgentMessages()
    assert [m for byte in STREAM for m in splitter.feed(bytes([byte]))] == want
    assert AgentMessages().feed(STREAM) == want  # all packed in one


def test_a_message_over_the_limit_is_refused() -> None:
    splitter = AgentMessages()
    assert splitter.feed(struct.pack(">I", MAX_MESSAGE) + b"\x0d") == []
    with pytest.raises(_sshforward.AgentProtocolError, match=f"{MAX_MESSAGE} bytes allowed"):
        AgentMessages().feed(struct.pack(">I", MAX_MESSAGE + 1))


def test_only_reads_are_forwarded() -> None:
    assert _sshforward.forwarded(frame(11)) and _sshforward.forwarded(frame(13, b"x"))
    for type_ in (1, 17, 18, 19, 20, 22, 23, 25, 26, 27):
        assert not _sshforward.forwarded(frame(type_))
    assert not _sshforward.forwarded(b"\0\0\0\0")


class FakeCall:
    """A ForwardAgent call as the relay sees it: BuildKit's chunks in, the answers out."""

    def __init__(self, chunks: Iterable[bytes], agent_id: str | None = None) -> None:
        self.metadata: dict[str, list[str]] = (
            {} if agent_id is None else {"buildkit.ssh.id": [agent_id]})
        self._in = [ssh_pb2.BytesMessage(data=c).SerializeToString() for c in chunks]
        self.sent = bytearray()

    async def recv(self) -> bytes | None:
        return self._in.pop(0) if self._in else None

    async def send(self, message: bytes) -> None:
        self.sent += ssh_pb2.BytesMessage.FromString(message).data


def answers(data: bytes) -> list[int]:
    splitter = AgentMessages()
    return [m[4] for m in splitter.feed(data)]


async def relay(call: Any, agents: dict[str, str]) -> None:
    await asyncio.wait_for(forward_agent(call, agents), 10)


async def test_the_relay_against_a_real_agent_is_read_only() -> None:
    with start_agent("relay@test") as agent:
        agents = {"default": str(agent.socket)}
        # every split of a stream of requests: each gets its one answer, in order
        for cut in (0, 1, 3, 4, 5, 7, len(STREAM) - 1):
            call = FakeCall([STREAM[:cut], STREAM[cut:]])
            await relay(call, agents)
            # 12 identities; 5 for the sign request (a key blob the agent does not hold), the
            # removal (refused here) and the extension (refused here)
            assert answers(bytes(call.sent)) == [12, 5, 5, 5], cut
        assert "relay@test" in agent.listed()  # the removal never reached the agent
        call = FakeCall([frame(11)])
        await relay(call, agents)
        assert b"relay@test" in call.sent


async def test_the_relay_names_an_unknown_id_and_a_bad_length() -> None:
    with start_agent("relay@test") as agent:
        with pytest.raises(GrpcStatus, match="'other' was not given"):
            await relay(FakeCall([frame(11)], "other"), {"default": str(agent.socket)})
        with pytest.raises(GrpcStatus, match="bytes allowed"):
            await relay(FakeCall([b"\xff\xff\xff\xff"]), {"default": str(agent.socket)})
        call = FakeCall([frame(11)], "named")
        await relay(call, {"named": str(agent.socket)})
        assert answers(bytes(call.sent)) == [12]
