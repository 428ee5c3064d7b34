"""Volume structs (the volume definitions of API 1.41 and 1.56)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._base import Model

__all__ = [
    "Volume",
    "VolumeCreateOptions",
    "VolumeList",
    "VolumeListResponse",
    "VolumePruneResponse",
    "VolumeUsageData",
]


class VolumeUsageData(Model):
    """``Volume.UsageData``: only filled in by GET /system/df; -1 when not computed."""

    size: int | None = None
    ref_count: int | None = None


class Volume(Model):
    """A volume: GET /volumes/{name}, items of GET /volumes and of ``Volumes`` in /system/df.

    ``ClusterVolume`` (not in API 1.41; Swarm cluster volumes) is not modelled.
    """

    name: str | None = None
    driver: str | None = None
    mountpoint: str | None = None
    created_at: str | None = None
    """RFC 3339 string."""
    status: dict[str, Any] | None = None
    """Free-form, driver-specific details: the spec says only "object", so values are Any."""
    labels: dict[str, str] | None = None
    scope: str | None = None
    """``"local"`` or ``"global"``."""
    options: dict[str, str] | None = None
    usage_data: VolumeUsageData | None = None


class VolumeCreateOptions(Model):
    """The body of POST /volumes/create (``VolumeCreateRequest`` in API 1.56).

    ``ClusterVolumeSpec`` (not in API 1.41; Swarm cluster volumes) is not modelled.
    """

    name: str | None = None
    """Generated (64 hex digits) when omitted."""
    driver: str | None = None
    """``"local"`` when omitted."""
    driver_opts: dict[str, str] | None = None
    labels: dict[str, str] | None = None


class VolumeListResponse(Model):
    """The answer to GET /volumes."""

    volumes: list[Volume] | None = None
    warnings: list[str] | None = None
    """One per volume driver that could not list its volumes; None when all answered."""


class VolumePruneResponse(Model):
    """The answer to POST /volumes/prune."""

    volumes_deleted: list[str] | None = None
    """Names of the removed volumes (None or empty when nothing was removed)."""
    space_reclaimed: int | None = None


class VolumeList(list[Volume]):
    """What ``docker.volumes.list()`` returns: a list of volumes that also carries the
    daemon's warnings.

    Attributes:
        warnings: one message per volume driver that failed to list its volumes (the list is
            then incomplete); empty when every driver answered.
    """

    __slots__ = ("warnings",)

    def __init__(self, volumes: Iterable[Volume] = (), warnings: Iterable[str] = ()) -> None:
        super().__init__(volumes)
        self.warnings: list[str] = list(warnings)

    def __repr__(self) -> str:
        return f"VolumeList({list.__repr__(self)}, warnings={self.warnings!r})"
