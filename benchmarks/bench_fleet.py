#!/usr/bin/env python3
"""A fleet's merged event stream against one engine's stream: throughput, CPU and memory over
1, 4 and 16 engines.

Usage::

    python benchmarks/bench_fleet.py [--n 200000] [--rounds 7] [--engines 1,4,16]
                                     [--modes per-event,64k] [--quick] [--json FILE]
                                     [--profile-dir DIR] [--baseline REV]
    python benchmarks/bench_fleet.py --pool RUN.json RUN.json ...

What it does:

1. For each fleet size K it builds, with ``bench_events.py``'s own builder (``Fixture``, i.e.
   ``bench_events.py --internal-build``), a stream of N/K recorded events (the same N/K events
   that start the N-event stream) and serves it with ``bench_events.py --internal-serve``
   (``a.sock``: one chunk per event, as dockerd sends; ``b.sock``: 64 KiB chunks cutting lines
   and UTF-8 characters), one server process per K. The server ignores the query and sends its
   whole body, then ends it: as dockerd ends a stream at ``until``.
2. Clients, each sample in a fresh process, interleaved in rounds (the order rotated):

   * ``single``  — ``async with Docker(url) as d: async with d.events(since=1, until=…) as s``
     reading N events from the K=1 server: the reference;
   * ``fleetK``  — ``Fleet({"e00": url, …, "eK-1": url})`` (K clients, each with its own
     connection to the K server) and ``fleet.events(since=1, until=…)`` reading K x N/K = N
     events in total until the merged stream ends (every engine's stream has ended).

   Every sample opens its client(s) and pings each engine before the clock starts; the clock
   runs from just before opening the stream(s) to the end of the (merged) stream. Client CPU is
   the sampling process's ``process_time()`` over the same span; server CPU is the server's,
   over the sample.
3. Correctness, in every sample: for every engine (the single stream is one engine), its
   i-th event must carry the i-th event's exact ``timeNano`` (so nothing lost, duplicated or
   out of order, per engine), its count must be exactly N/K, and on every 997th event, the
   first, the last, and (64k) every event whose line a chunk boundary cuts inside a UTF-8
   character, the decoded non-ASCII label text must be the recorded one (``bench_events``'s
   ``Fixture.verify`` on each engine). The fleet must give exactly one ``HostUp`` per engine,
   no ``HostDown``, and drop nothing. ``HostGap`` notices are counted and reported, not
   failed: a gap says events *may* have been lost (an engine's reader left its connection
   saturated longer than the stream's ``stall_limit``, 0.1 s: easily reached on a loaded
   machine), and the exact checks prove whether any was. The bookkeeping (a per-engine state
   looked up by host name, the exact check, the sample check) is the same in both loops.
4. Memory: RSS (``VmRSS``) once the clients are open and pinged, and peak RSS (``VmHWM``, not
   inherited from the parent) of the sampling process; "per added engine" is
   (median peak of fleetK - median peak of fleet1) / (K - 1).

Figures are medians over rounds; ratios are ratios of medians and (in brackets) the median of
the per-round ratios (each fleet sample against the single-stream sample of its round).

``--pool`` reads the ``--json`` files of several runs and pools their per-round ratios: on a
shared machine one run's figures move by ±0.15 from the next (whatever the number of rounds:
the machine's speed drifts over minutes), so a target is judged on the median of every
round of several runs, with its quartiles and how many rounds fell below the line.

``--baseline REV`` (see ``_baseline.py``) adds every client again as ``<client>@<rev>``, with
aiodockersock as it is at git revision ``REV``, in the same rounds, and a "current vs baseline"
table of events/s and client CPU.
"""

# ruff: noqa: RUF001  (the report prints multiplication signs on purpose)
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_events as be  # noqa: E402  (sets up sys.path for this checkout's aiodockersock)
import events_fixture as fx  # noqa: E402

MODES = be.MODES
EVENTS_SCRIPT = str(HERE / "bench_events.py")


# ============================================================================================
# clients (each sample in its own process)
# ============================================================================================


class Engine:
    """One engine's bookkeeping in a client's loop."""

    __slots__ = ("checks", "n", "nxt", "samples", "wrong")

    def __init__(self, checks: list[int]) -> None:
        self.checks = iter(checks)
        self.nxt = next(self.checks, 0)
        self.n = 0
        self.wrong = 0  # events whose timeNano is not the one expected at their position
        self.samples: list[list[Any]] = []

    def result(self) -> dict[str, Any]:
        return {"events": self.n, "wrong": self.wrong, "samples": self.samples}


def _until(base: int, n_each: int) -> int:
    """An ``until`` (seconds) just after the last event of the stream."""
    return fx.time_nano_of(n_each - 1, base) // fx.NS + 2


async def client_single(
    sock: str, k: int, n_each: int, checks: list[int], base: int
) -> dict[str, Any]:
    from aiodockersock import Docker

    nonascii = fx.nonascii_values
    host = "e00"
    state = {host: Engine(checks)}
    until = _until(base, n_each)
    first = base - 999  # time_nano_of(i - 1) == first + 1000 * i
    async with Docker(f"unix://{sock}") as docker:
        await docker.ping()
        rss0 = be._rss_kib()
        gc0 = [g["collections"] for g in gc.get_stats()]
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        async with docker.events(since=1, until=until) as stream:
            async for ev in stream:
                st = state[host]
                i = st.n = st.n + 1
                tn = ev.time_nano
                if tn != first + 1000 * i:
                    st.wrong += 1
                if i == st.nxt:
                    st.samples.append([i, tn, nonascii(ev.actor.attributes)])
                    st.nxt = next(st.checks, 0)
            t_end = time.perf_counter()
            cpu = time.process_time() - cpu0
            gcs = [g["collections"] - c for g, c in zip(gc.get_stats(), gc0, strict=True)]
            rss_end = be._rss_kib()
            delivered = stream.stats.delivered
    return {**_result(1, state, t_end - t0, cpu, rss0, rss_end, gcs, {}, {}),
            "delivered": delivered}


async def client_fleet(
    sock: str, k: int, n_each: int, checks: list[int], base: int
) -> dict[str, Any]:
    from aiodockersock import Fleet
    from aiodockersock.models import HostEvent

    nonascii = fx.nonascii_values
    url = f"unix://{sock}"
    hosts = {f"e{i:02d}": url for i in range(k)}
    state = {h: Engine(checks) for h in hosts}
    notices: dict[str, int] = {}
    until = _until(base, n_each)
    first = base - 999
    async with Fleet(hosts) as fleet:
        pinged = await fleet.gather(lambda d: d.ping())
        assert not pinged.errors, pinged.errors
        rss0 = be._rss_kib()
        gc0 = [g["collections"] for g in gc.get_stats()]
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        async with fleet.events(since=1, until=until) as events:
            async for item in events:
                if type(item) is HostEvent:
                    st = state[item.host]
                    ev = item.event
                    i = st.n = st.n + 1
                    tn = ev.time_nano
                    if tn != first + 1000 * i:
                        st.wrong += 1
                    if i == st.nxt:
                        st.samples.append([i, tn, nonascii(ev.actor.attributes)])
                        st.nxt = next(st.checks, 0)
                else:
                    name = type(item).__name__
                    notices[name] = notices.get(name, 0) + 1
            t_end = time.perf_counter()
            cpu = time.process_time() - cpu0
            gcs = [g["collections"] - c for g, c in zip(gc.get_stats(), gc0, strict=True)]
            rss_end = be._rss_kib()
            dropped = dict(events.dropped)
    return _result(k, state, t_end - t0, cpu, rss0, rss_end, gcs, notices, dropped)


def _result(
    k: int, state: dict[str, Engine], seconds: float, cpu: float, rss0: int, rss_end: int,
    gcs: list[int], notices: dict[str, int], dropped: dict[str, int],
) -> dict[str, Any]:
    """What a client worker reports of one sample."""
    return {
        "k": k,
        "events": sum(e.n for e in state.values()),
        "seconds": seconds,
        "cpu": cpu,
        "rss0_kib": rss0,
        "rss_end_kib": rss_end,
        "maxrss_kib": be._peak_kib(),
        "gc_collections": gcs,
        "engines": {h: e.result() for h, e in state.items()},
        "notices": notices,
        "dropped": dropped,
    }


def run_client(args: argparse.Namespace) -> None:
    workdir = Path(args.workdir)
    checks = json.loads((workdir / "checks.json").read_text())[args.mode]
    sock = str(workdir / be.SOCK_NAMES[args.mode])
    base = fx.base_time_nano()
    func = client_single if args.internal_client == "single" else client_fleet

    def call() -> dict[str, Any]:
        return asyncio.run(func(sock, args.k, args.n_each, checks, base))

    if args.profile:
        import cProfile

        prof = cProfile.Profile()
        result = prof.runcall(call)
        prof.dump_stats(args.profile)
    else:
        result = call()
    result["aiodockersock_from"] = be._baseline.imported_from()
    print(json.dumps(result))


# ============================================================================================
# parent
# ============================================================================================


def client_k(client: str) -> int:
    func = client.partition("@")[0]
    return 1 if func == "single" else int(func.removeprefix("fleet"))


def sample(
    workdirs: dict[int, Path],
    client: str,
    mode: str,
    n: int,
    profile: str | None = None,
    baseline: Any = None,
) -> dict[str, Any]:
    k = client_k(client)
    workdir = workdirs[k]
    func, _, rev = client.partition("@")
    if rev:
        env, expected = baseline.env(), baseline.root
    else:
        env, expected = be._baseline.current_env(), be.CURRENT_ROOT
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--internal-client",
        "single" if func == "single" else "fleet",
        "--k",
        str(k),
        "--n-each",
        str(n // k),
        "--mode",
        mode,
        "--workdir",
        str(workdir),
    ]
    if profile:
        cmd += ["--profile", profile]
    c0 = be.server_cpu(workdir)
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=900, check=False, env=env
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{client} ({mode}) failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["server_cpu"] = be.server_cpu(workdir) - c0
    wrong = be._baseline.check_origin(client, result.pop("aiodockersock_from", None), expected)
    if wrong:
        raise RuntimeError(wrong)
    result["rate"] = result["events"] / result["seconds"]
    result["cpu_rate"] = result["events"] / result["cpu"]
    return result


def verify(fixture: Any, k: int, mode: str, result: dict[str, Any]) -> list[str]:
    """Every engine complete, exact and in order; the fleet's notices as expected."""
    errors = []
    engines = result["engines"]
    if len(engines) != k:
        errors.append(f"{len(engines)} engines delivered events, expected {k}")
    for host, eng in sorted(engines.items()):
        eng_errors = fixture.verify(mode, {**eng, "disorder": 0})
        if eng["wrong"]:
            eng_errors.append(
                f"{eng['wrong']} events not the expected one at their position "
                "(lost, duplicated or out of order)"
            )
        errors += [f"{host}: {e}" for e in eng_errors]
    if "delivered" in result and result["delivered"] != fixture.n:
        errors.append(f"stats.delivered {result['delivered']} != {fixture.n}")
    if "delivered" not in result:  # a fleet
        notices = {k: v for k, v in result["notices"].items() if k != "HostGap"}
        if notices != {"HostUp": k}:
            errors.append(f"notices {notices} != {{'HostUp': {k}}} (HostGap not counted)")
    if result.get("dropped"):
        errors.append(f"dropped {result['dropped']}")
    return errors


def start_server(workdir: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen([sys.executable, EVENTS_SCRIPT, "--internal-serve", str(workdir)])
    deadline = time.time() + 30
    while not (workdir / "ready").exists():
        if server.poll() is not None or time.time() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    return server


def uptime() -> str:
    try:
        return subprocess.run(
            ["uptime"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return Path("/proc/loadavg").read_text().strip()


def main() -> None:
    parser = argparse.ArgumentParser(description="a fleet's merged event stream vs one stream")
    parser.add_argument("--n", type=int, default=None, help="events per sample, total (200000)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (7)")
    parser.add_argument("--engines", default="1,4,16", help="fleet sizes (1,4,16)")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--json", type=Path, help="write raw results here")
    parser.add_argument(
        "--profile-dir", type=Path,
        help="also run single and the largest fleet once per chunking under cProfile",
    )
    parser.add_argument(
        "--baseline", metavar="REV",
        help="also run every client with aiodockersock as it is at git revision REV",
    )
    parser.add_argument(
        "--pool", nargs="+", type=Path, metavar="RUN.json",
        help="pool the per-round ratios of these --json files (no new samples)",
    )
    parser.add_argument("--internal-client", help=argparse.SUPPRESS)
    parser.add_argument("--k", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--n-each", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--profile", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.internal_client:
        run_client(args)
        return
    if args.pool:
        print_pooled([json.loads(path.read_text()) for path in args.pool], args.pool)
        return

    n = args.n or (32_000 if args.quick else 192_000)
    rounds = args.rounds or (2 if args.quick else 7)
    sizes = [int(x) for x in args.engines.split(",") if x]
    modes = [m for m in args.modes.split(",") if m]
    for k in sizes:
        if n % k:
            raise SystemExit(f"--n must be a multiple of every fleet size ({k})")
    clients = ["single", *(f"fleet{k}" for k in sizes)]
    ks = sorted({1, *sizes})
    baseline = None
    if args.baseline:
        baseline = be._baseline.prepare(args.baseline, be.REPO_ROOT)
        clients = [x for c in clients for x in (c, f"{c}@{baseline.short}")]
        print(f"baseline: {baseline.describe()}; current: aiodockersock = "
              f"{be._baseline.describe(be.REPO_ROOT)}", flush=True)

    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    root = Path(tempfile.mkdtemp(prefix="aiodockersock-bench-fleet-", dir=base))
    workdirs = {k: root / f"k{k}" for k in ks}
    servers: list[subprocess.Popen[bytes]] = []
    report: dict[str, Any] = {
        "n": n, "rounds": rounds, "sizes": sizes, "modes": modes,
        "versions": be.versions(), "machine": be.machine(),
        "uptime_start": uptime(), "samples": [],
        "baseline": None if baseline is None else {
            "name": baseline.name, "short": baseline.short, "sha": baseline.sha,
            "subject": baseline.subject, "current": be._baseline.describe(be.REPO_ROOT),
        },
    }
    print(f"uptime at start: {report['uptime_start']}", flush=True)
    fixtures = {}
    try:
        for k in ks:
            workdirs[k].mkdir()
            fixtures[k] = be.Fixture(n // k, workdirs[k])
            servers.append(start_server(workdirs[k]))
        f1 = fixtures[1]
        print(
            f"fixture: N = {n:,} events ({f1.payload_bytes / n:.0f} B/event); per engine "
            + ", ".join(f"K={k}: {n // k:,}" for k in ks)
            + "; one server process per K",
            flush=True,
        )
        pairs = [(c, m) for c in clients for m in modes]
        width = max(map(len, clients))
        for r, order in enumerate(be.orders(pairs, rounds), 1):
            for client, mode in order:
                k = client_k(client)
                res = sample(workdirs, client, mode, n, baseline=baseline)
                errors = verify(fixtures[k], k, mode, res)
                res.update(
                    client=client, mode=mode, round=r, errors=errors,
                    checked=sum(len(e.pop("samples")) for e in res["engines"].values()),
                )
                res["engines"] = len(res["engines"])
                report["samples"].append(res)
                print(
                    f"round {r} {client:{width}s} {mode:9s} {be.fmt_rate(res['rate']):>9s} "
                    f"events/s ({res['seconds']:.2f} s, cpu {res['cpu']:.2f} s = "
                    f"{be.fmt_rate(res['cpu_rate'])} events/cpu-s, server cpu "
                    f"{res['server_cpu']:.2f} s, rss {res['rss0_kib'] / 1024:.1f}→peak "
                    f"{res['maxrss_kib'] / 1024:.1f} MiB, gc "
                    + "/".join(map(str, res["gc_collections"]))
                    + (f", {res['notices']['HostGap']} HostGap" if "HostGap" in res["notices"]
                       else "")
                    + ") "
                    + ("ok" if not errors else "FAILED: " + "; ".join(errors[:5])),
                    flush=True,
                )
        if args.profile_dir:
            args.profile_dir.mkdir(parents=True, exist_ok=True)
            for client in ("single", f"fleet{max(sizes)}"):
                for mode in modes:
                    out = args.profile_dir / f"{client}-{mode}.prof"
                    res = sample(workdirs, client, mode, n, profile=str(out))
                    print(f"profile: {out} ({be.fmt_rate(res['rate'])} events/s under cProfile)")
    finally:
        for server in servers:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(root, ignore_errors=True)
    report["uptime_end"] = uptime()
    print_report(report, clients)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))
        print(f"\nraw results: {args.json}")


def print_report(report: dict[str, Any], clients: list[str]) -> None:
    samples = report["samples"]
    n = report["n"]
    print(f"\nN = {n:,} events in total per sample, {report['rounds']} rounds; "
          f"{report['machine']}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()
                                    if k in ("python", "aiohttp", "msgspec")))
    print(f"uptime: start {report['uptime_start']}\n        end   {report['uptime_end']}")
    if report.get("baseline"):
        b = report["baseline"]
        print(f"baseline: {b['name']} = {b['sha'][:12]}: {b['subject']}; "
              f"current: {b['current']}")

    def rows(client: str, mode: str) -> list[dict[str, Any]]:
        return [s for s in samples if s["client"] == client and s["mode"] == mode]

    def med(client: str, mode: str, key: str) -> float:
        vals = [s[key] for s in rows(client, mode)]
        return statistics.median(vals) if vals else float("nan")

    def paired(client: str, ref: str, mode: str, key: str) -> float:
        by_round = {s["round"]: s[key] for s in rows(ref, mode)}
        ratios = [
            s[key] / by_round[s["round"]] for s in rows(client, mode) if s["round"] in by_round
        ]
        return statistics.median(ratios) if ratios else float("nan")

    def single_of(client: str) -> str:
        rev = client.partition("@")[2]
        return f"single@{rev}" if rev else "single"

    def gaps(s: dict[str, Any]) -> int:
        return int(s["notices"].get("HostGap", 0))

    for mode in report["modes"]:
        print(f"\n{mode} chunking (medians; x single: ratio of medians, paired in brackets)")
        print(
            "| stream | engines × events | events/s | × single | events per client CPU-s "
            "| × single | client CPU s | server CPU s | GC runs gen0/1/2 | RSS before | peak RSS "
            "| HostGap (samples) | verified |"
        )
        print(
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
            "| --- |"
        )
        for client in clients:
            if not rows(client, mode):
                continue
            k = client_k(client)
            ref = single_of(client)
            errs = sorted({e for s in rows(client, mode) for e in s["errors"]})
            gap_total = sum(gaps(s) for s in rows(client, mode))
            gap_samples = sum(1 for s in rows(client, mode) if gaps(s))
            print(
                f"| {client} | {k} × {n // k:,} | {be.fmt_rate(med(client, mode, 'rate'))} | "
                f"{med(client, mode, 'rate') / med(ref, mode, 'rate'):.2f} "
                f"({paired(client, ref, mode, 'rate'):.2f}) | "
                f"{be.fmt_rate(med(client, mode, 'cpu_rate'))} | "
                f"{med(client, mode, 'cpu_rate') / med(ref, mode, 'cpu_rate'):.2f} "
                f"({paired(client, ref, mode, 'cpu_rate'):.2f}) | "
                f"{med(client, mode, 'cpu'):.2f} | {med(client, mode, 'server_cpu'):.2f} | "
                + "/".join(
                    f"{statistics.median(s['gc_collections'][g] for s in rows(client, mode)):g}"
                    for g in range(3)
                )
                + f" | {med(client, mode, 'rss0_kib') / 1024:.1f} MiB | "
                f"{med(client, mode, 'maxrss_kib') / 1024:.1f} MiB | "
                f"{gap_total} ({gap_samples}/{len(rows(client, mode))}) | "
                f"{'yes' if not errs else '; '.join(errs[:3])} |"
            )
        for client in clients:
            func, _, rev = client.partition("@")
            k = client_k(client)
            one = "fleet1" + (f"@{rev}" if rev else "")
            if func == "single" or k == 1 or not rows(one, mode):
                continue
            print(
                f"memory, {client} vs {one}: peak RSS "
                f"{(med(client, mode, 'maxrss_kib') - med(one, mode, 'maxrss_kib')) / (k - 1):+.0f}"
                f" KiB per added engine; RSS before the streams "
                f"{(med(client, mode, 'rss0_kib') - med(one, mode, 'rss0_kib')) / (k - 1):+.0f}"
                " KiB per added engine"
            )
        for client in clients:
            if client.partition("@")[0] == "single":
                continue
            ref = single_of(client)
            ratio = med(client, mode, "rate") / med(ref, mode, "rate")
            cpu_ratio = med(client, mode, "cpu_rate") / med(ref, mode, "cpu_rate")
            print(
                f"target ≥ 0.8× {ref}, {mode}, {client}: events/s {ratio:.2f}× "
                f"(paired {paired(client, ref, mode, 'rate'):.2f}×), per client CPU-s "
                f"{cpu_ratio:.2f}× (paired {paired(client, ref, mode, 'cpu_rate'):.2f}×) → "
                f"{'MET' if min(ratio, cpu_ratio) >= 0.8 else 'NOT MET'}"
            )
    if report.get("baseline"):
        short = report["baseline"]["short"]
        print(f"\ncurrent vs baseline (@{short}): events/s ratio > 1 = current faster; CPU "
              "ratio < 1 = current cheaper")
        print("| stream | chunking | events/s current / baseline (paired) "
              "| client CPU current / baseline (paired) | rounds current faster |")
        print("| --- | --- | ---: | ---: | ---: |")
        for client in clients:
            if "@" in client:
                continue
            base = f"{client}@{short}"
            for mode in report["modes"]:
                if not rows(base, mode):
                    continue
                cur_r = {s["round"]: s["rate"] for s in rows(client, mode)}
                faster = sum(
                    1 for s in rows(base, mode)
                    if s["round"] in cur_r and cur_r[s["round"]] > s["rate"]
                )
                print(
                    f"| {client} | {mode} | "
                    f"{med(client, mode, 'rate') / med(base, mode, 'rate'):.2f} "
                    f"({paired(client, base, mode, 'rate'):.2f}) | "
                    f"{med(client, mode, 'cpu') / med(base, mode, 'cpu'):.2f} "
                    f"({paired(client, base, mode, 'cpu'):.2f}) | "
                    f"{faster}/{len(rows(base, mode))} |"
                )


def print_pooled(reports: list[dict[str, Any]], paths: list[Path]) -> None:
    """The per-round ratios of several runs, pooled: each fleet sample against the single
    stream's sample of its own round and run."""
    print(f"pooled: {len(reports)} runs ({', '.join(map(str, paths))})")
    for report in reports:
        print(f"- N = {report['n']:,}, {report['rounds']} rounds; start {report['uptime_start']}")
    modes = list(dict.fromkeys(m for r in reports for m in r["modes"]))
    clients = list(dict.fromkeys(
        s["client"] for r in reports for s in r["samples"] if s["client"] != "single"
    ))
    print("\n| chunking | stream | rounds | paired events/s × single: median | quartiles "
          "| rounds below 0.8× | paired per client CPU-s: median | HostGap (samples) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for mode in modes:
        for client in clients:
            rates: list[float] = []
            cpus: list[float] = []
            gap_total = gap_samples = 0
            for report in reports:
                single = {s["round"]: s for s in report["samples"]
                          if s["client"] == "single" and s["mode"] == mode}
                for s in report["samples"]:
                    if s["client"] != client or s["mode"] != mode or s["round"] not in single:
                        continue
                    ref = single[s["round"]]
                    rates.append(s["rate"] / ref["rate"])
                    cpus.append(s["cpu_rate"] / ref["cpu_rate"])
                    gaps = int(s["notices"].get("HostGap", 0))
                    gap_total += gaps
                    gap_samples += bool(gaps)
            if len(rates) < 2:
                continue
            q1, _, q3 = statistics.quantiles(rates, n=4)
            print(
                f"| {mode} | {client} | {len(rates)} | {statistics.median(rates):.2f}× | "
                f"{q1:.2f}–{q3:.2f} | {sum(r < 0.8 for r in rates)} | "
                f"{statistics.median(cpus):.2f}× | {gap_total} ({gap_samples}/{len(rates)}) |"
            )


if __name__ == "__main__":
    main()
