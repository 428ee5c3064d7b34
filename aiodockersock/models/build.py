"""Build cache structs (the ``BuildCache`` definition of API 1.41 and 1.56)."""

from __future__ import annotations

import msgspec

from ._base import Model

__all__ = ["BuildCacheRecord"]


class BuildCacheRecord(Model):
    """One build cache record (``BuildCache`` items in GET /system/df)."""

    id: str | None = msgspec.field(default=None, name="ID")
    # API 1.41 sends one Parent; API 1.56 replaced it with the Parents list. Both are kept.
    parent: str | None = None
    parents: list[str] | None = None
    # "internal", "frontend", "source.local", "source.git.checkout", "exec.cachemount", "regular".
    type: str | None = None
    description: str | None = None
    in_use: bool | None = None
    shared: bool | None = None
    size: int | None = None
    # RFC 3339 strings.
    created_at: str | None = None
    last_used_at: str | None = None
    usage_count: int | None = None
