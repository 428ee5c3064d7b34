"""The engine matrix (tests/engine_matrix.py): every test module is an area or listed as not one,
the cells say what the run found, and README.md's table has every area and every engine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from .engine_matrix import (
    AREAS,
    BEGIN,
    END,
    ENGINELESS_AREAS,
    ENGINES,
    NOT_AREAS,
    cell_text,
    merge_parts,
    render,
)

ROOT = Path(__file__).resolve().parent.parent


def test_every_test_module_is_an_area_or_listed_as_not_one() -> None:
    modules = {path.stem for path in (ROOT / "tests").glob("test_*.py")}
    listed = [set(AREAS), ENGINELESS_AREAS, NOT_AREAS]
    assert sum(map(len, listed)) == len(set().union(*listed)), "a module is listed twice"
    assert modules - set().union(*listed) == set(), (
        "add new test modules to AREAS, ENGINELESS_AREAS or NOT_AREAS (tests/engine_matrix.py)")
    assert set().union(*listed) <= modules, "a listed test module no longer exists"


def test_a_cell_says_pass_not_supported_failed_or_not_run() -> None:
    assert cell_text({}) == "—"
    assert cell_text({"a": ("passed", False), "b": ("passed", False)}) == "pass (2)"
    assert cell_text({"a": ("passed", True)}) == "not supported"
    assert cell_text({"a": ("passed", False), "b": ("passed", True)}) == (
        "pass (1), not supported (1)")
    assert cell_text({"a": ("failed", False), "b": ("passed", False)}) == "failed (1 of 2)"
    assert cell_text({"a": ("failed", True)}) == "failed (1 of 1)"  # never "not supported"
    assert cell_text({"a": ("skipped", False)}) == "skipped (1)"


def _readme_table() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text()
    assert BEGIN in readme and END in readme, "README.md lost its engine-matrix markers"
    section = readme[readme.index(BEGIN) + len(BEGIN):readme.index(END)]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in section.splitlines() if line.startswith("|")]


def test_the_readme_table_has_every_area_and_every_engine() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index(BEGIN):readme.index(END)]
    assert re.search(r"Produced by the test run of .+ on .+ \(\d+ engine tests", section), (
        "the table must say which run produced it: regenerate it with "
        "`python3 scripts/engine_matrix.py --update` after a test run")
    header, rule, *rows = _readme_table()
    assert header[0] == "area" and set(rule) == {"---"}
    assert [column.lower() for column in header[1:len(ENGINES) + 1]] == list(ENGINES)
    assert sorted(row[0] for row in rows) == sorted(set(AREAS.values()))
    for row in rows:
        assert len(row) == len(header), row
        for cell in row[1:]:
            assert re.fullmatch(r"pass \(\d+\)(, not supported \(\d+\))?|not supported|"
                                r"failed \(\d+ of \d+\)|skipped \(\d+\)|—", cell), cell


def test_update_rewrites_only_the_table(tmp_path: Path) -> None:
    results = {("containers", "28.5"): {"t": ("passed", False)},
               ("swarm", "podman"): {"u": ("passed", True)}}
    table = render(results, ["28.5", "podman"], "Produced by a test.")
    source = tmp_path / "matrix.md"
    source.write_text(table)
    readme = tmp_path / "README.md"
    before = (ROOT / "README.md").read_text()
    readme.write_text(before)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "engine_matrix.py"), "--update",
                    "--from", str(source), "--readme", str(readme)],
                   check=True, capture_output=True, timeout=60)
    after = readme.read_text()
    assert "| containers | — | — | pass (1) | — |" in after
    assert "| swarm | — | — | — | not supported |" in after
    assert after[:after.index(BEGIN)] == before[:before.index(BEGIN)]
    assert after[after.index(END):] == before[before.index(END):]


def test_lanes_deal_the_engines_and_their_parts_merge_into_one_table(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from test_lanes import deal
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    # the first lane holds the first engine (the run's first Docker engine, for the tests of
    # that engine alone) and the engineless tests; every engine in exactly one lane, balanced
    everything = ["20.10", "26.1", "28.5", "podman"]
    assert deal(everything, 3) == [["20.10"], ["26.1", "podman"], ["28.5"]]
    assert deal(everything, 2) == [["20.10", "podman"], ["26.1", "28.5"]]
    assert deal(everything, 1) == [everything]
    assert deal(["20.10", "28.5"], 3) == [["20.10"], ["28.5"]]
    lane1, lane2 = tmp_path / "lane1.json", tmp_path / "lane2.json"
    lane1.write_text(json.dumps({"engines": ["20.10"], "tests": [
        ["volumes", "20.10", "t.py::a[20.10]", "passed", False],
        ["volumes", "20.10", "t.py::b[20.10]", "failed", False]]}))
    lane2.write_text(json.dumps({"engines": ["podman", "26.1"], "tests": [
        ["volumes", "podman", "t.py::a[podman]", "passed", True],
        ["volumes", "26.1", "t.py::a[26.1]", "passed", False]]}))
    table = merge_parts([lane1, lane2, tmp_path / "a lane that wrote none.json"])
    assert table is not None
    assert "| volumes | failed (1 of 2) | pass (1) | — | not supported |" in table
    assert "on 20.10, 26.1, podman (4 engine tests of the areas)." in table
    assert merge_parts([tmp_path / "none.json"]) is None


def test_an_engines_only_lane_keeps_just_the_tests_of_its_engines() -> None:
    def collected(lane: str) -> set[str]:
        env = {**os.environ, "AIODOCKERSOCK_TEST_ENGINES": "26.1",
               "AIODOCKERSOCK_TEST_PODMAN": "0", "AIODOCKERSOCK_TEST_LANE": lane}
        out = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
             "tests/test_volumes.py", "tests/test_plugins.py", "tests/test_framing.py"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120).stdout
        return {line for line in out.splitlines() if "::" in line}

    whole, engines_only = collected(""), collected("engines-only")
    assert engines_only < whole
    assert all(test.endswith("[26.1]") for test in engines_only)
    # what it leaves out is what the first lane runs: the tests without an engine, and those of
    # the run's first Docker engine alone (here 26.1 is that engine)
    first_only = "tests/test_plugins.py::test_enable_says_when_nothing_listens_on_the_socket[26.1]"
    assert first_only in whole and first_only not in engines_only
    assert engines_only == {t for t in whole if t.endswith("[26.1]")} - {first_only}
    assert "tests/test_framing.py::test_long_lines_under_the_cap_pass[1048576]" in whole
