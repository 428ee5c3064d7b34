#!/usr/bin/env python3
"""Recorded Engine events for ``bench_events.py``, and the N-event streams built from them.

Record (once; needs a running engine, creates and removes its own containers)::

    python benchmarks/events_fixture.py record --host unix:///tmp/dv/docker.sock

drives a real engine through a container life cycle (create, start, exec, health checks,
pause/unpause, rename, restart, kill, die, destroy), a volume and an image tag, all labelled
``aiodockersock.bench=1`` and carrying labels with non-ASCII text, then reads the engine's own
``GET /events?since=…&until=…`` body (exact Engine JSON bytes, over HTTP/1.0 so the body comes
unframed) and keeps this run's lines in ``data/events.ndjson``. It also saves the engine's
``GET /version`` body (``data/version.json``) for the fake server to answer with.

Build (at benchmark time): :func:`build_lines` cycles the recorded lines up to N, rewriting
``time``/``timeNano`` to be strictly increasing (event i gets ``base + i`` microseconds), so
a client's order can be checked; :func:`chunk_per_event` and :func:`chunk_64k` frame the
stream with ``Transfer-Encoding: chunked`` the two ways the benchmark serves it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
EVENTS_FILE = DATA_DIR / "events.ndjson"
VERSION_FILE = DATA_DIR / "version.json"
META_FILE = DATA_DIR / "events.meta.json"

BENCH_LABEL = "aiodockersock.bench"
RUN_LABEL = "aiodockersock.bench.run"
IMAGE = "aiodockersock-test/busybox:latest"
#: non-ASCII label values (2-, 3- and 4-byte UTF-8) carried by every recorded container
TEXT_LABELS = {
    "bench.text": "é ü 中文",
    "bench.описание": "Grüße, 世界 — naïve café ✓ 🐳",
    "com.example.équipe": "plateforme-données",
}
CHUNK_64K = 64 * 1024
NS = 1_000_000_000


# -- recording ---------------------------------------------------------------------------------


def _socket_path(host: str) -> str:
    if not host.startswith("unix://"):
        raise SystemExit("record needs a unix:// host")
    return host[len("unix://") :]


def _raw_get(path: str, target: str) -> bytes:
    """GET over HTTP/1.0 on a unix socket; returns the body exactly as the daemon sent it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(f"GET {target} HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
        parts = []
        while True:
            data = sock.recv(1 << 16)
            if not data:
                break
            parts.append(data)
    raw = b"".join(parts)
    head, _, body = raw.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if b" 200 " not in status:
        raise RuntimeError(f"GET {target}: {status!r} {body[:300]!r}")
    return body


def record(host: str, out: Path) -> None:
    import docker  # docker-py drives the engine; the events themselves are read raw

    path = _socket_path(host)
    client = docker.APIClient(base_url=host, version="1.41", timeout=60)
    run = uuid.uuid4().hex[:10]
    labels = {BENCH_LABEL: "1", RUN_LABEL: run, **TEXT_LABELS}
    created: list[str] = []
    volume = f"aiodockersock-bench-{run}"
    tag_repo = f"aiodockersock-bench-{run}"
    since = time.time() - 1
    try:
        client.create_volume(volume, labels=labels)
        client.tag(IMAGE, tag_repo, "latest")
        # short-lived containers: create, start, (run), die with an exit code, destroy
        for k in range(4):
            host_config = client.create_host_config(
                network_mode="none",
                binds={volume: {"bind": "/data", "mode": "rw"}} if k % 2 else None,
            )
            c = client.create_container(
                IMAGE,
                ["sh", "-c", f"echo héllo-{k}; exit {k}"],
                name=f"aiodockersock-bench-{run}-{k}",
                labels=labels,
                host_config=host_config,
            )
            created.append(c["Id"])
            client.start(c["Id"])
            client.wait(c["Id"], timeout=30)
            client.remove_container(c["Id"])
            created.remove(c["Id"])
        # a long-running one with a health check, exec, pause, rename, restart, kill
        c = client.create_container(
            IMAGE,
            ["sleep", "300"],
            name=f"aiodockersock-bench-{run}-svc",
            labels=labels,
            healthcheck={
                "Test": ["CMD", "true"],
                "Interval": 300_000_000,
                "Timeout": 1_000_000_000,
                "StartPeriod": 0,
                "Retries": 1,
            },
            host_config=client.create_host_config(network_mode="none"),
        )
        cid = c["Id"]
        created.append(cid)
        client.start(cid)
        deadline = time.time() + 20
        while time.time() < deadline:
            state = client.inspect_container(cid)["State"]
            if state.get("Health", {}).get("Status") == "healthy":
                break
            time.sleep(0.2)
        for word in ("héllo", "wörld"):
            ex = client.exec_create(cid, ["echo", word])
            client.exec_start(ex["Id"])
        client.pause(cid)
        client.unpause(cid)
        client.rename(cid, f"aiodockersock-bench-{run}-svc-renamed")
        time.sleep(1.0)  # a few more health checks
        client.restart(cid, timeout=1)
        time.sleep(0.5)
        client.kill(cid)
        client.wait(cid, timeout=30)
        client.remove_container(cid)
        created.remove(cid)
        client.remove_image(f"{tag_repo}:latest")
        client.remove_volume(volume)
    finally:
        # best-effort cleanup after a failure (the normal path removed everything already)
        for cid in created:
            with contextlib.suppress(Exception):
                client.remove_container(cid, force=True)
        with contextlib.suppress(Exception):
            client.remove_image(f"{tag_repo}:latest")
        with contextlib.suppress(Exception):
            client.remove_volume(volume)
    until = time.time() + 1
    time.sleep(1.2)
    body = _raw_get(path, f"/v1.41/events?since={since:.9f}&until={until:.9f}")
    ids: set[str] = set()
    kept: list[bytes] = []
    for line in body.split(b"\n"):
        if not line.strip():
            continue
        ev = json.loads(line)
        actor = ev.get("Actor") or {}
        attrs = actor.get("Attributes") or {}
        ours = (
            attrs.get(RUN_LABEL) == run
            or run in json.dumps(attrs)
            or run in str(actor.get("ID"))
            or actor.get("ID") in ids
            or attrs.get("container") in ids
        )
        if ours:
            if ev.get("Type") in ("container", "image"):
                ids.add(actor["ID"])
            kept.append(line)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"".join(line + b"\n" for line in kept))
    version = _raw_get(path, "/version")
    VERSION_FILE.write_bytes(version.strip() + b"\n")
    actions: dict[str, int] = {}
    for line in kept:
        ev = json.loads(line)
        key = f"{ev['Type']} {ev['Action'].split(':')[0]}"
        actions[key] = actions.get(key, 0) + 1
    META_FILE.write_text(
        json.dumps(
            {
                "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "engine": json.loads(version).get("Version"),
                "api": "1.41",
                "events": len(kept),
                "actions": dict(sorted(actions.items())),
            },
            indent=1,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"recorded {len(kept)} events to {out}")
    for key, count in sorted(actions.items()):
        print(f"  {count:3d}  {key}")


# -- building the stream -----------------------------------------------------------------------


_TIME = re.compile(rb'"time":(\d+)')
_TIME_NANO = re.compile(rb'"timeNano":(\d+)')


@dataclass(frozen=True)
class Template:
    """One recorded line cut around its ``time`` and ``timeNano`` numbers."""

    parts: tuple[bytes, ...]  # text before time, between, after timeNano (incl. "\n")
    time_first: bool
    expected_text: tuple[str, ...]  # its non-ASCII attribute values, sorted


def nonascii_values(attrs: dict[str, Any] | None) -> tuple[str, ...]:
    """The non-ASCII attribute values of an event's actor, sorted (what clients must decode)."""
    if not attrs:
        return ()
    return tuple(sorted(v for v in attrs.values() if isinstance(v, str) and not v.isascii()))


def load_templates(path: Path = EVENTS_FILE) -> list[Template]:
    templates = []
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        t = _TIME.search(line)
        tn = _TIME_NANO.search(line)
        if t is None or tn is None:
            raise ValueError(f"a recorded line lacks time/timeNano: {line[:200]!r}")
        first, second = (t, tn) if t.start() < tn.start() else (tn, t)
        parts = (
            line[: first.start(1)],
            line[first.end(1) : second.start(1)],
            line[second.end(1) :] + b"\n",
        )
        attrs = (json.loads(line).get("Actor") or {}).get("Attributes")
        templates.append(Template(parts, first is t, nonascii_values(attrs)))
    return templates


def base_time_nano(path: Path = EVENTS_FILE) -> int:
    m = _TIME_NANO.search(path.read_bytes())
    assert m is not None
    return int(m.group(1))


def time_nano_of(index: int, base: int) -> int:
    """``timeNano`` of event ``index`` (0-based) of a built stream."""
    return base + index * 1000 + 1


def build_lines(n: int, templates: list[Template], base: int) -> list[bytes]:
    """N event lines (each ending in ``\\n``), cycling the templates, time strictly rising."""
    out = []
    r = len(templates)
    for i in range(n):
        tpl = templates[i % r]
        nano = time_nano_of(i, base)
        secs = nano // NS
        a, b, c = tpl.parts
        if tpl.time_first:
            out.append(b"%s%d%s%d%s" % (a, secs, b, nano, c))
        else:
            out.append(b"%s%d%s%d%s" % (a, nano, b, secs, c))
    return out


def chunk_per_event(lines: list[bytes]) -> bytes:
    """Mode A: one HTTP chunk per event (what dockerd does: it flushes after each one)."""
    body = [b"%x\r\n%s\r\n" % (len(line), line) for line in lines]
    body.append(b"0\r\n\r\n")
    return b"".join(body)


@dataclass(frozen=True)
class Chunked64k:
    body: bytes
    boundaries: list[int]  # payload offsets where one chunk ends and the next begins
    chunks: int
    split_lines: int  # boundaries that fall inside a line
    split_chars: int  # boundaries that fall inside a multi-byte UTF-8 character


def chunk_64k(payload: bytes, size: int = CHUNK_64K) -> Chunked64k:
    """Mode B: ~64 KiB chunks. Every second boundary is moved forward (by < 4 KiB) to the
    middle of a multi-byte UTF-8 character, so both lines and characters are split."""
    boundaries = []
    pos = 0
    k = 0
    n = len(payload)
    while pos + size < n:
        cut = pos + size
        if k % 2:
            j = cut
            limit = min(cut + 4096, n - 1)
            # a continuation byte (10xxxxxx) at j means cutting before it splits a character
            while j < limit and (payload[j] & 0xC0) != 0x80:
                j += 1
            if j < limit:
                cut = j
        boundaries.append(cut)
        pos = cut
        k += 1
    frames = []
    start = 0
    split_lines = split_chars = 0
    for cut in [*boundaries, n]:
        piece = payload[start:cut]
        frames.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        if cut < n:
            if payload[cut - 1] != 0x0A:
                split_lines += 1
            if (payload[cut] & 0xC0) == 0x80:
                split_chars += 1
        start = cut
    frames.append(b"0\r\n\r\n")
    return Chunked64k(b"".join(frames), boundaries, len(boundaries) + 1, split_lines, split_chars)


def split_char_events(lines: list[bytes], payload: bytes, boundaries: list[int]) -> list[int]:
    """1-based indices of the events whose line holds a boundary that splits a character."""
    out = []
    line_idx = 0
    offset = 0  # payload offset of lines[line_idx]
    for cut in boundaries:
        if (payload[cut] & 0xC0) != 0x80:
            continue
        while offset + len(lines[line_idx]) <= cut:
            offset += len(lines[line_idx])
            line_idx += 1
        out.append(line_idx + 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("record", help="record events from a real engine")
    rec.add_argument("--host", default="unix:///tmp/dv/docker.sock")
    rec.add_argument("--out", type=Path, default=EVENTS_FILE)
    show = sub.add_parser("stats", help="describe the built streams")
    show.add_argument("--n", type=int, default=500_000)
    args = parser.parse_args()
    if args.cmd == "record":
        record(args.host, args.out)
    else:
        templates = load_templates()
        lines = build_lines(args.n, templates, base_time_nano())
        payload = b"".join(lines)
        a = chunk_per_event(lines)
        b = chunk_64k(payload)
        print(f"{len(templates)} templates; {args.n} events, payload {len(payload) / 1e6:.1f} MB")
        print(f"mode A body {len(a) / 1e6:.1f} MB, {args.n} chunks")
        print(
            f"mode B body {len(b.body) / 1e6:.1f} MB, {b.chunks} chunks, "
            f"{b.split_lines} split a line, {b.split_chars} split a UTF-8 character"
        )


if __name__ == "__main__":
    main()
