"""Network structs (the network definitions of API 1.41 and 1.56).

API 1.56 splits what 1.41 calls ``Network`` into ``NetworkSummary`` (items of GET /networks) and
``NetworkInspect`` (GET /networks/{id}, adding ``Containers``, ``Services`` and ``Status``), and
renames ``NetworkContainer`` to ``EndpointResource``; one :class:`Network` serves both answers
here (a listed network's ``containers`` is empty or ``None``).
"""

from __future__ import annotations

import msgspec

from ._base import Model
from .containers import EndpointSettings

__all__ = [
    "IPAM",
    "ConfigReference",
    "IPAMConfig",
    "Network",
    "NetworkConnectRequest",
    "NetworkContainer",
    "NetworkCreateRequest",
    "NetworkCreateResponse",
    "NetworkDisconnectRequest",
    "NetworkPruneResponse",
    "NetworkTaskInfo",
    "PeerInfo",
    "ServiceInfo",
]


class IPAMConfig(Model):
    """One address pool of a network (an item of ``IPAM.Config``)."""

    subnet: str | None = None
    """CIDR, e.g. "10.10.0.0/24" or "fd00:1::/64"."""
    ip_range: str | None = msgspec.field(default=None, name="IPRange")
    """The part of the subnet dynamic addresses are taken from (CIDR)."""
    gateway: str | None = None
    auxiliary_addresses: dict[str, str] | None = None
    """Host name -> address the IPAM driver must not hand out."""


class IPAM(Model):
    """A network's IP address management: its driver, address pools and driver options."""

    driver: str | None = None
    """``"default"`` unless an IPAM plugin is used."""
    config: list[IPAMConfig] | None = None
    options: dict[str, str] | None = None


class ConfigReference(Model):
    """``ConfigFrom``: the config-only network a network takes its configuration from."""

    network: str | None = None
    """Empty when the network has its own configuration."""


class PeerInfo(Model):
    """A swarm node taking part in an overlay network (items of ``Network.Peers``)."""

    name: str | None = None
    ip: str | None = msgspec.field(default=None, name="IP")


class NetworkContainer(Model):
    """A container's endpoint on a network, as the network reports it (``Network.Containers``).

    ``EndpointResource`` in API 1.56.
    """

    name: str | None = None
    endpoint_id: str | None = msgspec.field(default=None, name="EndpointID")
    mac_address: str | None = None
    ipv4_address: str | None = msgspec.field(default=None, name="IPv4Address")
    """Address with its prefix length, e.g. "10.10.0.2/24"; empty when none."""
    ipv6_address: str | None = msgspec.field(default=None, name="IPv6Address")


class NetworkTaskInfo(Model):
    """A swarm task behind a service on a network (``ServiceInfo.Tasks``)."""

    name: str | None = None
    endpoint_id: str | None = msgspec.field(default=None, name="EndpointID")
    endpoint_ip: str | None = msgspec.field(default=None, name="EndpointIP")
    info: dict[str, str] | None = None


class ServiceInfo(Model):
    """A swarm service's load-balancing state on a network (verbose inspect only)."""

    vip: str | None = msgspec.field(default=None, name="VIP")
    ports: list[str] | None = None
    local_lb_index: int | None = msgspec.field(default=None, name="LocalLBIndex")
    tasks: list[NetworkTaskInfo] | None = None


class Network(Model):
    """A network: GET /networks/{id} and the items of GET /networks.

    ``Status`` (API 1.52+, newer than this library speaks) is not modelled.
    """

    name: str | None = None
    id: str | None = None
    created: str | None = None
    """RFC 3339 with nanoseconds."""
    scope: str | None = None
    """``"local"``, ``"global"`` or ``"swarm"``."""
    driver: str | None = None
    enable_ipv4: bool | None = msgspec.field(default=None, name="EnableIPv4")
    """Not in API 1.41 (set from API 1.48 on)."""
    enable_ipv6: bool | None = msgspec.field(default=None, name="EnableIPv6")
    ipam: IPAM | None = msgspec.field(default=None, name="IPAM")
    internal: bool | None = None
    attachable: bool | None = None
    ingress: bool | None = None
    config_from: ConfigReference | None = None
    config_only: bool | None = None
    containers: dict[str, NetworkContainer] | None = None
    """Container id -> its endpoint; only filled in by GET /networks/{id}."""
    options: dict[str, str] | None = None
    labels: dict[str, str] | None = None
    peers: list[PeerInfo] | None = None
    """Overlay networks only."""
    services: dict[str, ServiceInfo] | None = None
    """Service name -> load-balancing state; verbose inspect of swarm-scoped networks only."""


class NetworkCreateRequest(Model):
    """The body of POST /networks/create (``Networks.create`` builds it from its arguments)."""

    name: str | None = None
    check_duplicate: bool | None = None
    """Not in API 1.56: the daemon always refuses a duplicate name from API 1.44 on."""
    driver: str | None = None
    scope: str | None = None
    internal: bool | None = None
    attachable: bool | None = None
    ingress: bool | None = None
    config_only: bool | None = None
    config_from: ConfigReference | None = None
    ipam: IPAM | None = msgspec.field(default=None, name="IPAM")
    enable_ipv4: bool | None = msgspec.field(default=None, name="EnableIPv4")
    """Not in API 1.41 (honoured from API 1.48 on)."""
    enable_ipv6: bool | None = msgspec.field(default=None, name="EnableIPv6")
    options: dict[str, str] | None = None
    labels: dict[str, str] | None = None


class NetworkCreateResponse(Model):
    """The answer to POST /networks/create."""

    id: str | None = None
    warning: str | None = None
    """The daemon's warning, e.g. about a duplicate name (empty when none)."""


class NetworkConnectRequest(Model):
    """The body of POST /networks/{id}/connect."""

    container: str | None = None
    endpoint_config: EndpointSettings | None = None


class NetworkDisconnectRequest(Model):
    """The body of POST /networks/{id}/disconnect."""

    container: str | None = None
    force: bool | None = None


class NetworkPruneResponse(Model):
    """The answer to POST /networks/prune."""

    networks_deleted: list[str] | None = None
    """Names of the removed networks; None when nothing was removed."""
