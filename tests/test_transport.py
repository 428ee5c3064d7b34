"""The transport: URL building, query encoding, version negotiation and error translation.

Faults a real daemon cannot be made to produce (a daemon that never answers, a proxy's plain
text 502, a redirect) come from small servers on unix sockets in the test's temp dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import subprocess
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from aiodockersock import (
    APIError,
    BadRequest,
    ClientLimitReached,
    Conflict,
    DecodeError,
    Docker,
    DockerConnectionError,
    DockerError,
    DockerTimeoutError,
    InvalidArgument,
    Limits,
    NotFound,
    RegistryAuthError,
    ResponseTooLarge,
    ServerError,
    UnsupportedAPIVersion,
)
from aiodockersock._config import resolve_host
from aiodockersock._transport import RegistryToken, Transport, encode_query, registry_token

from .conftest import ContainerFactory, EngineHandle
from .engines.tokenauth import TokenServer


def transport(api_version: str = "1.41") -> Transport:
    return Transport(resolve_host("unix:///nonexistent.sock", env={}), api_version=api_version)


@pytest.mark.parametrize(
    ("param", "quoted"),
    [
        ("web", "web"),
        ("a/b", "a%2Fb"),
        ("a?b", "a%3Fb"),
        ("a#b", "a%23b"),
        ("50%", "50%25"),
        ("x y", "x%20y"),
        ("é", "%C3%A9"),
        ("registry:5000/img:tag", "registry%3A5000%2Fimg%3Atag"),
    ],
)
def test_path_parameters_are_quoted_completely(param: str, quoted: str) -> None:
    assert transport().path("/containers/{}/json", param) == f"/containers/{quoted}/json"


@pytest.mark.parametrize("param", ["..", ".", "../images/x", "a/../b", "x/.", ""])
def test_dot_segments_and_empty_ids_are_refused(param: str) -> None:
    with pytest.raises(InvalidArgument):
        transport().path("/containers/{}", param)


def test_non_str_id_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="must be a str"):
        transport().path("/containers/{}", 42)  # type: ignore[arg-type]


def test_query_encoding() -> None:
    query = encode_query(
        {"all": True, "size": False, "limit": 3, "name": "a b&c", "skip": None,
         "filters": {"label": "a=1", "status": ["exited", "dead"]}}
    )
    assert query == (
        "?all=1&size=0&limit=3&name=a%20b%26c"
        "&filters=%7B%22label%22%3A%5B%22a%3D1%22%5D%2C%22status%22%3A%5B%22exited%22%2C%22dead%22%5D%7D"
    )
    assert encode_query({"skip": None}) == ""
    assert encode_query(None) == ""
    # a list repeats its key (images/get?names=…&names=…, build's several t=…)
    assert encode_query({"names": ["a/b:1", "c"], "q": "x"}) == "?names=a%2Fb%3A1&names=c&q=x"
    assert encode_query({"t": []}) == ""


def test_filters_are_not_mutated_and_bad_values_are_refused() -> None:
    filters = {"label": ["a"]}
    encode_query({"filters": filters})
    assert filters == {"label": ["a"]}
    with pytest.raises(InvalidArgument, match=r"filters\['label'\] must be a str or a list"):
        encode_query({"filters": {"label": 3}})
    with pytest.raises(InvalidArgument, match="strings only"):
        encode_query({"filters": {"label": ["a", 3]}})


def test_bad_pinned_version_is_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"MAJOR\.MINOR"):
        Docker("unix:///x.sock", api_version="latest")


async def test_missing_socket_fails_fast_and_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "no-such.sock"
    started = time.monotonic()
    async with Docker(f"unix://{path}") as docker:
        with pytest.raises(DockerConnectionError) as info:
            await docker.ping()
    assert time.monotonic() - started < 2
    assert str(path) in str(info.value)
    assert "is dockerd running?" in str(info.value)
    assert info.value.address == f"unix://{path}"


async def test_socket_without_listener_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dead.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))  # bound, never listening: connect() is refused
    try:
        async with Docker(f"unix://{path}") as docker:
            with pytest.raises(DockerConnectionError, match="connection refused"):
                await docker.version()
    finally:
        sock.close()


def test_permission_denied_message_names_the_fix() -> None:
    t = Transport(resolve_host("unix:///var/run/docker.sock", env={}))
    err = t._connection_error(PermissionError(errno.EACCES, "Permission denied"))
    assert "permission denied on /var/run/docker.sock" in str(err)
    assert "docker group" in str(err)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Serve one handler for every path on a unix socket; returns its address."""
    runners: list[web.AppRunner] = []

    async def serve(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        path = tmp_path / f"fake{len(runners)}.sock"
        await web.UnixSite(runner, str(path)).start()
        runners.append(runner)
        return f"unix://{path}"

    yield serve
    for runner in runners:
        await runner.cleanup()


async def test_plain_text_502_becomes_server_error(
    fake: Callable[[Handler], Awaitable[str]],
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=502, text="Bad Gateway\n")

    async with Docker(await fake(handler), api_version="1.41") as docker:
        with pytest.raises(ServerError) as info:
            await docker.containers.inspect("web")
    assert info.value.status == 502
    assert info.value.message == "Bad Gateway"
    assert info.value.method == "GET"
    assert info.value.path == "/v1.41/containers/web/json"


@pytest.mark.parametrize(
    ("status", "cls"), [(400, BadRequest), (404, NotFound), (409, Conflict), (500, ServerError),
                        (503, ServerError), (401, APIError)]
)
async def test_status_table_keeps_the_daemons_message(
    fake: Callable[[Handler], Awaitable[str]], status: int, cls: type[APIError]
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"message": f"said with {status}"}, status=status)

    async with Docker(await fake(handler), api_version="1.41") as docker:
        with pytest.raises(cls) as info:
            await docker.containers.remove("c1")
    assert type(info.value) is cls
    assert info.value.message == f"said with {status}"
    assert info.value.method == "DELETE"


async def test_redirect_is_an_error_and_not_followed(
    fake: Callable[[Handler], Awaitable[str]],
) -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.raw_path}")
        if request.path.startswith("/v1.41/containers/"):
            return web.Response(status=301, headers={"Location": "/v1.41/images/victim"})
        return web.Response(status=200)

    async with Docker(await fake(handler), api_version="1.41") as docker:
        with pytest.raises(APIError, match="never follows redirects") as info:
            await docker.containers.remove("x/y")
    assert info.value.status == 301
    assert seen == ["DELETE /v1.41/containers/x%2Fy"]


async def test_daemon_that_never_answers_times_out(
    fake: Callable[[Handler], Awaitable[str]],
) -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response()

    async with Docker(await fake(handler), api_version="1.41", timeout=0.3) as docker:
        started = time.monotonic()
        with pytest.raises(DockerTimeoutError, match="did not answer in time"):
            await docker.containers.list()
    assert time.monotonic() - started < 5
    release.set()


async def test_auto_negotiation_takes_the_lower_version_once(
    fake: Callable[[Handler], Awaitable[str]],
) -> None:
    paths: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        paths.append(request.path)
        if request.path == "/_ping":
            return web.Response(text="OK", headers={"Api-Version": "1.99"})
        return web.json_response([])

    async with Docker(await fake(handler)) as docker:
        assert docker.api_version is None
        await asyncio.gather(*(docker.containers.list() for _ in range(5)))
        assert docker.api_version == "1.51"
    assert paths.count("/_ping") == 1
    assert paths.count("/v1.51/containers/json") == 5


async def test_too_old_daemon_is_a_clear_error(fake: Callable[[Handler], Awaitable[str]]) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="OK", headers={"Api-Version": "1.40"})

    async with Docker(await fake(handler)) as docker:
        with pytest.raises(UnsupportedAPIVersion, match=r"speaks API 1.40, older than 1.41"):
            await docker.containers.list()


async def test_closed_client_refuses_requests(tmp_path: Path) -> None:
    docker = Docker(f"unix://{tmp_path}/x.sock", api_version="1.41")
    await docker.aclose()
    await docker.aclose()
    assert docker.closed
    with pytest.raises(DockerConnectionError, match="closed"):
        await docker.ping()


async def test_deprecated_close_still_closes_and_warns(tmp_path: Path) -> None:
    docker = Docker(f"unix://{tmp_path}/x.sock", api_version="1.41")
    with pytest.warns(DeprecationWarning, match=r"Docker.close\(\) is deprecated; use .*aclose"):
        await docker.close()
    assert docker.closed
    with pytest.raises(DockerConnectionError, match="closed"):
        await docker.ping()


def test_an_error_without_a_message_is_named_by_its_type() -> None:
    err = transport()._connection_error(ConnectionResetError())
    assert str(err).endswith("broke: ConnectionResetError")


DEEP = b"[" * 1_000_000 + b"]" * 1_000_000  # deeper than any decoder can recurse


async def test_an_answer_larger_than_max_response_is_refused_before_it_fills_memory(
    fake: Callable[[Handler], Awaitable[str]],
) -> None:
    """A server sends 64 MiB of "JSON" (chunked, and with a Content-Length): the client reads
    at most max_response of it and says what happened; memory stays flat."""
    sent = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        if request.path == "/_ping":
            return web.Response(text="OK", headers={"Api-Version": "1.51"})
        resp = web.StreamResponse(
            headers={"Api-Version": "1.51", "Content-Type": "application/json"}
        )
        if request.path.endswith("/sized/json"):
            resp.content_length = 64 * 2**20
        await resp.prepare(request)
        try:
            for _ in range(64):
                await resp.write(b" " * 2**20)
                sent += 1
        except (ConnectionResetError, RuntimeError):
            pass
        return resp

    async with Docker(await fake(handler), max_response=2**20) as docker:
        for name in ("chunked", "sized"):
            sent = 0
            tracemalloc.start()
            try:
                with pytest.raises(ResponseTooLarge, match=r"larger than max_response \(1048576"):
                    await docker.containers.inspect(name)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert peak < 16 * 2**20, f"{name}: {peak / 2**20:.0f} MiB held"
            assert sent < 64  # the client hung up instead of reading it all
    assert issubclass(ResponseTooLarge, DecodeError) and issubclass(DecodeError, DockerError)
    with pytest.raises(InvalidArgument, match="max_response"):
        Docker("unix:///x.sock", max_response=10)


async def test_json_nested_a_million_levels_is_a_decode_error_not_a_recursion_error(
    fake: Callable[[Handler], Awaitable[str]],
) -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.path.endswith("/error/json"):  # an error body nested too deep
            return web.Response(status=404, body=b'{"message":' + DEEP + b"}",
                                content_type="application/json", headers={"Api-Version": "1.51"})
        # a skipped, unknown field nested too deep
        return web.Response(body=b'{"Id":"x","Unknown":' + DEEP + b"}",
                            content_type="application/json", headers={"Api-Version": "1.51"})

    async with Docker(await fake(handler), api_version="1.51") as docker:
        with pytest.raises(DecodeError, match="nested too deeply"):
            await docker.containers.inspect("fine")
        with pytest.raises(NotFound) as info:
            await docker.containers.inspect("error")
        assert info.value.message.endswith("bytes in all)")  # shown cut, not all 2 MB of it
        assert len(info.value.message) < 70_000


# ---------------------------------------------------------------------------------------------
# Limits: streams never take the requests' connections; a cap reached is named (issue 11)
# ---------------------------------------------------------------------------------------------


async def test_open_streams_leave_requests_free_past_the_old_pool_size(
    engine: EngineHandle,
) -> None:
    # aiohttp's default pool (and ours until issue 11) held 100 connections: the 101st stream
    # waited for one and was reported as "the daemon did not answer"
    async with Docker(engine.host, timeout=10) as docker:
        await docker.ping()
        streams = [docker.events() for _ in range(120)]
        try:
            await asyncio.gather(*(s.open() for s in streams))
            info = await docker.ping()  # served at once, while 120 streams are open
            assert info.api_version
            created = await docker.containers.list(all=True)
            assert isinstance(created, list)
        finally:
            for s in streams:
                await s.aclose()


async def test_a_stream_cap_reached_is_named_and_freed_by_closing(
    engine: EngineHandle,
) -> None:
    async with Docker(engine.host, limits=Limits(streams=2)) as docker:
        first, second = docker.events(), docker.events()
        await first.open()
        await second.open()
        third = docker.events()
        with pytest.raises(ClientLimitReached) as caught:
            await third.open()
        err = caught.value
        assert (err.limit, err.value) == ("streams", 2)
        assert "Limits(streams=2)" in str(err) and "did not answer" not in str(err)
        assert docker._transport.open_streams == 2
        assert (await docker.ping()).api_version  # requests are not streams
        await first.aclose()
        await third.open()  # the closed stream's place is free again
        assert docker._transport.open_streams == 2
        await second.aclose()
        await third.aclose()
        assert docker._transport.open_streams == 0


async def test_an_upgraded_connection_counts_as_a_stream_until_it_closes(
    engine: EngineHandle, make_container: ContainerFactory
) -> None:
    async with Docker(engine.host, limits=Limits(streams=1)) as docker:
        cid = await make_container(["sleep", "300"])
        await docker.containers.start(cid)
        attach = docker.containers.attach(cid)
        async with attach:
            await attach.open()
            with pytest.raises(ClientLimitReached, match=r"Limits\(streams=1\)"):
                async with docker.containers.logs(cid, follow=True, tail=0) as logs:
                    await logs.open()
        for _ in range(100):  # the slot is given back when the socket is gone
            if docker._transport.open_streams == 0:
                break
            await asyncio.sleep(0.01)
        assert docker._transport.open_streams == 0
        async with docker.containers.logs(cid, follow=True, tail=0) as logs:
            await logs.open()


async def test_a_connection_cap_waits_then_names_itself(
    engine: EngineHandle, make_container: ContainerFactory
) -> None:
    async with Docker(engine.host, limits=Limits(connections=1)) as docker:
        cid = await make_container(["sleep", "300"])
        await docker.containers.start(cid)
        # an ordinary request that holds its connection: wait for a container to stop
        waiting = asyncio.create_task(docker.containers.wait(cid))
        for _ in range(500):  # until the wait holds the one connection
            if docker._transport._slots is not None and docker._transport._slots.locked():
                break
            await asyncio.sleep(0.01)
        with pytest.raises(ClientLimitReached) as caught:
            await docker.ping(timeout=0.5)
        assert caught.value.limit == "connections"
        assert "Limits(connections=1)" in str(caught.value)
        assert "did not answer" not in str(caught.value)
        # a request queued behind it is sent once the connection is free
        queued = asyncio.create_task(docker.containers.inspect(cid))
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        assert (await queued).id == cid
        async with docker.events() as events:  # streams never wait for the cap
            await events.open()
            assert (await docker.ping()).api_version


def test_the_open_file_limit_is_named(engine: EngineHandle, tmp_path: Path) -> None:
    # a real limit of the process, reached for real: a child with `ulimit -n 64`
    script = tmp_path / "nofile.py"
    script.write_text(
        "import asyncio, resource, sys\n"
        "import aiodockersock\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit("
        "resource.RLIMIT_NOFILE)[1]))\n"
        "async def main():\n"
        "    async with aiodockersock.Docker(sys.argv[1]) as docker:\n"
        "        streams = []\n"
        "        try:\n"
        "            for _ in range(200):\n"
        "                s = docker.events(); streams.append(s); await s.open()\n"
        "        except aiodockersock.ClientLimitReached as exc:\n"
        "            print(exc.limit, exc.value, exc, sep='|')\n"
        "        finally:\n"
        "            for s in streams: await s.aclose()\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run(
        [sys.executable, str(script), engine.host], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    limit, value, message = out.stdout.strip().split("|", 2)
    assert (limit, value) == ("open files", "64")
    assert "ulimit -n" in message and "did not answer" not in message


async def test_requests_and_streams_name_the_client_and_ask_for_no_compression(
    engine: EngineHandle, tmp_path: Path
) -> None:
    # a relay in front of the real daemon's socket records what the client sends
    if not engine.host.startswith("unix://"):
        pytest.skip("the relay listens on a unix socket in front of a unix-socket daemon")
    target = engine.host.removeprefix("unix://")
    sent = bytearray()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(target)

        async def pipe(
            src: asyncio.StreamReader, dst: asyncio.StreamWriter, record: bool
        ) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    if record:
                        sent.extend(data)
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))

    path = tmp_path / "relay.sock"
    server = await asyncio.start_unix_server(relay, path=str(path))
    try:
        async with Docker(f"unix://{path}") as docker:
            await docker.ping()
            await docker.containers.list(all=True)
            async with docker.events() as events:  # a stream: the other session
                await docker.ping()
                assert not events.closed
    finally:
        server.close()
    heads = [h for h in bytes(sent).split(b"\r\n\r\n") if h.startswith((b"GET ", b"HEAD "))]
    assert len(heads) >= 4  # version check, ping, list, events, ping
    # ping() asks with HEAD, as the Docker CLI does: the answer is all in the headers
    assert [h.split(b" ")[0] for h in heads if b" /_ping " in h].count(b"HEAD") == 2
    for head in heads:
        lines = head.lower().split(b"\r\n")[1:]
        assert lines.count(b"user-agent: aiodockersock") == 1, head
        assert lines.count(b"accept-encoding: identity") == 1, head  # never gzip


async def test_ping_asks_again_with_get_where_head_is_refused(
    fake: Callable[[Handler], Awaitable[str]],
) -> None:
    # a proxy in front of the socket that lets only GET through (a real daemon takes HEAD)
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.path}")
        if request.method != "GET":
            return web.Response(status=405, text="method not allowed\n")
        return web.Response(text="OK", headers={"Api-Version": "1.45", "OSType": "linux"})

    async with Docker(await fake(handler), api_version="1.41") as docker:
        info = await docker.ping()
    assert (info.api_version, info.os_type) == ("1.45", "linux")
    assert seen == ["HEAD /_ping", "GET /_ping"]


# -- registry tokens (registry_token: the session's FetchToken) --------------------------------


async def test_registry_token_forms_and_refusals(tmp_path: Path) -> None:
    server = TokenServer(tmp_path, "alice", "s3cret")
    await server.start()
    try:
        scopes = ["repository:team/app:pull"]
        # credentials: the OAuth2 POST, as the Docker CLI does it for BuildKit
        got = await registry_token("r.example:5000", server.realm, server.service, scopes,
                                   username="alice", secret="s3cret", client_id="buildkit-client")
        assert isinstance(got, RegistryToken) and got.token.count(".") == 2
        assert got.expires_in == 300 and abs(got.issued_at - time.time()) < 60
        assert [(r.method, r.client_id, r.user_agent, r.scopes, r.granted) for r in server.log] == [
            ("POST", "buildkit-client", "aiodockersock", tuple(scopes), True)]

        # a wrong password: the POST refused, then the GET with basic auth; the error names
        # the registry and says what the token server said, never the password
        server.log.clear()
        with pytest.raises(RegistryAuthError) as refused:
            await registry_token("r.example:5000", server.realm, server.service, scopes,
                                 username="alice", secret="wrong-pw")
        assert refused.value.registry == "r.example:5000"
        assert "token server of r.example:5000 refused a token for repository:team/app:pull" \
            in str(refused.value)
        assert "401 (UNAUTHORIZED: authentication required)" in str(refused.value)
        assert "wrong-pw" not in str(refused.value)
        assert [(r.method, r.username, r.granted) for r in server.log] == [
            ("POST", "alice", False), ("GET", "alice", False)]

        # anonymous: one GET without credentials
        server.log.clear()
        with pytest.raises(RegistryAuthError, match="unauthorized"):
            await registry_token("r.example:5000", server.realm, server.service, scopes)
        assert [(r.method, r.username) for r in server.log] == [("GET", "")]

        with pytest.raises(DockerConnectionError, match="not an http"):
            await registry_token("r.example:5000", "ftp://x/token", "s", scopes)
    finally:
        await server.stop()


async def test_registry_token_without_oauth_falls_back_to_get(tmp_path: Path) -> None:
    server = TokenServer(tmp_path, "alice", "s3cret", oauth=False)
    await server.start()
    try:
        got = await registry_token("r.example:5000", server.realm, server.service,
                                   ["repository:a:pull", "repository:b:pull,push"],
                                   username="alice", secret="s3cret")
        assert got.token
        assert [(r.method, r.scopes) for r in server.log] == [
            ("GET", ("repository:a:pull", "repository:b:pull,push"))]
    finally:
        await server.stop()
    with pytest.raises(DockerConnectionError, match="cannot fetch a token"):  # nobody there
        await registry_token("r.example:5000", server.realm, server.service, ["x"])
