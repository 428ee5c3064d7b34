"""Exec structs: the create and start bodies, the create response, and an exec's inspection.

Field names follow the Engine API's ``ExecConfig`` (the body of ``POST /containers/{id}/exec``),
``ExecStartConfig``, ``IDResponse``/``IdResponse``, ``ExecInspectResponse`` and
``ProcessConfig`` of API 1.41 and 1.56. ``ProcessConfig`` is one of the few definitions whose
wire names are lower case.

``ExecResult`` is the client's own type (what ``execs.run()`` did), like ``RunResult``: it is not
decoded from JSON and not checked against a spec definition.
"""

from __future__ import annotations

import msgspec

from ._base import Model
from .output import ContainerLogs

__all__ = [
    "ExecCreateBody",
    "ExecCreateResponse",
    "ExecInspect",
    "ExecResult",
    "ExecStartBody",
    "ProcessConfig",
]


class ExecCreateBody(Model):
    """The body of POST /containers/{id}/exec: the command to run and how to attach to it.

    Attributes:
        cmd: the command and its arguments.
        attach_stdin: keep the process's standard input open for a client to write to.
        attach_stdout: send the process's standard output to the client.
        attach_stderr: send the process's standard error to the client.
        tty: give the process a pseudo-terminal (its output is then one raw stream).
        console_size: the terminal's initial ``[height, width]`` (API >= 1.42; ignored
            before).
        detach_keys: the key sequence that detaches a client from a TTY session
            (``"ctrl-p,ctrl-q"`` when unset).
        env: extra environment variables, ``["NAME=value", ...]``.
        privileged: run the process with extended privileges.
        user: ``user``, ``user:group``, ``uid`` or ``uid:gid`` to run the process as.
        working_dir: the process's working directory.
    """

    attach_stdin: bool | None = None
    attach_stdout: bool | None = None
    attach_stderr: bool | None = None
    console_size: list[int] | None = None
    """Not in API 1.41."""
    detach_keys: str | None = None
    tty: bool | None = None
    env: list[str] | None = None
    cmd: list[str] | None = None
    privileged: bool | None = None
    user: str | None = None
    working_dir: str | None = None


class ExecCreateResponse(Model):
    """The response of POST /containers/{id}/exec: the new exec instance's id."""

    id: str | None = None


class ExecStartBody(Model):
    """The body of POST /exec/{id}/start.

    Attributes:
        detach: start the process and return at once, attaching nothing.
        tty: whether the client wants the output as one raw TTY stream; without it the
            Engine frames standard output and error (even for an exec created with a TTY).
        console_size: the terminal's initial ``[height, width]`` (API >= 1.42, TTY only).
    """

    detach: bool | None = None
    tty: bool | None = None
    console_size: list[int] | None = None
    """Not in API 1.41."""


class ProcessConfig(Model):
    """The process an exec runs (the ``ProcessConfig`` definition; lower-case wire names)."""

    privileged: bool | None = msgspec.field(default=None, name="privileged")
    user: str | None = msgspec.field(default=None, name="user")
    tty: bool | None = msgspec.field(default=None, name="tty")
    entrypoint: str | None = msgspec.field(default=None, name="entrypoint")
    arguments: list[str] | None = msgspec.field(default=None, name="arguments")


class ExecInspect(Model):
    """The response of GET /exec/{id}/json.

    Attributes:
        id: the exec instance's id.
        container_id: the id of the container it runs in.
        running: whether its process is running now.
        exit_code: the process's exit status once it has exited; ``None`` while it runs and
            when it was never started.
        pid: the process's id on the host (``0`` if it never started).
        process_config: the command, user, TTY and privileges it runs with.
        open_stdin: whether standard input is attached.
        open_stdout: whether standard output is attached.
        open_stderr: whether standard error is attached.
        can_remove: an Engine-internal flag.
        detach_keys: the detach key sequence it was created with (``""``: the default).
    """

    can_remove: bool | None = None
    detach_keys: str | None = None
    id: str | None = msgspec.field(default=None, name="ID")
    running: bool | None = None
    exit_code: int | None = None
    process_config: ProcessConfig | None = None
    open_stdin: bool | None = None
    open_stderr: bool | None = None
    open_stdout: bool | None = None
    container_id: str | None = msgspec.field(default=None, name="ContainerID")
    pid: int | None = None


class ExecResult(msgspec.Struct, frozen=True):
    """What ``execs.run()`` did: the exec's id, its exit status and everything it wrote.

    Attributes:
        id: the exec instance's id (``docker.execs.inspect(result.id)`` works while the
            container exists).
        exit_code: the process's exit status; ``-1`` if the Engine reported none (the process
            never started; ``output`` then holds the Engine's message).
        output: its output frames in order (one raw ``stdout`` stream for a TTY exec).
    """

    id: str
    exit_code: int
    output: ContainerLogs

    @property
    def stdout(self) -> bytes:
        """Everything the process wrote to standard output."""
        return self.output.stdout

    @property
    def stderr(self) -> bytes:
        """Everything the process wrote to standard error."""
        return self.output.stderr

    def text(self, encoding: str = "utf-8", errors: str = "replace") -> str:
        """Standard output and error interleaved as they arrived, decoded as text."""
        return self.output.text(encoding, errors)
