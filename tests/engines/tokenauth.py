"""A registry token server for the tests (distribution's ``auth: token:`` scheme).

Not part of the engines package's standard-library-only API (``__init__`` does not import it):
it needs ``aiohttp`` and ``cryptography`` (the ``test`` extra). An aiohttp server on
127.0.0.1 that issues JWTs (RS256) signed with a key generated for it, its self-signed
certificate in the JWT header (``x5c``) and in the PEM file the registry's ``rootcertbundle``
names. It takes both forms a client may use, as Docker Hub's does: the OAuth2 ``POST``
(``grant_type=password`` or ``refresh_token``) and ``GET`` with basic auth (or none).

One user (``username``/``password``) gets every scope it asks for; an anonymous request, or
one with a wrong password, is refused (401). Every request is logged (:attr:`TokenServer.log`)
with its ``User-Agent``, so a test can tell who fetched a token: the client (aiodockersock)
or the daemon.
"""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from .registry import TokenAuth

__all__ = ["TokenRequest", "TokenServer"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class TokenRequest:
    """One request to the token server, as it saw it."""

    method: str
    user_agent: str
    client_id: str
    username: str
    scopes: tuple[str, ...]
    granted: bool


class TokenServer:
    """Issues tokens for one user; :meth:`start` it, then give the registry :attr:`auth`."""

    service = "aiodockersock-registry"
    issuer = "aiodockersock-test-tokens"

    def __init__(self, workdir: Path, username: str, password: str, *,
                 oauth: bool = True) -> None:
        """``oauth=False``: no ``POST`` (405), as some registries' token servers."""
        self.oauth = oauth
        self.username = username
        self.password = password
        self.log: list[TokenRequest] = []
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.issuer)])
        now = datetime.datetime.now(datetime.timezone.utc)
        self._cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.cert_path = workdir / "token-cert.pem"
        self.cert_path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self._runner: web.AppRunner | None = None
        self.realm = ""

    @property
    def auth(self) -> TokenAuth:
        """The registry's ``auth: token:`` settings for this server."""
        return TokenAuth(self.realm, self.service, self.issuer, self.cert_path)

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1 (:attr:`realm` is then its URL)."""
        app = web.Application()
        app.router.add_route("GET", "/token", self._handle)
        if self.oauth:
            app.router.add_route("POST", "/token", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.realm = f"http://127.0.0.1:{port}/token"

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _token(self, subject: str, scopes: list[str]) -> str:
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256",
                  "x5c": [base64.b64encode(self._cert.public_bytes(
                      serialization.Encoding.DER)).decode()]}
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service, "iat": now,
                  "nbf": now - 10, "exp": now + 300, "jti": secrets.token_hex(8),
                  "access": access}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    async def _handle(self, request: web.Request) -> web.Response:
        username = secret = client_id = ""
        if request.method == "POST":
            form = await request.post()
            client_id = str(form.get("client_id", ""))
            scopes = str(form.get("scope", "")).split()
            if form.get("grant_type") == "password":
                username, secret = str(form.get("username", "")), str(form.get("password", ""))
            else:
                secret = str(form.get("refresh_token", ""))
        else:
            scopes = request.query.getall("scope", [])
            client_id = request.query.get("client_id", "")
            header = request.headers.get("Authorization", "")
            if header.startswith("Basic "):
                username, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        granted = username == self.username and secrets.compare_digest(secret, self.password)
        self.log.append(TokenRequest(request.method, request.headers.get("User-Agent", ""),
                                     client_id, username, tuple(scopes), granted))
        if not granted:
            return web.json_response(
                {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                status=401)
        token = self._token(username, scopes)
        issued = datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
        body = {"access_token": token, "expires_in": 300, "issued_at": issued}
        if request.method == "GET":
            body["token"] = token
        return web.json_response(body)
