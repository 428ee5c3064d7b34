"""System structs: /_ping, /version, /info and /system/df.

Field names follow the Engine API definitions ``SystemVersion``, ``SystemInfo`` (with
``PluginsInfo``, ``RegistryServiceConfig``, ``SwarmInfo``, ``Runtime``, ``Commit`` …) and the
/system/df response of API 1.41 and 1.56. Fields that exist in only one of the two are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec

from ._base import Model
from .build import BuildCacheRecord
from .containers import ContainerSummary
from .images import ImageSummary
from .swarm import (
    ClusterInfo,
    DiscreteResourceSpec,
    GenericResource,
    NamedResourceSpec,
    ObjectVersion,
    TLSInfo,
)
from .volumes import Volume

__all__ = [
    "AddressPool",
    "BuildCacheDiskUsage",
    "ClusterInfo",
    "Commit",
    "ComponentVersion",
    "ContainerdInfo",
    "ContainerdNamespaces",
    "ContainersDiskUsage",
    "DeviceInfo",
    "DiscreteResourceSpec",
    "FirewallInfo",
    "GenericResource",
    "ImagesDiskUsage",
    "IndexInfo",
    "NRIInfo",
    "NamedResourceSpec",
    "ObjectVersion",
    "PeerNode",
    "PingInfo",
    "Platform",
    "PluginsInfo",
    "RegistryConfig",
    "RuntimeInfo",
    "SwarmInfo",
    "SystemDataUsage",
    "SystemInfo",
    "SystemVersion",
    "TLSInfo",
    "VolumesDiskUsage",
]

# --------------------------------------------------------------------------------------------
# GET /_ping
# --------------------------------------------------------------------------------------------


#: The /_ping headers ``PingInfo`` reads, as sent and lower-cased.
_PING_HEADERS: Final = (
    "Api-Version", "OSType", "Docker-Experimental", "Builder-Version", "Swarm",
    "Libpod-Api-Version",
)
_PING_LOWER: Final = tuple(name.lower() for name in _PING_HEADERS)


class PingInfo(Model):
    """What GET /_ping tells about the daemon, read from its response headers (not JSON).

    - ``api_version``: ``Api-Version``, the highest API version the daemon supports;
    - ``os_type``: ``OSType`` (Go sends it as ``Ostype``), ``linux`` or ``windows``;
    - ``experimental``: ``Docker-Experimental``, ``true``/``false``;
    - ``builder_version``: ``Builder-Version``, the default builder (``1`` classic, ``2``
      BuildKit);
    - ``swarm``: ``Swarm`` (not in API 1.41), e.g. ``inactive``, ``active/manager``;
    - ``podman_version``: ``Libpod-Api-Version``, Podman's version when the daemon is Podman's
      Docker-compatible service (which sends no ``OSType`` and says ``Docker-Experimental:
      true``).

    Each is ``None`` when the header is absent. The wire names below are the header names.
    """

    api_version: str | None = msgspec.field(default=None, name="Api-Version")
    os_type: str | None = msgspec.field(default=None, name="OSType")
    experimental: bool | None = msgspec.field(default=None, name="Docker-Experimental")
    builder_version: str | None = msgspec.field(default=None, name="Builder-Version")
    swarm: str | None = msgspec.field(default=None, name="Swarm")
    podman_version: str | None = msgspec.field(default=None, name="Libpod-Api-Version")

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> PingInfo:
        """Build a ``PingInfo`` from the /_ping response headers.

        ``headers`` should match names case-blind (aiohttp's and http.client's do); a plain
        dict is lowered first.
        """
        if isinstance(headers, dict):  # not case-blind: look up lower-cased names
            headers = {key.lower(): value for key, value in headers.items()}
            names = _PING_LOWER
        else:
            names = _PING_HEADERS
        get = headers.get  # one call each, no generator: this is on every ping
        api, os_type, experimental = get(names[0]), get(names[1]), get(names[2])
        builder, swarm, podman = get(names[3]), get(names[4]), get(names[5])
        return cls(
            api_version=api,
            os_type=os_type,
            experimental=None if experimental is None else experimental.lower() == "true",
            builder_version=builder,
            swarm=swarm,
            podman_version=podman,
        )


# --------------------------------------------------------------------------------------------
# GET /version
# --------------------------------------------------------------------------------------------


class Platform(Model):
    """``Platform`` in GET /version: the product name, e.g. ``Docker Engine - Community``."""

    name: str | None = None


class ComponentVersion(Model):
    """One item of ``Components`` in GET /version (``Engine``, ``containerd``, ``runc`` …)."""

    name: str | None = None
    version: str | None = None
    details: dict[str, Any] | None = None
    """Free-form per component (the spec says only "object"); in practice string values such as
    ``{"ApiVersion": "1.41", "GitCommit": "…", "Experimental": "false"}``."""


class SystemVersion(Model):
    """The response of GET /version."""

    platform: Platform | None = None
    components: list[ComponentVersion] | None = None
    version: str | None = None
    api_version: str | None = None
    min_api_version: str | None = msgspec.field(default=None, name="MinAPIVersion")
    git_commit: str | None = None
    go_version: str | None = None
    os: str | None = None
    arch: str | None = None
    kernel_version: str | None = None
    experimental: bool | None = None
    build_time: str | None = None
    """RFC 3339 string."""


# --------------------------------------------------------------------------------------------
# GET /info
# --------------------------------------------------------------------------------------------


class PluginsInfo(Model):
    """``Plugins`` in GET /info: the names of the available plugins by kind."""

    volume: list[str] | None = None
    network: list[str] | None = None
    authorization: list[str] | None = None
    log: list[str] | None = None


class IndexInfo(Model):
    """One registry of ``RegistryConfig.IndexConfigs`` in GET /info."""

    name: str | None = None
    mirrors: list[str] | None = None
    secure: bool | None = None
    official: bool | None = None


class RegistryConfig(Model):
    """``RegistryConfig`` in GET /info (the ``RegistryServiceConfig`` definition)."""

    allow_nondistributable_artifacts_cidrs: list[str] | None = msgspec.field(
        default=None, name="AllowNondistributableArtifactsCIDRs"
    )
    """Not in API 1.56; sent by 1.41 daemons."""
    allow_nondistributable_artifacts_hostnames: list[str] | None = None
    """Not in API 1.56; sent by 1.41 daemons."""
    insecure_registry_cidrs: list[str] | None = msgspec.field(
        default=None, name="InsecureRegistryCIDRs"
    )
    index_configs: dict[str, IndexInfo] | None = None
    mirrors: list[str] | None = None


class RuntimeInfo(Model):
    """One OCI runtime of ``Runtimes`` in GET /info (the ``Runtime`` definition). This
    definition's wire names are lower camelCase."""

    path: str | None = msgspec.field(default=None, name="path")
    runtime_args: list[str] | None = msgspec.field(default=None, name="runtimeArgs")
    status: dict[str, str] | None = msgspec.field(default=None, name="status")
    """Not in API 1.41: runtime-specific information, string values."""


class Commit(Model):
    """The commit of a bundled component (``ContainerdCommit``, ``RuncCommit``, ``InitCommit``)."""

    id: str | None = msgspec.field(default=None, name="ID")
    expected: str | None = None
    """Not in API 1.56; sent by 1.41 daemons."""


class PeerNode(Model):
    """A Swarm manager the node knows of (``Swarm.RemoteManagers[]`` in GET /info)."""

    node_id: str | None = msgspec.field(default=None, name="NodeID")
    addr: str | None = None


class SwarmInfo(Model):
    """``Swarm`` in GET /info: this node's Swarm membership."""

    node_id: str | None = msgspec.field(default=None, name="NodeID")
    node_addr: str | None = None
    local_node_state: str | None = None
    """``""``, ``"inactive"``, ``"pending"``, ``"active"``, ``"error"``, ``"locked"`` (open set)."""
    control_available: bool | None = None
    error: str | None = None
    remote_managers: list[PeerNode] | None = None
    nodes: int | None = None
    managers: int | None = None
    cluster: ClusterInfo | None = None
    """Set on managers only (workers send null or omit it)."""


class AddressPool(Model):
    """One item of ``DefaultAddressPools`` in GET /info."""

    base: str | None = None
    size: int | None = None


class FirewallInfo(Model):
    """``FirewallBackend`` in GET /info (not in API 1.41; Linux only)."""

    driver: str | None = None
    info: list[list[str]] | None = None
    """[label, value] pairs; not a stable format."""


class DeviceInfo(Model):
    """One item of ``DiscoveredDevices`` in GET /info (not in API 1.41), e.g. a CDI device."""

    source: str | None = None
    id: str | None = msgspec.field(default=None, name="ID")


class NRIInfo(Model):
    """``NRI`` in GET /info (not in API 1.41; only when NRI is enabled)."""

    info: list[list[str]] | None = None
    """[label, value] pairs; not a stable format."""


class ContainerdNamespaces(Model):
    """``Containerd.Namespaces`` in GET /info: the containerd namespaces the daemon uses."""

    containers: str | None = None
    plugins: str | None = None


class ContainerdInfo(Model):
    """``Containerd`` in GET /info (not in API 1.41): the containerd the daemon talks to."""

    address: str | None = None
    namespaces: ContainerdNamespaces | None = None


class SystemInfo(Model):
    """The response of GET /info."""

    id: str | None = msgspec.field(default=None, name="ID")
    containers: int | None = None
    containers_running: int | None = None
    containers_paused: int | None = None
    containers_stopped: int | None = None
    images: int | None = None
    driver: str | None = None
    driver_status: list[list[str]] | None = None
    """[label, value] pairs from the storage driver."""
    docker_root_dir: str | None = None
    plugins: PluginsInfo | None = None
    memory_limit: bool | None = None
    swap_limit: bool | None = None
    kernel_memory: bool | None = None
    """Not in API 1.56; sent by 1.41 daemons."""
    kernel_memory_tcp: bool | None = msgspec.field(default=None, name="KernelMemoryTCP")
    """Not in API 1.56; sent by 1.41 daemons."""
    cpu_cfs_period: bool | None = None
    cpu_cfs_quota: bool | None = None
    cpu_shares: bool | None = msgspec.field(default=None, name="CPUShares")
    cpu_set: bool | None = msgspec.field(default=None, name="CPUSet")
    pids_limit: bool | None = None
    oom_kill_disable: bool | None = None
    ipv4_forwarding: bool | None = msgspec.field(default=None, name="IPv4Forwarding")
    bridge_nf_iptables: bool | None = None
    """Not in API 1.56; sent by 1.41 daemons."""
    bridge_nf_ip6tables: bool | None = msgspec.field(default=None, name="BridgeNfIp6tables")
    """Not in API 1.56; sent by 1.41 daemons."""
    debug: bool | None = None
    n_fd: int | None = None
    n_goroutines: int | None = None
    system_time: str | None = None
    """RFC 3339 string with nanoseconds."""
    logging_driver: str | None = None
    cgroup_driver: str | None = None
    cgroup_version: str | None = None
    n_events_listener: int | None = None
    kernel_version: str | None = None
    operating_system: str | None = None
    os_version: str | None = msgspec.field(default=None, name="OSVersion")
    os_type: str | None = msgspec.field(default=None, name="OSType")
    architecture: str | None = None
    ncpu: int | None = msgspec.field(default=None, name="NCPU")
    mem_total: int | None = None
    index_server_address: str | None = None
    registry_config: RegistryConfig | None = None
    generic_resources: list[GenericResource] | None = None
    http_proxy: str | None = None
    https_proxy: str | None = None
    no_proxy: str | None = None
    name: str | None = None
    labels: list[str] | None = None
    experimental_build: bool | None = None
    server_version: str | None = None
    cluster_store: str | None = None
    """Not in API 1.56; sent by 1.41 daemons."""
    cluster_advertise: str | None = None
    """Not in API 1.56; sent by 1.41 daemons."""
    runtimes: dict[str, RuntimeInfo] | None = None
    default_runtime: str | None = None
    swarm: SwarmInfo | None = None
    live_restore_enabled: bool | None = None
    isolation: str | None = None
    init_binary: str | None = None
    containerd_commit: Commit | None = None
    runc_commit: Commit | None = None
    init_commit: Commit | None = None
    security_options: list[str] | None = None
    product_license: str | None = None
    default_address_pools: list[AddressPool] | None = None
    firewall_backend: FirewallInfo | None = None
    """Not in API 1.41."""
    discovered_devices: list[DeviceInfo] | None = None
    """Not in API 1.41."""
    nri: NRIInfo | None = msgspec.field(default=None, name="NRI")
    """Not in API 1.41."""
    warnings: list[str] | None = None
    cdi_spec_dirs: list[str] | None = msgspec.field(default=None, name="CDISpecDirs")
    """Not in API 1.41."""
    containerd: ContainerdInfo | None = None
    """Not in API 1.41."""


# --------------------------------------------------------------------------------------------
# GET /system/df
# --------------------------------------------------------------------------------------------


class ImagesDiskUsage(Model):
    """``ImageUsage`` in GET /system/df (not in API 1.41); ``items`` may be omitted."""

    active_count: int | None = None
    total_count: int | None = None
    reclaimable: int | None = None
    total_size: int | None = None
    items: list[ImageSummary] | None = None


class ContainersDiskUsage(Model):
    """``ContainerUsage`` in GET /system/df (not in API 1.41); ``items`` may be omitted."""

    active_count: int | None = None
    total_count: int | None = None
    reclaimable: int | None = None
    total_size: int | None = None
    items: list[ContainerSummary] | None = None


class VolumesDiskUsage(Model):
    """``VolumeUsage`` in GET /system/df (not in API 1.41); ``items`` may be omitted."""

    active_count: int | None = None
    total_count: int | None = None
    reclaimable: int | None = None
    total_size: int | None = None
    items: list[Volume] | None = None


class BuildCacheDiskUsage(Model):
    """``BuildCacheUsage`` in GET /system/df (not in API 1.41); ``items`` may be omitted."""

    active_count: int | None = None
    total_count: int | None = None
    reclaimable: int | None = None
    total_size: int | None = None
    items: list[BuildCacheRecord] | None = None


class SystemDataUsage(Model):
    """The response of GET /system/df.

    API 1.41 sends the lists (``layers_size``, ``images``, ``containers``, ``volumes``,
    ``build_cache``); API 1.56 replaced them with per-kind summaries (``image_usage`` …, whose
    ``items`` may be omitted; see the ``verbose`` query parameter). Both shapes are kept: read
    whichever is set.
    """

    layers_size: int | None = None
    images: list[ImageSummary] | None = None
    containers: list[ContainerSummary] | None = None
    volumes: list[Volume] | None = None
    build_cache: list[BuildCacheRecord] | None = None
    image_usage: ImagesDiskUsage | None = None
    container_usage: ContainersDiskUsage | None = None
    volume_usage: VolumesDiskUsage | None = None
    build_cache_usage: BuildCacheDiskUsage | None = None
