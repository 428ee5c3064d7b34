"""What containers write (demultiplexed log frames, the result of ``containers.run()``) and
what the client reads from headers (``PathStat``).

These are built by the client from the Engine's byte streams and headers, not decoded from JSON
response bodies, so they are not checked against a spec definition.
"""

from __future__ import annotations

import msgspec

__all__ = ["ContainerLogs", "LogFrame", "LogLine", "PathStat", "RunResult"]


class LogFrame(msgspec.Struct, frozen=True, gc=False):  # str and bytes: no cycle possible
    """One piece of container output.

    Attributes:
        stream: ``"stdout"`` or ``"stderr"`` (``"stdin"`` is possible on attach); a TTY
            container's output is all ``"stdout"``.
        data: the bytes as the container wrote them (a frame is not necessarily a whole line).
    """

    stream: str
    data: bytes

    def text(self, encoding: str = "utf-8", errors: str = "replace") -> str:
        """The frame's bytes decoded as text."""
        return self.data.decode(encoding, errors)


class LogLine(msgspec.Struct, frozen=True):
    """One line of container output, decoded as text (``LogStream.lines()``).

    Attributes:
        stream: ``"stdout"`` or ``"stderr"``.
        text: the line without its line ending.
        timestamp: the RFC 3339 timestamp the daemon put before it when asked for
            ``timestamps=True``; ``None`` otherwise.
    """

    stream: str
    text: str
    timestamp: str | None = None


def _join(frames: list[LogFrame], stream: str | None) -> bytes:
    return b"".join(f.data for f in frames if stream is None or f.stream == stream)


class ContainerLogs(msgspec.Struct, frozen=True):
    """A container's output as ``GET /containers/{id}/logs`` returned it, in order.

    Attributes:
        frames: the frames in the order the container wrote them.
        tty: whether the container has a TTY (its output is one raw stream).
    """

    frames: list[LogFrame]
    tty: bool = False

    @property
    def stdout(self) -> bytes:
        """Everything written to standard output."""
        return _join(self.frames, "stdout")

    @property
    def stderr(self) -> bytes:
        """Everything written to standard error."""
        return _join(self.frames, "stderr")

    @property
    def output(self) -> bytes:
        """Standard output and error interleaved as they were written."""
        return _join(self.frames, None)

    def text(self, encoding: str = "utf-8", errors: str = "replace") -> str:
        """Standard output and error interleaved, decoded as text."""
        return self.output.decode(encoding, errors)


class RunResult(msgspec.Struct, frozen=True):
    """What ``containers.run()`` did.

    Attributes:
        id: the container's id.
        exit_code: its exit status, or ``None`` when ``run()`` did not wait for it.
        logs: its output, or ``None`` when ``run()`` did not wait for it.
        removed: whether ``run()`` removed the container afterwards.
    """

    id: str
    exit_code: int | None = None
    logs: ContainerLogs | None = None
    removed: bool = False

    @property
    def stdout(self) -> bytes:
        """Everything the container wrote to standard output (empty when not waited for)."""
        return self.logs.stdout if self.logs is not None else b""

    @property
    def stderr(self) -> bytes:
        """Everything the container wrote to standard error (empty when not waited for)."""
        return self.logs.stderr if self.logs is not None else b""


# Go's os.FileMode type bits, as dockerd sends them
_MODE_DIR = 1 << 31
_MODE_SYMLINK = 1 << 27


class PathStat(msgspec.Struct, frozen=True, rename="camel"):
    """A path in a container's filesystem, from the ``X-Docker-Container-Path-Stat`` header.

    Attributes:
        name: the base name.
        size: the size in bytes.
        mode: Go's ``os.FileMode``: permission bits plus type bits (see :attr:`is_dir`).
        mtime: the modification time (RFC 3339).
        link_target: where a symlink points (``""`` otherwise).
    """

    name: str = ""
    size: int = 0
    mode: int = 0
    mtime: str = ""
    link_target: str = ""

    @property
    def is_dir(self) -> bool:
        """Whether the path is a directory."""
        return bool(self.mode & _MODE_DIR)

    @property
    def is_symlink(self) -> bool:
        """Whether the path is a symbolic link."""
        return bool(self.mode & _MODE_SYMLINK)

    @property
    def permissions(self) -> int:
        """The permission bits (``0o755``…)."""
        return self.mode & 0o7777
