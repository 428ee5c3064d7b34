"""``ssh://`` hosts against a real sshd (Debian's openssh-server) on 127.0.0.1.

The sshd, its host key, the client key, ``known_hosts`` and ``ssh_config`` (given with
``ssh_options=["-F", …]``) are made here; root's ``~/.ssh`` is never touched. Its users are real
unprivileged accounts made for this module: ``ok`` (bash, in a group made here that owns the
private engine's socket for the test), ``nodocker`` (no ``docker`` on its PATH), ``chatty``
(a ``~/.bashrc`` that prints, as bash reads it for ssh commands on Debian). Their remote
``docker`` is the Docker CLI of this machine, dialling the private engine's socket named in
the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aiodockersock import Docker, DockerConnectionError, Fleet, InvalidArgument
from aiodockersock._connect import SSHConnector
from aiodockersock.models import HostEvent, HostUp

from .conftest import IN_CI, TEST_IMAGE, ContainerFactory, EngineHandle
from .engines import SSHD, Sshd, create_user, ensure_installed, remove_user, start_sshd

#: Generous: the test machine may be loaded, and a handshake costs CPU.
CONNECT_TIMEOUT = 60.0


@dataclass
class Users:
    group: str
    ok: str
    nodocker: str
    chatty: str


def _unavailable(why: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and the test sshd is unavailable: {why}", pytrace=False)
    pytest.skip(f"no test sshd: {why}")


@pytest.fixture(scope="module")
def users() -> Iterator[Users]:
    if os.geteuid() != 0:
        _unavailable("making test users and an sshd needs root")
    tag = secrets.token_hex(3)
    names = Users(f"ads-ssh-{tag}", f"ads-ok-{tag}", f"ads-nd-{tag}", f"ads-ch-{tag}")
    subprocess.run(["groupadd", names.group], check=True, capture_output=True)
    try:
        create_user(names.ok, groups=(names.group,))
        create_user(names.nodocker, groups=(names.group,))
        home = create_user(names.chatty, groups=(names.group,))
        (home / ".bashrc").write_text('echo "Welcome to the chatty host!"\n')
        yield names
    finally:
        for user in (names.ok, names.nodocker, names.chatty):
            remove_user(user)
        subprocess.run(["groupdel", names.group], check=False, capture_output=True)


def _start(workdir: Path, users: Users, *, extra: str = "", **kwargs: int) -> Sshd:
    try:
        ensure_installed([SSHD])  # as root it installs openssh-server; else names the command
        server = start_sshd(
            workdir,
            extra_config=f"{extra}Match User {users.nodocker}\n    SetEnv PATH=/nonexistent\n",
            **kwargs,
        )
    except Exception as exc:  # the engine package's own errors name what failed
        _unavailable(f"{type(exc).__name__}: {exc}")
    for user in (users.ok, users.nodocker, users.chatty):
        server.authorize(user)
    return server


@pytest.fixture(scope="module")
def sshd(users: Users) -> Iterator[Sshd]:
    # not under pytest's tmp_path (mode 0700): sshd reads authorized_keys as the user
    workdir = Path(tempfile.mkdtemp(prefix="ads-sshd-", dir="/tmp"))
    server = _start(workdir, users)
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def _share_socket(engine: EngineHandle, group: str) -> str:
    """Let the group use the private engine's socket (never the system's); its path."""
    if not engine.host.startswith("unix://") or engine.managed is None:
        pytest.skip("the ssh tests reach a private engine this suite started")
    path = Path(engine.host.removeprefix("unix://"))
    for parent in path.parents:  # traversable (not listable) down to the socket
        if parent in (Path("/"), Path("/tmp")):
            break
        parent.chmod(parent.stat().st_mode | 0o001)
    os.chown(path, -1, grp.getgrnam(group).gr_gid)
    path.chmod(0o660)
    return str(path)


def ssh_url(sshd: Sshd, user: str, socket_path: str = "/nonexistent.sock") -> str:
    return f"ssh://{user}@127.0.0.1:{sshd.port}{socket_path}"


@pytest.fixture
def remote(engine: EngineHandle, sshd: Sshd, users: Users) -> str:
    """The ssh:// URL of the private engine, as the user ``ok``."""
    return ssh_url(sshd, users.ok, _share_socket(engine, users.group))


def client(sshd: Sshd, url: str, *extra: str, **kwargs: Any) -> Docker:
    return Docker(
        url,
        ssh_options=["-F", str(sshd.client_config), *extra],
        connect_timeout=CONNECT_TIMEOUT,
        **kwargs,
    )


def ssh_processes(control_dir: str) -> list[str]:
    """The command lines of live processes that name the client's control directory."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if control_dir in cmdline:
                found.append(f"{entry.name}: {cmdline}")
    return found


def leftovers(control_dir: str | None) -> list[str]:
    """What a closed client left behind: its directory, and processes naming it."""
    if control_dir is None:
        return []
    left = ssh_processes(control_dir)
    return [control_dir, *left] if os.path.exists(control_dir) else left


def terminal_sessions(sshd: Sshd) -> int:
    """How many sessions with a terminal sshd started so far (from its log)."""
    return sshd.log_path.read_text(errors="replace").count("Starting session: command on pts/")


def remote_dial_stdio(user: str) -> list[str]:
    """The ``docker system dial-stdio`` processes the ssh user runs (the remote end of
    dial-stdio connections; sshd starts them as that user)."""
    uid = pwd.getpwnam(user).pw_uid
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    if "dial-stdio" in cmdline:
                        found.append(f"{entry.name}: {cmdline}")
    return found


def masters(control_dir: str) -> list[str]:
    """The control sockets (one per ssh master connection) in the client's directory."""
    return [p.name for p in Path(control_dir).iterdir()
            if p.is_socket() and not p.name.endswith(".fwd")]


def file_mode(path: str) -> int:
    return Path(path).stat().st_mode & 0o777


def run(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(args, check=True, capture_output=True, env=env)


def zombies() -> list[str]:
    """Defunct children of this process."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if fields[0] == "Z" and int(fields[1]) == os.getpid():
                    found.append(entry.name)
    return found


def connector(docker: Docker) -> SSHConnector:
    conn = docker._transport.connector
    assert isinstance(conn, SSHConnector)
    return conn


# -- resolution (no sshd needed) ------------------------------------------------------------


def test_a_password_in_the_url_is_refused_without_showing_it() -> None:
    with pytest.raises(InvalidArgument, match="password in an ssh:// URL is refused") as info:
        Docker("ssh://me:hunter2@example.com")
    assert "hunter2" not in str(info.value)


def test_ssh_url_parts() -> None:
    from aiodockersock._config import resolve_host

    host = resolve_host("ssh://me@example.com:2222/run/user/1000/docker.sock",
                        ssh_options=["-F", "cfg"], ssh_sessions=4, env={})
    assert host.ssh is not None
    assert (host.ssh.user, host.ssh.hostname, host.ssh.port, host.ssh.socket_path) == (
        "me", "example.com", 2222, "/run/user/1000/docker.sock")
    assert host.ssh.options == ("-F", "cfg") and host.ssh.sessions == 4
    bare = resolve_host("ssh://example.com", env={}).ssh
    assert bare is not None and (bare.user, bare.port, bare.socket_path) == (None, None, None)
    with pytest.raises(InvalidArgument, match="ssh_sessions must be a positive int"):
        Docker("ssh://example.com", ssh_sessions=0)
    with pytest.raises(InvalidArgument, match="one per ssh argument"):
        Docker("ssh://example.com", ssh_options="-F cfg")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="ssh_mode must be one of auto, forward, dial-stdio"):
        Docker("ssh://example.com/var/run/docker.sock", ssh_mode="tunnel")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="the URL must name it"):
        Docker("ssh://example.com", ssh_mode="forward")


# -- against the real sshd ----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "dial-stdio"])
async def test_ping_version_inspect_over_ssh(
    engine: EngineHandle, remote: str, sshd: Sshd, users: Users,
    make_container: ContainerFactory, mode: str,
) -> None:
    cid = await make_container()
    terminals = terminal_sessions(sshd)
    async with client(sshd, remote, ssh_mode=mode) as docker:
        assert connector(docker).forwarding is (None if mode == "auto" else False)
        assert (await docker.ping()).api_version == engine.api_version
        # the URL names the socket: sshd forwards to it, no remote docker runs
        assert connector(docker).forwarding is (mode == "auto")
        relays = remote_dial_stdio(users.ok)
        assert (relays == []) if mode == "auto" else (len(relays) >= 1), relays
        # one short session with a terminal per login, so that sshd turns Nagle off for the
        # connection (else a two-part answer waits up to 40 ms for a delayed ACK)
        assert terminal_sessions(sshd) - terminals == 1
        assert (await docker.version()).version == engine.server_version
        inspected = await docker.containers.inspect(cid)
        assert inspected.id == cid
        assert inspected.config is not None and inspected.config.image == TEST_IMAGE


@pytest.mark.parametrize("mode", ["auto", "dial-stdio"])
async def test_many_followed_streams_and_a_request_over_few_ssh_connections(
    engine: EngineHandle, remote: str, sshd: Sshd, make_container: ContainerFactory, mode: str
) -> None:
    cid = await make_container(["sh", "-c", "while true; do echo tick; sleep 0.2; done"])
    async with Docker(engine.host) as local:
        await local.containers.start(cid)
    before = sshd.handshakes()
    docker = client(sshd, remote, ssh_mode=mode)
    streams = [docker.containers.logs(cid, follow=True, tail=1, tty=False) for _ in range(30)]
    try:
        async with contextlib.AsyncExitStack() as stack:
            await asyncio.gather(*(stack.enter_async_context(s) for s in streams))
            frames = [aiter(s) for s in streams]
            stack.push_async_callback(asyncio.gather, *(f.aclose() for f in frames))  # type: ignore[attr-defined]
            firsts = await asyncio.gather(*(anext(f) for f in frames))
            assert all(frame.data.startswith(b"tick") for frame in firsts)
            # every stream holds its session, yet a request still goes through at once
            assert (await docker.version()).version == engine.server_version
            control_dir = connector(docker).control_dir
            assert control_dir is not None
            sockets = masters(control_dir)
            handshakes = sshd.handshakes() - before
            if mode == "dial-stdio":
                # 31 sessions, 10 per ssh connection (sshd's MaxSessions): 4, not 31
                assert 2 <= len(sockets) <= 4, sockets
            else:
                # 31 forwarded channels: MaxSessions counts none of them, one login serves all
                assert len(sockets) == 1, sockets
            assert handshakes == len(sockets)
            assert file_mode(control_dir) == 0o700
    finally:
        await docker.aclose()
    assert leftovers(control_dir) == []
    assert zombies() == []


@pytest.mark.parametrize("mode", ["auto", "dial-stdio"])
async def test_connections_left_by_a_burst_close_once_idle(
    engine: EngineHandle, remote: str, sshd: Sshd, mode: str
) -> None:
    # each open channel makes every round trip through ssh and sshd dearer: after a burst,
    # sequential calls must reuse one connection and the others close once idle (aiohttp's
    # pool would take them in turn and keep them all alive)
    async with client(sshd, remote, ssh_mode=mode) as docker:
        conn = connector(docker)
        assert conn.idle_timeout == 2.0
        await asyncio.gather(*(docker.version() for _ in range(6)))
        burst = conn.open_connections
        assert burst >= 2, burst
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 4 * conn.idle_timeout + 5
        while conn.open_connections > 1 and loop.time() < deadline:
            await docker.version()  # busy all along: only the one in use stays
            await asyncio.sleep(0.1)
        assert conn.open_connections == 1, (burst, conn.open_connections)
        assert (await docker.version()).version == engine.server_version


async def test_a_server_with_fewer_sessions_names_max_sessions_and_the_setting(
    engine: EngineHandle, sshd: Sshd, users: Users, make_container: ContainerFactory
) -> None:
    cid = await make_container(["sh", "-c", "while true; do echo tick; sleep 0.2; done"])
    async with Docker(engine.host) as local:
        await local.containers.start(cid)
    workdir = Path(tempfile.mkdtemp(prefix="ads-sshd-", dir="/tmp"))
    strict = _start(workdir, users, max_sessions=2)
    try:
        url = ssh_url(strict, users.ok, _share_socket(engine, users.group))
        # forwarded connections are channels, not sessions: 5 streams on one ssh connection
        async with client(strict, url) as docker:
            before = strict.handshakes()
            streams = [docker.containers.logs(cid, follow=True, tail=1, tty=False)
                       for _ in range(5)]
            async with contextlib.AsyncExitStack() as stack:
                for stream in streams:
                    await stack.enter_async_context(stream)
                    frames = aiter(stream)
                    assert (await anext(frames)).data.startswith(b"tick")
                    await frames.aclose()  # type: ignore[attr-defined]
            assert connector(docker).forwarding is True
            assert strict.handshakes() - before == 1
        # dial-stdio, told the truth: 2 per ssh connection, so 5 streams take 3 and all work
        async with client(strict, url, ssh_sessions=2, ssh_mode="dial-stdio") as docker:
            streams = [docker.containers.logs(cid, follow=True, tail=1, tty=False)
                       for _ in range(5)]
            async with contextlib.AsyncExitStack() as stack:
                for stream in streams:
                    await stack.enter_async_context(stream)
                    frames = aiter(stream)
                    assert (await anext(frames)).data.startswith(b"tick")
                    await frames.aclose()  # type: ignore[attr-defined]
        # not told: sshd refuses a third session on one ssh connection (the negotiation's
        # idle connection and a stream hold two). An upgrade (attach) is not retried: the
        # error names the limit and the setting; the client learns, and the next connection
        # opens another ssh connection.
        async with client(strict, url, ssh_mode="dial-stdio") as docker:
            before = strict.handshakes()
            async with contextlib.AsyncExitStack() as stack:
                await stack.enter_async_context(
                    docker.containers.logs(cid, follow=True, tail=1, tty=False)
                )
                with pytest.raises(DockerConnectionError) as info:
                    await stack.enter_async_context(docker.containers.attach(cid))
                await stack.enter_async_context(docker.containers.attach(cid))
            assert strict.handshakes() - before == 2
        message = str(info.value)
        assert "MaxSessions" in message and "ssh_sessions=N" in message, message
        assert "refused by peer" in message  # ssh's own words
    finally:
        strict.stop()
        shutil.rmtree(workdir, ignore_errors=True)


async def test_a_server_that_refuses_to_forward(
    engine: EngineHandle, users: Users
) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="ads-sshd-", dir="/tmp"))
    closed = _start(workdir, users, extra="DisableForwarding yes\n")
    try:
        url = ssh_url(closed, users.ok, _share_socket(engine, users.group))
        # auto: the ping through the forward fails, so the remote docker dials instead
        async with client(closed, url) as docker:
            assert (await docker.version()).version == engine.server_version
            assert connector(docker).forwarding is False
            assert len(remote_dial_stdio(users.ok)) >= 1
        # forward: an error that names the server's settings and the way out
        async with client(closed, url, ssh_mode="forward") as docker:
            with pytest.raises(DockerConnectionError) as info:
                await docker.ping()
        message = str(info.value)
        assert "did not forward a connection to " + url.split(str(closed.port), 1)[1] in message
        assert "AllowStreamLocalForwarding no, DisableForwarding yes" in message, message
        assert "ssh_mode='auto'" in message
    finally:
        closed.stop()
        shutil.rmtree(workdir, ignore_errors=True)


async def test_forwarding_to_a_socket_that_is_not_there_says_so(
    sshd: Sshd, users: Users
) -> None:
    async with client(sshd, ssh_url(sshd, users.ok), ssh_mode="forward") as docker:
        with pytest.raises(DockerConnectionError) as info:
            await docker.ping()
        control_dir = connector(docker).control_dir
    message = str(info.value)
    assert "did not forward a connection to /nonexistent.sock" in message, message
    assert "no daemon listens on that path" in message
    assert leftovers(control_dir) == []


async def test_no_docker_on_the_remote_path_says_so(sshd: Sshd, users: Users) -> None:
    async with client(sshd, ssh_url(sshd, users.nodocker)) as docker:
        with pytest.raises(DockerConnectionError) as info:
            await docker.ping()
    message = str(info.value)
    assert "no `docker` command on the PATH" in message and "exit 127" in message, message
    assert "command not found" in message  # ssh's stderr, quoted


async def test_a_login_shell_that_prints_says_so(sshd: Sshd, users: Users) -> None:
    async with client(sshd, ssh_url(sshd, users.chatty)) as docker:
        with pytest.raises(DockerConnectionError) as info:
            await docker.ping()
    message = str(info.value)
    assert "Welcome to the chatty host!" in message, message
    assert "~/.bashrc" in message and "login shell" in message


async def test_a_key_the_server_does_not_know_is_a_named_auth_error(
    sshd: Sshd, users: Users, tmp_path: Path
) -> None:
    other = tmp_path / "other_key"
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other))
    config = tmp_path / "ssh_config"
    config.write_text(sshd.client_config.read_text().replace(str(sshd.client_key), str(other)))
    docker = Docker(ssh_url(sshd, users.ok), ssh_options=["-F", str(config)],
                    connect_timeout=CONNECT_TIMEOUT)
    async with docker:
        with pytest.raises(DockerConnectionError) as info:
            await docker.ping()
        control_dir = connector(docker).control_dir
    message = str(info.value)
    assert "could not log in as" in message and "Permission denied (publickey)" in message
    assert "authorized_keys" in message, message
    assert control_dir is not None and leftovers(control_dir) == []


async def test_an_unknown_host_key_is_refused_with_the_fix(
    sshd: Sshd, users: Users, tmp_path: Path
) -> None:
    config = tmp_path / "ssh_config"
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    config.write_text(sshd.client_config.read_text().replace(str(sshd.known_hosts), str(empty)))
    async with Docker(ssh_url(sshd, users.ok), ssh_options=["-F", str(config)],
                      connect_timeout=CONNECT_TIMEOUT) as docker:
        with pytest.raises(DockerConnectionError) as info:
            await docker.ping()
    message = str(info.value)
    assert "refused the host key" in message and "Host key verification failed" in message
    assert "known_hosts" in message, message


async def test_a_context_with_an_ssh_host(
    engine: EngineHandle, remote: str, sshd: Sshd, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docker_cli = shutil.which("docker")
    if docker_cli is None:
        pytest.skip("the docker CLI is not installed")
    env = {**os.environ, "DOCKER_CONFIG": str(tmp_path)}
    env.pop("DOCKER_HOST", None)
    run(docker_cli, "context", "create", "far", "--docker", f"host={remote}", env=env)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    async with Docker(context="far", ssh_options=["-F", str(sshd.client_config)],
                      connect_timeout=CONNECT_TIMEOUT) as docker:
        assert docker.url == remote
        assert (await docker.version()).version == engine.server_version


async def test_a_client_dropped_mid_handshake_leaves_nothing(
    sshd: Sshd, users: Users
) -> None:
    docker = client(sshd, ssh_url(sshd, users.ok))
    ping = asyncio.ensure_future(docker.ping())
    await asyncio.sleep(0.05)  # ssh has started, not logged in yet
    ping.cancel()
    with contextlib.suppress(asyncio.CancelledError, DockerConnectionError):
        await ping
    control_dir = connector(docker).control_dir
    await docker.aclose()
    assert leftovers(control_dir) == []
    assert zombies() == []


async def test_a_lost_master_connection_is_replaced(
    engine: EngineHandle, remote: str, sshd: Sshd
) -> None:
    async with client(sshd, remote) as docker:
        await docker.ping()
        control_dir = connector(docker).control_dir
        assert control_dir is not None
        [master] = [line for line in ssh_processes(control_dir) if "ControlMaster=yes" in line]
        os.kill(int(master.split(":", 1)[0]), signal.SIGTERM)  # as if the network dropped it
        for _ in range(200):
            if not masters(control_dir):
                break
            await asyncio.sleep(0.05)
        before = sshd.handshakes()
        # the pooled connection died with its master; the next call logs in again, once
        assert (await docker.version()).version == engine.server_version
        assert (await docker.version()).version == engine.server_version
        assert sshd.handshakes() - before == 1
        assert len(masters(control_dir)) == 1
    assert leftovers(control_dir) == []


async def test_a_fleet_with_one_engine_over_ssh(
    engine: EngineHandle, remote: str, sshd: Sshd
) -> None:
    # the same engine twice: through its socket and over ssh; each copy of an event is tagged
    over_ssh = client(sshd, remote)
    try:
        async with Fleet({"local": engine.host, "over-ssh": over_ssh}) as fleet:
            pinged = await fleet.gather(lambda d: d.ping(), timeout=30)
            assert pinged["over-ssh"].ok and pinged["local"].ok, pinged.errors
            async with fleet.events(filters={"type": ["volume"]}) as events:
                up: set[str] = set()
                async for item in events:
                    if isinstance(item, HostUp):
                        up.add(item.host)
                        if len(up) == 2:
                            break
                name = f"ads-ssh-fleet-{secrets.token_hex(3)}"
                await fleet["over-ssh"].volumes.create(name=name)
                tagged: set[str] = set()

                async def both_copies() -> None:
                    async for item in events:
                        if type(item) is HostEvent and item.event.actor_id == name:
                            tagged.add(item.host)
                            if tagged == {"local", "over-ssh"}:
                                return

                await asyncio.wait_for(both_copies(), 30)
            await fleet["local"].volumes.remove(name)
    finally:
        await over_ssh.aclose()
