"""The command line, run as a user runs it, against the real engines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from .conftest import ROOT, TEST_IMAGE, EngineHandle


def cli(
    *args: str, host: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    if host is not None:
        env["DOCKER_HOST"] = host
    return subprocess.run(
        [sys.executable, "-m", "aiodockersock", *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env, check=False,
    )


def test_missing_daemon_is_one_line_and_exit_1(tmp_path: os.PathLike[str]) -> None:
    result = cli("version", host=f"unix://{tmp_path}/none.sock")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "none.sock does not exist; is dockerd running?" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_filter_is_one_line_and_exit_1() -> None:
    result = cli("ps", "-f", "nonsense", host="unix:///nonexistent.sock")
    assert result.returncode == 1
    assert "--filter takes KEY=VALUE" in result.stderr


@pytest.mark.engine
def test_version_and_info(engine: EngineHandle) -> None:
    result = cli("version", host=engine.host)
    assert result.returncode == 0, result.stderr
    assert f"Engine:      {engine.server_version}" in result.stdout
    as_json = json.loads(cli("version", "--json", host=engine.host).stdout)
    assert as_json["Version"] == engine.server_version
    assert as_json["ApiVersion"] == engine.api_version
    info = cli("--host", engine.host, "info", host=None)
    assert info.returncode == 0 and "Containers:" in info.stdout


@pytest.mark.engine
def test_ps_matches_the_docker_cli(engine: EngineHandle) -> None:
    name = f"ads-cli-{os.getpid()}-{time.monotonic_ns()}"
    engine.cli("run", "-d", "--name", name, "--network", "none", "--label",
               "aiodockersock.test=1", TEST_IMAGE, "sleep", "300")
    try:
        result = cli("ps", "-f", f"name={name}", host=engine.host)
        assert result.returncode == 0, result.stderr
        header, row = result.stdout.strip().splitlines()
        assert header.split()[:3] == ["CONTAINER", "ID", "IMAGE"]
        cid = engine.cli("ps", "-q", "--filter", f"name={name}").stdout.strip()
        assert row.startswith(cid[:12]) and TEST_IMAGE in row and row.endswith(name)
        listed = json.loads(cli("ps", "--json", "-f", f"name={name}", host=engine.host).stdout)
        assert [c["Names"] for c in listed] == [[f"/{name}"]]
    finally:
        engine.cli("rm", "-f", name)


@pytest.mark.engine
def test_events_window_prints_lines_and_json(engine: EngineHandle) -> None:
    name = f"ads-cli-ev-{os.getpid()}-{time.monotonic_ns()}"
    since = f"{time.time() - 1:.3f}"
    engine.cli("create", "--name", name, "--network", "none", TEST_IMAGE)
    engine.cli("rm", name)
    until = f"{time.time() + 0.5:.3f}"
    args = ("events", "--since", since, "--until", until, "-f", f"container={name}")
    text = cli(*args, host=engine.host)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.strip().splitlines()
    assert [line.split()[1:3] for line in lines] == [["container", "create"],
                                                       ["container", "destroy"]]
    assert all(f"name={name}" in line for line in lines)
    as_json = [json.loads(line) for line in cli(*args, "--json", host=engine.host).stdout.split()]
    assert [e["Action"] for e in as_json] == ["create", "destroy"]
    assert as_json[0]["Actor"]["Attributes"]["name"] == name


@pytest.mark.engine
def test_events_ctrl_c_exits_cleanly(engine: EngineHandle) -> None:
    env = {**os.environ, "DOCKER_HOST": engine.host, "PYTHONWARNINGS": "error"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiodockersock", "events"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(1.5)
    name = f"ads-cli-int-{os.getpid()}-{time.monotonic_ns()}"
    engine.cli("create", "--name", name, "--network", "none", TEST_IMAGE)
    engine.cli("rm", name)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert "Traceback" not in err and "Unclosed" not in err, err
    assert f"name={name}" in out


@pytest.mark.engine
def test_demo_walks_through_a_container(engine: EngineHandle) -> None:
    result = cli("demo", host=engine.host)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in ("container create", "container start", "container die", "exitCode=3",
                     "exited with status 3", "stdout: 'hello from", "stderr: 'bye'",
                     "container destroy", "4 events seen live"):
        assert expected in out, (expected, out)
    assert engine.cli("ps", "-aq", "--filter", "label=aiodockersock.demo").stdout.strip() == ""
