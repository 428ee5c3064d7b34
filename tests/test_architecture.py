"""The import rules of docs/architecture.md, enforced on the package's source (AST, no import).

The layer table is read from docs/architecture.md itself, so the document and the code cannot
drift apart: a new module must be placed in the table before this test passes.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "aiodockersock"
DOC = ROOT / "docs" / "architecture.md"

#: Calls that open a connection; only the connection factory may make them.
CONNECTING = {"open_connection", "open_unix_connection", "create_connection",
              "create_unix_connection"}


@dataclass(frozen=True)
class Layer:
    rank: int
    name: str
    patterns: tuple[str, ...]


def read_layers(text: str) -> list[Layer]:
    """The rows of the table headed ``| rank | layer | modules |``."""
    layers = []
    in_table = False
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[:3] == ["rank", "layer", "modules"]:
            in_table = True
            continue
        if not in_table:
            continue
        if not line.startswith("|"):
            break
        if set(cells[0]) <= {"-", " ", ":"}:
            continue
        layers.append(Layer(int(cells[0]), cells[1], tuple(re.findall(r"`([^`]+)`", cells[2]))))
    return layers


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def short(module: str) -> str:
    """``aiodockersock.cli.app`` → ``cli.app``; the package itself → ``__init__``."""
    return module.partition(".")[2] or "__init__"


@dataclass(frozen=True)
class Import:
    module: str  # absolute, e.g. aiodockersock._transport or aiohttp.web
    line: int


def imports_of(path: Path, module: str) -> list[Import]:
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append(Import(target, node.lineno))
            for alias in node.names:  # from . import x, where x is a module
                sub = f"{target}.{alias.name}"
                if (ROOT / sub.replace(".", "/")).with_suffix(".py").exists() or (
                    ROOT / sub.replace(".", "/") / "__init__.py"
                ).exists():
                    found.append(Import(sub, node.lineno))
    return found


def connecting_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in CONNECTING
        # asking the factory itself (``self._connector.create_connection``) is the rule kept
        and "connector" not in ast.unparse(node.value).lower()
    ]


LAYERS = read_layers(DOC.read_text())
MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> Layer | None:
    name = short(module)
    for layer in LAYERS:
        if any(fnmatch(name, pattern) for pattern in layer.patterns):
            return layer
    return None


def test_the_document_has_a_layer_table() -> None:
    assert [layer.name for layer in LAYERS][:3] == ["foundation", "models", "helpers"]
    assert len(LAYERS) >= 7


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_has_a_layer(module: str) -> None:
    assert layer_of(module) is not None, (
        f"{module} is in no layer of docs/architecture.md: add it to the table (and say what it "
        "owns)"
    )


def _package_imports() -> list[tuple[str, Import]]:
    return [(module, imp) for module, path in MODULES.items() for imp in imports_of(path, module)]


def test_arrows_only_point_down() -> None:
    """A module imports modules of lower layers only; within a layer only where the document
    allows it (never between API areas)."""
    broken = []
    for module, imp in _package_imports():
        if not imp.module.startswith("aiodockersock.") and imp.module != "aiodockersock":
            continue
        mine, theirs = layer_of(module), layer_of(imp.module)
        assert mine is not None and theirs is not None, (module, imp.module)
        if theirs.rank < mine.rank:
            continue
        same_ok = mine.name not in ("areas", "client", "facade")
        if theirs.rank == mine.rank and same_ok:
            continue
        broken.append(
            f"{short(module)}:{imp.line} ({mine.name}) imports {short(imp.module)} "
            f"({theirs.name})"
        )
    assert broken == [], "imports against docs/architecture.md:\n" + "\n".join(broken)


def test_areas_never_import_areas() -> None:
    areas = [m for m in MODULES if (layer := layer_of(m)) and layer.name == "areas"]
    assert {short(m) for m in areas} >= {"containers", "images", "networks", "volumes", "execs"}
    broken = [
        f"{short(module)}:{imp.line} imports {short(imp.module)}"
        for module, imp in _package_imports()
        if module in areas and imp.module in areas and imp.module != module
    ]
    assert broken == []


def test_only_the_transport_imports_aiohttp_client() -> None:
    """aiohttp is the transport's; an integration may use aiohttp's server side only."""
    broken = []
    for module, imp in _package_imports():
        if imp.module != "aiohttp" and not imp.module.startswith("aiohttp."):
            continue
        if short(module) == "_transport":
            continue
        if short(module) == "integrations.aiohttp" and imp.module in ("aiohttp", "aiohttp.web"):
            source = MODULES[module].read_text().splitlines()[imp.line - 1]
            if re.search(r"from aiohttp import web\b", source):
                continue
        broken.append(f"{short(module)}:{imp.line} imports {imp.module}")
    assert broken == []


def test_only_the_connection_factory_opens_connections() -> None:
    broken = [
        f"{short(module)}:{line}"
        for module, path in MODULES.items()
        if short(module) != "_connect"
        for line in connecting_calls(path)
    ]
    assert broken == []
    assert not any(
        imp.module == "socket" for module, imp in _package_imports() if short(module) != "_connect"
    )


def test_models_import_only_models() -> None:
    broken = [
        f"{short(module)}:{imp.line} imports {imp.module}"
        for module, imp in _package_imports()
        if short(module).startswith("models")
        and imp.module.startswith("aiodockersock")
        and not imp.module.startswith("aiodockersock.models")
    ]
    assert broken == []


def test_the_exceptions_import_nothing_of_ours() -> None:
    imports = imports_of(MODULES["aiodockersock._exceptions"], "aiodockersock._exceptions")
    assert [i.module for i in imports if i.module.startswith("aiodockersock")] == []


def test_the_rules_catch_a_broken_import(tmp_path: Path) -> None:
    """The checks above are not vacuous: an area importing an area is seen."""
    fake = tmp_path / "aiodockersock" / "volumes.py"
    fake.parent.mkdir()
    fake.write_text("from .containers import Filters\nfrom ._transport import Transport\n")
    found = imports_of(fake, "aiodockersock.volumes")
    assert [i.module for i in found] == ["aiodockersock.containers", "aiodockersock._transport"]
    assert layer_of("aiodockersock.containers") == layer_of("aiodockersock.volumes")
