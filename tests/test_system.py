"""The system API against real engines: ping, version, info, df, registry login."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import msgspec
import pytest

from aiodockersock import (
    Docker,
    InvalidArgument,
    RegistryAuth,
    RegistryAuthError,
    RegistryUnreachable,
    ServerError,
)
from aiodockersock._transport import MAX_API_VERSION, parse_version
from aiodockersock.models import AuthResponse

from .conftest import TEST_IMAGE, ContainerFactory, EngineHandle, RegistryHandle

pytestmark = [pytest.mark.engine, pytest.mark.podman]


async def test_ping_reports_the_daemon(docker: Docker, engine: EngineHandle) -> None:
    ping = await docker.ping()
    assert ping.api_version == engine.api_version
    if engine.podman:  # no OSType header; "experimental"; its own version
        assert (ping.os_type, ping.experimental) == (None, True)
        assert ping.podman_version == engine.server_version
    else:
        assert ping.os_type == "linux"
        assert ping.experimental is False
        assert ping.podman_version is None


async def test_auto_negotiates_min_of_daemon_and_client(
    docker: Docker, engine: EngineHandle
) -> None:
    assert docker.api_version is None
    used = await docker.negotiate()
    expected = min(engine.api_version, MAX_API_VERSION, key=parse_version)
    assert used == expected == docker.api_version


async def test_pinned_version_is_used(engine: EngineHandle) -> None:
    async with Docker(engine.host, api_version="1.41") as docker:
        v = await docker.version()
        assert docker.api_version == "1.41"
        assert v.api_version == engine.api_version  # the daemon reports its own max


async def test_version_decodes_every_field(docker: Docker, engine: EngineHandle) -> None:
    v = await docker.version()
    assert v.version == engine.server_version
    assert v.api_version == engine.api_version
    assert v.min_api_version and parse_version(v.min_api_version) <= (1, 24)
    assert v.os == "linux" and v.arch
    assert v.go_version and v.go_version.startswith("go")
    assert v.kernel_version
    names = {c.name for c in v.components or []}
    if engine.podman:  # Debian's build records no commit
        assert v.git_commit == ""
        assert {"Podman Engine", "Conmon"} <= names
    else:
        assert v.git_commit
        assert "Engine" in names and "containerd" in names
    assert v.platform is not None and v.platform.name is not None


async def test_info_decodes_counts_and_host_facts(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container()
    await docker.containers.start(cid)
    info = await docker.info()
    assert info.id
    assert info.containers is not None and info.containers >= 1
    assert info.containers_running is not None and info.containers_running >= 1
    assert info.images is not None and info.images >= 1
    assert info.ncpu is not None and info.ncpu >= 1
    assert info.mem_total is not None and info.mem_total > 2**28
    assert info.os_type == "linux"
    assert info.docker_root_dir and info.docker_root_dir.startswith("/")
    assert info.driver
    assert info.kernel_version
    assert info.server_version
    assert info.runtimes and "runc" in info.runtimes
    assert info.swarm is not None and info.swarm.local_node_state == "inactive"
    assert info.registry_config is not None


async def test_df_lists_images_and_containers(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    cid = await make_container()
    df = await docker.df()
    mine = [c for c in df.containers or [] if c.id == cid]
    assert len(mine) == 1
    if engine.podman:
        # Podman's df: no layer total, one entry per tag naming only the tag, bare ids, and a
        # container's image given by its id
        image_id = (await docker.images.inspect(TEST_IMAGE)).id
        assert image_id is not None
        assert df.layers_size == 0
        assert any(img.id == image_id[7:] and img.repo_tags == ["latest"] and img.size
                   for img in df.images or [])
        assert mine[0].image == image_id[7:]
    else:
        assert df.layers_size is not None and df.layers_size > 0
        assert any(TEST_IMAGE in (img.repo_tags or []) for img in df.images or [])
        assert mine[0].image == TEST_IMAGE
    assert df.volumes is not None or df.volumes is None  # an empty engine may send null
    assert isinstance(df.build_cache, (list, type(None)))


# -- registry login (POST /auth) ---------------------------------------------------------------


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty DOCKER_CONFIG directory: the user's own ~/.docker never leaks into a test."""
    directory = tmp_path / "docker-config"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory


async def test_login_checks_credentials_with_the_registry(
    docker: Docker, engine: EngineHandle, auth_registry: RegistryHandle, docker_config: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    user, password = auth_registry.username, auth_registry.password
    assert user and password
    wrong = f"wrong-{secrets.token_urlsafe(12)}"
    if engine.podman:
        # Podman 4.3's /auth asks every registry over HTTPS (its registries.conf, which lets
        # pushes and pulls use plain HTTP on 127.0.0.1, is not consulted): the daemon's words
        # name the registry and why
        with pytest.raises(ServerError, match=rf"login attempt to {auth_registry.address} .*"
                                              "server gave HTTP response to HTTPS client"):
            await docker.system.login(auth_registry.address, user, password)
        return
    answer = await docker.system.login(auth_registry.address, user, password)
    assert isinstance(answer, AuthResponse)
    assert answer.status == "Login Succeeded"
    assert not answer.identity_token  # a plain htpasswd registry issues none
    # the client's shortcut, with the credentials as a RegistryAuth
    again = await docker.login(auth_registry.address, auth=RegistryAuth(user, password))
    assert again.status == "Login Succeeded"

    with pytest.raises(RegistryAuthError) as refused:
        await docker.system.login(auth_registry.address, user, wrong)
    exc = refused.value
    assert exc.registry == auth_registry.address
    assert exc.operation == f"login to {auth_registry.address}"
    assert f"the registry {auth_registry.address} refused the credentials of {user!r}" in str(exc)
    assert "401 Unauthorized" in exc.message  # the daemon's own words, kept
    for text in (str(exc), repr(exc), repr(exc.args), exc.message):
        assert wrong not in text and password not in text
    assert exc.__cause__ is None and exc.__context__ is not None  # suppressed, not chained
    for secret in (wrong, password):
        assert secret not in caplog.text

    # the Docker CLI agrees: the wrong password is refused, the right one logs in (and stores
    # it in DOCKER_CONFIG, where login() with no credentials finds it)
    cli = shutil.which("docker")
    if cli is not None:
        def cli_login(secret: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [cli, "-H", engine.host, "login", auth_registry.address, "-u", user,
                 "--password-stdin"], input=secret, capture_output=True, text=True, timeout=60,
                env={**os.environ, "DOCKER_CONFIG": str(docker_config)}, check=False)
        assert cli_login(wrong).returncode != 0
        assert cli_login(password).returncode == 0
        stored = await docker.system.login(auth_registry.address)
        assert stored.status == "Login Succeeded"


async def test_login_errors_say_what_to_do(
    docker: Docker, engine: EngineHandle, docker_config: Path
) -> None:
    with pytest.raises(InvalidArgument, match=r"no credentials for 127\.0\.0\.1:1: pass a"):
        await docker.system.login("127.0.0.1:1")
    with pytest.raises(InvalidArgument, match="either auth= or a username and password"):
        await docker.system.login("x", "user", auth=RegistryAuth("user", "pw"))
    with pytest.raises(InvalidArgument, match="registry must be a non-empty str"):
        await docker.system.login("", "user", "pw")
    if engine.podman:
        return  # its errors are its own words (see above)
    with pytest.raises(RegistryUnreachable, match=r"cannot reach the registry 127\.0\.0\.1:1 to "
                                                  r"log in") as info:
        await docker.system.login("127.0.0.1:1", "user", "pw")
    assert info.value.registry == "127.0.0.1:1"


def test_an_identity_token_stays_out_of_the_answer_s_repr() -> None:
    token = secrets.token_urlsafe(16)
    answer = msgspec.json.decode(
        f'{{"Status": "Login Succeeded", "IdentityToken": "{token}"}}'.encode(), type=AuthResponse
    )
    assert answer.identity_token == token  # there for the caller to use
    for text in (repr(answer), str(answer), repr([answer])):
        assert token not in text and "identity_token='***'" in text
    assert "identity_token=''" in repr(AuthResponse(status="Login Succeeded", identity_token=""))
