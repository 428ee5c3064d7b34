"""The plugins API against real engines: a volume-driver plugin created offline from a local
directory (``tests/plugindir.py`` builds it), enabled for real, pushed to the test registry and
pulled back with the privileges handshake; Podman, which has no plugins, says so."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import secrets
import tarfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from aiodockersock import (
    BadRequest,
    Conflict,
    Docker,
    InvalidArgument,
    NotFound,
    NotSupported,
    PrivilegesNotGranted,
    ProgressError,
    RegistryAuth,
    ServerError,
)
from aiodockersock.models import (
    Plugin,
    PluginConfig,
    PluginPrivilege,
    ProgressMessage,
    PushResult,
)

from .conftest import IN_CI, EngineHandle, RegistryHandle
from .plugindir import SOCKET, NoCompiler, make_plugin_dir
from .test_models import unmatched_keys

# An address no daemon listens on: a call that raises InvalidArgument there sent nothing.
NOWHERE = "unix:///nonexistent/aiodockersock.sock"
PRIVILEGES = [("network", ["host"]), ("capabilities", ["CAP_SYS_ADMIN"])]

engine_test = pytest.mark.engine


def _token() -> str:
    return secrets.token_hex(4)


@pytest.fixture(scope="session")
def plugin_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where plugin directories are written (the listener is compiled once)."""
    root = tmp_path_factory.mktemp("plugins")
    try:
        make_plugin_dir(root / "probe", "probe")
    except NoCompiler as exc:
        if IN_CI:
            pytest.fail(f"CI=true and the test plugin cannot be built: {exc}", pytrace=False)
        pytest.skip(str(exc))
    yield root


def _new_dir(plugin_dirs: Path, description: str) -> Path:
    return make_plugin_dir(plugin_dirs / f"p-{_token()}", description)


@pytest.fixture(scope="session")
async def shared_plugin(engine: EngineHandle, plugin_dirs: Path) -> AsyncIterator[str]:
    """One plugin per engine, created once and shared by the tests that only read it or put
    it back as they found it (disabled, ``DEBUG=0``)."""
    if engine.podman:
        pytest.skip("Podman has no plugins")
    name = f"ads-test/shared-{_token()}:latest"
    async with Docker(engine.host) as docker:
        await docker.plugins.create(name, _new_dir(plugin_dirs, f"shared {name}"))
        try:
            yield name
        finally:
            await docker.plugins.remove(name, force=True)


@pytest.fixture
async def tidy_plugins(docker: Docker) -> AsyncIterator[list[str]]:
    """Names of plugins a test makes, removed (forcibly) afterwards."""
    made: list[str] = []
    yield made
    for name in made:
        with contextlib.suppress(NotFound):
            await docker.plugins.remove(name, force=True)


# ---------------------------------------------------------------------------------------------
# Created offline, inspected, listed, set, removed
# ---------------------------------------------------------------------------------------------


@engine_test
async def test_create_from_a_directory_then_inspect_list_and_remove(
    docker: Docker, engine: EngineHandle, plugin_dirs: Path, tidy_plugins: list[str]
) -> None:
    name = f"ads-test/create-{_token()}"
    tidy_plugins.append(name)
    source = _new_dir(plugin_dirs, f"created {name}")
    plugin = await docker.plugins.create(name, str(source))  # a str names the directory too
    assert isinstance(plugin, Plugin)
    assert plugin.name == f"{name}:latest" and plugin.enabled is False
    assert plugin.id and len(plugin.id) == 64
    config = plugin.config
    assert isinstance(config, PluginConfig)
    assert config.description == f"created {name}"
    assert config.entrypoint == ["/bin/listener", f"/run/docker/plugins/{SOCKET}"]
    assert config.interface and config.interface.socket == SOCKET
    assert config.interface.types == ["docker.volumedriver/1.0"]
    assert config.network and config.network.type == "host"
    assert config.linux and config.linux.capabilities == ["CAP_SYS_ADMIN"]
    assert config.env and config.env[0].name == "DEBUG" and config.env[0].settable == ["value"]
    assert config.rootfs and config.rootfs.type == "layers"
    assert config.rootfs.diff_ids and config.rootfs.diff_ids[0].startswith("sha256:")
    assert plugin.settings and plugin.settings.env == ["DEBUG=0"]

    # by name without the tag, by name with it, by id and by a short id: the same plugin
    for ref in (name, f"{name}:latest", plugin.id, plugin.id[:12]):
        assert (await docker.plugins.inspect(ref)).id == plugin.id
    listed = {p.name: p for p in await docker.plugins.list()}
    assert listed[f"{name}:latest"].id == plugin.id
    volume_drivers = await docker.plugins.list(filters={"capability": "volumedriver"})
    assert f"{name}:latest" in {p.name for p in volume_drivers}
    enabled = await docker.plugins.list(filters={"enabled": "true"})
    assert f"{name}:latest" not in {p.name for p in enabled}
    cli = engine.cli("plugin", "ls", "--format", "{{.Name}} {{.Enabled}} {{.Description}}")
    assert f"{name}:latest false created {name}" in cli.stdout.splitlines()
    # every key the daemon sends has its field (a misspelt rename would leave one unmatched)
    raw = json.loads(engine.cli("plugin", "inspect", name).stdout)[0]
    assert unmatched_keys(raw, Plugin) == []

    await docker.plugins.remove(name)
    with pytest.raises(NotFound):
        await docker.plugins.inspect(name)
    assert f"{name}:latest" not in engine.cli("plugin", "ls", "--format", "{{.Name}}").stdout


@engine_test
async def test_create_from_a_tar(
    docker: Docker, plugin_dirs: Path, tidy_plugins: list[str]
) -> None:
    source = _new_dir(plugin_dirs, f"from a tar {_token()}")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(source, arcname=".")
    name = f"ads-test/tar-{_token()}"
    tidy_plugins.append(name)
    plugin = await docker.plugins.create(name, buf.getvalue())
    assert plugin.config and plugin.config.description == json.loads(
        (source / "config.json").read_text())["Description"]


async def test_create_refuses_a_directory_that_is_not_a_plugin(tmp_path: Path) -> None:
    async with Docker(NOWHERE) as docker:
        (tmp_path / "rootfs").mkdir()
        with pytest.raises(InvalidArgument, match=r"holds no config\.json"):
            await docker.plugins.create("x/y", tmp_path)
        (tmp_path / "rootfs").rmdir()
        (tmp_path / "config.json").write_text("{}")
        with pytest.raises(InvalidArgument, match="holds no rootfs/ directory"):
            await docker.plugins.create("x/y", tmp_path)
        (tmp_path / "rootfs").mkdir()
        (tmp_path / "config.json").write_text("[1, 2]")
        with pytest.raises(InvalidArgument, match=r"config\.json is not a JSON object"):
            await docker.plugins.create("x/y", tmp_path)
        with pytest.raises(InvalidArgument, match="no such plugin directory or tar file"):
            await docker.plugins.create("x/y", tmp_path / "missing")
        with pytest.raises(InvalidArgument, match="non-empty str"):
            await docker.plugins.create("", tmp_path)
        with pytest.raises(InvalidArgument, match="must be bytes"):
            await docker.plugins.create("x/y", 42)  # type: ignore[arg-type]


@engine_test
async def test_create_an_identical_plugin_or_a_taken_name_is_a_conflict(
    docker: Docker, shared_plugin: str, plugin_dirs: Path, tidy_plugins: list[str]
) -> None:
    source = _new_dir(plugin_dirs, f"twin {_token()}")
    first = f"ads-test/twin-{_token()}"
    tidy_plugins.append(first)
    await docker.plugins.create(first, source)
    second = f"ads-test/twin-{_token()}"
    tidy_plugins.append(second)
    with pytest.raises(Conflict, match="the same content as") as twin:
        await docker.plugins.create(second, source)
    assert "already exists" in twin.value.message  # the daemon's own words, kept
    with pytest.raises(NotFound):
        await docker.plugins.inspect(second)
    with pytest.raises(Conflict, match="already exists"):
        await docker.plugins.create(shared_plugin, _new_dir(plugin_dirs, f"taken {_token()}"))


@engine_test
async def test_set_changes_the_settings(
    docker: Docker, engine: EngineHandle, shared_plugin: str
) -> None:
    try:
        await docker.plugins.set(shared_plugin, {"DEBUG": "1"})
        assert (await docker.plugins.inspect(shared_plugin)).settings.env == [  # type: ignore[union-attr]
            "DEBUG=1"
        ]
        cli = engine.cli("plugin", "inspect", "--format", "{{json .Settings.Env}}",
                         shared_plugin)
        assert json.loads(cli.stdout) == ["DEBUG=1"]
        await docker.plugins.set(shared_plugin, ["DEBUG=2"])
        settings = (await docker.plugins.inspect(shared_plugin)).settings
        assert settings is not None and settings.env == ["DEBUG=2"]
        with pytest.raises(BadRequest, match="NOPE"):
            await docker.plugins.set(shared_plugin, {"NOPE": "1"})
    finally:
        await docker.plugins.set(shared_plugin, {"DEBUG": "0"})


async def test_set_and_enable_refuse_bad_arguments() -> None:
    async with Docker(NOWHERE) as docker:
        for bad in ({}, [], ["DEBUG"], ["=1"], "DEBUG=1", {"A=B": "1"}, {"A": 1}):
            with pytest.raises(InvalidArgument):
                await docker.plugins.set("x/y", bad)  # type: ignore[arg-type]
        for timeout in (-1, 1.5, True):
            with pytest.raises(InvalidArgument, match="timeout"):
                await docker.plugins.enable("x/y", timeout=timeout)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            await docker.plugins.inspect("../images/x")
        with pytest.raises(InvalidArgument, match="grant must be"):
            docker.plugins.pull("127.0.0.1:5000/x/y", grant="all")  # type: ignore[arg-type]


@engine_test
async def test_missing_plugins_are_not_found(docker: Docker) -> None:
    missing = f"ads-test/missing-{_token()}"
    with pytest.raises(NotFound):
        await docker.plugins.inspect(missing)
    with pytest.raises(NotFound):
        await docker.plugins.enable(missing)
    with pytest.raises(NotFound):
        await docker.plugins.remove(missing)
    with pytest.raises(NotFound):
        await docker.plugins.push(missing)


# ---------------------------------------------------------------------------------------------
# Enabled for real: the plugin's process listens, and dockerd uses it
# ---------------------------------------------------------------------------------------------


@engine_test
async def test_enable_runs_the_plugin_and_disable_stops_it(
    docker: Docker, engine: EngineHandle, shared_plugin: str
) -> None:
    volume = f"ads-plugin-vol-{_token()}"
    await docker.plugins.enable(shared_plugin, timeout=10)
    try:
        assert (await docker.plugins.inspect(shared_plugin)).enabled is True
        cli = engine.cli("plugin", "inspect", "--format", "{{.Enabled}}", shared_plugin)
        assert cli.stdout.strip() == "true"
        with pytest.raises(Conflict):
            await docker.plugins.enable(shared_plugin)
        with pytest.raises(Conflict, match="disable"):  # settings only change when disabled
            await docker.plugins.set(shared_plugin, {"DEBUG": "1"})
        with pytest.raises(Conflict, match="enabled"):
            await docker.plugins.remove(shared_plugin)
        # the driver answers: dockerd creates a volume through the plugin's socket
        created = await docker.volumes.create(volume, driver=shared_plugin)
        assert created.driver == shared_plugin and created.mountpoint == "/"
        with pytest.raises(Conflict, match="in use"):
            await docker.plugins.disable(shared_plugin)
        await docker.plugins.disable(shared_plugin, force=True)
        assert (await docker.plugins.inspect(shared_plugin)).enabled is False
        with pytest.raises(Conflict):
            await docker.plugins.disable(shared_plugin)
        # the volume outlives its disabled driver, but cannot be removed without it
        with pytest.raises(Conflict, match="disabled"):
            await docker.volumes.remove(volume, force=True)
    finally:
        if not (await docker.plugins.inspect(shared_plugin)).enabled:
            await docker.plugins.enable(shared_plugin)
        await docker.volumes.remove(volume, force=True)
        await docker.plugins.disable(shared_plugin)
    with pytest.raises(NotFound):
        await docker.volumes.inspect(volume)


@engine_test
async def test_remove_force_removes_an_enabled_plugin(
    docker: Docker, engine: EngineHandle, plugin_dirs: Path, tidy_plugins: list[str]
) -> None:
    name = f"ads-test/forced-{_token()}:latest"
    tidy_plugins.append(name)
    await docker.plugins.create(name, _new_dir(plugin_dirs, f"forced {name}"))
    await docker.plugins.enable(name)
    await docker.plugins.remove(name, force=True)
    assert name not in engine.cli("plugin", "ls", "--format", "{{.Name}}").stdout.split()


@engine_test
@pytest.mark.first_docker_engine  # dockerd tries for 12.5 s, 20.10 as 28.5: once is enough
async def test_enable_says_when_nothing_listens_on_the_socket(
    docker: Docker, engine: EngineHandle, plugin_dirs: Path, tidy_plugins: list[str]
) -> None:
    name = f"ads-test/deaf-{_token()}"
    tidy_plugins.append(name)
    source = make_plugin_dir(plugin_dirs / f"deaf-{_token()}", f"deaf {name}",
                             Entrypoint=["/bin/listener", "/tmp/elsewhere.sock"])
    await docker.plugins.create(name, source)
    with pytest.raises(ServerError, match="nothing listened on its socket") as deaf:
        await docker.plugins.enable(name, timeout=1)
    assert deaf.value.message.startswith("dial unix ")
    assert (await docker.plugins.inspect(name)).enabled is False


# ---------------------------------------------------------------------------------------------
# Through a registry: push, privileges, pull, upgrade
# ---------------------------------------------------------------------------------------------


def _pairs(privileges: list[PluginPrivilege]) -> list[tuple[str | None, list[str] | None]]:
    return [(p.name, p.value) for p in privileges]


@engine_test
async def test_push_pull_and_upgrade_through_a_registry(
    docker: Docker, engine: EngineHandle, registry: RegistryHandle, plugin_dirs: Path,
    tidy_plugins: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))  # no credentials of the user's
    repo = f"{registry.address}/ads/vol-{_token()}"
    tidy_plugins += [f"{repo}:1", f"{repo}:2"]
    for tag in ("1", "2"):
        await docker.plugins.create(f"{repo}:{tag}",
                                    _new_dir(plugin_dirs, f"version {tag} of {repo}"))
        push = docker.plugins.push(f"{repo}:{tag}")
        messages = [m async for m in push]
        assert messages and all(isinstance(m, ProgressMessage) for m in messages)
        result = await push
        assert isinstance(result, PushResult)
        assert result.tag == tag and result.digest.startswith("sha256:")

    asked = await docker.plugins.privileges(f"{repo}:1")
    assert _pairs(asked) == PRIVILEGES

    local = f"ads-test/pulled-{_token()}:latest"
    tidy_plugins.append(local)
    # not granted: nothing is installed, and the error names what was asked
    with pytest.raises(PrivilegesNotGranted) as refused:
        await docker.plugins.pull(f"{repo}:1", local)
    text = str(refused.value)
    assert "network: host" in text and "capabilities: CAP_SYS_ADMIN" in text
    assert _pairs(refused.value.refused) == PRIVILEGES  # type: ignore[arg-type]
    seen: list[list[PluginPrivilege]] = []

    def no(privileges: list[PluginPrivilege]) -> bool:
        seen.append(privileges)
        return False

    with pytest.raises(PrivilegesNotGranted):
        await docker.plugins.pull(f"{repo}:1", local, grant=no)
    assert [_pairs(s) for s in seen] == [PRIVILEGES]
    with pytest.raises(PrivilegesNotGranted, match="capabilities: CAP_SYS_ADMIN"):
        await docker.plugins.pull(f"{repo}:1", local, grant=asked[:1])  # network only
    with pytest.raises(NotFound):
        await docker.plugins.inspect(local)

    # granted what was approved beforehand
    pull = docker.plugins.pull(f"{repo}:1", local, grant=asked)
    statuses = [m.status async for m in pull]
    assert any(s and s.startswith("Digest: sha256:") for s in statuses)
    plugin = await pull
    assert plugin.name == local and plugin.enabled is False
    assert plugin.plugin_reference == f"{repo}:1"
    assert plugin.config and plugin.config.description == f"version 1 of {repo}"
    cli = engine.cli("plugin", "ls", "--format", "{{.Name}} {{.Enabled}}")
    assert f"{local} false" in cli.stdout.splitlines()

    # upgraded (disabled), its settings kept; an async function decides
    await docker.plugins.set(local, {"DEBUG": "1"})

    async def yes(privileges: list[PluginPrivilege]) -> bool:
        return _pairs(privileges) == PRIVILEGES

    upgraded = await docker.plugins.upgrade(local, f"{repo}:2", grant=yes)
    assert upgraded.id == plugin.id and upgraded.name == local
    assert upgraded.plugin_reference == f"{repo}:2"
    assert upgraded.config and upgraded.config.description == f"version 2 of {repo}"
    assert upgraded.settings and upgraded.settings.env == ["DEBUG=1"]

    # an upgrade of an enabled plugin is refused
    await docker.plugins.enable(local)
    with pytest.raises(Conflict, match="disabled before upgrading"):
        await docker.plugins.upgrade(local, f"{repo}:1", grant=True)

    # grant=True, no local name: the plugin is named after the remote
    await docker.plugins.remove(f"{repo}:1")
    pulled = await docker.plugins.pull(f"{repo}:1", grant=True)
    assert pulled.name == f"{repo}:1" and pulled.plugin_reference == f"{repo}:1"


@engine_test
async def test_credentials_reach_the_registry(
    docker: Docker, auth_registry: RegistryHandle, plugin_dirs: Path, tidy_plugins: list[str],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert auth_registry.username and auth_registry.password
    login = RegistryAuth(auth_registry.username, auth_registry.password)
    remote = f"{auth_registry.address}/ads/private-{_token()}:1"
    tidy_plugins.append(remote)
    await docker.plugins.create(remote, _new_dir(plugin_dirs, f"private {remote}"))
    # anonymous: dockerd reports only its HTTPS retry; the error says what it likely means
    with pytest.raises(ProgressError, match=r"pass auth=RegistryAuth"):
        await docker.plugins.push(remote)
    assert (await docker.plugins.push(remote, auth=login)).digest.startswith("sha256:")
    await docker.plugins.remove(remote)

    assert await docker.plugins.privileges(remote) == []  # no login: none, and no error
    assert _pairs(await docker.plugins.privileges(remote, auth=login)) == PRIVILEGES
    with pytest.raises(ServerError, match=r"pass auth=RegistryAuth"):
        await docker.plugins.pull(remote, grant=True)
    # the login docker login leaves in config.json is found for the plugin's registry
    secret = f"{auth_registry.username}:{auth_registry.password}".encode()
    (tmp_path / "config.json").write_text(json.dumps(
        {"auths": {auth_registry.address: {"auth": base64.b64encode(secret).decode()}}}))
    with pytest.raises(PrivilegesNotGranted):  # found: the privileges are read this time
        await docker.plugins.pull(remote)
    plugin = await docker.plugins.pull(remote, grant=True)
    assert plugin.name == remote and plugin.plugin_reference == remote


# ---------------------------------------------------------------------------------------------
# Podman
# ---------------------------------------------------------------------------------------------


@pytest.mark.podman
@pytest.mark.not_supported_on("podman")
async def test_podman_has_no_plugins_docker_has(docker: Docker, engine: EngineHandle) -> None:
    if not engine.podman:
        assert isinstance(await docker.plugins.list(), list)
        return
    with pytest.raises(NotSupported, match="does not implement GET"):
        await docker.plugins.list()
    with pytest.raises(NotSupported):
        await docker.plugins.inspect("x/y")
    with pytest.raises(NotSupported):
        await docker.plugins.privileges("127.0.0.1:5000/x/y")
