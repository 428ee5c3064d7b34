"""Volume structs (the ``Volume`` definition of API 1.41 and 1.56)."""

from __future__ import annotations

from typing import Any

from ._base import Model

__all__ = ["Volume", "VolumeUsageData"]


class VolumeUsageData(Model, frozen=True):
    """``Volume.UsageData``: only filled in by GET /system/df; -1 when not computed."""

    size: int | None = None
    ref_count: int | None = None


class Volume(Model, frozen=True):
    """A volume: GET /volumes/{name}, items of GET /volumes and of ``Volumes`` in /system/df.

    ``ClusterVolume`` (not in API 1.41; Swarm cluster volumes) is not modelled.
    """

    name: str | None = None
    driver: str | None = None
    mountpoint: str | None = None
    # RFC 3339 string.
    created_at: str | None = None
    # Free-form, driver-specific details: the spec says only "object", so values are Any.
    status: dict[str, Any] | None = None
    labels: dict[str, str] | None = None
    # "local" or "global".
    scope: str | None = None
    options: dict[str, str] | None = None
    usage_data: VolumeUsageData | None = None
