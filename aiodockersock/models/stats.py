"""Container resource usage: ``GET /containers/{id}/stats`` (the 1.56 spec's definitions).

The Engine names these fields in snake_case on the wire, unlike the rest of its API. The
helpers compute what ``docker stats`` shows, the same way: CPU % from the change against the
previous sample, memory use without the page cache, and network and block I/O totals.
Which fields are filled depends on the platform and the cgroup version (v1 or v2).
"""

from __future__ import annotations

import msgspec

from ._base import Model

__all__ = [
    "ContainerBlkioStatEntry",
    "ContainerBlkioStats",
    "ContainerCPUStats",
    "ContainerCPUUsage",
    "ContainerMemoryStats",
    "ContainerNetworkStats",
    "ContainerPidsStats",
    "ContainerStats",
    "ContainerStorageStats",
    "ContainerThrottlingData",
]


class ContainerThrottlingData(Model, rename=None):
    """CPU throttling under a CPU quota (Linux)."""

    periods: int | None = None
    throttled_periods: int | None = None
    throttled_time: int | None = None
    """Nanoseconds."""


class ContainerCPUUsage(Model, rename=None):
    """CPU time used, in nanoseconds."""

    total_usage: int | None = None
    percpu_usage: list[int] | None = None
    """cgroup v1 only."""
    usage_in_kernelmode: int | None = None
    usage_in_usermode: int | None = None


class ContainerCPUStats(Model, rename=None):
    """CPU usage of the container and of the whole system at the time of a sample."""

    cpu_usage: ContainerCPUUsage | None = None
    system_cpu_usage: int | None = None
    """Nanoseconds of host CPU time (all CPUs)."""
    online_cpus: int | None = None
    throttling_data: ContainerThrottlingData | None = None


class ContainerMemoryStats(Model, rename=None):
    """Memory use, in bytes; ``stats`` holds the cgroup's own counters (they differ by
    cgroup version: ``inactive_file`` on v2, ``total_inactive_file``/``cache`` on v1)."""

    usage: int | None = None
    max_usage: int | None = None
    """cgroup v1 only."""
    stats: dict[str, int | None] | None = None
    failcnt: int | None = None
    """cgroup v1 only."""
    limit: int | None = None
    commitbytes: int | None = None
    """Windows only."""
    commitpeakbytes: int | None = None
    """Windows only."""
    privateworkingset: int | None = None
    """Windows only."""


class ContainerBlkioStatEntry(Model, rename=None):
    """One block I/O counter of one device (``op``: ``read``, ``write``, ``total`` …)."""

    major: int | None = None
    minor: int | None = None
    op: str | None = None
    value: int | None = None


class ContainerBlkioStats(Model, rename=None):
    """Block I/O counters per device (on cgroup v2 only ``io_service_bytes_recursive``)."""

    io_service_bytes_recursive: list[ContainerBlkioStatEntry] | None = None
    io_serviced_recursive: list[ContainerBlkioStatEntry] | None = None
    io_queue_recursive: list[ContainerBlkioStatEntry] | None = None
    io_service_time_recursive: list[ContainerBlkioStatEntry] | None = None
    io_wait_time_recursive: list[ContainerBlkioStatEntry] | None = None
    io_merged_recursive: list[ContainerBlkioStatEntry] | None = None
    io_time_recursive: list[ContainerBlkioStatEntry] | None = None
    sectors_recursive: list[ContainerBlkioStatEntry] | None = None


class ContainerNetworkStats(Model, rename=None):
    """Traffic of one network interface of the container."""

    rx_bytes: int | None = None
    rx_packets: int | None = None
    rx_errors: int | None = None
    rx_dropped: int | None = None
    tx_bytes: int | None = None
    tx_packets: int | None = None
    tx_errors: int | None = None
    tx_dropped: int | None = None
    endpoint_id: str | None = None
    """Windows only."""
    instance_id: str | None = None
    """Windows only."""


class ContainerPidsStats(Model, rename=None):
    """How many processes (tasks) the container has, and its limit."""

    current: int | None = None
    limit: int | None = None


class ContainerStorageStats(Model, rename=None):
    """Disk I/O (Windows only)."""

    read_count_normalized: int | None = None
    read_size_bytes: int | None = None
    write_count_normalized: int | None = None
    write_size_bytes: int | None = None


def _sum_op(entries: list[ContainerBlkioStatEntry] | None, op: str) -> int:
    return sum(e.value or 0 for e in entries or () if (e.op or "").lower() == op)


class ContainerStats(Model, rename=None):
    """One sample of a container's resource usage, with the figures ``docker stats`` shows.

    Attributes:
        id: the container's id (Podman spells the field ``Id``; it is read from there too).
        name: its name (``/web``; Podman sends it without the slash, which is added).
        read: when the sample was taken (RFC 3339).
        preread: when the previous sample (``precpu_stats``) was taken.
        networks: per interface; ``None`` for a container without a network.
    """

    id: str | None = None
    _podman_id: str | None = msgspec.field(default=None, name="Id")
    """Podman's service sends the id as "Id": copied into ``id`` when that is missing."""
    name: str | None = None
    os_type: str | None = None
    read: str | None = None
    preread: str | None = None
    cpu_stats: ContainerCPUStats | None = None
    precpu_stats: ContainerCPUStats | None = None
    memory_stats: ContainerMemoryStats | None = None
    networks: dict[str, ContainerNetworkStats] | None = None
    pids_stats: ContainerPidsStats | None = None
    blkio_stats: ContainerBlkioStats | None = None
    num_procs: int | None = None
    storage_stats: ContainerStorageStats | None = None

    def __post_init__(self) -> None:
        if self.id is None and self._podman_id is not None:  # Podman's form
            msgspec.structs.force_setattr(self, "id", self._podman_id)
            if self.name and not self.name.startswith("/"):
                msgspec.structs.force_setattr(self, "name", f"/{self.name}")

    @property
    def cpu_percent(self) -> float:
        """CPU use since the previous sample, in percent of one CPU (200.0 = two CPUs busy),
        as ``docker stats`` computes it; 0.0 when there is no previous sample."""
        cur, pre = self.cpu_stats, self.precpu_stats
        if cur is None or pre is None or cur.cpu_usage is None:
            return 0.0
        total = cur.cpu_usage.total_usage or 0
        pre_total = (pre.cpu_usage.total_usage or 0) if pre.cpu_usage is not None else 0
        cpu_delta = total - pre_total
        system_delta = (cur.system_cpu_usage or 0) - (pre.system_cpu_usage or 0)
        if cpu_delta <= 0 or system_delta <= 0:
            return 0.0
        cpus = cur.online_cpus or len(cur.cpu_usage.percpu_usage or ()) or 1
        return cpu_delta / system_delta * cpus * 100.0

    @property
    def memory_usage(self) -> int:
        """Memory in use in bytes, without the reclaimable page cache (as ``docker stats``)."""
        mem = self.memory_stats
        if mem is None or mem.usage is None:
            return 0
        counters = mem.stats or {}
        for key in ("total_inactive_file", "inactive_file"):  # cgroup v1, then v2
            value = counters.get(key)
            if value is not None and value < mem.usage:
                return mem.usage - value
        return mem.usage

    @property
    def memory_limit(self) -> int:
        """The memory limit in bytes (the host's memory when the container has none)."""
        mem = self.memory_stats
        return (mem.limit or 0) if mem is not None else 0

    @property
    def memory_percent(self) -> float:
        """:attr:`memory_usage` as a percentage of :attr:`memory_limit`."""
        limit = self.memory_limit
        return self.memory_usage / limit * 100.0 if limit else 0.0

    @property
    def network_rx_bytes(self) -> int:
        """Bytes received over all interfaces."""
        return sum(n.rx_bytes or 0 for n in (self.networks or {}).values())

    @property
    def network_tx_bytes(self) -> int:
        """Bytes sent over all interfaces."""
        return sum(n.tx_bytes or 0 for n in (self.networks or {}).values())

    @property
    def block_read_bytes(self) -> int:
        """Bytes read from block devices."""
        blkio = self.blkio_stats
        return _sum_op(blkio.io_service_bytes_recursive, "read") if blkio is not None else 0

    @property
    def block_write_bytes(self) -> int:
        """Bytes written to block devices."""
        blkio = self.blkio_stats
        return _sum_op(blkio.io_service_bytes_recursive, "write") if blkio is not None else 0

    @property
    def pids(self) -> int:
        """How many processes the container runs."""
        pids = self.pids_stats
        return (pids.current or 0) if pids is not None else 0
