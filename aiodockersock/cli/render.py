"""What the command line writes: JSON, container output, event lines, pull progress, tables
and the one-line error messages."""

from __future__ import annotations

import codecs
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, BinaryIO, TextIO

import msgspec

from .. import APIError, DockerError, RegistryUnreachable, StatsRow
from ..models import (
    BuildStatus,
    BuildVertex,
    BuildVertexStatus,
    EventMessage,
    LogFrame,
    ProgressMessage,
)

__all__ = [
    "BuildDisplay", "LineSplitter", "OutputLine", "PullDisplay", "StatsLine", "age", "demo_line",
    "format_event", "one_line", "print_json", "print_table", "relay", "stats_line", "stats_table",
    "warn",
]


class OutputLine(msgspec.Struct, omit_defaults=True):
    """A line of container output in ``--json`` mode (``logs``, attached ``run``)."""

    stream: str
    text: str
    timestamp: str | None = None


def print_json(value: Any) -> None:
    """Write ``value`` as one line of JSON to stdout, at once."""
    sys.stdout.write(msgspec.json.encode(value).decode() + "\n")
    sys.stdout.flush()


def relay(frame: LogFrame) -> None:
    """Write a frame to our stdout or stderr (as the container wrote it) at once."""
    stream = sys.stderr if frame.stream == "stderr" else sys.stdout
    out: BinaryIO | None = getattr(stream, "buffer", None)
    if out is None:  # a stream without bytes underneath (e.g. replaced by a test harness)
        raise DockerError("cannot write binary output to this stream")
    stream.flush()
    out.write(frame.data)
    out.flush()


class LineSplitter:
    """Frames in, text lines out, per stream: a line (or a character) split across frames is
    joined; the last unterminated line comes from :meth:`flush`."""

    def __init__(self) -> None:
        self._pending: dict[str, str] = {}
        self._decoders: defaultdict[str, codecs.IncrementalDecoder] = defaultdict(
            lambda: codecs.getincrementaldecoder("utf-8")("replace")
        )

    def feed(self, frame: LogFrame) -> list[OutputLine]:
        decoder = self._decoders[frame.stream]
        parts = (self._pending.get(frame.stream, "") + decoder.decode(frame.data)).split("\n")
        self._pending[frame.stream] = parts.pop()
        return [OutputLine(frame.stream, part.removesuffix("\r")) for part in parts]

    def flush(self) -> list[OutputLine]:
        lines = []
        for stream, decoder in self._decoders.items():
            rest = self._pending.pop(stream, "") + decoder.decode(b"", final=True)
            if rest:
                lines.append(OutputLine(stream, rest.removesuffix("\r")))
        return lines


def one_line(exc: BaseException) -> str:
    """An error as the one line the command line prints for it."""
    text = str(exc)
    if isinstance(exc, APIError) and not isinstance(exc, RegistryUnreachable) and exc.message:
        text = exc.message  # the daemon's own words; the status and path are noise here
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines) or type(exc).__name__


def warn(text: str) -> None:
    """Write ``aiodockersock: <text>`` to stderr."""
    print(f"aiodockersock: {text}", file=sys.stderr, flush=True)


def age(created: int | None) -> str:
    """``3 hours ago`` for a time in seconds since the epoch (``?`` when unknown)."""
    if not created:
        return "?"
    seconds = max(0, int(time.time()) - created)
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} seconds ago"


def since(timestamp: str | None) -> str:
    """``3 minutes ago`` for an RFC 3339 time as the Engine writes it (nanoseconds, ``Z``)."""
    if not timestamp:
        return "?"
    head = timestamp.split(".")[0].rstrip("Z")
    try:
        when = datetime.fromisoformat(head).replace(tzinfo=timezone.utc)
    except ValueError:
        return "?"
    return age(int(when.timestamp()))


def short_image(image: str) -> str:
    """An image as a service shows it: ``name:tag`` without its pinned ``@sha256:…``, and an
    image id shortened to 12 digits (``sha256:`` dropped)."""
    if image.startswith("sha256:"):
        return image[7:19]
    return image.split("@", 1)[0]


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Print rows (the first one the header) in left-aligned columns three spaces apart."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def format_event(ev: EventMessage) -> str:
    """One line per event, as ``docker events`` prints it."""
    stamp = "?"
    if ev.time_nano is not None:
        seconds, nanos = divmod(ev.time_nano, 1_000_000_000)
        when = datetime.fromtimestamp(seconds, timezone.utc)
        stamp = f"{when:%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"
    attributes = (ev.actor.attributes if ev.actor is not None else None) or {}
    detail = ", ".join(f"{k}={v}" for k, v in sorted(attributes.items()))
    line = f"{stamp} {ev.type} {ev.action} {ev.actor_id or ''}"
    return f"{line} ({detail})" if detail else line


def demo_line(ev: EventMessage) -> str:
    """An event as ``demo`` shows it: time of day, action, short id, name, exit code."""
    stamp = datetime.fromtimestamp((ev.time_nano or 0) / 1e9, timezone.utc)
    extra = f" exitCode={ev.exit_code}" if ev.exit_code is not None else ""
    return (f"  event {stamp:%H:%M:%S.%f} {ev.type} {ev.action:<8} {(ev.actor_id or '')[:12]} "
            f"name={ev.name}{extra}")


class PullDisplay:
    """Shows the progress of a pull as ``docker pull`` does: one line per layer.

    On a terminal (``tty=True``) each layer keeps its line, redrawn in place with ANSI cursor
    movement as its status and progress bar change; lines are cut to ``width`` so that none
    wraps. Otherwise a line is written only when a layer's status changes (no progress bars),
    which keeps logs and CI output readable. Messages without a layer id (``Digest: …``,
    ``Status: …``) are written as they come; on a terminal the layers after one start a new
    block below it.
    """

    def __init__(self, out: TextIO, *, tty: bool, width: int = 80) -> None:
        self._out = out
        self._tty = tty
        self._width = max(width, 20)
        self._rows: dict[str, int] = {}  # layer id -> its row in the block (tty)
        self._status: dict[str, str] = {}  # layer id -> the last status written (plain)

    def show(self, message: ProgressMessage) -> None:
        """Write what ``message`` changes."""
        text = message.status or (message.stream or "").rstrip("\n")
        layer = message.id
        if not layer:
            if text:
                self._rows.clear()
                self._write(text + "\n")
            return
        if not self._tty:
            if text and self._status.get(layer) != text:
                self._status[layer] = text
                self._write(f"{layer}: {text}\n")
            return
        line = f"{layer}: {text}"
        if message.progress:
            line += f" {message.progress}"
        line = line[: self._width - 1]
        row = self._rows.get(layer)
        if row is None:
            self._rows[layer] = len(self._rows)
            self._write(line + "\n")
            return
        up = len(self._rows) - row
        # up to the layer's row, clear it, write, and back down to the line below the block
        self._write(f"\x1b[{up}A\r\x1b[2K{line}\x1b[{up}B\r")

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()


class StatsLine(msgspec.Struct):
    """A container's resource usage in ``stats --json`` (bytes, and percentages of one CPU and
    of the memory limit)."""

    id: str
    name: str
    cpu_percent: float
    memory_usage: int
    memory_limit: int
    memory_percent: float
    network_rx_bytes: int
    network_tx_bytes: int
    block_read_bytes: int
    block_write_bytes: int
    pids: int


def stats_line(row: StatsRow) -> StatsLine | None:
    """A row of the stats table for ``--json`` (``None`` before its first sample)."""
    s = row.stats
    if s is None:
        return None
    return StatsLine(row.id, row.name, round(s.cpu_percent, 2), s.memory_usage, s.memory_limit,
                     round(s.memory_percent, 2), s.network_rx_bytes, s.network_tx_bytes,
                     s.block_read_bytes, s.block_write_bytes, s.pids)


def _scaled(size: int, step: int, units: tuple[str, ...], digits: int) -> str:
    value = float(size)
    for unit in units[:-1]:
        if value < step:
            return f"{value:.{digits}g}{unit}"
        value /= step
    return f"{value:.{digits}g}{units[-1]}"


def _binary(size: int) -> str:
    """``712KiB``, ``23.54GiB``: memory, in powers of 1024 (as ``docker stats``)."""
    return _scaled(size, 1024, ("B", "KiB", "MiB", "GiB", "TiB"), 4)


def _decimal(size: int) -> str:
    """``0B``, ``1.2MB``: traffic, in powers of 1000 (as ``docker stats``)."""
    return _scaled(size, 1000, ("B", "kB", "MB", "GB", "TB"), 3)


def stats_table(rows: Sequence[StatsRow]) -> list[tuple[str, ...]]:
    """The rows of ``docker stats``'s table, its header first (``--`` before a first sample)."""
    table: list[tuple[str, ...]] = [("CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT",
                                     "MEM %", "NET I/O", "BLOCK I/O", "PIDS")]
    for row in rows:
        s = row.stats
        if s is None:
            table.append((row.id[:12], row.name, "--", "-- / --", "--", "--", "--", "--"))
            continue
        table.append((
            row.id[:12], row.name, f"{s.cpu_percent:.2f}%",
            f"{_binary(s.memory_usage)} / {_binary(s.memory_limit)}",
            f"{s.memory_percent:.2f}%",
            f"{_decimal(s.network_rx_bytes)} / {_decimal(s.network_tx_bytes)}",
            f"{_decimal(s.block_read_bytes)} / {_decimal(s.block_write_bytes)}",
            str(s.pids),
        ))
    return table


def _size(count: int) -> str:
    """``73B``, ``2.04kB``, ``3.15MB``: bytes as BuildKit's plain progress writes them."""
    if count < 1000:
        return f"{count}B"
    value = count / 1000
    for unit in ("kB", "MB", "GB"):
        if value < 1000:
            return f"{value:.2f}{unit}"
        value /= 1000
    return f"{value:.2f}TB"


class BuildDisplay:
    """Writes a BuildKit build's progress as ``docker build --progress=plain`` does: each step
    (vertex) numbered in the order it starts, a line per event, under a header line.

    ``#5 [2/3] RUN make`` when the step starts (or comes back after another step's lines),
    ``#5 0.213 text`` per line of its output (seconds since it started), ``#5 transferring
    context: 2.04kB 0.1s done`` per finished item of work, then ``#5 DONE 0.3s``, ``#5
    CACHED``, ``#5 ERROR: why`` or ``#5 CANCELED``. Feed it the records of
    :meth:`~aiodockersock.BuildProgress.statuses`; :meth:`finish` writes the warnings.
    """

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._vertexes: dict[str, BuildVertex] = {}
        self._index: dict[str, int] = {}
        self._current: str | None = None
        self._finished: dict[str, object] = {}  # digest -> its start, once its end is written
        self._done: set[tuple[str, str]] = set()  # (vertex, status id) written as done
        self._pending: dict[str, tuple[float, str]] = {}  # digest -> (when, unterminated line)
        self._decoders: defaultdict[str, codecs.IncrementalDecoder] = defaultdict(_utf8)
        self._warnings: list[str] = []
        self._headers = 0

    def show(self, status: BuildStatus) -> None:
        """Write what ``status`` changes."""
        order: dict[str, None] = {}
        for v in status.vertexes:
            self._vertexes[v.digest] = v
            order[v.digest] = None
        statuses: defaultdict[str, list[BuildVertexStatus]] = defaultdict(list)
        for s in status.statuses:
            statuses[s.vertex].append(s)
            order[s.vertex] = None
        texts: defaultdict[str, list[tuple[float, str]]] = defaultdict(list)
        for log in status.logs:
            vertex = self._vertexes.get(log.vertex)
            started = vertex.started if vertex is not None else None
            at = (log.timestamp - started).total_seconds() if log.timestamp and started else 0.0
            texts[log.vertex].append((at, self._decoders[log.vertex].decode(log.data)))
            order[log.vertex] = None
        for w in status.warnings:
            self._warnings.append(w.short.strip())
        lines: list[str] = []
        for digest in order:
            self._vertex_lines(digest, statuses[digest], texts[digest], lines)
        if lines:
            self._out.write("".join(f"{line}\n" for line in lines))
            self._out.flush()

    def _vertex_lines(self, digest: str, statuses: list[BuildVertexStatus],
                      texts: list[tuple[float, str]], lines: list[str]) -> None:
        v = self._vertexes.get(digest)
        if v is None or (v.started is None and v.completed is None and not v.cached):
            return  # not started yet: nothing to show
        done = [s for s in statuses if s.completed is not None
                and (digest, s.id) not in self._done]
        if (v.completed is not None and self._finished.get(digest, False) == v.started
                and not done and not texts):
            return  # its end was written (BuildKit sends a step again as its items end)
        index = self._index.setdefault(digest, len(self._index) + 1)
        if digest != self._current:
            if self._current is not None:
                lines.append(f"#{self._index[self._current]} ...")
            if self._headers:
                lines.append("")
            self._headers += 1
            lines.append(f"#{index} {v.name}")
            self._current = digest
        for s in done:
            self._done.add((digest, s.id))
            amount = (f" {_size(s.current)} / {_size(s.total)}" if s.total else
                      f" {_size(s.current)}" if s.current else "")
            took = ""
            if s.started is not None and s.completed is not None:
                seconds = (s.completed - s.started).total_seconds()
                took = f" {seconds:.1f}s" if seconds > 0.01 else ""
            lines.append(f"#{index} {s.id}{amount}{took} done")
        for at, text in texts:  # a line is timed by the record it began in
            began, pending = self._pending.pop(digest, (at, ""))
            *ended, rest = text.split("\n")
            for line in ended:
                lines.append(f"#{index} {began:.3f} {(pending + line).removesuffix(chr(13))}")
                began, pending = at, ""
            if pending + rest:
                self._pending[digest] = (began, pending + rest)
        if v.completed is None:
            return
        began, rest = self._pending.pop(digest, (0.0, ""))
        rest += self._decoders.pop(digest, _utf8()).decode(b"", final=True)
        if rest:
            lines.append(f"#{index} {began:.3f} {rest}")
        self._finished[digest] = v.started
        self._current = None
        if v.error:
            canceled = v.error.endswith("context canceled")
            lines.append(f"#{index} CANCELED" if canceled else f"#{index} ERROR: {v.error}")
        elif v.cached:
            lines.append(f"#{index} CACHED")
        else:
            took = (f" {(v.completed - v.started).total_seconds():.1f}s"
                    if v.started is not None else "")
            lines.append(f"#{index} DONE{took}")

    def finish(self) -> None:
        """Write the build's warnings, if any (after the steps, as the Docker CLI does)."""
        if self._warnings:
            count = len(self._warnings)
            self._out.write(f"\n{count} warning{'s' if count > 1 else ''} found:\n")
            self._out.write("".join(f" - {w}\n" for w in self._warnings))
            self._out.flush()


def _utf8() -> codecs.IncrementalDecoder:
    """A decoder of UTF-8 split anywhere (bad bytes replaced)."""
    return codecs.getincrementaldecoder("utf-8")("replace")
