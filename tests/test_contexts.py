"""Docker contexts: made by the real ``docker context create``, read by the library as the CLI
reads them, and used against a real engine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aiodockersock import Docker, InvalidArgument, list_contexts
from aiodockersock._config import DEFAULT_HOST, resolve_host

from .conftest import EngineHandle

DOCKER_CLI = shutil.which("docker")
pytestmark = pytest.mark.skipif(
    DOCKER_CLI is None and not os.environ.get("CI"), reason="the docker CLI is not on PATH"
)


def cli(config: Path, *args: str) -> str:
    """Run the real Docker CLI with its configuration in ``config``."""
    assert DOCKER_CLI is not None, "CI=true and the docker CLI is not on PATH"
    env = {**os.environ, "DOCKER_CONFIG": str(config)}
    env.pop("DOCKER_HOST", None)
    env.pop("DOCKER_CONTEXT", None)
    done = subprocess.run([DOCKER_CLI, *args], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty CLI configuration directory, used by the library and the CLI alike."""
    path = tmp_path / "docker-config"
    path.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(path))
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS", "DOCKER_TLS_VERIFY"):
        monkeypatch.delenv(name, raising=False)
    return path


async def test_a_context_made_by_the_cli_reaches_its_engine(
    config: Path, engine: EngineHandle
) -> None:
    cli(config, "context", "create", "eng", "--description", "the test engine",
        "--docker", f"host={engine.host}")
    async with Docker(context="eng") as docker:
        assert docker.url == engine.host
        assert (await docker.ping()).api_version
    # and the CLI agrees about where it points
    shown = json.loads(cli(config, "context", "inspect", "eng"))[0]
    assert shown["Endpoints"]["docker"]["Host"] == engine.host
    listed = {c.name: c for c in list_contexts()}
    assert listed["eng"].host == engine.host
    assert listed["eng"].description == "the test engine"
    assert listed["default"].host is None


async def test_docker_context_use_is_followed_when_nothing_else_is_given(
    config: Path, engine: EngineHandle
) -> None:
    cli(config, "context", "create", "eng", "--docker", f"host={engine.host}")
    cli(config, "context", "use", "eng")
    async with Docker() as docker:
        assert docker.url == engine.host
        assert (await docker.ping()).api_version


def test_the_clis_precedence(config: Path) -> None:
    # explicit url or context, then DOCKER_HOST, then DOCKER_CONTEXT, then currentContext
    cli(config, "context", "create", "one", "--docker", "host=unix:///run/one.sock")
    cli(config, "context", "create", "two", "--docker", "host=unix:///run/two.sock")
    cli(config, "context", "use", "one")
    base = {"DOCKER_CONFIG": str(config)}
    assert resolve_host(env=base).socket_path == "/run/one.sock"
    assert resolve_host(env=base).context == "one"
    with_context = {**base, "DOCKER_CONTEXT": "two"}
    assert resolve_host(env=with_context).socket_path == "/run/two.sock"
    with_host = {**with_context, "DOCKER_HOST": "unix:///run/env.sock"}
    assert resolve_host(env=with_host).socket_path == "/run/env.sock"
    assert resolve_host(env=with_host).context is None
    assert resolve_host(context="two", env=with_host).socket_path == "/run/two.sock"
    assert resolve_host("unix:///run/arg.sock", env=with_host).socket_path == "/run/arg.sock"
    # "default" is DOCKER_HOST, else the default socket
    assert resolve_host(context="default", env=with_host).socket_path == "/run/env.sock"
    assert resolve_host(context="default", env=base).address == DEFAULT_HOST
    cli(config, "context", "use", "default")
    assert resolve_host(env=base).address == DEFAULT_HOST


def test_url_and_context_together_are_refused(config: Path) -> None:
    with pytest.raises(InvalidArgument, match="not both"):
        resolve_host("unix:///run/x.sock", context="one")


def test_an_unknown_context_names_where_it_looked(config: Path) -> None:
    with pytest.raises(InvalidArgument) as info:
        Docker(context="nowhere")
    assert "nowhere" in str(info.value) and str(config) in str(info.value)
    assert "docker context ls" in str(info.value)


def test_a_current_context_that_is_gone_is_named(config: Path) -> None:
    # the CLI fails the same way when config.json names a context that was removed by hand
    (config / "config.json").write_text(json.dumps({"currentContext": "gone"}))
    with pytest.raises(InvalidArgument, match="'gone'"):
        resolve_host(env={"DOCKER_CONFIG": str(config)})


def test_a_context_without_tls_files_is_plain_tcp(config: Path) -> None:
    cli(config, "context", "create", "plain", "--docker", "host=tcp://127.0.0.1:2375")
    host = resolve_host(context="plain", env={"DOCKER_CONFIG": str(config),
                                              "DOCKER_TLS_VERIFY": "1"})
    assert host.ssl is None and host.base_url == "http://127.0.0.1:2375"


def test_the_cli_flag(config: Path, engine: EngineHandle) -> None:
    cli(config, "context", "create", "eng", "--docker", f"host={engine.host}")
    env = {**os.environ, "DOCKER_CONFIG": str(config)}
    done = subprocess.run([sys.executable, "-m", "aiodockersock", "-c", "eng", "--json", "version"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ApiVersion"]
    done = subprocess.run([sys.executable, "-m", "aiodockersock", "-H", engine.host,
                           "--context", "eng", "version"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "takes one engine" in done.stderr
