"""The opt-in pytest plugin (``aiodockersock.pytest_plugin``), run the way a user runs it:
pytester starts pytest in a subprocess on a small test file of the user's, against a real engine,
and the engine's own CLI checks afterwards that nothing was left behind."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from aiodockersock import InvalidArgument
from aiodockersock.models import ContainerCreateBody
from aiodockersock.pytest_plugin import (
    LABEL,
    SESSION_LABEL,
    TEST_LABEL,
    _labelled,
    _timestamp,
    main,
)

from .conftest import ROOT, TEST_IMAGE, EngineHandle

pytest_plugins = ["pytester"]

ENTRY_POINT = "aiodockersock.pytest_plugin"


def plugin_args() -> list[str]:
    """Load the plugin as an installed package does (its ``pytest11`` entry point); a checkout
    that is not installed with the entry point gets it with ``-p`` instead."""
    installed = any(  # as pluggy looks: every distribution on the path, duplicates too
        ep.group == "pytest11" and ep.value == ENTRY_POINT
        for dist in importlib.metadata.distributions()
        for ep in dist.entry_points
    )
    return [] if installed else ["-p", ENTRY_POINT]


@pytest.fixture
def user(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A user's project: pytest-asyncio in auto mode, warnings as errors."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    for name in ("DOCKER_HOST", "PYTEST_ADDOPTS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini(
        """
        [pytest]
        asyncio_mode = auto
        asyncio_default_fixture_loop_scope = function
        asyncio_default_test_loop_scope = function
        filterwarnings = error
        """
    )
    return pytester


def run(user: pytest.Pytester, *args: str) -> pytest.RunResult:
    return user.runpytest_subprocess(*plugin_args(), "-p", "no:cacheprovider", *args,
                                     timeout=180)


def labelled(engine: EngineHandle, kind: str, session: str) -> list[str]:
    """The ids/names of the engine's objects of one kind carrying a session's label."""
    listing = {"container": ["ps", "-aq"], "network": ["network", "ls", "-q"],
               "volume": ["volume", "ls", "-q"]}[kind]
    out = engine.cli(*listing, "--filter", f"label={SESSION_LABEL}={session}").stdout
    return out.split()


def prune(engine: EngineHandle, *args: str,
          command: Sequence[str] = (sys.executable, "-m", "aiodockersock", "prune"),
          ) -> subprocess.CompletedProcess[str]:
    """Run the prune command line against the engine; it must succeed."""
    return subprocess.run(
        [*command, *args, "--host", engine.host],
        capture_output=True, text=True, timeout=120, check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "error"},
    )


def assert_all_gone(engine: EngineHandle, made: dict[str, object]) -> None:
    session = str(made["session"])
    for kind in ("container", "network", "volume"):
        assert labelled(engine, kind, session) == [], f"{kind}s left behind"
    for name in [*made["containers"], *made["networks"], *made["volumes"]]:  # type: ignore[misc]
        assert engine.cli("inspect", str(name), check=False).returncode != 0, name


# ---------------------------------------------------------------------------------------------
# Inert unless enabled
# ---------------------------------------------------------------------------------------------


def test_entry_point_is_declared() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"aiodockersock": ENTRY_POINT}


def test_this_session_has_no_plugin_fixtures(request: pytest.FixtureRequest) -> None:
    """This project's own run (where the entry point loads too) gets no fixtures from it."""
    if not plugin_args():  # installed: pytest loaded it here, and it stays inert
        assert request.config.pluginmanager.has_plugin("aiodockersock")
    assert request.config.pluginmanager.get_plugin("aiodockersock.fixtures") is None
    for name in ("docker_client", "docker_container", "docker_network", "docker_volume"):
        with pytest.raises(pytest.FixtureLookupError):
            request.getfixturevalue(name)


def test_without_opt_in_nothing_is_registered(user: pytest.Pytester) -> None:
    user.makepyfile(
        test_user="""
        def test_plain():
            pass

        async def test_wants_docker(docker_client):
            pass
        """
    )
    result = run(user)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'docker_client' not found*"])
    assert "aiodockersock: fixtures on" not in result.stdout.str()
    listing = run(user, "--fixtures")
    for name in ("docker_client", "docker_container", "docker_network", "docker_volume"):
        assert name not in listing.stdout.str()
    # the options exist (so the ini key is never "unknown"), and say how to opt in
    assert "--aiodockersock" in run(user, "--help").stdout.str()


def test_user_fixtures_of_the_same_names_win(user: pytest.Pytester) -> None:
    user.makeconftest(
        """
        import pytest

        @pytest.fixture
        def docker_client():
            return "mine"
        """
    )
    user.makepyfile(test_user="def test_mine(docker_client):\n    assert docker_client == 'mine'\n")
    run(user, "--aiodockersock").assert_outcomes(passed=1)


def test_no_daemon_skips_or_fails(user: pytest.Pytester, tmp_path: Path) -> None:
    user.makepyfile(
        test_user="""
        async def test_one(docker_client):
            pass

        async def test_two(docker_container):
            pass
        """
    )
    host = f"unix://{tmp_path}/nothing.sock"
    result = run(user, "--aiodockersock", f"--aiodockersock-host={host}", "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines([f"*no Docker daemon answers at {host}*"])
    result = run(user, "--aiodockersock", f"--aiodockersock-host={host}",
                 "--aiodockersock-missing=fail")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*no Docker daemon answers*DOCKER_HOST*"])


def test_bad_ini_value_is_a_usage_error(user: pytest.Pytester) -> None:
    user.makepyfile(test_user="def test_x():\n    pass\n")
    user.makefile(".ini", pytest="[pytest]\naiodockersock = true\naiodockersock_missing = maybe\n")
    result = run(user)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*aiodockersock_missing must be 'skip' or 'fail'*"])


# ---------------------------------------------------------------------------------------------
# Against a real engine
# ---------------------------------------------------------------------------------------------

USER_TEST = """
import json

IMAGE = {image!r}


async def test_uses_everything(docker_client, docker_container, docker_network, docker_volume):
    net = await docker_network()
    vol = await docker_volume()
    c = await docker_container(
        {{"Image": IMAGE, "Cmd": ["sleep", "300"], "StopTimeout": 1,
          "HostConfig": {{"NetworkMode": net.name, "Binds": [vol.name + ":/data"]}}}},
        name=None,
    )
    assert c.state.running
    assert c.config.labels["aiodockersock.pytest"] == "1"
    assert c.config.labels["aiodockersock.pytest.test"].endswith("::test_uses_everything")
    assert net.labels["aiodockersock.pytest"] == "1"
    assert vol.labels["aiodockersock.pytest"] == "1"
    attached = await docker_client.networks.inspect(net.id)
    assert c.id in (attached.containers or {{}})
    stopped = await docker_container(IMAGE, "true", start=False)
    assert stopped.state.status == "created"
    with open({made!r}, "w") as f:
        json.dump({{"session": docker_container.labels["aiodockersock.pytest.session"],
                   "containers": [c.id, stopped.id], "networks": [net.id],
                   "volumes": [vol.name]}}, f)
"""


@pytest.mark.engine
def test_fixtures_create_and_clean_up(engine: EngineHandle, user: pytest.Pytester,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    made_file = user.path / "made.json"
    user.makepyfile(test_user=USER_TEST.format(image=TEST_IMAGE, made=str(made_file)))
    monkeypatch.setenv("DOCKER_HOST", engine.host)
    result = run(user, "--aiodockersock")
    result.assert_outcomes(passed=1)
    made = json.loads(made_file.read_text())
    result.stdout.fnmatch_lines([f"aiodockersock: fixtures on *{SESSION_LABEL}={made['session']}"])
    assert_all_gone(engine, made)


@pytest.mark.engine
def test_strict_mode_ini_opt_in_and_ini_host(engine: EngineHandle, user: pytest.Pytester) -> None:
    """``aiodockersock = true`` and ``aiodockersock_host`` in the ini file; pytest-asyncio in
    strict mode (the fixtures are pytest-asyncio fixtures, not plain async functions)."""
    made_file = user.path / "made.json"
    user.makeini(
        f"""
        [pytest]
        asyncio_mode = strict
        asyncio_default_fixture_loop_scope = function
        filterwarnings = error
        aiodockersock = true
        aiodockersock_host = {engine.host}
        """
    )
    test = USER_TEST.format(image=TEST_IMAGE, made=str(made_file))
    test = test.replace("async def test_", "@pytest.mark.asyncio\nasync def test_")
    user.makepyfile(test_user="import pytest\n" + test)
    run(user).assert_outcomes(passed=1)
    assert_all_gone(engine, json.loads(made_file.read_text()))


@pytest.mark.engine
def test_a_failing_test_still_cleans_up(engine: EngineHandle, user: pytest.Pytester) -> None:
    made_file = user.path / "made.json"
    user.makepyfile(
        test_user=f"""
        import json
        from aiodockersock.models import ContainerCreateBody, HostConfig

        async def test_fails(docker_client, docker_container, docker_network, docker_volume):
            vol = await docker_volume("pytest-plugin-vol-{os.getpid()}")
            net = await docker_network(internal=True)
            body = ContainerCreateBody(image={TEST_IMAGE!r}, cmd=["sleep", "300"],
                                       host_config=HostConfig(network_mode="none"))
            a = await docker_container(body)
            b = await docker_container(body)
            await docker_client.containers.remove(b.id, force=True)   # gone already: fine
            with open({str(made_file)!r}, "w") as f:
                json.dump({{"session": docker_volume.labels["aiodockersock.pytest.session"],
                           "containers": [a.id, b.id], "networks": [net.id],
                           "volumes": [vol.name]}}, f)
            assert False, "the user's test fails"
        """
    )
    result = run(user, "--aiodockersock", f"--aiodockersock-host={engine.host}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the user's test fails*"])
    assert_all_gone(engine, json.loads(made_file.read_text()))


@pytest.mark.engine
def test_the_documented_example_passes(engine: EngineHandle, user: pytest.Pytester) -> None:
    """The example test in docs/testing.md, as written (the test engines have only the
    offline busybox image, and no default bridge)."""
    guide = (ROOT / "docs/testing.md").read_text()
    example = guide.split("```python\n", 1)[1].split("```", 1)[0]
    mount = 'mount = {"Binds": [f"{vol.name}:/data"]}'
    assert example.count(mount) == 1 and example.count('"busybox"') == 2
    example = example.replace(mount, mount[:-1] + ', "NetworkMode": "none"}')
    user.makepyfile(test_user=example.replace('"busybox"', repr(TEST_IMAGE)))
    result = run(user, "--aiodockersock", f"--aiodockersock-host={engine.host}", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_job_writes_its_result PASSED*"])


@pytest.mark.engine
def test_a_session_client_of_the_users_own(engine: EngineHandle, user: pytest.Pytester) -> None:
    """Overriding ``docker_client`` (here: one client for the session) keeps the factories and
    their cleanup working."""
    user.makeini(
        """
        [pytest]
        asyncio_mode = auto
        asyncio_default_fixture_loop_scope = session
        asyncio_default_test_loop_scope = session
        filterwarnings = error
        aiodockersock = true
        """
    )
    user.makeconftest(
        f"""
        import pytest_asyncio
        from aiodockersock import Docker

        @pytest_asyncio.fixture(scope="session")
        async def docker_client():
            async with Docker({engine.host!r}) as client:
                yield client
        """
    )
    user.makepyfile(
        test_user=f"""
        seen = []

        async def test_one(docker_client, docker_container):
            c = await docker_container({TEST_IMAGE!r}, "sleep 300", start=False)
            seen.append((docker_client, c.id))

        async def test_two(docker_client):
            assert docker_client is seen[0][0]
            assert not await docker_client.containers.list(all=True, filters={{"id": seen[0][1]}})
        """
    )
    run(user).assert_outcomes(passed=2)


@pytest.mark.engine
def test_a_volume_name_in_use_is_refused_and_kept(engine: EngineHandle,
                                                  user: pytest.Pytester) -> None:
    name = f"pytest-plugin-theirs-{os.getpid()}"
    engine.cli("volume", "create", name)
    try:
        user.makepyfile(
            test_user=f"""
            import pytest
            from aiodockersock import InvalidArgument

            async def test_taken(docker_volume):
                with pytest.raises(InvalidArgument, match="exists already"):
                    await docker_volume({name!r})
            """
        )
        run(user, "--aiodockersock", f"--aiodockersock-host={engine.host}").assert_outcomes(
            passed=1
        )
        assert engine.cli("volume", "inspect", name, check=False).returncode == 0
    finally:
        engine.cli("volume", "rm", "-f", name, check=False)


@pytest.mark.engine
def test_prune_removes_what_a_killed_session_left(engine: EngineHandle,
                                                  user: pytest.Pytester) -> None:
    made_file = user.path / "made.json"
    user.makepyfile(
        test_user=f"""
        import json, os

        async def test_crashes(docker_container, docker_network, docker_volume):
            net = await docker_network()
            vol = await docker_volume()
            c = await docker_container({{"Image": {TEST_IMAGE!r}, "Cmd": ["sleep", "300"],
                                        "HostConfig": {{"NetworkMode": net.name,
                                                       "Binds": [vol.name + ":/data"]}}}})
            with open({str(made_file)!r}, "w") as f:
                json.dump({{"session": docker_container.labels["aiodockersock.pytest.session"],
                           "containers": [c.id], "networks": [net.id],
                           "volumes": [vol.name]}}, f)
            os._exit(3)   # the process dies: no teardown runs
        """
    )
    result = run(user, "--aiodockersock", f"--aiodockersock-host={engine.host}")
    assert result.ret == 3
    made = json.loads(made_file.read_text())
    session = made["session"]
    try:
        assert len(labelled(engine, "container", session)) == 1
        assert len(labelled(engine, "network", session)) == 1
        assert labelled(engine, "volume", session) == made["volumes"]

        # objects younger than an hour are spared (a session may still be running)
        young = prune(engine, "--session", session, "--older-than", "1h")
        assert "removed 0 container(s), 0 network(s), 0 volume(s)" in young.stdout
        dry = prune(engine, "--session", session, "--dry-run")
        assert dry.stdout.splitlines() == [
            f"would remove container {made['containers'][0]}",
            f"would remove network {made['networks'][0]}",
            f"would remove volume {made['volumes'][0]}",
            "would remove 1 container(s), 1 network(s), 1 volume(s)",
        ]
        assert json.loads(prune(engine, "--session", session, "--dry-run", "--json").stdout) == {
            "dry_run": True, "containers": made["containers"], "networks": made["networks"],
            "volumes": made["volumes"],
        }
        # the old command line still works for a release, and says what replaces it
        old = prune(engine, "prune", "--session", session, "--dry-run",
                    command=[sys.executable, "-m", ENTRY_POINT])
        assert old.stdout == dry.stdout
        assert old.stderr.startswith("DeprecationWarning: 'python -m aiodockersock.pytest_plugin "
                                     "prune' is deprecated"), old.stderr
        assert "use 'python -m aiodockersock prune'" in old.stderr
        assert len(labelled(engine, "container", session)) == 1
        # another session's id touches nothing
        prune(engine, "--session", "0" * 12)
        assert len(labelled(engine, "container", session)) == 1
        time.sleep(1.1)
        done = prune(engine, "--session", session, "--older-than", "1s")
        assert "removed 1 container(s), 1 network(s), 1 volume(s)" in done.stdout
        assert_all_gone(engine, made)
    finally:
        for kind, rm in (("container", ["rm", "-f"]), ("network", ["network", "rm"]),
                         ("volume", ["volume", "rm", "-f"])):
            for name in labelled(engine, kind, session):
                engine.cli(*rm, name, check=False)


def test_the_old_prune_command_line_warns_and_hands_over() -> None:
    """``python -m aiodockersock.pytest_plugin prune`` is deprecated for a release: it says so
    on stderr and runs ``python -m aiodockersock prune`` (whose one-line errors it then has)."""
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    env.update(PYTHONPATH=str(ROOT), PYTHONWARNINGS="error")

    def old(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", ENTRY_POINT, *args], capture_output=True,
                              text=True, timeout=60, env=env, check=False)

    no_daemon = old("prune", "--dry-run", "--host", "unix:///nonexistent.sock")
    assert no_daemon.returncode == 1 and no_daemon.stdout == ""
    warning, error = no_daemon.stderr.splitlines()
    assert warning.startswith("DeprecationWarning: 'python -m aiodockersock.pytest_plugin prune'")
    assert "use 'python -m aiodockersock prune'" in warning
    assert error.startswith("aiodockersock: cannot connect to unix:///nonexistent.sock")
    # without the command's name nothing is pruned: a usage error, as before
    bare = old()
    assert bare.returncode == 2 and "usage: python -m aiodockersock prune" in bare.stderr
    # called from Python, main() warns the Python way
    with pytest.warns(DeprecationWarning, match="use 'python -m aiodockersock prune'"):
        assert main(["prune", "--host", "unix:///nonexistent.sock"]) == 1


# ---------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------

LABELS = {LABEL: "1", SESSION_LABEL: "abc", TEST_LABEL: "t.py::test"}


def test_labelled_adds_labels_to_every_config_form() -> None:
    assert _labelled("img", "sh -c 'echo hi'", LABELS) == ContainerCreateBody(
        image="img", cmd=["sh", "-c", "echo hi"], labels=LABELS
    )
    body = _labelled(ContainerCreateBody(image="img", labels={"mine": "x"}), None, LABELS)
    assert isinstance(body, ContainerCreateBody)
    assert body.labels == {"mine": "x", **LABELS} and body.cmd is None
    raw = {"Image": "img", "Labels": {"mine": "x", LABEL: "0"}}
    assert _labelled(raw, ["true"], LABELS) == {
        "Image": "img", "Cmd": ["true"], "Labels": {"mine": "x", **LABELS}
    }
    assert raw["Labels"] == {"mine": "x", LABEL: "0"}  # the caller's mapping is not changed
    with pytest.raises(InvalidArgument):
        _labelled(42, None, LABELS)  # type: ignore[arg-type]


def test_engine_times() -> None:
    assert _timestamp("2024-05-01T10:00:00Z") == 1714557600.0
    assert _timestamp("2024-05-01T10:00:00.123456789Z") == pytest.approx(1714557600.123456)
    assert _timestamp("2024-05-01T12:00:00+02:00") == 1714557600.0
    assert _timestamp("2024-05-01 10:00:00 +0000") == 1714557600.0  # the CLI's style
    assert _timestamp(None) is None and _timestamp("yesterday") is None
