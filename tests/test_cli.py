"""The command line, run as a user runs it, against the real engines."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import io
import json
import os
import pty
import re
import secrets
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import msgspec
import pytest

from aiodockersock.cli import PullDisplay, main
from aiodockersock.cli.parser import duration
from aiodockersock.cli.render import BuildDisplay
from aiodockersock.models import (
    BuildLog,
    BuildStatus,
    BuildVertex,
    BuildVertexStatus,
    ProgressMessage,
)

from .conftest import ROOT, TEST_IMAGE, TEST_LABEL, EngineHandle, RegistryHandle, SwarmHandle
from .engines.swarm import node_address
from .sshagent import build_probe, start_agent

NO_DAEMON = "unix:///nonexistent.sock"


def _env(host: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    if host is not None:
        env["DOCKER_HOST"] = host
    return {**env, "PYTHONWARNINGS": "error", **(extra or {})}


def cli(
    *args: str, host: str | None = None, timeout: float = 60, input: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiodockersock", *args], input=input,
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=_env(host, env),
        check=False,
    )


def cli_all(
    *calls: Sequence[str], host: str | None, inputs: Mapping[int, str] | None = None
) -> list[subprocess.CompletedProcess[str]]:
    """Run independent command lines at once (it saves their start-up time); ``inputs`` maps
    a call's index to its stdin. The results come in the order of the calls."""
    inputs = inputs or {}
    procs = [subprocess.Popen(
        [sys.executable, "-m", "aiodockersock", *args], cwd=ROOT, env=_env(host), text=True,
        stdin=subprocess.PIPE if i in inputs else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) for i, args in enumerate(calls)]
    results = []
    for i, (args, proc) in enumerate(zip(calls, procs, strict=True)):
        out, err = proc.communicate(inputs.get(i), timeout=60)
        results.append(subprocess.CompletedProcess(list(args), proc.returncode, out, err))
    return results


def start(*args: str, host: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "aiodockersock", *args], cwd=ROOT, env=_env(host),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def read_until(proc: subprocess.Popen[bytes], needle: bytes, timeout: float = 30) -> bytes:
    """Read the process's stdout (unbuffered, so communicate() gets the rest) until
    ``needle`` has come."""
    assert proc.stdout is not None
    fd, seen = proc.stdout.fileno(), b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 4096) if ready else b""
        if not chunk:
            proc.kill()
            _, err = proc.communicate()
            raise AssertionError(f"no {needle!r} in stdout {seen!r}; stderr {err!r}")
        seen += chunk
    return seen


def run_in_pty(
    *args: str, host: str, steps: Sequence[tuple[bytes, bytes]] = (), timeout: float = 30,
) -> tuple[int, bytes, bool]:
    """Run the command line on a terminal (stdin, stdout and stderr on a pty of 24x100).

    Each step waits for its text in the output, then types its bytes. Returns the exit
    status, everything written to the terminal, and whether the terminal's settings were
    the same afterwards as before.
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    before = termios.tcgetattr(slave)
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiodockersock", *args], cwd=ROOT, env=_env(host),
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
    )
    out, mark, todo = b"", 0, list(steps)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if todo and (found := out.find(todo[0][0], mark)) >= 0:
                mark = found + len(todo[0][0])
                os.write(master, todo.pop(0)[1])
                continue
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    break
            elif proc.poll() is not None:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; the terminal shows {out!r}")
        proc.wait(timeout=10)
        restored = termios.tcgetattr(slave) == before
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)
    return proc.returncode, out, restored


def screen(output: str) -> list[str]:
    """What a terminal shows after ``output``: text, CR, LF and the ANSI sequences the pull
    display uses (cursor up/down, erase line)."""
    rows, row, col, i = [""], 0, 0, 0
    while i < len(output):
        ansi = re.match(r"\x1b\[(\d*)([ABK])", output[i:])
        if ansi:
            count = int(ansi.group(1) or 1)
            if ansi.group(2) == "A":
                row = max(0, row - count)
            elif ansi.group(2) == "B":
                row += count
            else:
                rows[row] = ""
            i += ansi.end()
        else:
            char = output[i]
            if char == "\r":
                col = 0
            elif char == "\n":
                row, col = row + 1, 0
            else:
                line = rows[row].ljust(col)
                rows[row] = line[:col] + char + line[col + 1:]
                col += 1
            i += 1
        rows.extend([""] * (row + 1 - len(rows)))
    return [r.rstrip() for r in rows if r.strip()]


def unique(prefix: str = "ads-cli") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@contextlib.contextmanager
def removed_afterwards(engine: EngineHandle, *names: str) -> Iterator[None]:
    try:
        yield
    finally:
        for name in names:
            engine.cli("rm", "-f", name, check=False)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("aiodockersock: "), \
        result.stderr
    return result.stderr.strip()


# -- without an engine -------------------------------------------------------------------------


def test_missing_daemon_is_one_line_and_exit_1(tmp_path: os.PathLike[str]) -> None:
    result = cli("version", host=f"unix://{tmp_path}/none.sock")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "none.sock does not exist; is dockerd running?" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_command_names_a_missing_daemon_in_one_line() -> None:
    commands = [["version"], ["info"], ["ps"], ["inspect", "web"], ["run", "busybox", "true"],
                ["logs", "-f", "web"], ["exec", "web", "true"], ["exec", "-i", "web", "cat"],
                ["pull", "busybox"], ["events"], ["demo"], ["ps", "--json"],
                ["prune", "--dry-run"], ["stats"], ["stats", "--no-stream"], ["node", "ls"],
                ["swarm", "leave"], ["service", "ls"], ["service", "ps", "web"],
                ["service", "logs", "-f", "web"]]
    results = cli_all(*(["--host", NO_DAEMON, *command] for command in commands), host=None)
    for result in results:
        line = one_error_line(result)
        assert "cannot connect to unix:///nonexistent.sock" in line, (result.args, line)
        assert result.stdout == "", result.args


def test_bad_arguments_are_one_line_and_exit_1() -> None:
    result = cli("ps", "-f", "nonsense", host=NO_DAEMON)
    assert "--filter takes KEY=VALUE" in one_error_line(result)
    assert "exec needs a command" in one_error_line(cli("exec", "web", host=NO_DAEMON))
    # what argparse refuses is a usage error: exit 2
    assert cli("logs", "--tail", "many", "web", host=NO_DAEMON).returncode == 2


@pytest.mark.parametrize("command", ["version", "info", "ps", "inspect", "run", "logs", "exec",
                                     "pull", "build", "events", "stats", "demo", "prune",
                                     "service ls", "service ps", "service logs"])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command.split(), "--help"])
    assert exited.value.code == 0
    usage = capsys.readouterr().out
    assert usage.startswith(f"usage: aiodockersock {command} ")
    assert "--json" in usage and "--host" in usage


@pytest.mark.parametrize("command", [["node", "ls"], ["swarm", "init"], ["swarm", "leave"]])
def test_every_subcommand_has_help(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    usage = capsys.readouterr().out
    assert usage.startswith(f"usage: aiodockersock {' '.join(command)} ")
    assert "--json" in usage and "--host" in usage
    with pytest.raises(SystemExit) as exited:
        main([command[0]])  # the subcommand is required: a usage error
    assert exited.value.code == 2


def test_durations_of_prune_older_than() -> None:
    assert [duration(s) for s in ("90", "1.5", "30m", "1h30m", "2d")] == [
        90, 1.5, 1800, 5400, 172800
    ]
    for bad in ("", "1y", "h", "-1"):
        with pytest.raises(argparse.ArgumentTypeError, match="not a duration"):
            duration(bad)
    assert cli("prune", "--older-than", "1y", host=NO_DAEMON).returncode == 2


def test_the_public_names_stay_importable() -> None:
    import aiodockersock.cli as package
    from aiodockersock.cli import format_event

    assert package.__all__ == ["PullDisplay", "format_event", "main"]
    assert callable(main) and callable(format_event) and isinstance(PullDisplay, type)


def test_the_console_script_entry_point_is_main() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert 'aiodockersock = "aiodockersock.cli:main"' in text


def _progress(id: str | None, status: str, current: int | None = None) -> ProgressMessage:
    bar = f"[{'=' * (current or 0)}>] {current}B/9B" if current is not None else None
    return ProgressMessage(id=id, status=status, progress=bar)


PULL = [
    _progress("v1", "Pulling from team/app"),
    _progress("aaa", "Already exists"),
    _progress("bbb", "Pulling fs layer"),
    _progress("ccc", "Pulling fs layer"),
    _progress("bbb", "Downloading", 3),
    _progress("ccc", "Downloading", 2),
    _progress("bbb", "Downloading", 7),
    _progress("ccc", "Download complete"),
    _progress("bbb", "Download complete"),
    _progress("bbb", "Pull complete"),
    _progress("ccc", "Pull complete"),
    _progress(None, "Digest: sha256:abc"),
    _progress(None, "Status: Downloaded newer image for team/app:v1"),
]


def test_pull_display_on_a_terminal_keeps_one_line_per_layer() -> None:
    out = io.StringIO()
    display = PullDisplay(out, tty=True, width=60)
    shown = []
    for message in PULL:
        display.show(message)
        shown.append(screen(out.getvalue()))
    assert shown[6] == ["v1: Pulling from team/app", "aaa: Already exists",
                        "bbb: Downloading [=======>] 7B/9B", "ccc: Downloading [==>] 2B/9B"]
    assert shown[-1] == ["v1: Pulling from team/app", "aaa: Already exists",
                         "bbb: Pull complete", "ccc: Pull complete", "Digest: sha256:abc",
                         "Status: Downloaded newer image for team/app:v1"]
    # a line wider than the terminal would wrap and break the redrawing: it is cut
    display = PullDisplay(out := io.StringIO(), tty=True, width=20)
    display.show(_progress("bbb", "Downloading", 30))
    assert screen(out.getvalue()) == ["bbb: Downloading [="]


def test_pull_display_without_a_terminal_writes_status_changes_only() -> None:
    out = io.StringIO()
    display = PullDisplay(out, tty=False)
    for message in PULL:
        display.show(message)
    assert "\x1b" not in out.getvalue()
    assert out.getvalue().splitlines() == [
        "v1: Pulling from team/app", "aaa: Already exists", "bbb: Pulling fs layer",
        "ccc: Pulling fs layer", "bbb: Downloading", "ccc: Downloading",
        "ccc: Download complete", "bbb: Download complete", "bbb: Pull complete",
        "ccc: Pull complete", "Digest: sha256:abc",
        "Status: Downloaded newer image for team/app:v1",
    ]


def test_build_bad_arguments_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ADS_UNSET_VARIABLE", raising=False)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "secret.txt").write_text("s3cr3t")
    outside = tmp_path.parent / f"{tmp_path.name}.Dockerfile"
    outside.write_text("FROM scratch\n")
    ctx = str(tmp_path)
    expected = {
        (): "the following arguments are required: PATH",
        (f"{ctx}/none",): f"'{ctx}/none': no such directory",
        (f"{ctx}/secret.txt",): "not a directory",
        ("--build-arg", "=1", ctx): "argument --build-arg: '=1' is not KEY=VALUE",
        ("--label", "=1", ctx): "argument --label: '=1' is not KEY=VALUE",
        ("--secret", "id=x,path=y", ctx): "'path=y' is not one of id=ID, src=PATH, env=VAR",
        ("--secret", f"id=x,src={ctx}/none", ctx): f"no such file '{ctx}/none'",
        ("--secret", "id=x,env=ADS_UNSET_VARIABLE", ctx): "ADS_UNSET_VARIABLE is not set",
        ("--secret", "type=ssh,id=x", ctx): "type is file or env, not 'ssh'",
        ("--secret", f"id=x,src={ctx}/secret.txt", "--builder", "classic", ctx):
            "--secret needs BuildKit",
        ("--ssh", "=x", ctx): "'=x' is not default, ID or ID=SOCKET",
        ("--ssh", "default=", ctx): "is not default, ID or ID=SOCKET",
        ("--ssh", "default=a,b", ctx): "one agent socket per id",
        ("--ssh", "default", "--builder", "classic", ctx): "--ssh needs BuildKit",
        ("-f", str(outside), ctx): "the Dockerfile must be inside the context",
        ("-f", f"{ctx}/Nope", ctx): "no such file",
        ("--progress", "fancy", ctx): "invalid choice: 'fancy'",
    }
    for args, message in expected.items():  # in this process: no engine is asked
        with pytest.raises(SystemExit) as exited:
            main(["build", *args])
        assert exited.value.code == 2, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("aiodockersock build: error: "), err
        assert message in err and "(see aiodockersock build --help)" in err, (args, err)
    # right arguments, no daemon: the usual one line, exit 1
    assert main(["-H", NO_DAEMON, "build", "--secret", f"id=x,src={ctx}/secret.txt", ctx]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot connect to unix:///nonexistent.sock" in err, err


@pytest.mark.engine
def test_build_ssh_forwards_the_agent(engine: EngineHandle, tmp_path: Path) -> None:
    build_probe(tmp_path)
    (tmp_path / "Dockerfile").write_text(
        f"FROM {TEST_IMAGE}\nCOPY sshprobe /sshprobe\nRUN --mount=type=ssh /sshprobe list\n")
    (tmp_path / "id_ed25519").write_text("not an agent\n")
    comment = f"{unique('ads')}@cli"
    with start_agent(comment) as agent:
        env = {"SSH_AUTH_SOCK": str(agent.socket)}
        result = cli("build", "--builder", "buildkit", "--network", "none", "--ssh", "default",
                     str(tmp_path), host=engine.host, env=env)
        assert result.returncode == 0, result.stderr
        assert re.search(rf"^#\d+ \d+\.\d+ key {re.escape(comment)}$", result.stdout, re.M), (
            result.stdout)
        # a key file: refused before the build, in one line
        refused = cli("build", "--builder", "buildkit", "--ssh",
                      f"default={tmp_path / 'id_ed25519'}", str(tmp_path), host=engine.host)
        assert refused.returncode != 0
        assert "only ssh agent sockets are forwarded" in refused.stderr, refused.stderr


def _at(second: float) -> datetime:
    return datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=second)


def test_build_display_writes_steps_as_docker_build_plain() -> None:
    load = BuildVertex("sha256:a", "[internal] load build definition from Dockerfile",
                       started=_at(0))
    copy = BuildVertex("sha256:b", "[2/3] COPY a /a", started=_at(1), completed=_at(1),
                       cached=True)
    run = BuildVertex("sha256:c", "[3/3] RUN make", started=_at(1))
    records = [
        BuildStatus(vertexes=[BuildVertex("sha256:z", "not started yet"), load]),
        BuildStatus(statuses=[BuildVertexStatus("transferring dockerfile:", "sha256:a",
                                                current=73, started=_at(0),
                                                completed=_at(0.2))]),
        BuildStatus(vertexes=[msgspec.structs.replace(load, completed=_at(0.3))]),
        BuildStatus(vertexes=[copy, run]),
        BuildStatus(logs=[BuildLog("sha256:c", 1, b"hi\nhal", _at(1.213)),
                          BuildLog("sha256:c", 2, b"f \xc3", _at(1.5))]),
        # the same end again (BuildKit repeats a step's state): not written twice
        BuildStatus(vertexes=[copy]),
        BuildStatus(logs=[BuildLog("sha256:c", 1, b"\xa9\nno newline", _at(2))]),
        BuildStatus(vertexes=[msgspec.structs.replace(run, completed=_at(2.5),
                                                      error="exit code: 3")]),
    ]
    out = io.StringIO()
    display = BuildDisplay(out)
    for record in records:
        display.show(record)
    display.finish()
    assert out.getvalue().splitlines() == [
        "#1 [internal] load build definition from Dockerfile",
        "#1 transferring dockerfile: 73B 0.2s done",
        "#1 DONE 0.3s",
        "",
        "#2 [2/3] COPY a /a",
        "#2 CACHED",
        "",
        "#3 [3/3] RUN make",
        "#3 0.213 hi",
        "#3 0.213 half \u00e9",
        "#3 1.000 no newline",
        "#3 ERROR: exit code: 3",
    ]


# -- against the engines -----------------------------------------------------------------------


@pytest.mark.engine
def test_version_and_info(engine: EngineHandle) -> None:
    result, as_json, info, info_json = cli_all(
        ["--host", engine.host, "version"], ["--host", engine.host, "version", "--json"],
        ["-H", engine.host, "info"],
        ["info", "--json", "--host", engine.host],  # --host and --json after the command too
        host=NO_DAEMON,
    )
    assert result.returncode == 0, result.stderr
    assert f"Engine:      {engine.server_version}" in result.stdout
    version = json.loads(as_json.stdout)
    assert version["Version"] == engine.server_version
    assert version["ApiVersion"] == engine.api_version
    assert info.returncode == 0 and "Containers:" in info.stdout
    assert info_json.returncode == 0
    assert json.loads(info_json.stdout)["ServerVersion"] == engine.server_version
    # DOCKER_HOST when there is no --host
    assert cli("version", host=engine.host).stdout == result.stdout


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
def test_inspect_matches_the_docker_cli(engine: EngineHandle) -> None:
    name = unique()
    engine.cli("create", "--name", name, "--network", "none", "-e", "GREETING=hi", "--label",
               "aiodockersock.test=1", TEST_IMAGE, "sleep", "1")
    with removed_afterwards(engine, name):
        result, compact, wrong_kind, partly = cli_all(
            ["inspect", name, TEST_IMAGE],
            ["inspect", "--json", "--type", "image", TEST_IMAGE],
            ["inspect", "--type", "image", name],
            ["inspect", name, "nothing-by-this-name"],
            host=engine.host,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("[\n    {\n")  # indented for people
        container, image = json.loads(result.stdout)
        [theirs] = json.loads(engine.cli("inspect", name).stdout)
        for key in ("Id", "Name", "Created", "Path", "Args", "Image"):
            assert container[key] == theirs[key], key
        assert container["Config"]["Env"] == theirs["Config"]["Env"]
        assert container["Config"]["Labels"] == theirs["Config"]["Labels"]
        assert container["State"]["Status"] == theirs["State"]["Status"] == "created"
        assert container["HostConfig"]["NetworkMode"] == "none"
        [their_image] = json.loads(engine.cli("image", "inspect", TEST_IMAGE).stdout)
        assert image["Id"] == their_image["Id"] == container["Image"]
        assert image["RepoTags"] == their_image["RepoTags"]

        # --json: the same, compact; --type: only that kind
        assert compact.stdout.count("\n") == 1
        assert json.loads(compact.stdout)[0]["Id"] == their_image["Id"]
        assert json.loads(wrong_kind.stdout) == []
        assert one_error_line(wrong_kind) == f"aiodockersock: no such image: {name}"

        # what is found is printed; what is not is named on stderr
        assert [c["Id"] for c in json.loads(partly.stdout)] == [theirs["Id"]]
        assert one_error_line(partly) == \
            "aiodockersock: no such container or image: nothing-by-this-name"


@pytest.mark.engine
def test_missing_objects_are_one_line_and_exit_1(engine: EngineHandle) -> None:
    missing = unique("ads-missing")
    expected = {
        ("logs", missing): f"No such container: {missing}",
        ("logs", "-f", missing): f"No such container: {missing}",
        ("exec", missing, "true"): f"No such container: {missing}",
        ("run", "--network", "none", f"{missing}:v1"): f"No such image: {missing}:v1",
    }
    for (args, message), result in zip(expected.items(), cli_all(*expected, host=engine.host),
                                       strict=True):
        assert message in one_error_line(result), args
        assert " 404 " not in result.stderr and "/containers/" not in result.stderr


@pytest.mark.engine
def test_run_relays_output_and_exit_code_and_removes(engine: EngineHandle) -> None:
    name = unique()
    with removed_afterwards(engine, name):
        result = cli("run", "--rm", "--name", name, "--network", "none", TEST_IMAGE,
                     "sh", "-c", "echo hi; echo oops >&2; exit 3", host=engine.host)
        assert (result.returncode, result.stdout, result.stderr) == (3, "hi\n", "oops\n")
        assert engine.cli("ps", "-aq", "--filter", f"name={name}").stdout == ""

        # kept without --rm; -e, -w, -u reach the process; --json: a line per output line
        result = cli("run", "--json", "--name", name, "--network", "none", "-e", "GREETING=hi",
                     "-e", "FROM_US", "-w", "/tmp", "-u", "1000:1000", TEST_IMAGE, "sh", "-c",
                     'echo "$GREETING $FROM_US $(pwd) $(id -u)"; printf "no newline" >&2',
                     host=engine.host, env={"FROM_US": "inherited"})
        assert result.returncode == 0, result.stderr
        *lines, last = [json.loads(line) for line in result.stdout.splitlines()]
        assert lines == [{"stream": "stdout", "text": "hi inherited /tmp 1000"},
                         {"stream": "stderr", "text": "no newline"}]
        [theirs] = json.loads(engine.cli("inspect", name).stdout)
        assert last == {"id": theirs["Id"], "exit_code": 0, "removed": False}
        assert theirs["State"]["Status"] == "exited"
        assert "GREETING=hi" in theirs["Config"]["Env"]
        assert (theirs["Config"]["WorkingDir"], theirs["Config"]["User"]) == ("/tmp", "1000:1000")
        engine.cli("rm", name)

        # detached: the id, at once, and it runs on
        result = cli("run", "-d", "--name", name, "--network", "none", TEST_IMAGE,
                     "sleep", "300", host=engine.host)
        assert result.returncode == 0, result.stderr
        running = engine.cli("ps", "-q", "--no-trunc", "--filter", f"name={name}").stdout
        assert result.stdout == running and len(running.strip()) == 64


@pytest.mark.engine
def test_ctrl_c_stops_run_and_ends_logs_follow(engine: EngineHandle) -> None:
    name = unique()
    with removed_afterwards(engine, name):
        run = start("run", "--rm", "--name", name, "--network", "none", TEST_IMAGE, "sh", "-c",
                    "trap 'echo got TERM; exit 0' TERM; echo ready; sleep 300 & wait",
                    host=engine.host)
        read_until(run, b"ready\n")
        logs = start("logs", "-f", name, host=engine.host)
        read_until(logs, b"ready\n")
        logs.send_signal(signal.SIGINT)
        out, err = logs.communicate(timeout=15)
        assert logs.returncode == 130
        assert err == b"" and out == b"", (out, err)
        assert engine.cli("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "true"

        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=30)
        assert run.returncode == 130
        assert out == b"got TERM\n" and err == b"", (out, err)  # stopped with its signal
        assert engine.cli("ps", "-aq", "--filter", f"name={name}").stdout == ""  # and removed


@pytest.mark.engine
def test_logs_follow_until_exit_with_streams_apart(engine: EngineHandle) -> None:
    name = unique()
    script = ("echo out1; echo err1 >&2; while [ ! -e /tmp/go ]; do sleep 0.05; done; "
              "echo out2; echo err2 >&2")
    engine.cli("run", "-d", "--name", name, "--network", "none", TEST_IMAGE, "sh", "-c", script)
    with removed_afterwards(engine, name):
        follow = start("logs", "-f", name, host=engine.host)
        seen = read_until(follow, b"out1\n")  # it waits for more …
        engine.cli("exec", name, "touch", "/tmp/go")
        out, err = follow.communicate(timeout=30)  # … and ends when the container does
        assert follow.returncode == 0
        assert (seen + out, err) == (b"out1\nout2\n", b"err1\nerr2\n")
        assert engine.cli("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "false"

        last = cli("logs", "--tail", "2", "-t", name, host=engine.host)  # of both streams
        stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z"
        assert re.fullmatch(f"{stamp} out2\n", last.stdout), last.stdout
        assert re.fullmatch(f"{stamp} err2\n", last.stderr), last.stderr

        as_json = cli("logs", "--json", name, host=engine.host)
        lines = [json.loads(line) for line in as_json.stdout.splitlines()]
        assert sorted((line["stream"], line["text"]) for line in lines) == [
            ("stderr", "err1"), ("stderr", "err2"), ("stdout", "out1"), ("stdout", "out2")]


@pytest.mark.engine
def test_exec_relays_output_exit_code_and_stdin(engine: EngineHandle) -> None:
    name = unique()
    engine.cli("run", "-d", "--name", name, "--network", "none", TEST_IMAGE, "sleep", "300")
    with removed_afterwards(engine, name):
        tty = start("exec", "-t", name, "tty", host=engine.host)
        plain, counted, cat, as_json, unknown, refused = cli_all(
            ["exec", name, "sh", "-c", "echo out; echo err >&2; exit 4"],
            # -i: our stdin is its stdin, closed at our end of input (else wc would not end)
            ["exec", "-i", name, "sh", "-c", "wc -c; exit 7"],
            ["exec", "-i", name, "cat"],
            # --json: one document; -e, -w, -u reach the process
            ["exec", "--json", "-e", "X=1", "-w", "/etc", "-u", "1000", name, "sh", "-c",
             'echo "$X $(pwd) $(id -u)"; echo e >&2; exit 2'],
            ["exec", name, "no-such-command"],
            ["exec", "-it", name, "sh"],  # -t with -i needs a terminal
            host=engine.host, inputs={1: "hello\nworld\n", 2: "line 1\nline 2\n", 5: ""},
        )
        assert (plain.returncode, plain.stdout, plain.stderr) == (4, "out\n", "err\n")
        assert (counted.returncode, counted.stdout.strip(), counted.stderr) == (7, "12", "")
        assert (cat.returncode, cat.stdout) == (0, "line 1\nline 2\n")
        assert as_json.returncode == 2
        doc = json.loads(as_json.stdout)
        assert doc["exit_code"] == 2 and doc["stdout"] == "1 /etc 1000\n" and doc["stderr"] == "e\n"
        assert re.fullmatch("[0-9a-f]{64}", doc["id"])
        assert unknown.returncode in (126, 127) and "no-such-command" in unknown.stdout
        assert "stdin is not a TTY" in one_error_line(refused)

        # -t without -i: a terminal for the process, its output raw
        out, err = tty.communicate(timeout=30)
        assert tty.returncode == 0 and re.fullmatch(rb"/dev/pts/\d+\r\n", out), (out, err)


@pytest.mark.engine
def test_exec_interactive_terminal(engine: EngineHandle) -> None:
    name = unique()
    engine.cli("run", "-d", "--name", name, "--network", "none", TEST_IMAGE, "sleep", "300")
    with removed_afterwards(engine, name):
        code, out, restored = run_in_pty(
            "exec", "-it", name, "sh", host=engine.host,
            steps=[(b"# ", b"stty size; echo $((6*7))\r"), (b"42\r\n", b"exit 5\r")],
        )
        assert code == 5, out
        assert b"24 100\r\n" in out  # our terminal's size
        assert b"\r\n42\r\n" in out
        # raw mode: what we type is echoed once, by the process's terminal, not also by ours
        assert out.count(b"echo $((6*7))") == 1, out
        assert restored

        # ctrl-p ctrl-q detaches: exit 0 at once (not the 126 newer engines record), no hang
        code, out, restored = run_in_pty(
            "exec", "-it", name, "sh", host=engine.host,
            steps=[(b"# ", b"sleep 123\r"), (b"sleep 123\r\n", b"\x10\x11")],
        )
        assert code == 0, out
        assert re.search(rb"aiodockersock: detached from exec [0-9a-f]{12}\r\n$", out), out
        assert restored


@pytest.mark.engine
def test_pull_shows_layers_digest_and_status(
    engine: EngineHandle, registry: RegistryHandle, tmp_path: Path
) -> None:
    ref = f"{registry.address}/ads/{unique('cli-pull')}:v1"
    maker = unique()
    engine.cli("run", "--name", maker, "--network", "none", TEST_IMAGE, "sh", "-c",
               "head -c 500000 /dev/urandom > /blob")
    engine.cli("commit", maker, ref)
    engine.cli("rm", maker)
    engine.cli("push", ref)
    config = {"DOCKER_CONFIG": str(tmp_path)}  # no credentials from this machine's ~/.docker
    try:
        engine.cli("rmi", ref)
        plain = cli("pull", ref, host=engine.host, env=config)
        assert plain.returncode == 0, plain.stderr
        lines = plain.stdout.splitlines()
        digests = json.loads(engine.cli("image", "inspect", "-f", "{{json .RepoDigests}}",
                                        ref).stdout)
        digest = digests[0].split("@")[1]
        assert lines[0] == f"v1: Pulling from ads/{ref.split('/ads/')[1].split(':')[0]}"
        assert lines[-2:] == [f"Digest: {digest}", f"Status: Downloaded newer image for {ref}"]
        layers = [line.split(": ", 1) for line in lines[1:-2]]
        statuses: dict[str, list[str]] = {}
        for layer, status in layers:
            statuses.setdefault(layer, []).append(status)
        assert len(statuses) == 2
        assert sorted(s[-1] for s in statuses.values()) == ["Already exists", "Pull complete"]
        new = next(s for s in statuses.values() if s[-1] == "Pull complete")
        assert new[0] == "Pulling fs layer" and "Downloading" in new and "Extracting" in new
        assert len(new) == len(set(new))  # a line per change, not per progress update

        engine.cli("rmi", ref)
        as_json = cli("pull", "--json", ref, host=engine.host, env=config)
        assert as_json.returncode == 0, as_json.stderr
        messages = [json.loads(line) for line in as_json.stdout.splitlines()]
        assert {"status", "id"} <= set(messages[0])
        assert any(m.get("progressDetail", {}).get("total") for m in messages
                   if m.get("status") == "Downloading")
        assert messages[-1] == {"status": f"Status: Downloaded newer image for {ref}"}

        engine.cli("rmi", ref)
        code, out, _ = run_in_pty("pull", ref, host=engine.host)
        assert code == 0 and b"\x1b[" in out
        shown = screen(out.decode())
        assert shown[0].startswith("v1: Pulling from ")
        assert sorted(line.split(": ", 1)[1] for line in shown[1:3]) == [
            "Already exists", "Pull complete"]
        assert shown[3:] == [f"Digest: {digest}", f"Status: Downloaded newer image for {ref}"]

        failed = cli("pull", ref.replace(":v1", ":no-such-tag"), host=engine.host, env=config)
        assert re.search("manifest unknown|not found", one_error_line(failed))
    finally:
        engine.cli("rmi", ref, check=False)


def _steps(output: str, fragment: str) -> tuple[str, list[str]]:
    """The name of the first step whose name holds ``fragment`` in plain build output, and its
    lines, the step's number replaced by ``#N``."""
    found = re.search(rf"^#(\d+) (.*{re.escape(fragment)}.*)$", output, re.MULTILINE)
    assert found is not None, (fragment, output)
    return found[2], [line.replace(f"#{found[1]} ", "#N ", 1) for line in output.splitlines()
                      if line.startswith(f"#{found[1]} ")]


@pytest.mark.engine
def test_build_prints_steps_tags_and_cached_steps(engine: EngineHandle, tmp_path: Path) -> None:
    (tmp_path / "token").write_text("s3cr3t-value")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "hello.txt").write_text("hello\n")
    (ctx / "app.Dockerfile").write_text(
        f"FROM {TEST_IMAGE}\nARG WHO=nobody\nCOPY hello.txt /hello.txt\n"
        "RUN --mount=type=secret,id=token echo \"hi $WHO\"; cat /hello.txt; "
        "echo \"secret of $(wc -c < /run/secrets/token) bytes\"\n")
    name = unique("ads-cli-build")
    tags = [f"{name}:1", f"{name}:latest"]
    args = ["build", "--network", "none", "-f", str(ctx / "app.Dockerfile"), "-t", tags[0],
            "-t", tags[1], "--build-arg", "WHO=cli", "--label", f"{TEST_LABEL}=1",
            "--secret", f"id=token,src={tmp_path / 'token'}", str(ctx)]
    try:
        result = cli(*args, host=engine.host)
        assert result.returncode == 0, result.stderr
        _, run = _steps(result.stdout, "3/3] RUN --mount=type=secret,id=token echo")
        assert [re.sub(r"\d+\.\d+", "T", line) for line in run] == [
            run[0], "#N T hi cli", "#N T hello", "#N T secret of 12 bytes", "#N DONE Ts"]
        copy_step, copy = _steps(result.stdout, "2/3] COPY hello.txt /hello.txt")
        assert re.fullmatch(r"#N DONE \d+\.\ds", copy[-1]), copy
        *_, built, tagged1, tagged2 = result.stdout.splitlines()
        image_id = built.removeprefix("Built ")
        assert [tagged1, tagged2] == [f"Tagged {tags[0]}", f"Tagged {tags[1]}"]
        [theirs] = json.loads(engine.cli("image", "inspect", *tags).stdout)[:1]
        assert theirs["Id"] == image_id
        assert sorted(theirs["RepoTags"]) == sorted(tags)
        assert theirs["Config"]["Labels"][TEST_LABEL] == "1"
        assert "s3cr3t-value" not in engine.cli("history", "--no-trunc", tags[0]).stdout

        # again: the steps come from the cache; --json gives the records, -q the id alone
        again = cli(*args, host=engine.host)
        assert again.returncode == 0, again.stderr
        assert _steps(again.stdout, "2/3] COPY hello.txt /hello.txt")[1][1:] == ["#N CACHED"]
        assert again.stdout.splitlines()[-3] == built
        # one after the other: two identical builds at once share BuildKit's work, and the
        # one that waited may get the cached steps without their completion records
        as_json = cli(*args, "--json", host=engine.host)
        quiet = cli(*args, "-q", host=engine.host)
        *records, last = [json.loads(line) for line in as_json.stdout.splitlines()]
        assert last == {"id": image_id, "tags": tags}
        steps = {v["name"]: v for r in records for v in r["vertexes"]}
        assert steps[copy_step]["completed"] and not steps[copy_step]["error"]
        assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, f"{image_id}\n", "")
    finally:
        engine.cli("rmi", "-f", *tags, check=False)


@pytest.mark.engine
def test_build_failing_step_and_ctrl_c(engine: EngineHandle, tmp_path: Path) -> None:
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "Dockerfile").write_text(f"FROM {TEST_IMAGE}\nRUN echo started; sleep 60\n")
    interrupted = start("build", "--network", "none", "--no-cache", str(slow), host=engine.host)
    (tmp_path / "Dockerfile").write_text(
        f"FROM {TEST_IMAGE}\nRUN for i in $(seq 30); do echo line $i; done; echo oops; "
        "exit 3\n")
    try:
        failed = cli("build", "--network", "none", str(tmp_path), host=engine.host)
        read_until(interrupted, b" started\n")
        interrupted.send_signal(signal.SIGINT)
        _, err = interrupted.communicate(timeout=15)
    finally:
        if interrupted.poll() is None:
            interrupted.kill()
    assert interrupted.returncode == 130 and b"Traceback" not in err, err

    assert failed.returncode == 1 and "Traceback" not in failed.stderr, failed.stderr
    step, lines = _steps(failed.stdout, "2/2] RUN for i in $(seq 30); do echo line $i;")
    assert re.fullmatch(r"#N \d+\.\d{3} oops", lines[-2]), lines
    assert lines[-1].startswith("#N ERROR: ") and lines[-1].endswith("exit code: 3"), lines
    *block, error = failed.stderr.splitlines()
    assert block == ["------", f" > {step}:", *[f"line {i}" for i in range(12, 31)], "oops",
                     "------"]
    assert error == f"aiodockersock: build failed at {step}: {lines[-1][len('#N ERROR: '):]}"


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
    try:
        # Ctrl-C once the stream is live (its first event printed), however slow the start
        assert proc.stdout is not None
        deadline, seen, live = time.monotonic() + 60, "", False
        while not live and proc.poll() is None and time.monotonic() < deadline:
            name = f"ads-cli-int-{os.getpid()}-{time.monotonic_ns()}"
            engine.cli("create", "--name", name, "--network", "none", TEST_IMAGE)
            engine.cli("rm", name)
            while not live and select.select([proc.stdout], [], [], 2)[0]:
                line = proc.stdout.readline()
                seen += line
                live = f"name={name}" in seen
                if not line:
                    break  # the process ended
        assert live, (seen, proc.poll())
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130
    assert "Traceback" not in err and "Unclosed" not in err, err
    assert "Traceback" not in out


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
    events = [json.loads(line) for line in cli("demo", "--json", host=engine.host).stdout.split()]
    assert [e["Action"] for e in events] == ["create", "start", "die", "destroy"]


@pytest.mark.engine
@pytest.mark.docker_only
def test_stats_one_table_and_a_live_one_that_follows_containers(engine: EngineHandle) -> None:
    tag = unique("ads-stats")
    names = [f"{tag}-{i}" for i in range(3)]
    with removed_afterwards(engine, *names):
        for name in names[:2]:
            engine.cli("run", "-d", "--name", name, "--network", "none", "--label",
                       f"aiodockersock.test={tag}", TEST_IMAGE, "sleep", "300")
        label = ["--label", f"aiodockersock.test={tag}"]
        table, as_json = cli_all(["stats", "--no-stream", *label],
                                 ["stats", "--no-stream", "--json", *label], host=engine.host)
        assert table.returncode == 0, table.stderr
        header, *rows = table.stdout.splitlines()
        assert re.split(r"\s{2,}", header) == [
            "CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O",
            "BLOCK I/O", "PIDS"]
        assert [row.split()[1] for row in rows] == names[:2]
        for row in rows:
            assert re.search(r"\d+\.\d\d%\s+[\d.]+[KMG]?i?B / [\d.]+[KMG]iB\s+\d+\.\d\d%", row), row
            assert row.split()[-1] == "1"  # one process: sleep
        lines = [json.loads(line) for line in as_json.stdout.splitlines()]
        assert [line["name"] for line in lines] == names[:2]
        assert all(line["memory_usage"] > 0 and line["pids"] == 1 for line in lines)

        # live: redrawn every second; a container that starts joins, one that stops leaves
        live = start("stats", "--json", *label, host=engine.host)
        try:
            read_until(live, names[1].encode())
            engine.cli("run", "-d", "--name", names[2], "--network", "none", "--label",
                       f"aiodockersock.test={tag}", TEST_IMAGE, "sleep", "300")
            read_until(live, names[2].encode())
            engine.cli("kill", names[0])
            time.sleep(2.5)  # a refresh or two
            live.send_signal(signal.SIGINT)
            out, err = live.communicate(timeout=15)
        finally:
            if live.poll() is None:
                live.kill()
                live.wait()
        assert live.returncode == 130 and err == b"", err
        last = [json.loads(line)["name"] for line in out.decode().splitlines()[-2:]]
        assert last == names[1:]


# -- several engines at once (-H/--context repeated) --------------------------------------------


@pytest.mark.engine
def test_ps_and_events_over_several_engines_with_a_host_column(
    engine: EngineHandle, tmp_path: Path
) -> None:
    # the engine by its address and by a context (made by the real docker CLI), and one gone
    config = tmp_path / "docker-config"
    docker_cli = subprocess.run(
        ["docker", "context", "create", "again", "--docker", f"host={engine.host}"],
        env={**os.environ, "DOCKER_CONFIG": str(config)}, capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert docker_cli.returncode == 0, docker_cli.stderr
    name = f"ads-cli-fleet-{secrets.token_hex(3)}"
    made = subprocess.run(
        ["docker", "-H", engine.host, "create", "--name", name, "--network", "none",
         TEST_IMAGE, "true"], capture_output=True, text=True, timeout=60, check=False,
    )
    assert made.returncode == 0, made.stderr
    try:
        extra = {"DOCKER_CONFIG": str(config)}
        ps = cli("ps", "-a", "-H", engine.host, "--context", "again", "-H", NO_DAEMON,
                 env=extra)
        lines = ps.stdout.splitlines()
        assert lines[0].split()[:3] == ["HOST", "CONTAINER", "ID"]
        hosts = {line.split()[0] for line in lines[1:] if line.endswith(name)}
        assert hosts == {engine.host, "again"}  # one row per engine that answered
        assert ps.returncode == 1 and NO_DAEMON in ps.stderr  # the one that did not, named
        as_json = cli("ps", "-a", "--json", "-H", engine.host, "-c", "again", env=extra)
        assert as_json.returncode == 0, as_json.stderr
        rows = [json.loads(line) for line in as_json.stdout.splitlines()]
        assert {r["Host"] for r in rows if f"/{name}" in r["Names"]} == {engine.host, "again"}
        # a window of past events from both, each line starting with its engine
        events = cli("events", "--since", "10m", "--until", "0s", "-f", f"container={name}",
                     "-H", engine.host, "-c", "again", env=extra)
        assert events.returncode == 0, events.stderr
        tagged = {line.split()[0] for line in events.stdout.splitlines() if " create " in line}
        assert tagged == {engine.host, "again"}
        # a command of one engine says so
        one = cli("info", "-H", engine.host, "-c", "again", env=extra)
        assert one.returncode == 1 and "takes one engine" in one.stderr
    finally:
        subprocess.run(["docker", "-H", engine.host, "rm", "-f", name], capture_output=True,
                       timeout=60, check=False)


@pytest.mark.engine
def test_service_ls_ps_and_logs_match_the_docker_cli(swarm: SwarmHandle) -> None:
    name = unique()
    script = "echo hello from $0; trap 'exit 0' TERM; sleep 600 & wait"
    swarm.cli("service", "create", "--detach", "--no-resolve-image", "--name", name,
              "--replicas", "2", swarm.image_id, "sh", "-c", script, "task")
    try:
        follow = start("service", "logs", "-f", name, host=swarm.host)  # before the tasks run
        seen = read_until(follow, b"hello from task\nhello from task\n")  # both tasks'
        follow.send_signal(signal.SIGINT)
        out, err = follow.communicate(timeout=15)
        assert follow.returncode == 130 and err == b"", err
        assert seen + out == b"hello from task\n" * 2

        ls, ps, logs, ps_json = cli_all(
            ["service", "ls", "-f", f"name={name}"], ["service", "ps", name],
            ["service", "logs", "--json", name], ["service", "ps", "--json", name],
            host=swarm.host,
        )
        (row,) = [line.split() for line in ls.stdout.splitlines()[1:]]
        assert row[1:] == [name, "replicated", "2/2", swarm.image_id[7:19]], ls.stdout
        theirs = swarm.cli("service", "ps", "--format", "{{.ID}} {{.Name}} {{.Node}}", name)
        ours = [line.split()[:2] + line.split()[3:4] for line in ps.stdout.splitlines()[1:]]
        assert sorted(ours) == sorted(line.split() for line in theirs.stdout.splitlines())
        assert all("Running" in line for line in ps.stdout.splitlines()[1:]), ps.stdout
        assert [json.loads(line) for line in logs.stdout.splitlines()] == [
            {"stream": "stdout", "text": "hello from task"}] * 2
        tasks = json.loads(ps_json.stdout)
        assert sorted(t["Slot"] for t in tasks) == [1, 2]
    finally:
        swarm.cli("service", "rm", name)
    missing = cli("service", "ps", name, host=swarm.host)
    assert name in one_error_line(missing)
# -- swarm: node ls, swarm init / leave ----------------------------------------------------------


@pytest.mark.engine
def test_node_ls_matches_the_docker_cli(swarm: SwarmHandle) -> None:
    text, as_json, workers = cli_all(
        ["node", "ls"], ["node", "ls", "--json"], ["node", "ls", "-f", "role=worker", "--json"],
        host=swarm.host,
    )
    assert text.returncode == 0, text.stderr
    ours = [line.split() for line in text.stdout.splitlines()]
    theirs = [line.split() for line in swarm.cli("node", "ls").stdout.splitlines()]
    assert ours == theirs  # ID (* for this engine), hostname, status, availability, leader…
    assert ours[1][:2] == [swarm.node_id, "*"]
    assert [node["ID"] for node in json.loads(as_json.stdout)] == [swarm.node_id]
    assert json.loads(workers.stdout) == []


@pytest.mark.engine
def test_swarm_init_and_leave(
    swarm: SwarmHandle, private_engines: Callable[[int], list[EngineHandle]]
) -> None:
    (engine,) = private_engines(1)
    ip, addr = node_address()  # a loopback address of its own (see tests/engines/swarm.py)
    made = cli("swarm", "init", "--advertise-addr", ip, "--listen-addr", addr,
               "--json", host=engine.host)
    assert made.returncode == 0, made.stderr
    doc = json.loads(made.stdout)
    assert doc["node_id"] == engine.cli("info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
    assert doc["join_addr"] == addr and doc["unlock_key"] is None
    assert doc["worker_token"] == engine.cli("swarm", "join-token", "-q", "worker").stdout.strip()
    left = cli("swarm", "leave", "--force", host=engine.host)
    assert left.returncode == 0 and left.stdout == "Node left the swarm.\n", left.stderr
    assert "not a swarm manager" in one_error_line(cli("node", "ls", host=engine.host))

    ip, addr = node_address()
    made = cli("swarm", "init", "--advertise-addr", ip, "--listen-addr", addr,
               "--autolock", host=engine.host)
    assert made.returncode == 0, made.stderr
    token = engine.cli("swarm", "join-token", "-q", "worker").stdout.strip()
    assert f"    docker swarm join --token {token} {addr}\n" in made.stdout
    key = engine.cli("swarm", "unlock-key", "-q").stdout.strip()
    assert made.stdout.rstrip().endswith(key) and key.startswith("SWMKEY-1-")
    # (refusals last: dockerd takes 5 s to leave after one)
    again, leave = cli_all(["swarm", "init", "--advertise-addr", ip], ["swarm", "leave"],
                           host=engine.host)
    assert "already part of a swarm" in one_error_line(again)
    assert "--force" in one_error_line(leave)  # the last manager leaves only with --force
