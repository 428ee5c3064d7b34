"""Volume structs (the volume definitions of API 1.41 and 1.56)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from ._base import Model

__all__ = [
    "ClusterVolume",
    "ClusterVolumeAccessMode",
    "ClusterVolumeCapacityRange",
    "ClusterVolumeInfo",
    "ClusterVolumePublishStatus",
    "ClusterVolumeSecret",
    "ClusterVolumeSpec",
    "ClusterVolumeTopologyRequirement",
    "ClusterVolumeUpdateBody",
    "ClusterVolumeVersion",
    "Topology",
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


class Topology(Model):
    """A CSI topology: where a volume is (or must be) accessible (``Topology``)."""

    segments: dict[str, str] | None = None


class ClusterVolumeTopologyRequirement(Model):
    """``AccessibilityRequirements`` of a cluster volume's spec."""

    requisite: list[Topology] | None = None
    """Topologies of which the volume must be accessible from at least one."""
    preferred: list[Topology] | None = None
    """Topologies to try to create the volume in."""


class ClusterVolumeCapacityRange(Model):
    """``CapacityRange`` of a cluster volume's spec; 0 means unspecified."""

    required_bytes: int | None = None
    limit_bytes: int | None = None


class ClusterVolumeSecret(Model):
    """One ``Secrets`` entry of a cluster volume's spec: a swarm secret passed to the plugin
    under a key (the secret's name or id, never its data)."""

    key: str | None = None
    secret: str | None = None


class ClusterVolumeAccessMode(Model):
    """``AccessMode`` of a cluster volume's spec: how tasks may use it."""

    scope: str | None = None
    """``"single"`` (one node at a time) or ``"multi"``."""
    sharing: str | None = None
    """``"none"``, ``"readonly"``, ``"onewriter"`` or ``"all"``."""
    mount_volume: dict[str, Any] | None = None
    """Use as a mounted filesystem (``{"FsType": …, "MountFlags": […]}``); either this or
    ``block_volume``."""
    block_volume: dict[str, Any] | None = None
    """Use as a block device (``{}``)."""


class ClusterVolumeSpec(Model):
    """The spec of a Swarm CSI cluster volume (``ClusterVolumeSpec``), as created and as sent
    to PUT /volumes/{name}, where only ``availability`` may change.

    The spec file nests ``Secrets`` … ``Availability`` inside ``AccessMode`` (an indentation
    slip); dockerd's own type, followed here, has them at this level.
    """

    group: str | None = None
    access_mode: ClusterVolumeAccessMode | None = None
    secrets: list[ClusterVolumeSecret] | None = None
    accessibility_requirements: ClusterVolumeTopologyRequirement | None = None
    capacity_range: ClusterVolumeCapacityRange | None = None
    availability: str | None = None
    """``"active"``, ``"pause"`` (no new tasks) or ``"drain"`` (tasks stopped elsewhere)."""


class ClusterVolumeInfo(Model):
    """``Info`` of a cluster volume: what the storage plugin reported."""

    capacity_bytes: int | None = None
    """0 when unknown."""
    volume_context: dict[str, str] | None = None
    volume_id: str | None = msgspec.field(default=None, name="VolumeID")
    """The plugin's own id; empty until the plugin created the volume."""
    accessible_topology: list[Topology] | None = None


class ClusterVolumePublishStatus(Model):
    """One ``PublishStatus`` entry of a cluster volume: its state on one node."""

    node_id: str | None = msgspec.field(default=None, name="NodeID")
    state: str | None = None
    """``"pending-publish"``, ``"published"``, ``"pending-node-unpublish"`` or
    ``"pending-controller-unpublish"``."""
    publish_context: dict[str, str] | None = None


class ClusterVolumeVersion(Model):
    """``Version`` of a cluster volume (the swarm ``ObjectVersion``): updates name the version
    they change, so that two writers cannot overwrite each other."""

    index: int | None = None


class ClusterVolume(Model):
    """``ClusterVolume`` of a volume: present only on Swarm CSI cluster volumes."""

    id: str | None = msgspec.field(default=None, name="ID")
    version: ClusterVolumeVersion | None = None
    """Pass ``version.index`` to ``volumes.update()``."""
    created_at: str | None = None
    updated_at: str | None = None
    spec: ClusterVolumeSpec | None = None
    info: ClusterVolumeInfo | None = None
    publish_status: list[ClusterVolumePublishStatus] | None = None


class ClusterVolumeUpdateBody(Model):
    """The body of PUT /volumes/{name}."""

    spec: ClusterVolumeSpec | None = None


class Volume(Model):
    """A volume: GET /volumes/{name}, items of GET /volumes and of ``Volumes`` in /system/df."""

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
    cluster_volume: ClusterVolume | None = None
    """Only on Swarm CSI cluster volumes (never at API 1.41)."""


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
