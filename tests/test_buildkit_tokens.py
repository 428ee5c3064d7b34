"""The session's token authority (``_buildkit/_tokens.py``): keys derived as BuildKit's
``authprovider`` derives them, signatures in NaCl's ``sign`` layout, BuildKit's switch.
The end-to-end behaviour, with a registry and its token server, is in test_buildkit.py."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from aiodockersock import RegistryAuth
from aiodockersock._buildkit._grpc import GrpcStatus
from aiodockersock._buildkit._session import BuildSession
from aiodockersock._buildkit._tokens import TokenAuthority, client_tokens_enabled
from aiodockersock._buildkit.proto import auth_pb2

SALT = bytes(range(32))


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_anonymous_key_is_buildkits() -> None:
    # no secret: HMAC-SHA256(salt, "") is the seed, as in authprovider.getAuthorityKey
    expected = Ed25519PrivateKey.from_private_bytes(
        hmac.new(SALT, b"", hashlib.sha256).digest())
    assert TokenAuthority().public_key("r:5000", SALT, False) == _raw(expected)
    assert TokenAuthority().public_key("other:5000", SALT, False) == _raw(expected)


def test_keys_with_credentials_are_the_sessions_own() -> None:
    one, two = TokenAuthority(), TokenAuthority()
    key = one.public_key("r:5000", SALT, True)
    assert len(key) == 32
    assert one.public_key("r:5000", SALT, True) == key  # stable within the session
    assert one.public_key("q:5000", SALT, True) != key  # per host
    assert one.public_key("r:5000", SALT[::-1], True) != key  # per daemon salt
    assert two.public_key("r:5000", SALT, True) != key  # client-side randomness per session
    assert one.public_key("r:5000", SALT, False) != key


def test_signed_is_signature_then_payload() -> None:
    authority = TokenAuthority()
    payload = b"p" * 32
    signed = authority.sign("r:5000", SALT, True, payload)
    assert len(signed) == 64 + len(payload) and signed[64:] == payload
    public = Ed25519PublicKey.from_public_bytes(authority.public_key("r:5000", SALT, True))
    public.verify(signed[:64], payload)
    with pytest.raises(InvalidSignature):
        public.verify(signed[:64], b"q" * 32)


@pytest.mark.parametrize(("value", "enabled"), [
    (None, True), ("", True), ("0", True), ("false", True), ("yes", True),
    ("1", False), ("true", False), ("TRUE", False), ("t", False),
])
def test_buildkit_no_client_token(
    monkeypatch: pytest.MonkeyPatch, value: str | None, enabled: bool
) -> None:
    if value is None:
        monkeypatch.delenv("BUILDKIT_NO_CLIENT_TOKEN", raising=False)
    else:
        monkeypatch.setenv("BUILDKIT_NO_CLIENT_TOKEN", value)
    assert client_tokens_enabled() is enabled


class _Call:
    """Enough of a GrpcCall for one unary handler: the request in, the answers out."""

    def __init__(self, request: bytes) -> None:
        self._request: bytes | None = request
        self.sent: list[bytes] = []

    async def recv(self) -> bytes | None:
        request, self._request = self._request, None
        return request

    async def request(self) -> bytes:
        request = await self.recv()
        assert request is not None
        return request

    async def send(self, data: bytes) -> None:
        self.sent.append(data)


async def _serve(handlers: dict[str, Any], method: str, request: bytes) -> bytes:
    call = _Call(request)
    await handlers[f"/moby.filesync.v1.Auth/{method}"](call)
    [answer] = call.sent
    return answer


async def test_credentials_are_withheld_from_a_host_with_an_authority(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BUILDKIT_NO_CLIENT_TOKEN", raising=False)

    async def lookup(host: str) -> RegistryAuth | None:
        return RegistryAuth("alice", "s3cret")

    session = BuildSession(None, {}, "t", credentials=lookup)  # type: ignore[arg-type]
    handlers: dict[str, Any] = session._handlers()  # type: ignore[assignment]

    async def credentials(host: str) -> auth_pb2.CredentialsResponse:
        answer = await _serve(handlers, "Credentials",
                              auth_pb2.CredentialsRequest(Host=host).SerializeToString())
        return auth_pb2.CredentialsResponse.FromString(answer)

    assert (await credentials("r:5000")).Secret == "s3cret"  # no authority asked yet
    answer = await _serve(handlers, "GetTokenAuthority", auth_pb2.GetTokenAuthorityRequest(
        Host="r:5000", Salt=SALT).SerializeToString())
    key = auth_pb2.GetTokenAuthorityResponse.FromString(answer).PublicKey
    assert key == session._authority.public_key("r:5000", SALT, True)
    signed = auth_pb2.VerifyTokenAuthorityResponse.FromString(await _serve(
        handlers, "VerifyTokenAuthority", auth_pb2.VerifyTokenAuthorityRequest(
            Host="r:5000", Salt=SALT, Payload=b"x" * 32).SerializeToString())).Signed
    Ed25519PublicKey.from_public_bytes(key).verify(signed[:64], b"x" * 32)
    # that host's tokens are the client's now: its password is not handed out
    assert (await credentials("r:5000")) == auth_pb2.CredentialsResponse()
    assert (await credentials("other:5000")).Secret == "s3cret"

    # BuildKit's switch: no authority (UNAVAILABLE), so BuildKit asks for Credentials
    monkeypatch.setenv("BUILDKIT_NO_CLIENT_TOKEN", "1")
    with pytest.raises(GrpcStatus) as refused:
        await _serve(handlers, "GetTokenAuthority", auth_pb2.GetTokenAuthorityRequest(
            Host="q:5000", Salt=SALT).SerializeToString())
    assert refused.value.code == 14
