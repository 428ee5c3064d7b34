"""Client-side registry tokens for a BuildKit session, as the Docker CLI serves them.

BuildKit, before asking the session for a registry's credentials, asks for a *token authority*
(``GetTokenAuthority(host, salt)``): a client that answers with an Ed25519 public key is later
asked to prove it holds the key (``VerifyTokenAuthority``: sign a payload) and to fetch the
bearer tokens itself (``FetchToken(host, realm, service, scopes)``), so the password never
reaches the daemon. The daemon keys its token cache by that public key, and the salt is its own
(random per daemon start).

The key is derived as BuildKit's ``authprovider`` derives it: the first 32 bytes of
HMAC-SHA256(salt, seed) are the Ed25519 seed, where ``seed`` is random client-side bytes per
host (here per session: nothing is written to disk) when the host has credentials, and empty
when it has none, so anonymous sessions share one key (and the daemon's anonymous tokens).

``BUILDKIT_NO_CLIENT_TOKEN=1`` (BuildKit's own switch, read as Go's ``strconv.ParseBool``)
turns this off: the authority is refused with ``UNAVAILABLE`` and BuildKit falls back to
``Credentials``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = ["TokenAuthority", "client_tokens_enabled"]

_TRUE = frozenset({"1", "t", "T", "true", "TRUE", "True"})


def client_tokens_enabled() -> bool:
    """False when ``BUILDKIT_NO_CLIENT_TOKEN`` is set to a true value (``1``, ``true``…)."""
    return os.environ.get("BUILDKIT_NO_CLIENT_TOKEN", "") not in _TRUE


class TokenAuthority:
    """The keys of one session, one per registry host and daemon salt."""

    def __init__(self) -> None:
        self._seeds: dict[str, bytes] = {}

    def _key(self, host: str, salt: bytes, has_secret: bool) -> Ed25519PrivateKey:
        seed = self._seeds.setdefault(host, secrets.token_bytes(16)) if has_secret else b""
        digest = hmac.new(salt, seed, hashlib.sha256).digest()
        return Ed25519PrivateKey.from_private_bytes(digest[:32])

    def public_key(self, host: str, salt: bytes, has_secret: bool) -> bytes:
        """The 32-byte Ed25519 public key for ``host`` under the daemon's ``salt``."""
        return self._key(host, salt, has_secret).public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw)

    def sign(self, host: str, salt: bytes, has_secret: bool, payload: bytes) -> bytes:
        """``payload`` signed as NaCl's ``sign`` does (the signature, then the payload)."""
        return self._key(host, salt, has_secret).sign(payload) + payload
