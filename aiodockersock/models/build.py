"""Build cache structs (the ``BuildCache`` definition of API 1.41 and 1.56)."""

from __future__ import annotations

import msgspec

from ._base import Model

__all__ = ["BuildCacheRecord"]


class BuildCacheRecord(Model):
    """One build cache record (``BuildCache`` items in GET /system/df)."""

    id: str | None = msgspec.field(default=None, name="ID")
    parent: str | None = None
    """API 1.41 sends one Parent; API 1.56 replaced it with the Parents list. Both are kept."""
    parents: list[str] | None = None
    """Not in API 1.41: API 1.56's replacement for Parent. Both are kept."""
    type: str | None = None
    """``"internal"``, ``"frontend"``, ``"source.local"``, ``"source.git.checkout"``,
    ``"exec.cachemount"``, ``"regular"``."""
    description: str | None = None
    in_use: bool | None = None
    shared: bool | None = None
    size: int | None = None
    created_at: str | None = None
    """RFC 3339 string."""
    last_used_at: str | None = None
    """RFC 3339 string."""
    usage_count: int | None = None
