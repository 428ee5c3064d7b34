"""The documentation builds (``python scripts/docs.py``), its API reference covers the public
API, its guides link only to what exists, and the migration table names real calls — ours on a
``Docker`` client, aiodocker's and docker-py's on theirs, with arguments their signatures take."""

from __future__ import annotations

import ast
import asyncio
import html
import importlib.util
import inspect
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import aiodockersock
import aiodockersock.models

from .conftest import IN_CI, ROOT, TEST_IMAGE, EngineHandle

DOCS = ROOT / "docs"


def _need(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        if IN_CI:
            pytest.fail(f"CI=true and {module} is missing (pip install -e '.[test]')",
                        pytrace=False)
        pytest.skip(f"{module} is not installed (pip install -e '.[docs]')")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("aiodockersock_docs", ROOT / "scripts/docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built with the documented command."""
    _need("pdoc")
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/docs.py"), "-o", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"built {out / 'index.html'}" in done.stdout
    return out


def ids(page: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', page.read_text()))


def test_every_public_name_is_in_the_reference(site: Path) -> None:
    documented = ids(site / "reference/aiodockersock.html")
    assert [name for name in aiodockersock.__all__ if name not in documented] == []
    models = ids(site / "reference/aiodockersock/models.html")
    assert [name for name in aiodockersock.models.__all__ if name not in models] == []


def test_the_integrations_are_in_the_reference(site: Path) -> None:
    for name in ("fastapi", "aiohttp"):
        module = importlib.import_module(f"aiodockersock.integrations.{name}")
        documented = ids(site / f"reference/aiodockersock/integrations/{name}.html")
        assert [n for n in module.__all__ if n not in documented] == [], name


def test_every_area_method_is_in_the_reference(site: Path) -> None:
    script = _script()
    for module, cls in script.AREAS.values():
        documented = ids(site / script.page_of(module))
        area = getattr(importlib.import_module(module), cls)
        public = [n for n, _ in inspect.getmembers(area) if not n.startswith("_")]
        assert public and [n for n in public if f"{cls}.{n}" not in documented] == [], cls
    assert "Events.__call__" in ids(site / "reference/aiodockersock/events.html")
    plugin = ids(site / "reference/aiodockersock/pytest_plugin.html")
    assert {"prune", "ContainerFactory", "NetworkFactory", "VolumeFactory"} <= plugin


def field_docstrings() -> dict[str, str]:
    """``Class.field`` → the docstring written under the field, for the exported models."""
    found = {}
    for path in Path(aiodockersock.models.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ClassDef) and node.name in aiodockersock.models.__all__):
                continue
            for field, after in zip(node.body, node.body[1:], strict=False):
                if (
                    isinstance(field, ast.AnnAssign)
                    and isinstance(field.target, ast.Name)
                    and not field.target.id.startswith("_")
                    and isinstance(after, ast.Expr)
                    and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)
                ):
                    found[f"{node.name}.{field.target.id}"] = after.value.value
    return found


def entry_text(page: str, anchor: str) -> str:
    """The text of one entry of a reference page (up to the next entry), tags removed."""
    start = page.index(f'id="{anchor}"')
    end = page.find(' id="', start + 1)
    text = re.sub(r"<[^>]+>", "", page[start : end if end > 0 else len(page)])
    return " ".join(html.unescape(text).split())


def test_field_docstrings_reach_the_reference(site: Path) -> None:
    page = (site / "reference/aiodockersock/models.html").read_text()
    docs = field_docstrings()
    assert docs["Volume.created_at"] == "RFC 3339 string."
    assert re.search(
        r'id="Volume\.created_at".*?<div class="docstring"><p>RFC 3339 string\.</p>', page,
        re.DOTALL,
    )
    assert len(docs) > 90
    missing = [
        anchor
        for anchor, doc in docs.items()
        if " ".join(doc.replace("``", "").split()) not in entry_text(page, anchor)
    ]
    assert missing == []


def test_every_guide_is_built_and_links_to_the_reference(site: Path) -> None:
    for md in DOCS.glob("*.md"):
        page = site / (md.stem + ".html")
        assert page.exists(), md.name
        assert "reference/aiodockersock.html" in page.read_text()
    events = (site / "events.html").read_text()
    assert 'href="reference/aiodockersock/events.html#Events.hub"' in events
    assert 'href="reference/aiodockersock.html#EventsLost"' in events


def test_broken_links_and_unknown_api_fail_the_build(tmp_path: Path) -> None:
    _need("pdoc")
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    with (docs / "events.md").open("a") as f:
        f.write("\nSee [nowhere](nowhere.md), [a bad anchor](errors.md#no-such-heading), "
                "`docker.containers.frobnicate(id)` and `docker.widgets.list()`.\n")
    with pytest.raises(Exception, match="do not build cleanly") as raised:
        _script().build(tmp_path / "site", docs)
    message = str(raised.value)
    for expected in ("missing page: nowhere.html", "missing anchor: errors.html#no-such-heading",
                     "docker.containers.frobnicate(id)", "docker.widgets is not an area"):
        assert expected in message


# ---------------------------------------------------------------------------------------------
# The migration table
# ---------------------------------------------------------------------------------------------


def migration_rows() -> Iterator[tuple[str, list[str], list[str], list[str]]]:
    """(task, aiodocker's code spans, docker-py's, ours) for every row of every table."""
    for line in (DOCS / "migration.md").read_text().splitlines():
        if not line.startswith("|") or line.startswith("| task") or line.startswith("| ---"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == 4, line
        task, *columns = cells
        theirs_a, theirs_d, ours = (re.findall(r"`([^`]+)`", cell) for cell in columns)
        yield task, theirs_a, theirs_d, ours


class Unbound:
    """A class stands for its instances: methods are looked up on it and bound to this."""


def resolve(code: str, roots: dict[str, Any]) -> list[str]:
    """Check every attribute chain and call in ``code``: each chain starts at a known root and
    names an attribute that exists; each call's arguments bind to the callee's signature.
    Returns the problems."""
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError:
        return []  # prose in backticks (`async for`)
    problems = []

    def lookup(node: ast.expr) -> tuple[Any, bool] | None:
        """The object an attribute chain names, and whether it is a method on a class."""
        if isinstance(node, ast.Name):
            if node.id not in roots:
                problems.append(f"{code!r}: unknown root {node.id!r}")
                return None
            return roots[node.id], False
        if isinstance(node, ast.Attribute):
            found = lookup(node.value)
            if found is None:
                return None
            obj, _ = found
            if not hasattr(obj, node.attr):
                problems.append(f"{code!r}: {ast.unparse(node.value)} has no {node.attr!r}")
                return None
            return getattr(obj, node.attr), isinstance(obj, type)
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            found = lookup(node.func)
            if found is None:
                continue
            func, on_class = found
            try:
                signature = inspect.signature(func)
            except (TypeError, ValueError):
                continue
            args = [Unbound()] * (len(node.args) + on_class)
            kwargs = {k.arg: None for k in node.keywords if k.arg is not None}
            try:
                signature.bind(*args, **kwargs)
            except TypeError as exc:
                problems.append(f"{code!r}: {exc}")
        elif isinstance(node, ast.Attribute) and not any(
            isinstance(parent, ast.Call) and parent.func is node for parent in ast.walk(tree)
        ):
            lookup(node)
    return sorted(set(problems))


@pytest.fixture
async def clients() -> AsyncIterator[dict[str, dict[str, Any]]]:
    """The objects the migration table's names stand for (see its introduction); nothing
    connects."""
    url = "unix:///nonexistent/docker.sock"
    ours = aiodockersock.Docker(url)
    roots: dict[str, dict[str, Any]] = {"ours": {"docker": ours, "aiodockersock": aiodockersock}}
    if importlib.util.find_spec("aiodocker") is not None:
        import aiodocker
        import aiodocker.channel
        import aiodocker.containers
        import aiodocker.execs
        import aiodocker.networks
        import aiodocker.volumes

        theirs = aiodocker.Docker(url=url)
        roots["aiodocker"] = {
            "aiodocker": aiodocker,
            "docker": theirs,
            "container": aiodocker.containers.DockerContainer,
            "network": aiodocker.networks.DockerNetwork,
            "volume": aiodocker.volumes.DockerVolume,
            "exec": aiodocker.execs.Exec,
            "subscriber": aiodocker.channel.ChannelSubscriber,
        }
    if importlib.util.find_spec("docker") is not None:
        import docker as docker_py
        from docker.models.containers import Container
        from docker.models.images import Image
        from docker.models.networks import Network
        from docker.models.plugins import Plugin
        from docker.models.volumes import Volume

        client = docker_py.DockerClient(base_url=url, version="1.41")  # no version probe
        roots["docker-py"] = {
            "docker": docker_py,
            "client": client,
            "container": Container(attrs={}, client=client),
            "image": Image(attrs={}, client=client),
            "network": Network(attrs={}, client=client),
            "plugin": Plugin(attrs={}, client=client),
            "volume": Volume(attrs={}, client=client),
        }
    yield roots
    await ours.aclose()
    if "aiodocker" in roots:
        await roots["aiodocker"]["docker"].close()
    if "docker-py" in roots:
        roots["docker-py"]["client"].close()


async def test_migration_table_names_our_real_calls(clients: dict[str, dict[str, Any]]) -> None:
    rows = list(migration_rows())
    assert len(rows) > 50
    problems = []
    for task, _, _, ours in rows:
        assert ours, f"no aiodockersock call for {task!r}"
        chains = [code for code in ours if re.match(r"(docker|aiodockersock)\.", code)]
        assert chains, f"{task!r}: {ours}"
        for code in ours:
            problems += resolve(code, clients["ours"])
    assert problems == []


@pytest.mark.parametrize("library", ["aiodocker", "docker-py"])
async def test_migration_table_names_their_real_calls(
    library: str, clients: dict[str, dict[str, Any]]
) -> None:
    if library not in clients:
        if IN_CI:
            pytest.fail(f"CI=true and {library} is missing (pip install -e '.[test]')",
                        pytrace=False)
        pytest.skip(f"{library} is not installed (pip install -e '.[test]')")
    column = 1 if library == "aiodocker" else 2
    problems = []
    for row in migration_rows():
        for code in row[column]:
            problems += resolve(code, clients[library])
    assert problems == []


def test_resolve_finds_mistakes() -> None:
    # a client that is never used opens nothing, so it needs no closing
    roots = {"docker": aiodockersock.Docker("unix:///nonexistent/docker.sock"),
             "aiodockersock": aiodockersock}
    assert resolve("docker.containers.stop(id, timeout=10)", roots) == []
    assert resolve("aiodockersock.NotFound", roots) == []
    assert resolve("docker.containers.halt(id)", roots) == [
        "'docker.containers.halt(id)': docker.containers has no 'halt'"
    ]
    assert resolve("docker.containers.stop(id, t=10)", roots) == [
        "'docker.containers.stop(id, t=10)': got an unexpected keyword argument 't'"
    ]
    assert resolve("docker.containers.stop(id, 10)", roots) == [
        "'docker.containers.stop(id, 10)': too many positional arguments"
    ]
    assert resolve("client.ping()", roots) == ["'client.ping()': unknown root 'client'"]
    assert resolve("aiodockersock.Nope", roots) == [
        "'aiodockersock.Nope': aiodockersock has no 'Nope'"
    ]


def readme_example() -> str:
    """The Python block of the README's "Use it" section."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Use it"):]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


async def test_the_readme_example_runs_as_written(engine: EngineHandle) -> None:
    """The landing page's example, unchanged, against a real engine (with the test image
    tagged busybox, as nothing can be pulled here): the live events and the output print."""
    async with aiodockersock.Docker(engine.host) as docker:
        await docker.images.tag(TEST_IMAGE, "busybox", "latest")
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", readme_example()],
        env={"PATH": "/usr/bin:/bin", "DOCKER_HOST": engine.host},
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    actions = [line.split()[0] for line in lines[:-1]]
    assert actions[:2] == ["create", "start"] and actions[-1] == "die", lines
    name = lines[0].split()[1]
    assert all(line.split()[1] == name for line in lines[:-1])  # the same container throughout
    assert lines[-1] == "hello"
    async with aiodockersock.Docker(engine.host) as docker:  # and it cleaned up after itself
        assert not [c for c in await docker.containers.list(all=True) if c.names == [f"/{name}"]]
