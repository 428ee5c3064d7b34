"""Argument types and validators shared by the API areas.

Every area may import this module; no area imports another for a type or a check. Validators
refuse bad input before anything is sent, with a message that says what was wrong and what to
do, and never repeat a value that could be a secret (build args, labels and driver options
often hold tokens): they name the key and the type.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import Any, Union

from ._exceptions import InvalidArgument

__all__ = ["Filters", "container_ref", "shielded", "string_list", "string_map"]

#: Filters as the Engine takes them: each key to one value or a list of values.
Filters = Mapping[str, Union[str, Sequence[str]]]  # noqa: UP007 (a runtime alias)


def container_ref(value: str) -> str:
    """A container's id or name as the Engine takes it; a name as the Engine reports it
    (``/web``) is accepted as well as ``web``.

    Raises:
        InvalidArgument: not a str, or empty.
    """
    if not isinstance(value, str) or not value:
        raise InvalidArgument(f"a container id or name must be a non-empty str, not {value!r}")
    if value[0] == "/" and "/" not in value[1:]:
        return value[1:]
    return value


def string_list(what: str, value: Sequence[str] | None) -> list[str] | None:
    """A copy of a list of non-empty strings; one string is refused (it would be taken letter
    by letter).

    Raises:
        InvalidArgument: not a list of non-empty strings.
    """
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgument(f"{what} must be a list of strings, not {value!r}")
    names = list(value)
    if not all(isinstance(v, str) and v for v in names):
        raise InvalidArgument(f"{what} must hold non-empty strings only, got {names!r}")
    return names


def string_map(what: str, value: Mapping[str, str] | None) -> dict[str, str] | None:
    """A copy of a str → str mapping (labels, options, build args).

    Raises:
        InvalidArgument: not a mapping, or a key or value that is not a str (the message names
            the key and the value's type, never the value).
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            f"{what} must be a mapping of strings to strings, not a {type(value).__name__}"
        )
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise InvalidArgument(
                f"{what} must map strings to strings; {key!r} maps to a {type(item).__name__} "
                '(the Engine takes every value as a string, e.g. "1400")'
            )
    return dict(value)


async def shielded(aw: Awaitable[Any]) -> None:
    """Run a cleanup to its end even if the caller is being cancelled (the cancellation is
    raised once the cleanup is done)."""
    task = asyncio.ensure_future(aw)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise
