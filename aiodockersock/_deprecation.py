"""Old names kept one release: each warns once per call with what to use instead."""

from __future__ import annotations

import warnings

__all__ = ["deprecated_name"]


def deprecated_name(old: str, new: str) -> None:
    """Warn that ``old`` is deprecated in favour of ``new`` (a ``DeprecationWarning`` pointing
    at the caller's caller)."""
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release; use {new}",
        DeprecationWarning,
        stacklevel=3,
    )
