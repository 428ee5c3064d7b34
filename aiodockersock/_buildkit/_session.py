"""A BuildKit session: ``POST /session`` switched to ``h2c``, on which we serve gRPC.

The request announces the session (``X-Docker-Expose-Session-Uuid``, ``-Name``,
``-Sharedkey``) and every method served (one ``X-Docker-Expose-Session-Grpc-Method`` header
each, ``/package.Service/Method``), as BuildKit's ``session.Session.Run`` does it; BuildKit then
only calls methods it was told of. Served: the gRPC health check (BuildKit checks the session
every few seconds and drops it after failures), the file sync of the build's directories, and
the secrets (``RUN --mount=type=secret,id=…``: asked for by id when the step runs; an id not
given is answered ``NOT_FOUND``, which BuildKit reports, or skips for ``required=false``), and
registry credentials (``moby.filesync.v1.Auth``: ``Credentials`` for a host, answered with the
username and password or identity token of the build's ``auth``, else of ``config.json``, else
empty, i.e. anonymous). The registry's bearer tokens are fetched by the client, as the Docker
CLI does (``_tokens``): ``GetTokenAuthority`` answers a public key of the session's,
``VerifyTokenAuthority`` signs BuildKit's payload with it, and ``FetchToken`` asks the
registry's token server (:func:`~aiodockersock._transport.registry_token`) with those
credentials, so the password stays here; ``Credentials`` then answers empty for that host.
With ``BUILDKIT_NO_CLIENT_TOKEN=1`` the authority is refused (``UNAVAILABLE``) and BuildKit
fetches the tokens itself with what ``Credentials`` gives it. And, when the build was given
ssh agents, their read-only forwarding (``moby.sshforward.v1.SSH``, :mod:`._sshforward`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from secrets import token_hex
from urllib.parse import quote

from .._auth import RegistryAuth
from .._exceptions import DockerConnectionError, RegistryAuthError
from .._transport import Transport, Upgraded, registry_token
from ._filesync import SyncedDir, diff_copy
from ._grpc import GrpcCall, GrpcServer, GrpcStatus, Handler
from ._sshforward import check_agent, forward_agent
from ._tokens import TokenAuthority, client_tokens_enabled
from .proto import auth_pb2, secrets_pb2

__all__ = ["BuildSession", "CredentialLookup", "SecretSource"]

#: Finds the credentials for a registry host (``None``: anonymous).
CredentialLookup = Callable[[str], Awaitable[RegistryAuth | None]]

#: A secret's value, or the file holding it (read when the build asks for it).
SecretSource = bytes | str | os.PathLike[str]

_HEALTH = "/grpc.health.v1.Health/Check"
_DIFF_COPY = "/moby.filesync.v1.FileSync/DiffCopy"
_GET_SECRET = "/moby.buildkit.secrets.v1.Secrets/GetSecret"
_AUTH = "/moby.filesync.v1.Auth/"
_CREDENTIALS = _AUTH + "Credentials"
_CHECK_AGENT = "/moby.sshforward.v1.SSH/CheckAgent"
_FORWARD_AGENT = "/moby.sshforward.v1.SSH/ForwardAgent"
_FETCH_TOKEN = _AUTH + "FetchToken"
_GET_AUTHORITY = _AUTH + "GetTokenAuthority"
_VERIFY_AUTHORITY = _AUTH + "VerifyTokenAuthority"
_SECRET_MAX = 500 * 1024  # BuildKit's own limit
_SERVING = b"\x08\x01"  # grpc.health.v1.HealthCheckResponse{status: SERVING}


async def _health(call: GrpcCall) -> None:
    await call.recv()
    await call.send(_SERVING)


class BuildSession:
    """One session, serving ``dirs`` (by the names the build gives them) until closed.

    Args:
        transport: the client's transport.
        dirs: ``{"context": SyncedDir(...), "dockerfile": SyncedDir(...)}``.
        name: a name for the session (the CLI gives the context directory's name).
        secrets: the build's secrets by id.
        credentials: finds a registry host's credentials when BuildKit asks for them.
        agents: the ssh agents forwarded, by id: their sockets' paths (checked already).
            The ssh service is announced only when there is one.
    """

    def __init__(self, transport: Transport, dirs: dict[str, SyncedDir], name: str,
                 secrets: Mapping[str, SecretSource] | None = None,
                 credentials: CredentialLookup | None = None,
                 agents: Mapping[str, str] | None = None) -> None:
        self._agents = dict(agents or {})
        self._credentials = credentials
        self._authority = TokenAuthority()
        self._token_hosts: set[str] = set()
        self._found: dict[str, RegistryAuth | None] = {}  # credentials looked up, by host
        self._secrets = dict(secrets or {})
        self.id = token_hex(13)
        self._t = transport
        self._dirs = dirs
        self._name = name
        self._task: asyncio.Task[None] | None = None
        self._conn: Upgraded | None = None
        self.errors: list[str] = []
        """Failures of the calls served (a file that could not be read…), for messages."""

    def _handlers(self) -> dict[str, Handler]:
        async def sync(call: GrpcCall) -> None:
            await diff_copy(call, self._dirs)

        async def secret(call: GrpcCall) -> None:
            request = await call.request()
            wanted = secrets_pb2.GetSecretRequest.FromString(request).ID
            source = self._secrets.get(wanted)
            if source is None:
                raise GrpcStatus(5, f"secret {wanted} not found")
            if isinstance(source, bytes):
                data = source
            else:
                try:
                    data = await asyncio.to_thread(Path(source).read_bytes)
                except OSError as exc:
                    raise GrpcStatus(5, f"secret {wanted}: cannot read {source}: "
                                        f"{exc.strerror}") from None
            if len(data) > _SECRET_MAX:
                raise GrpcStatus(3, f"secret {wanted} is larger than {_SECRET_MAX} bytes")
            await call.send(secrets_pb2.GetSecretResponse(data=data).SerializeToString())

        async def lookup(host: str) -> RegistryAuth | None:
            # once per host: a token exchange asks for it up to three times (authority,
            # its proof, the token), and a lookup may run a credential helper
            if host not in self._found:
                found = await self._credentials(host) if self._credentials is not None else None
                self._found[host] = None if found is None or found.anonymous else found
            return self._found[host]

        def has_secret(found: RegistryAuth | None) -> bool:
            return found is not None and bool(
                found.identity_token or found.password or found.registry_token)

        async def credentials(call: GrpcCall) -> None:
            request = await call.request()
            host = auth_pb2.CredentialsRequest.FromString(request).Host
            # a host whose tokens this session fetches: its password stays here
            found = None if host in self._token_hosts else await lookup(host)
            answer = auth_pb2.CredentialsResponse()
            if found is not None:
                secret = found.identity_token or found.password or ""
                answer.Username = "" if found.identity_token else found.username or ""
                answer.Secret = secret
            await call.send(answer.SerializeToString())

        async def authority_request(call: GrpcCall) -> bytes:
            request = await call.request()
            if not client_tokens_enabled():
                raise GrpcStatus(14, "client side tokens disabled (BUILDKIT_NO_CLIENT_TOKEN)")
            return request

        async def get_authority(call: GrpcCall) -> None:
            asked = auth_pb2.GetTokenAuthorityRequest.FromString(await authority_request(call))
            key = self._authority.public_key(asked.Host, asked.Salt,
                                             has_secret(await lookup(asked.Host)))
            self._token_hosts.add(asked.Host)
            await call.send(auth_pb2.GetTokenAuthorityResponse(PublicKey=key)
                            .SerializeToString())

        async def verify_authority(call: GrpcCall) -> None:
            asked = auth_pb2.VerifyTokenAuthorityRequest.FromString(
                await authority_request(call))
            signed = self._authority.sign(asked.Host, asked.Salt,
                                          has_secret(await lookup(asked.Host)), asked.Payload)
            await call.send(auth_pb2.VerifyTokenAuthorityResponse(Signed=signed)
                            .SerializeToString())

        async def fetch_token(call: GrpcCall) -> None:
            request = await call.request()
            asked = auth_pb2.FetchTokenRequest.FromString(request)
            found = await lookup(asked.Host)
            if found is not None and found.registry_token:
                answer = auth_pb2.FetchTokenResponse(Token=found.registry_token)
            else:
                try:
                    token = await registry_token(
                        asked.Host, asked.Realm, asked.Service, list(asked.Scopes),
                        username="" if found is None or found.identity_token
                        else found.username or "",
                        secret="" if found is None
                        else found.identity_token or found.password or "",
                        client_id=asked.ClientID or "buildkit-client")
                except RegistryAuthError as exc:
                    raise GrpcStatus(16, str(exc)) from None
                except DockerConnectionError as exc:
                    raise GrpcStatus(14, str(exc)) from None
                answer = auth_pb2.FetchTokenResponse(
                    Token=token.token, ExpiresIn=token.expires_in, IssuedAt=token.issued_at)
            await call.send(answer.SerializeToString())

        handlers: dict[str, Handler] = {
            _HEALTH: _health, _DIFF_COPY: sync, _GET_SECRET: secret, _CREDENTIALS: credentials,
            _GET_AUTHORITY: get_authority, _VERIFY_AUTHORITY: verify_authority,
            _FETCH_TOKEN: fetch_token}
        if self._agents:
            async def check(call: GrpcCall) -> None:
                await check_agent(call, self._agents)

            async def forward(call: GrpcCall) -> None:
                await forward_agent(call, self._agents)

            handlers[_CHECK_AGENT] = check
            handlers[_FORWARD_AGENT] = forward
        return handlers

    async def start(self) -> None:
        """Open the session's connection and serve on it (in a task) until :meth:`close`."""
        roots = "\0".join(str(d.root.resolve()) for d in self._dirs.values())
        handlers = self._handlers()
        headers = {
            "X-Docker-Expose-Session-Uuid": self.id,
            "X-Docker-Expose-Session-Name": quote(self._name, safe=""),
            "X-Docker-Expose-Session-Sharedkey": hashlib.sha256(roots.encode()).hexdigest(),
            "X-Docker-Expose-Session-Grpc-Method": sorted(handlers),
        }
        self._conn = await self._t.upgrade("POST", "/session", protocol="h2c", headers=headers)
        server = GrpcServer(self._conn.reader, self._conn.writer, handlers,
                            on_error=lambda method, exc: self.errors.append(f"{method}: {exc}"))
        self._task = asyncio.get_running_loop().create_task(server.serve())

    def close(self) -> None:
        """Stop serving and drop the connection (BuildKit then forgets the session)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.writer.close()
            self._conn = None
