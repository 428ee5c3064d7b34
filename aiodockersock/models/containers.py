"""Container structs: create bodies, inspect and list results, and the small responses.

Field names follow the Engine API definitions ``ContainerConfig``, ``HostConfig``, ``Resources``,
``NetworkingConfig``, ``EndpointSettings``, ``ContainerState``, ``NetworkSettings``,
``ContainerSummary`` … of API 1.41 and 1.56. Fields that exist in only one of the two are kept,
so old and new daemons decode alike.
"""

from __future__ import annotations

from typing import Final

import msgspec

from ._base import Model

__all__ = [
    "CHANGE_ADDED",
    "CHANGE_DELETED",
    "CHANGE_MODIFIED",
    "Address",
    "BindOptions",
    "ContainerCommitResponse",
    "ContainerConfig",
    "ContainerCreateBody",
    "ContainerCreateResponse",
    "ContainerHealth",
    "ContainerInspect",
    "ContainerPruneResponse",
    "ContainerResources",
    "ContainerState",
    "ContainerStorage",
    "ContainerSummary",
    "ContainerSummaryHealth",
    "ContainerSummaryHostConfig",
    "ContainerSummaryNetworkSettings",
    "ContainerTopResponse",
    "ContainerUpdateResponse",
    "ContainerWaitExitError",
    "ContainerWaitResponse",
    "DeviceMapping",
    "DeviceRequest",
    "DriverConfig",
    "DriverData",
    "EndpointIPAMConfig",
    "EndpointSettings",
    "FilesystemChange",
    "HealthConfig",
    "HealthcheckResult",
    "HostConfig",
    "ImageOptions",
    "LogConfig",
    "Mount",
    "MountPoint",
    "NetworkSettings",
    "NetworkingConfig",
    "Port",
    "PortBinding",
    "RestartPolicy",
    "RootFSSnapshot",
    "RootFSStorage",
    "ThrottleDevice",
    "TmpfsOptions",
    "Ulimit",
    "VolumeOptions",
    "WeightDevice",
]

# --------------------------------------------------------------------------------------------
# Building blocks shared by create bodies and inspect results
# --------------------------------------------------------------------------------------------


class HealthConfig(Model):
    """A container's healthcheck (``Config.Healthcheck``); durations are in nanoseconds."""

    test: list[str] | None = None
    interval: int | None = None
    timeout: int | None = None
    retries: int | None = None
    start_period: int | None = None
    start_interval: int | None = None
    """Not in API 1.41."""


class RestartPolicy(Model):
    """``HostConfig.RestartPolicy``: ``Name`` is ``""``, ``no``, ``always``, ``unless-stopped``,
    ``on-failure``."""

    name: str | None = None
    maximum_retry_count: int | None = None


class PortBinding(Model):
    """One host address a container port is published on (``HostConfig.PortBindings``)."""

    host_ip: str | None = None
    host_port: str | None = None


class LogConfig(Model):
    """``HostConfig.LogConfig``: the logging driver and its options."""

    type: str | None = None
    config: dict[str, str] | None = None


class ThrottleDevice(Model):
    """A device rate limit (``BlkioDeviceReadBps`` …): bytes or IO operations per second."""

    path: str | None = None
    rate: int | None = None


class WeightDevice(Model):
    """A relative block IO weight for one device (``BlkioWeightDevice``)."""

    path: str | None = None
    weight: int | None = None


class DeviceMapping(Model):
    """A host device made available in the container (``HostConfig.Devices``)."""

    path_on_host: str | None = None
    path_in_container: str | None = None
    cgroup_permissions: str | None = None


class DeviceRequest(Model):
    """A request for devices from a device driver, e.g. GPUs (``HostConfig.DeviceRequests``)."""

    driver: str | None = None
    count: int | None = None
    device_ids: list[str] | None = msgspec.field(default=None, name="DeviceIDs")
    capabilities: list[list[str]] | None = None
    options: dict[str, str] | None = None


class Ulimit(Model):
    """A resource limit set in the container (``HostConfig.Ulimits``)."""

    name: str | None = None
    soft: int | None = None
    hard: int | None = None


class BindOptions(Model):
    """``Mount.BindOptions``: options for a mount of type ``bind``."""

    propagation: str | None = None
    non_recursive: bool | None = None
    create_mountpoint: bool | None = None
    """Not in API 1.41."""
    read_only_non_recursive: bool | None = None
    """Not in API 1.41."""
    read_only_force_recursive: bool | None = None
    """Not in API 1.41."""


class DriverConfig(Model):
    """``Mount.VolumeOptions.DriverConfig``: the volume driver and its options."""

    name: str | None = None
    options: dict[str, str] | None = None


class VolumeOptions(Model):
    """``Mount.VolumeOptions``: options for a mount of type ``volume``."""

    no_copy: bool | None = None
    labels: dict[str, str] | None = None
    driver_config: DriverConfig | None = None
    subpath: str | None = None
    """Not in API 1.41."""


class ImageOptions(Model):
    """``Mount.ImageOptions``: options for a mount of type ``image`` (not in API 1.41)."""

    subpath: str | None = None


class TmpfsOptions(Model):
    """``Mount.TmpfsOptions``: options for a mount of type ``tmpfs``."""

    size_bytes: int | None = None
    mode: int | None = None
    options: list[list[str]] | None = None
    """Not in API 1.41: extra options as [key, value] or [flag] pairs."""


class Mount(Model):
    """A mount requested at create time (``HostConfig.Mounts``)."""

    target: str | None = None
    source: str | None = None
    type: str | None = None
    """``"bind"``, ``"volume"``, ``"tmpfs"``, ``"npipe"``, ``"cluster"``, ``"image"`` (open set)."""
    read_only: bool | None = None
    consistency: str | None = None
    bind_options: BindOptions | None = None
    volume_options: VolumeOptions | None = None
    image_options: ImageOptions | None = None
    tmpfs_options: TmpfsOptions | None = None


class EndpointIPAMConfig(Model):
    """Static addresses requested for a network endpoint (``EndpointSettings.IPAMConfig``)."""

    ipv4_address: str | None = msgspec.field(default=None, name="IPv4Address")
    ipv6_address: str | None = msgspec.field(default=None, name="IPv6Address")
    link_local_ips: list[str] | None = msgspec.field(default=None, name="LinkLocalIPs")


class EndpointSettings(Model):
    """A container's attachment to one network: requested at create, reported by inspect."""

    ipam_config: EndpointIPAMConfig | None = msgspec.field(default=None, name="IPAMConfig")
    links: list[str] | None = None
    mac_address: str | None = None
    aliases: list[str] | None = None
    driver_opts: dict[str, str] | None = None
    gw_priority: int | None = None
    """Not in API 1.41."""
    network_id: str | None = msgspec.field(default=None, name="NetworkID")
    endpoint_id: str | None = msgspec.field(default=None, name="EndpointID")
    gateway: str | None = None
    ip_address: str | None = msgspec.field(default=None, name="IPAddress")
    ip_prefix_len: int | None = msgspec.field(default=None, name="IPPrefixLen")
    ipv6_gateway: str | None = msgspec.field(default=None, name="IPv6Gateway")
    global_ipv6_address: str | None = msgspec.field(default=None, name="GlobalIPv6Address")
    global_ipv6_prefix_len: int | None = msgspec.field(default=None, name="GlobalIPv6PrefixLen")
    dns_names: list[str] | None = msgspec.field(default=None, name="DNSNames")
    """Not in API 1.41."""


class NetworkingConfig(Model):
    """``NetworkingConfig`` of POST /containers/create: the networks to connect at create."""

    endpoints_config: dict[str, EndpointSettings] | None = None


# --------------------------------------------------------------------------------------------
# ContainerConfig, Resources, HostConfig and the create body
# --------------------------------------------------------------------------------------------


class ContainerConfig(Model):
    """The portable part of a container's configuration (``ContainerConfig``).

    Sent in POST /containers/create (see ``ContainerCreateBody``) and returned as ``Config`` by
    GET /containers/{id}/json.
    """

    hostname: str | None = None
    domainname: str | None = None
    user: str | None = None
    attach_stdin: bool | None = None
    attach_stdout: bool | None = None
    attach_stderr: bool | None = None
    exposed_ports: dict[str, dict[str, object]] | None = None
    """Keys are ``"<port>/<proto>"``; the values are always empty objects: ``{"80/tcp": {}}``."""
    tty: bool | None = None
    open_stdin: bool | None = None
    stdin_once: bool | None = None
    env: list[str] | None = None
    cmd: list[str] | None = None
    healthcheck: HealthConfig | None = None
    args_escaped: bool | None = None
    image: str | None = None
    volumes: dict[str, dict[str, object]] | None = None
    """Keys are container paths; the values are always empty objects: ``{"/data": {}}``."""
    working_dir: str | None = None
    entrypoint: list[str] | None = None
    network_disabled: bool | None = None
    mac_address: str | None = None
    """Not in API 1.56 (use EndpointSettings.MacAddress); sent by 1.41 daemons."""
    on_build: list[str] | None = None
    labels: dict[str, str] | None = None
    stop_signal: str | None = None
    stop_timeout: int | None = None
    shell: list[str] | None = None


class ContainerResources(Model):
    """The ``Resources`` definition plus ``RestartPolicy``.

    The request body of POST /containers/{id}/update; ``HostConfig`` extends it.
    """

    cpu_shares: int | None = None
    memory: int | None = None
    cgroup_parent: str | None = None
    blkio_weight: int | None = None
    blkio_weight_device: list[WeightDevice] | None = None
    blkio_device_read_bps: list[ThrottleDevice] | None = None
    blkio_device_write_bps: list[ThrottleDevice] | None = None
    blkio_device_read_iops: list[ThrottleDevice] | None = msgspec.field(
        default=None, name="BlkioDeviceReadIOps"
    )
    blkio_device_write_iops: list[ThrottleDevice] | None = msgspec.field(
        default=None, name="BlkioDeviceWriteIOps"
    )
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpu_realtime_period: int | None = None
    cpu_realtime_runtime: int | None = None
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    devices: list[DeviceMapping] | None = None
    device_cgroup_rules: list[str] | None = None
    device_requests: list[DeviceRequest] | None = None
    kernel_memory: int | None = None
    """Not in API 1.56 (kernel memory limits were removed); sent by 1.41 daemons."""
    kernel_memory_tcp: int | None = msgspec.field(default=None, name="KernelMemoryTCP")
    """Not in API 1.56 (kernel memory limits were removed); sent by 1.41 daemons."""
    memory_reservation: int | None = None
    memory_swap: int | None = None
    memory_swappiness: int | None = None
    nano_cpus: int | None = None
    oom_kill_disable: bool | None = None
    init: bool | None = None
    pids_limit: int | None = None
    ulimits: list[Ulimit] | None = None
    cpu_count: int | None = None
    """Windows only."""
    cpu_percent: int | None = None
    """Windows only."""
    io_maximum_iops: int | None = msgspec.field(default=None, name="IOMaximumIOps")
    """Windows only."""
    io_maximum_bandwidth: int | None = msgspec.field(default=None, name="IOMaximumBandwidth")
    """Windows only."""
    restart_policy: RestartPolicy | None = None


class HostConfig(ContainerResources):
    """The non-portable part of a container's configuration (``HostConfig``, with ``Resources``).

    Sent in POST /containers/create and returned by GET /containers/{id}/json.
    """

    binds: list[str] | None = None
    container_id_file: str | None = msgspec.field(default=None, name="ContainerIDFile")
    log_config: LogConfig | None = None
    network_mode: str | None = None
    port_bindings: dict[str, list[PortBinding] | None] | None = None
    """A port without bindings may come as null: ``{"80/tcp": null}``."""
    auto_remove: bool | None = None
    volume_driver: str | None = None
    volumes_from: list[str] | None = None
    mounts: list[Mount] | None = None
    console_size: list[int] | None = None
    """[height, width] of the TTY."""
    annotations: dict[str, str] | None = None
    """Not in API 1.41."""
    cap_add: list[str] | None = None
    cap_drop: list[str] | None = None
    cgroupns_mode: str | None = None
    dns: list[str] | None = None
    dns_options: list[str] | None = None
    dns_search: list[str] | None = None
    extra_hosts: list[str] | None = None
    group_add: list[str] | None = None
    ipc_mode: str | None = None
    cgroup: str | None = None
    links: list[str] | None = None
    oom_score_adj: int | None = None
    pid_mode: str | None = None
    privileged: bool | None = None
    publish_all_ports: bool | None = None
    readonly_rootfs: bool | None = None
    security_opt: list[str] | None = None
    storage_opt: dict[str, str] | None = None
    tmpfs: dict[str, str] | None = None
    uts_mode: str | None = msgspec.field(default=None, name="UTSMode")
    userns_mode: str | None = None
    shm_size: int | None = None
    sysctls: dict[str, str] | None = None
    runtime: str | None = None
    isolation: str | None = None
    masked_paths: list[str] | None = None
    readonly_paths: list[str] | None = None


class ContainerCreateBody(ContainerConfig):
    """The request body of POST /containers/create: a ``ContainerConfig`` plus host and network
    settings.

    Fields left at ``None`` are not sent, so the daemon applies its defaults::

        ContainerCreateBody(
            image="busybox", cmd=["true"], host_config=HostConfig(network_mode="none")
        )
    """

    host_config: HostConfig | None = None
    networking_config: NetworkingConfig | None = None


class ContainerCreateResponse(Model):
    """The response of POST /containers/create."""

    id: str | None = None
    warnings: list[str] | None = None


class ContainerCommitResponse(Model):
    """The response of POST /commit: the new image's id (``sha256:…``)."""

    id: str | None = None


class ContainerUpdateResponse(Model):
    """The response of POST /containers/{id}/update."""

    warnings: list[str] | None = None


# --------------------------------------------------------------------------------------------
# GET /containers/{id}/json
# --------------------------------------------------------------------------------------------


class HealthcheckResult(Model):
    """One healthcheck run (``State.Health.Log[]``); ``Start``/``End`` are RFC 3339 strings."""

    start: str | None = None
    end: str | None = None
    exit_code: int | None = None
    output: str | None = None


class ContainerHealth(Model):
    """``State.Health``: ``Status`` is ``none``, ``starting``, ``healthy`` or ``unhealthy``."""

    status: str | None = None
    failing_streak: int | None = None
    log: list[HealthcheckResult] | None = None


class ContainerState(Model):
    """``State`` in GET /containers/{id}/json; times are RFC 3339 strings."""

    status: str | None = None
    """``"created"``, ``"running"``, ``"paused"``, ``"restarting"``, ``"removing"``,
    ``"exited"``, ``"dead"`` (open set)."""
    running: bool | None = None
    paused: bool | None = None
    restarting: bool | None = None
    oom_killed: bool | None = msgspec.field(default=None, name="OOMKilled")
    dead: bool | None = None
    pid: int | None = None
    exit_code: int | None = None
    error: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    health: ContainerHealth | None = None


class MountPoint(Model):
    """A mount as reported by inspect and list (``Mounts[]``)."""

    type: str | None = None
    name: str | None = None
    source: str | None = None
    destination: str | None = None
    driver: str | None = None
    mode: str | None = None
    rw: bool | None = msgspec.field(default=None, name="RW")
    propagation: str | None = None


class Address(Model):
    """An address with its prefix length (``NetworkSettings.SecondaryIPAddresses[]``)."""

    addr: str | None = None
    prefix_len: int | None = None


class NetworkSettings(Model):
    """``NetworkSettings`` in GET /containers/{id}/json.

    The top-level fields from ``bridge`` to ``mac_address`` (``IPAddress``, ``Gateway`` …) are
    deprecated: they describe the default bridge network only, API 1.41 sends them and API 1.56
    no longer defines them. Read ``networks`` instead.
    """

    bridge: str | None = None
    sandbox_id: str | None = msgspec.field(default=None, name="SandboxID")
    hairpin_mode: bool | None = None
    link_local_ipv6_address: str | None = msgspec.field(default=None, name="LinkLocalIPv6Address")
    link_local_ipv6_prefix_len: int | None = msgspec.field(
        default=None, name="LinkLocalIPv6PrefixLen"
    )
    ports: dict[str, list[PortBinding] | None] | None = None
    """A port that is exposed but not published comes as null: ``{"80/tcp": null}``."""
    sandbox_key: str | None = None
    secondary_ip_addresses: list[Address] | None = msgspec.field(
        default=None, name="SecondaryIPAddresses"
    )
    secondary_ipv6_addresses: list[Address] | None = msgspec.field(
        default=None, name="SecondaryIPv6Addresses"
    )
    endpoint_id: str | None = msgspec.field(default=None, name="EndpointID")
    gateway: str | None = None
    global_ipv6_address: str | None = msgspec.field(default=None, name="GlobalIPv6Address")
    global_ipv6_prefix_len: int | None = msgspec.field(default=None, name="GlobalIPv6PrefixLen")
    ip_address: str | None = msgspec.field(default=None, name="IPAddress")
    ip_prefix_len: int | None = msgspec.field(default=None, name="IPPrefixLen")
    ipv6_gateway: str | None = msgspec.field(default=None, name="IPv6Gateway")
    mac_address: str | None = None
    networks: dict[str, EndpointSettings] | None = None


class DriverData(Model):
    """``GraphDriver``: the storage driver's name and its low-level, driver-specific data."""

    name: str | None = None
    data: dict[str, str] | None = None


class RootFSSnapshot(Model):
    """``Storage.RootFS.Snapshot``: the containerd snapshot of the root filesystem."""

    name: str | None = None


class RootFSStorage(Model):
    """``Storage.RootFS``: how the root filesystem is stored (containerd image store)."""

    snapshot: RootFSSnapshot | None = None


class ContainerStorage(Model):
    """``Storage`` in GET /containers/{id}/json (not in API 1.41; containerd image store)."""

    root_fs: RootFSStorage | None = msgspec.field(default=None, name="RootFS")


class ContainerInspect(Model):
    """The response of GET /containers/{id}/json.

    ``ImageManifestDescriptor`` (not in API 1.41; an OCI descriptor) is not modelled.
    """

    id: str | None = None
    created: str | None = None
    """RFC 3339 string (unlike ContainerSummary.Created, which is an int)."""
    path: str | None = None
    args: list[str] | None = None
    state: ContainerState | None = None
    image: str | None = None
    resolv_conf_path: str | None = None
    hostname_path: str | None = None
    hosts_path: str | None = None
    log_path: str | None = None
    name: str | None = None
    """With the leading slash, e.g. "/web"."""
    restart_count: int | None = None
    driver: str | None = None
    platform: str | None = None
    mount_label: str | None = None
    process_label: str | None = None
    app_armor_profile: str | None = None
    exec_ids: list[str] | None = msgspec.field(default=None, name="ExecIDs")
    host_config: HostConfig | None = None
    graph_driver: DriverData | None = None
    storage: ContainerStorage | None = None
    size_rw: int | None = None
    """Only with ?size=true."""
    size_root_fs: int | None = None
    mounts: list[MountPoint] | None = None
    config: ContainerConfig | None = None
    network_settings: NetworkSettings | None = None


# --------------------------------------------------------------------------------------------
# GET /containers/json
# --------------------------------------------------------------------------------------------


class Port(Model):
    """A port of a listed container (``Ports[]`` in GET /containers/json)."""

    ip: str | None = msgspec.field(default=None, name="IP")
    private_port: int | None = None
    public_port: int | None = None
    type: str | None = None
    """``"tcp"``, ``"udp"``, ``"sctp"``."""


class ContainerSummaryHostConfig(Model):
    """``HostConfig`` of a listed container: only the network mode and annotations."""

    network_mode: str | None = None
    annotations: dict[str, str] | None = None
    """Not in API 1.41."""


class ContainerSummaryNetworkSettings(Model):
    """``NetworkSettings`` of a listed container: only the attached networks."""

    networks: dict[str, EndpointSettings] | None = None


class ContainerSummaryHealth(Model):
    """``Health`` of a listed container (API 1.52+): status and failing streak, no log."""

    status: str | None = None
    failing_streak: int | None = None


class ContainerSummary(Model):
    """One item of GET /containers/json (and of ``Containers`` in GET /system/df).

    ``ImageManifestDescriptor`` (not in API 1.41; an OCI descriptor) is not modelled.
    """

    id: str | None = None
    names: list[str] | None = None
    """With leading slashes, e.g. ["/web"]."""
    image: str | None = None
    image_id: str | None = msgspec.field(default=None, name="ImageID")
    command: str | None = None
    created: int | None = None
    """Seconds since the Unix epoch (an int, unlike ContainerInspect.Created)."""
    ports: list[Port] | None = None
    size_rw: int | None = None
    """Only with ?size=true."""
    size_root_fs: int | None = None
    labels: dict[str, str] | None = None
    state: str | None = None
    status: str | None = None
    host_config: ContainerSummaryHostConfig | None = None
    network_settings: ContainerSummaryNetworkSettings | None = None
    mounts: list[MountPoint] | None = None
    health: ContainerSummaryHealth | None = None


# --------------------------------------------------------------------------------------------
# Small responses
# --------------------------------------------------------------------------------------------


class ContainerWaitExitError(Model):
    """``Error`` of POST /containers/{id}/wait: set when waiting failed."""

    message: str | None = None


class ContainerWaitResponse(Model):
    """The response of POST /containers/{id}/wait."""

    status_code: int | None = None
    error: ContainerWaitExitError | None = None


class ContainerTopResponse(Model):
    """The response of GET /containers/{id}/top: column titles and one row per process."""

    titles: list[str] | None = None
    processes: list[list[str]] | None = None


CHANGE_MODIFIED: Final = 0
"""``FilesystemChange.kind`` of a modified path ("C" in ``docker diff``)."""
CHANGE_ADDED: Final = 1
"""``FilesystemChange.kind`` of an added path ("A" in ``docker diff``)."""
CHANGE_DELETED: Final = 2
"""``FilesystemChange.kind`` of a deleted path ("D" in ``docker diff``)."""


class FilesystemChange(Model):
    """One item of GET /containers/{id}/changes.

    ``kind`` is ``CHANGE_MODIFIED`` (0), ``CHANGE_ADDED`` (1) or ``CHANGE_DELETED`` (2).
    """

    path: str | None = None
    kind: int | None = None


class ContainerPruneResponse(Model):
    """The response of POST /containers/prune."""

    containers_deleted: list[str] | None = None
    space_reclaimed: int | None = None
