"""Swarm service and task structs (the ``Service``, ``ServiceSpec``, ``TaskSpec`` and ``Task``
definitions of API 1.41 and 1.56).

A few rarely used corners are kept as plain mappings rather than structs: a container's
``Privileges`` (credential spec, SELinux, seccomp, AppArmor), a plugin task's ``PluginSpec``,
``NetworkAttachmentSpec`` and placement ``Preferences``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._base import Model
from .containers import HealthConfig, Mount, Ulimit
from .networks import Network
from .swarm import NamedDriver, ResourceObject
from .system import GenericResource, ObjectVersion

__all__ = [
    "ContainerSpec",
    "EndpointPortConfig",
    "EndpointSpec",
    "NetworkAttachmentConfig",
    "PlacementPlatform",
    "ReplicatedJobMode",
    "ReplicatedMode",
    "ResourceLimit",
    "ResourceReservation",
    "Service",
    "ServiceCreateResponse",
    "ServiceEndpoint",
    "ServiceEndpointVirtualIP",
    "ServiceJobStatus",
    "ServiceMode",
    "ServiceSpec",
    "ServiceStatus",
    "ServiceUpdateConfig",
    "ServiceUpdateResponse",
    "ServiceUpdateStatus",
    "Task",
    "TaskConfig",
    "TaskContainerStatus",
    "TaskDNSConfig",
    "TaskFileTarget",
    "TaskNetworkAttachment",
    "TaskPlacement",
    "TaskPortStatus",
    "TaskResources",
    "TaskRestartPolicy",
    "TaskSecret",
    "TaskSpec",
    "TaskStatus",
]


class EndpointPortConfig(Model):
    """A published port of a service (``EndpointPortConfig``)."""

    name: str | None = None
    protocol: str | None = None
    """``"tcp"``, ``"udp"`` or ``"sctp"``."""
    target_port: int | None = None
    """The port inside the container."""
    published_port: int | None = None
    """The port on the swarm's nodes."""
    publish_mode: str | None = None
    """``"ingress"`` (the routing mesh, default) or ``"host"``."""


class EndpointSpec(Model):
    """How a service is reached (``EndpointSpec``)."""

    mode: str | None = None
    """``"vip"`` (default) or ``"dnsrr"``."""
    ports: list[EndpointPortConfig] | None = None


class NetworkAttachmentConfig(Model):
    """A network a service's tasks join (``NetworkAttachmentConfig``)."""

    target: str | None = None
    """The network's name or id."""
    aliases: list[str] | None = None
    driver_opts: dict[str, str] | None = None


class TaskFileTarget(Model):
    """Where a secret or config appears in a task's container (its ``File``)."""

    name: str | None = None
    """The file's name: under ``/run/secrets/`` for a secret; an absolute path or a name
    relative to the working directory for a config."""
    uid: str | None = msgspec.field(default=None, name="UID")
    gid: str | None = msgspec.field(default=None, name="GID")
    mode: int | None = None
    """Permission bits (``0o444`` is the daemon's default)."""


class TaskSecret(Model):
    """A secret given to a service's tasks (``ContainerSpec.Secrets`` items)."""

    file: TaskFileTarget | None = None
    secret_id: str | None = msgspec.field(default=None, name="SecretID")
    secret_name: str | None = None


class TaskConfig(Model):
    """A config given to a service's tasks (``ContainerSpec.Configs`` items)."""

    file: TaskFileTarget | None = None
    runtime: dict[str, Any] | None = None
    """Set (to ``{}``) instead of ``file`` for a credential spec config (Windows)."""
    config_id: str | None = msgspec.field(default=None, name="ConfigID")
    config_name: str | None = None


class TaskDNSConfig(Model):
    """A task container's resolver settings (``ContainerSpec.DNSConfig``)."""

    nameservers: list[str] | None = None
    search: list[str] | None = None
    options: list[str] | None = None


class ContainerSpec(Model):
    """The container a task runs (``TaskSpec.ContainerSpec``)."""

    image: str | None = None
    """The image: by id (``sha256:…``) or digest, a task starts without asking a registry."""
    labels: dict[str, str] | None = None
    command: list[str] | None = None
    """Replaces the image's entrypoint."""
    args: list[str] | None = None
    """Arguments to the command (the image's ``CMD`` is replaced)."""
    hostname: str | None = None
    env: list[str] | None = None
    """``"KEY=value"`` items."""
    dir: str | None = None
    user: str | None = None
    groups: list[str] | None = None
    privileges: dict[str, Any] | None = None
    """``CredentialSpec``, ``SELinuxContext``, ``Seccomp``, ``AppArmor``, ``NoNewPrivileges``,
    as the Engine spells them."""
    tty: bool | None = msgspec.field(default=None, name="TTY")
    open_stdin: bool | None = None
    read_only: bool | None = None
    mounts: list[Mount] | None = None
    stop_signal: str | None = None
    stop_grace_period: int | None = None
    """Nanoseconds."""
    health_check: HealthConfig | None = None
    hosts: list[str] | None = None
    """``"IP host…"`` lines for ``/etc/hosts``."""
    dns_config: TaskDNSConfig | None = msgspec.field(default=None, name="DNSConfig")
    secrets: list[TaskSecret] | None = None
    oom_score_adj: int | None = None
    configs: list[TaskConfig] | None = None
    isolation: str | None = None
    init: bool | None = None
    sysctls: dict[str, str] | None = None
    capability_add: list[str] | None = None
    capability_drop: list[str] | None = None
    ulimits: list[Ulimit] | None = None


class ResourceLimit(Model):
    """A task's resource limits (``Limit``)."""

    nano_cpus: int | None = msgspec.field(default=None, name="NanoCPUs")
    memory_bytes: int | None = None
    pids: int | None = None


#: A task's reserved resources (``TaskSpec.Resources.Reservations``): a
#: :class:`~aiodockersock.models.swarm.ResourceObject`.
ResourceReservation = ResourceObject


class TaskResources(Model):
    """``TaskSpec.Resources``."""

    limits: ResourceLimit | None = None
    reservations: ResourceReservation | None = None
    swap_bytes: int | None = None
    memory_swappiness: int | None = None


class TaskRestartPolicy(Model):
    """When the swarm restarts a service's tasks (``TaskSpec.RestartPolicy``)."""

    condition: str | None = None
    """``"none"``, ``"on-failure"`` or ``"any"`` (default)."""
    delay: int | None = None
    """Nanoseconds between restarts."""
    max_attempts: int | None = None
    """0 (default): unlimited."""
    window: int | None = None
    """Nanoseconds over which restarts are counted."""


class PlacementPlatform(Model):
    """A platform a task may run on (``Platform``)."""

    architecture: str | None = None
    os: str | None = msgspec.field(default=None, name="OS")


class TaskPlacement(Model):
    """Where a service's tasks may run (``TaskSpec.Placement``)."""

    constraints: list[str] | None = None
    """``"node.role==manager"``, ``"node.labels.zone!=b"`` …"""
    preferences: list[dict[str, Any]] | None = None
    """``[{"Spread": {"SpreadDescriptor": "node.labels.zone"}}]``."""
    max_replicas: int | None = None
    """Most tasks of the service on one node (0: no limit)."""
    platforms: list[PlacementPlatform] | None = None


class TaskSpec(Model):
    """What each task of a service runs (``TaskSpec``; ``ServiceSpec.TaskTemplate``)."""

    plugin_spec: dict[str, Any] | None = None
    """A plugin task (``Runtime == "plugin"``), as the Engine spells it."""
    container_spec: ContainerSpec | None = None
    network_attachment_spec: dict[str, Any] | None = None
    resources: TaskResources | None = None
    restart_policy: TaskRestartPolicy | None = None
    placement: TaskPlacement | None = None
    force_update: int | None = None
    """A counter: a change forces a new rollout even with an unchanged spec."""
    runtime: str | None = None
    networks: list[NetworkAttachmentConfig] | None = None
    log_driver: NamedDriver | None = None


class ReplicatedMode(Model):
    """``ServiceSpec.Mode.Replicated``."""

    replicas: int | None = None


class ReplicatedJobMode(Model):
    """``ServiceSpec.Mode.ReplicatedJob`` (API 1.41+)."""

    max_concurrent: int | None = None
    total_completions: int | None = None


class ServiceMode(Model):
    """A service's scheduling mode: exactly one of the four is set (``ServiceSpec.Mode``)."""

    replicated: ReplicatedMode | None = None
    global_: dict[str, Any] | None = msgspec.field(default=None, name="Global")
    """``{}`` for a global service: one task on every eligible node."""
    replicated_job: ReplicatedJobMode | None = None
    global_job: dict[str, Any] | None = None


class ServiceUpdateConfig(Model):
    """How a service's tasks are replaced on an update or a rollback
    (``ServiceSpec.UpdateConfig`` and ``RollbackConfig``)."""

    parallelism: int | None = None
    """Tasks replaced at once (0: all)."""
    delay: int | None = None
    """Nanoseconds between batches."""
    failure_action: str | None = None
    """``"continue"``, ``"pause"`` or ``"rollback"`` (updates only)."""
    monitor: int | None = None
    """Nanoseconds a new task is watched for failure."""
    max_failure_ratio: float | None = None
    order: str | None = None
    """``"stop-first"`` (default) or ``"start-first"``."""


class ServiceSpec(Model):
    """What a service is: ``Service.Spec``, and the body of POST /services/create and
    /services/{id}/update."""

    name: str | None = None
    labels: dict[str, str] | None = None
    task_template: TaskSpec | None = None
    mode: ServiceMode | None = None
    update_config: ServiceUpdateConfig | None = None
    rollback_config: ServiceUpdateConfig | None = None
    networks: list[NetworkAttachmentConfig] | None = None
    """Deprecated by the Engine: use ``task_template.networks``."""
    endpoint_spec: EndpointSpec | None = None


class ServiceEndpointVirtualIP(Model):
    """``Service.Endpoint.VirtualIPs`` items."""

    network_id: str | None = msgspec.field(default=None, name="NetworkID")
    addr: str | None = None


class ServiceEndpoint(Model):
    """A service's endpoint as the swarm set it up (``Service.Endpoint``)."""

    spec: EndpointSpec | None = None
    ports: list[EndpointPortConfig] | None = None
    virtual_ips: list[ServiceEndpointVirtualIP] | None = msgspec.field(
        default=None, name="VirtualIPs"
    )


class ServiceUpdateStatus(Model):
    """The state of a service's last update or rollback (``Service.UpdateStatus``)."""

    state: str | None = None
    """``"updating"``, ``"paused"``, ``"completed"``, ``"rollback_started"``,
    ``"rollback_paused"``, ``"rollback_completed"`` …"""
    started_at: str | None = None
    completed_at: str | None = None
    message: str | None = None


class ServiceStatus(Model):
    """Task counts, given by GET /services?status=true (API 1.41+)."""

    running_tasks: int | None = None
    desired_tasks: int | None = None
    completed_tasks: int | None = None


class ServiceJobStatus(Model):
    """The progress of a job-mode service (``Service.JobStatus``)."""

    job_iteration: ObjectVersion | None = None
    last_execution: str | None = None


class Service(Model):
    """A swarm service: GET /services/{id}, items of GET /services."""

    id: str | None = msgspec.field(default=None, name="ID")
    version: ObjectVersion | None = None
    """The version to name in an update (``version.index``)."""
    created_at: str | None = None
    updated_at: str | None = None
    spec: ServiceSpec | None = None
    previous_spec: ServiceSpec | None = None
    """The spec before the last update: what a rollback returns to."""
    endpoint: ServiceEndpoint | None = None
    update_status: ServiceUpdateStatus | None = None
    service_status: ServiceStatus | None = None
    job_status: ServiceJobStatus | None = None

    @property
    def name(self) -> str | None:
        """The service's name (``spec.name``)."""
        return self.spec.name if self.spec else None

    @property
    def replicas(self) -> int | None:
        """The desired replicas of a replicated service; ``None`` for other modes."""
        mode = self.spec.mode if self.spec else None
        return mode.replicated.replicas if mode and mode.replicated else None


class ServiceCreateResponse(Model):
    """The answer to POST /services/create."""

    id: str | None = msgspec.field(default=None, name="ID")
    warnings: list[str] | None = None
    """E.g. that the image could not be resolved to a digest."""


class ServiceUpdateResponse(Model):
    """The answer to POST /services/{id}/update."""

    warnings: list[str] | None = None


class TaskContainerStatus(Model):
    """A task's container (``ContainerStatus``)."""

    container_id: str | None = msgspec.field(default=None, name="ContainerID")
    pid: int | None = msgspec.field(default=None, name="PID")
    exit_code: int | None = None


class TaskPortStatus(Model):
    """Ports a task published in host mode (``PortStatus``)."""

    ports: list[EndpointPortConfig] | None = None


class TaskStatus(Model):
    """A task's observed state (``TaskStatus``)."""

    timestamp: str | None = None
    state: str | None = None
    """``"new"``, ``"pending"``, ``"assigned"``, ``"accepted"``, ``"preparing"``,
    ``"ready"``, ``"starting"``, ``"running"``, ``"complete"``, ``"shutdown"``, ``"failed"``,
    ``"rejected"``, ``"remove"``, ``"orphaned"``."""
    message: str | None = None
    err: str | None = None
    """Why the task failed or was rejected, as the node reported it."""
    container_status: TaskContainerStatus | None = None
    port_status: TaskPortStatus | None = None


class TaskNetworkAttachment(Model):
    """A network a task is attached to, with its addresses (``NetworkAttachment``)."""

    network: Network | None = None
    addresses: list[str] | None = None


class Task(Model):
    """One instance of a service on one node: GET /tasks/{id}, items of GET /tasks."""

    id: str | None = msgspec.field(default=None, name="ID")
    version: ObjectVersion | None = None
    created_at: str | None = None
    updated_at: str | None = None
    name: str | None = None
    labels: dict[str, str] | None = None
    spec: TaskSpec | None = None
    service_id: str | None = msgspec.field(default=None, name="ServiceID")
    slot: int | None = None
    """The replica's number (replicated services; none for a global one)."""
    node_id: str | None = msgspec.field(default=None, name="NodeID")
    assigned_generic_resources: list[GenericResource] | None = None
    status: TaskStatus | None = None
    desired_state: str | None = None
    """What the orchestrator wants: ``"running"``, ``"shutdown"``, ``"ready"`` …"""
    job_iteration: ObjectVersion | None = None
    networks_attachments: list[TaskNetworkAttachment] | None = None

    @property
    def state(self) -> str | None:
        """The observed state (``status.state``)."""
        return self.status.state if self.status else None
