"""The engine matrix: which area of the library passes on which engine, produced by the run.

Every test that runs once per engine (it takes the ``engine`` or ``swarm`` fixture) is recorded
with its area (its module, by :data:`AREAS`), its engine label and its outcome. At the end of
the session the table area by engine is written to ``build/engine-matrix.md`` (or the path in
``AIODOCKERSOCK_ENGINE_MATRIX``) and printed in the terminal summary; ``python3
scripts/engine_matrix.py --update`` copies it into README.md.

A cell reads:

- ``pass (N)``: the N tests ran and passed;
- ``not supported``: every test that ran there is marked ``not_supported_on(<engine>)`` and
  passed, i.e. it checked that the library raises ``NotSupported`` naming the engine;
- ``pass (N), not supported (M)``: both kinds;
- ``failed (F of N)``: F of the N tests failed (errors in setup or teardown count);
- ``skipped (N)``: they were all skipped;
- ``—``: none ran (the engine was not in the run, or the area has no test for it).

When the run is one lane of several (``scripts/test_lanes.py``),
``AIODOCKERSOCK_ENGINE_MATRIX_PART`` names a JSON file for its results instead; the lanes'
parts are merged into the one table (:func:`merge_parts`).

The hooks only append a tuple per test report: no measurable cost.
"""

from __future__ import annotations

import datetime
import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The engines of the table, in column order (others a run meets are added after them).
ENGINES = ("20.10", "26.1", "28.5", "podman")
#: Test module -> the area of the package it tests (tests mirror the package).
AREAS = {
    "test_attach": "attach",
    "test_buildkit": "buildkit",
    "test_configs": "configs",
    "test_containers": "containers",
    "test_events": "events",
    "test_execs": "execs",
    "test_fleet": "fleets",
    "test_hub": "event hub",
    "test_images": "images",
    "test_networks": "networks",
    "test_nodes": "nodes",
    "test_plugins": "plugins",
    "test_secrets": "secrets",
    "test_services": "services",
    "test_swarm": "swarm",
    "test_system": "system",
    "test_tasks": "tasks",
    "test_volumes": "volumes",
}
#: Areas whose tests need no engine (a fake daemon, or none): not in the table.
ENGINELESS_AREAS = frozenset({
    "test_build_context", "test_buildkit_grpc", "test_buildkit_sshforward",
    "test_buildkit_tokens", "test_watch",
})
#: Test modules that are not an area of the API (tooling, transport, docs, the suite itself).
NOT_AREAS = frozenset({
    "test_architecture", "test_auth", "test_bodies", "test_build_context_cli", "test_cli",
    "test_config", "test_contexts", "test_dashboard", "test_docs", "test_docs_blocks",
    "test_endpoints", "test_engine_matrix", "test_engines", "test_framing", "test_init",
    "test_integrations", "test_models", "test_podman", "test_pytest_plugin", "test_scale",
    "test_ssh", "test_tar", "test_tls", "test_transport", "test_upgrade",
})
BEGIN, END = "<!-- engine-matrix -->", "<!-- /engine-matrix -->"

#: (area, engine) -> nodeid -> (outcome, checks NotSupported there)
Results = dict[tuple[str, str], dict[str, tuple[str, bool]]]
_results: Results = defaultdict(dict)
_engines_seen: list[str] = []
# nodeid -> (area, engine, checks NotSupported there)
_index: dict[str, tuple[str, str, bool]] = {}


def matrix_path() -> Path:
    """Where the run writes the table."""
    return Path(os.environ.get("AIODOCKERSOCK_ENGINE_MATRIX", ROOT / "build" / "engine-matrix.md"))


def _label(item: pytest.Item) -> str | None:
    params = getattr(getattr(item, "callspec", None), "params", {})
    label = params.get("engine", params.get("swarm"))
    return label if isinstance(label, str) else None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "not_supported_on(*engines): on these engines the test checks that the "
        "library raises NotSupported (the engine lacks the feature); the engine matrix says "
        "'not supported' for it")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Note each selected engine test of an area: its area, engine, and whether it checks a
    NotSupported on that engine."""
    for item in session.items:
        module = getattr(item, "module", None)
        area = AREAS.get(module.__name__.rpartition(".")[2]) if module is not None else None
        label = _label(item)
        if area is None or label is None:
            continue
        marker = item.get_closest_marker("not_supported_on")
        _index[item.nodeid] = (area, label, marker is not None and label in marker.args)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep the worst outcome of each noted test (setup, call, teardown)."""
    noted = _index.get(report.nodeid)
    if noted is None:
        return
    area, label, flagged = noted
    if label not in _engines_seen:
        _engines_seen.append(label)
    cell = _results[(area, label)]
    outcome = cell.get(report.nodeid, ("passed", flagged))[0]
    if report.failed:
        outcome = "failed"
    elif report.skipped and outcome == "passed":
        outcome = "skipped"
    cell[report.nodeid] = (outcome, flagged)


def cell_text(tests: dict[str, tuple[str, bool]]) -> str:
    """One cell of the table (see the module doc)."""
    if not tests:
        return "—"
    outcomes = [outcome for outcome, _ in tests.values()]
    failed = outcomes.count("failed")
    ran = len(outcomes) - outcomes.count("skipped")
    if failed:
        return f"failed ({failed} of {ran})"
    if not ran:
        return f"skipped ({len(outcomes)})"
    unsupported = sum(1 for outcome, flagged in tests.values() if outcome == "passed" and flagged)
    passed = ran - unsupported
    if not passed:
        return "not supported"
    return f"pass ({passed})" + (f", not supported ({unsupported})" if unsupported else "")


def render(results: Results, engines: list[str], note: str) -> str:
    """The Markdown table, area by engine, with a line saying which run produced it."""
    columns = [*ENGINES, *(label for label in engines if label not in ENGINES)]
    names = {"podman": "Podman"}
    lines = [f"| area | {' | '.join(names.get(c, c) for c in columns)} |",
             f"|---|{'---|' * len(columns)}"]
    for area in sorted(set(AREAS.values())):
        cells = [cell_text(results.get((area, column), {})) for column in columns]
        lines.append(f"| {area} | {' | '.join(cells)} |")
    return "\n".join([*lines, "", note, ""])


def table_of(results: Results, engines: list[str]) -> str:
    """The table of a run (or of lanes merged), with the line saying when and on what."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    count = sum(len(tests) for tests in results.values())
    note = (f"Produced by the test run of {now} on {', '.join(engines)} "
            f"({count} engine tests of the areas).")
    return render(results, engines, note)


def merge_parts(parts: list[Path]) -> str | None:
    """The one table of lanes that each wrote a part (``AIODOCKERSOCK_ENGINE_MATRIX_PART``);
    ``None`` if none did (no engine test of an area ran)."""
    results: Results = defaultdict(dict)
    engines: list[str] = []
    for part in parts:
        if not part.exists():
            continue
        data = json.loads(part.read_text())
        engines += [label for label in data["engines"] if label not in engines]
        for area, label, nodeid, outcome, flagged in data["tests"]:
            results[(area, label)][nodeid] = (outcome, flagged)
    if not results:
        return None
    order = [label for label in ENGINES if label in engines]
    return table_of(results, order + [label for label in engines if label not in order])


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int
) -> None:
    """Write the table and print it, when engine tests of an area ran (not when the run was
    interrupted: its table would say less than the last whole one)."""
    if not _results or exitstatus == pytest.ExitCode.INTERRUPTED:
        return
    part = os.environ.get("AIODOCKERSOCK_ENGINE_MATRIX_PART")
    if part:  # one lane of several: the lanes' driver merges the parts and prints the table
        tests = [[area, label, nodeid, outcome, flagged]
                 for (area, label), cell in _results.items()
                 for nodeid, (outcome, flagged) in cell.items()]
        Path(part).parent.mkdir(parents=True, exist_ok=True)
        Path(part).write_text(json.dumps({"engines": _engines_seen, "tests": tests}))
        return
    table = table_of(_results, _engines_seen)
    path = matrix_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(table)
    terminalreporter.write_sep("=", f"engine matrix (written to {path})")
    terminalreporter.write(table)
