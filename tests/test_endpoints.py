"""Which endpoints of the newest Engine API spec the library covers, made visible (issue 13).

Every coroutine names the endpoint it calls in its docstring (``GET /containers/{id}/json``);
these tests read those lines and the spec in ``shared/engine-api`` and compare. An endpoint with
no coroutine must be listed in ``NOT_YET`` (work to do, the list only shrinks) or ``EXCEPTIONS``
(not a coroutine of this library, with the reason).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import re

import pytest

import aiodockersock

from .test_models import SPEC_DIR

NEWEST = "1.56"

#: Endpoints of the newest spec without a coroutine yet. Empty since issue 13 ("Swarm, and every
#: endpoint") closed the table; an endpoint a newer spec adds is listed here until it is covered.
NOT_YET: frozenset[tuple[str, str]] = frozenset()

#: Endpoints that are not a coroutine of their own, and why.
EXCEPTIONS: dict[tuple[str, str], str] = {}

# ``GET /path``, closed by the backticks (a path wrapped across lines in prose does not count)
_ENDPOINT = re.compile(r"``(GET|HEAD|POST|PUT|DELETE) (/[^`?\s]*)(?:\?[^`\s]*)?``")
_OPTIONAL = ("aiodockersock.integrations", "aiodockersock.cli", "aiodockersock.__main__")


def _shape(path: str) -> str:
    """A path with its parameters unnamed: ``/containers/{id}/json`` → ``/containers/{}/json``."""
    return re.sub(r"\{[^}]*\}", "{}", path)


@functools.cache
def documented() -> dict[tuple[str, str], tuple[str, ...]]:
    """Endpoint → the functions whose docstrings name it (the library's own modules)."""
    found: dict[tuple[str, str], list[str]] = {}
    for info in pkgutil.walk_packages(aiodockersock.__path__, "aiodockersock."):
        if info.name.startswith(_OPTIONAL):  # edges with optional dependencies; they call areas
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            members = list(vars(obj).values()) if inspect.isclass(obj) else [obj]
            for member in members:
                func = getattr(member, "__func__", member)  # class and static methods
                if not inspect.isfunction(func):
                    continue
                for method, path in _ENDPOINT.findall(func.__doc__ or ""):
                    found.setdefault((method, _shape(path)), []).append(
                        f"{module.__name__}.{func.__qualname__}"
                    )
    return {endpoint: tuple(names) for endpoint, names in found.items()}


@functools.cache
def spec_endpoints(version: str = NEWEST) -> frozenset[tuple[str, str]]:
    if not SPEC_DIR.is_dir():
        pytest.skip("the Engine API specs (shared/engine-api beside the checkout) are absent; "
                    "set AIODOCKERSOCK_SPEC_DIR to compare against them")
    import yaml  # the test extra installs PyYAML

    spec = yaml.safe_load((SPEC_DIR / f"v{version}.yaml").read_text())
    methods = {"get", "head", "post", "put", "delete"}
    return frozenset(
        (method.upper(), _shape(path))
        for path, operations in spec["paths"].items()
        for method in operations
        if method in methods
    )


def test_every_endpoint_of_the_newest_spec_has_a_coroutine_or_is_listed() -> None:
    missing = spec_endpoints() - set(documented()) - NOT_YET - set(EXCEPTIONS)
    assert not missing, (
        f"endpoints of v{NEWEST} with no coroutine naming them in its docstring: "
        f"{sorted(missing)}"
    )


def test_the_not_yet_list_only_shrinks() -> None:
    # an endpoint that got its coroutine leaves NOT_YET; a listed one must exist in the spec
    done = sorted(NOT_YET & set(documented()))
    assert not done, f"covered now, remove from NOT_YET: {done}"
    unknown = sorted((NOT_YET | set(EXCEPTIONS)) - spec_endpoints())
    assert not unknown, f"not endpoints of v{NEWEST}: {unknown}"


def test_every_documented_endpoint_is_in_a_spec() -> None:
    # a typo in a docstring would otherwise count as coverage of nothing
    known = spec_endpoints(NEWEST) | spec_endpoints("1.41")
    stray = {
        endpoint: names for endpoint, names in documented().items()
        if endpoint not in known and not endpoint[1].startswith("/libpod/")  # Podman's own
    }
    assert not stray, f"docstrings name endpoints no spec has: {stray}"


def test_the_coverage_is_what_the_library_offers() -> None:
    # the count a user would read in the README: covered, of all endpoints of the newest spec
    covered = spec_endpoints() & set(documented())
    assert len(covered) + len(NOT_YET) + len(EXCEPTIONS) == len(spec_endpoints())
    assert ("GET", "/containers/{}/json") in covered
    assert ("HEAD", "/_ping") in covered and ("GET", "/_ping") in covered
