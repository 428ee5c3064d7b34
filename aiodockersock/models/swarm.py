"""Swarm and node structs: GET /swarm, the bodies of /swarm/init, /join, /update and /unlock,
GET /nodes and GET /nodes/{id} (the ``Swarm``, ``SwarmSpec``, ``JoinTokens``, ``Node``,
``NodeSpec``, ``NodeDescription`` … definitions of API 1.41 and 1.56).

The pieces every swarm object shares (:class:`ObjectVersion`, :class:`TLSInfo`, the generic
resources) live here too; the system module re-exports those it uses in GET /info.

Durations in specs are integers in nanoseconds, as on the wire (``HeartbeatPeriod``,
``NodeCertExpiry``). Enumerations (``Role``, ``Availability``, ``State`` …) are plain ``str``:
a newer Engine may add values.
"""

from __future__ import annotations

import msgspec

from ._base import Model

__all__ = [
    "CAConfig",
    "ClusterInfo",
    "DiscreteResourceSpec",
    "DispatcherConfig",
    "EncryptionConfig",
    "EngineDescription",
    "EnginePlugin",
    "ExternalCA",
    "GenericResource",
    "JoinTokens",
    "ManagerStatus",
    "NamedDriver",
    "NamedResourceSpec",
    "Node",
    "NodeDescription",
    "NodePlatform",
    "NodeSpec",
    "NodeStatus",
    "ObjectVersion",
    "OrchestrationConfig",
    "RaftConfig",
    "ResourceObject",
    "SwarmInitRequest",
    "SwarmInspect",
    "SwarmJoinRequest",
    "SwarmSpec",
    "SwarmUnlockRequest",
    "TLSInfo",
    "TaskDefaults",
    "TaskLogDriver",
    "UnlockKeyResponse",
]


# --------------------------------------------------------------------------------------------
# What every swarm object shares
# --------------------------------------------------------------------------------------------


class ObjectVersion(Model):
    """The version of a swarm object (swarm, node, service, secret, config): an update must
    name the version it read, or the manager refuses it (optimistic concurrency)."""

    index: int | None = None


class TLSInfo(Model):
    """The swarm's root CA and issuer (``Swarm.TLSInfo``; a node's ``Description.TLSInfo``)."""

    trust_root: str | None = None
    """The root CA certificate, PEM."""
    cert_issuer_subject: str | None = None
    """The issuer's subject, base64 DER."""
    cert_issuer_public_key: str | None = None
    """The issuer's public key, base64 DER."""


class NamedResourceSpec(Model):
    """A string-valued generic resource, e.g. ``GPU=UUID1``."""

    kind: str | None = None
    value: str | None = None


class DiscreteResourceSpec(Model):
    """An integer-valued generic resource, e.g. ``SSD=3``."""

    kind: str | None = None
    value: int | None = None


class GenericResource(Model):
    """One item of ``GenericResources``: exactly one of the two specs is set."""

    named_resource_spec: NamedResourceSpec | None = None
    discrete_resource_spec: DiscreteResourceSpec | None = None


class ResourceObject(Model):
    """CPU, memory and generic resources (a node's ``Description.Resources``; a service's
    reservations)."""

    nano_cpus: int | None = msgspec.field(default=None, name="NanoCPUs")
    """CPUs in units of 1e-9 CPU (``4_000_000_000`` = 4 CPUs)."""
    memory_bytes: int | None = None
    generic_resources: list[GenericResource] | None = None


# --------------------------------------------------------------------------------------------
# The swarm: GET /swarm, POST /swarm/init, /join, /update, /unlock, GET /swarm/unlockkey
# --------------------------------------------------------------------------------------------


class OrchestrationConfig(Model):
    """``SwarmSpec.Orchestration``."""

    task_history_retention_limit: int | None = None
    """How many finished tasks to keep per slot (5 by default)."""


class RaftConfig(Model):
    """``SwarmSpec.Raft``: the managers' consensus settings (ticks are heartbeat rounds)."""

    snapshot_interval: int | None = None
    keep_old_snapshots: int | None = None
    log_entries_for_slow_followers: int | None = None
    election_tick: int | None = None
    heartbeat_tick: int | None = None


class DispatcherConfig(Model):
    """``SwarmSpec.Dispatcher``."""

    heartbeat_period: int | None = None
    """How often nodes report to the managers, in nanoseconds (5 s by default)."""


class ExternalCA(Model):
    """One item of ``SwarmSpec.CAConfig.ExternalCAs``: a CA that signs node certificates."""

    protocol: str | None = None
    """``"cfssl"``, the only one dockerd knows."""
    url: str | None = msgspec.field(default=None, name="URL")
    options: dict[str, str] | None = None
    ca_cert: str | None = msgspec.field(default=None, name="CACert")
    """The root CA of this external CA, PEM."""


class CAConfig(Model):
    """``SwarmSpec.CAConfig``: node certificates and who signs them."""

    node_cert_expiry: int | None = None
    """How long node certificates are valid, in nanoseconds (90 days by default)."""
    external_cas: list[ExternalCA] | None = msgspec.field(default=None, name="ExternalCAs")
    signing_ca_cert: str | None = msgspec.field(default=None, name="SigningCACert")
    signing_ca_key: str | None = msgspec.field(default=None, name="SigningCAKey")
    """Only ever sent, never returned by the daemon."""
    force_rotate: int | None = None
    """Increment it to rotate the root CA even with the same certificate and key."""


class EncryptionConfig(Model):
    """``SwarmSpec.EncryptionConfig``."""

    auto_lock_managers: bool | None = None
    """Lock managers when their daemon restarts (``docker swarm update --autolock``): they
    then need ``swarm.unlock(key)``."""


class NamedDriver(Model):
    """A driver by name, with its options (``Driver``: a secret store, a templating engine, a
    service's log driver, the swarm's default log driver of tasks)."""

    name: str | None = None
    options: dict[str, str] | None = None


#: ``SwarmSpec.TaskDefaults.LogDriver``: the log driver of tasks that name none (a
#: :class:`NamedDriver`).
TaskLogDriver = NamedDriver


class TaskDefaults(Model):
    """``SwarmSpec.TaskDefaults``: defaults for the tasks the swarm creates."""

    log_driver: TaskLogDriver | None = None


class SwarmSpec(Model):
    """The swarm's settings: ``Spec`` of GET /swarm, the body of POST /swarm/update.

    An update replaces the whole spec: start from the current one (``swarm.update()`` does).
    """

    name: str | None = None
    """Always ``"default"``."""
    labels: dict[str, str] | None = None
    orchestration: OrchestrationConfig | None = None
    raft: RaftConfig | None = None
    dispatcher: DispatcherConfig | None = None
    ca_config: CAConfig | None = msgspec.field(default=None, name="CAConfig")
    encryption_config: EncryptionConfig | None = None
    task_defaults: TaskDefaults | None = None


class JoinTokens(Model):
    """The tokens other nodes join with (only managers see them)."""

    worker: str | None = None
    manager: str | None = None


class ClusterInfo(Model):
    """The swarm a manager belongs to: ``Swarm.Cluster`` in GET /info, and the base of
    :class:`SwarmInspect`."""

    id: str | None = msgspec.field(default=None, name="ID")
    version: ObjectVersion | None = None
    created_at: str | None = None
    """RFC 3339 string."""
    updated_at: str | None = None
    """RFC 3339 string."""
    spec: SwarmSpec | None = None
    tls_info: TLSInfo | None = msgspec.field(default=None, name="TLSInfo")
    root_rotation_in_progress: bool | None = None
    data_path_port: int | None = None
    """The UDP port of the overlay networks' VXLAN traffic (4789 by default)."""
    default_addr_pool: list[str] | None = None
    """The CIDRs overlay networks' subnets are taken from."""
    subnet_size: int | None = None


class SwarmInspect(ClusterInfo):
    """GET /swarm: the swarm, as a manager sees it, with the join tokens."""

    join_tokens: JoinTokens | None = None


class SwarmInitRequest(Model):
    """The body of POST /swarm/init."""

    listen_addr: str | None = None
    advertise_addr: str | None = None
    data_path_addr: str | None = None
    data_path_port: int | None = None
    default_addr_pool: list[str] | None = None
    force_new_cluster: bool | None = None
    subnet_size: int | None = None
    spec: SwarmSpec | None = None


class SwarmJoinRequest(Model):
    """The body of POST /swarm/join."""

    listen_addr: str | None = None
    advertise_addr: str | None = None
    data_path_addr: str | None = None
    remote_addrs: list[str] | None = None
    join_token: str | None = None


class SwarmUnlockRequest(Model):
    """The body of POST /swarm/unlock."""

    unlock_key: str | None = None


class UnlockKeyResponse(Model):
    """GET /swarm/unlockkey."""

    unlock_key: str | None = None
    """``SWMKEY-1-…``; empty when autolock is off."""


# --------------------------------------------------------------------------------------------
# Nodes: GET /nodes, GET /nodes/{id}, POST /nodes/{id}/update
# --------------------------------------------------------------------------------------------


class NodeSpec(Model):
    """A node's settings: ``Node.Spec``, the body of POST /nodes/{id}/update."""

    name: str | None = None
    labels: dict[str, str] | None = None
    """The node's labels (``node.labels.*`` in placement constraints)."""
    role: str | None = None
    """``"worker"`` or ``"manager"``."""
    availability: str | None = None
    """``"active"``, ``"pause"`` (no new tasks) or ``"drain"`` (tasks moved elsewhere)."""


class NodePlatform(Model):
    """A node's platform (the ``Platform`` definition of the swarm API, not GET /version's)."""

    architecture: str | None = None
    """``"x86_64"``, ``"aarch64"`` …"""
    os: str | None = msgspec.field(default=None, name="OS")
    """``"linux"``, ``"windows"``."""


class EnginePlugin(Model):
    """One item of ``EngineDescription.Plugins``: a plugin the node's engine has."""

    type: str | None = None
    """``"Volume"``, ``"Network"``, ``"Log"`` …"""
    name: str | None = None


class EngineDescription(Model):
    """``NodeDescription.Engine``: the node's Docker engine."""

    engine_version: str | None = None
    labels: dict[str, str] | None = None
    """The engine's own labels (dockerd ``--label``), not the node's."""
    plugins: list[EnginePlugin] | None = None


class NodeDescription(Model):
    """``Node.Description``: what the node reported about itself."""

    hostname: str | None = None
    platform: NodePlatform | None = None
    resources: ResourceObject | None = None
    engine: EngineDescription | None = None
    tls_info: TLSInfo | None = msgspec.field(default=None, name="TLSInfo")


class NodeStatus(Model):
    """``Node.Status``."""

    state: str | None = None
    """``"unknown"``, ``"down"``, ``"ready"``, ``"disconnected"``."""
    message: str | None = None
    addr: str | None = None
    """The IP address the node reports from."""


class ManagerStatus(Model):
    """``Node.ManagerStatus`` (managers only)."""

    leader: bool | None = None
    reachability: str | None = None
    """``"unknown"``, ``"unreachable"``, ``"reachable"``."""
    addr: str | None = None
    """The address other managers reach it at (``host:port``)."""


class Node(Model):
    """A swarm node: GET /nodes/{id} and the items of GET /nodes."""

    id: str | None = msgspec.field(default=None, name="ID")
    version: ObjectVersion | None = None
    created_at: str | None = None
    """RFC 3339 string."""
    updated_at: str | None = None
    """RFC 3339 string."""
    spec: NodeSpec | None = None
    description: NodeDescription | None = None
    status: NodeStatus | None = None
    manager_status: ManagerStatus | None = None
    """``None`` for a worker."""

    @property
    def hostname(self) -> str | None:
        """The node's hostname (``Description.Hostname``)."""
        return self.description.hostname if self.description is not None else None

    @property
    def role(self) -> str | None:
        """``"manager"`` or ``"worker"`` (``Spec.Role``)."""
        return self.spec.role if self.spec is not None else None

    @property
    def availability(self) -> str | None:
        """``"active"``, ``"pause"`` or ``"drain"`` (``Spec.Availability``)."""
        return self.spec.availability if self.spec is not None else None

    @property
    def state(self) -> str | None:
        """``"ready"``, ``"down"`` … (``Status.State``)."""
        return self.status.state if self.status is not None else None

    @property
    def leader(self) -> bool:
        """Whether this node is the managers' leader."""
        return bool(self.manager_status is not None and self.manager_status.leader)
