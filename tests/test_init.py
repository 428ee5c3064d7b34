"""The public facade: what ``import aiodockersock`` promises."""

from __future__ import annotations

import inspect

import aiodockersock
import aiodockersock.models


def test_all_is_sorted_and_complete() -> None:
    names = aiodockersock.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    for name in names:
        assert hasattr(aiodockersock, name), name


def test_public_names_are_documented() -> None:
    for module in (aiodockersock, aiodockersock.models):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                assert obj.__doc__ and obj.__doc__.strip(), f"{module.__name__}.{name}"


def test_every_error_derives_from_docker_error() -> None:
    for name in aiodockersock.__all__:
        obj = getattr(aiodockersock, name)
        if inspect.isclass(obj) and issubclass(obj, Exception):
            assert issubclass(obj, aiodockersock.DockerError), name


def test_public_coroutines_name_their_endpoint() -> None:
    from aiodockersock._client import Docker
    from aiodockersock.containers import Containers
    from aiodockersock.events import Events
    from aiodockersock.execs import Execs
    from aiodockersock.images import Images
    from aiodockersock.networks import Networks
    from aiodockersock.system import System
    from aiodockersock.volumes import Volumes

    for cls in (Docker, Containers, System, Events, Execs, Images, Networks, Volumes):
        for name, member in inspect.getmembers(cls):
            if name.startswith("_") and name != "__call__":
                continue
            if not (inspect.iscoroutinefunction(member) or name == "__call__"):
                continue
            if name in ("aclose", "close"):
                continue
            doc = member.__doc__ or ""
            assert any(verb in doc for verb in ("``GET /", "``POST /", "``DELETE /",
                                                "``PUT /", "``HEAD /")), f"{cls.__name__}.{name}"
