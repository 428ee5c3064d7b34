"""The networks area of the Engine API: ``docker.networks``."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from ._args import Filters, container_ref, string_list, string_map
from ._exceptions import InvalidArgument, NotFound, NotSupported, ServerError
from ._podman import NO_NETWORK_TYPE_FILTER, docker_network_options
from ._transport import Area
from .models.containers import EndpointIPAMConfig, EndpointSettings
from .models.networks import (
    IPAM,
    ConfigReference,
    IPAMConfig,
    Network,
    NetworkConnectRequest,
    NetworkCreateRequest,
    NetworkCreateResponse,
    NetworkDisconnectRequest,
    NetworkPruneResponse,
)

__all__ = ["Networks"]


class Networks(Area):
    """Create, inspect, connect and remove networks (``/networks/…``)."""

    __slots__ = ()

    async def create(
        self,
        name: str,
        *,
        driver: str | None = None,
        internal: bool = False,
        attachable: bool = False,
        labels: Mapping[str, str] | None = None,
        options: Mapping[str, str] | None = None,
        ipam: IPAM | Mapping[str, Any] | None = None,
        enable_ipv6: bool | None = None,
        enable_ipv4: bool | None = None,
        scope: str | None = None,
        ingress: bool = False,
        config_only: bool = False,
        config_from: str | None = None,
        check_duplicate: bool = True,
    ) -> NetworkCreateResponse:
        """Create a network.

        ``POST /networks/create``

        Args:
            name: the network's name.
            driver: the network driver (``"bridge"`` when omitted; ``"overlay"``,
                ``"macvlan"``, ``"ipvlan"`` or a plugin's name).
            internal: no route to the outside world.
            attachable: let plain containers join a swarm-scoped network.
            labels: the network's labels.
            options: driver options, e.g. ``{"com.docker.network.driver.mtu": "1400"}``.
            ipam: address management: an ``IPAM`` struct or a mapping in the Engine's JSON
                shape (``{"Config": [{"Subnet": "10.10.0.0/24", "Gateway": "10.10.0.1"}]}``);
                the daemon picks a free subnet when omitted.
            enable_ipv6: give the network IPv6 addresses too.
            enable_ipv4: ``False`` for an IPv6-only network (API >= 1.48).
            scope: ``"local"``, ``"swarm"`` or ``"global"`` (the driver's default when omitted).
            ingress: make it the swarm's routing-mesh network.
            config_only: create a placeholder holding configuration for other networks.
            config_from: the config-only network to take this one's configuration from.
            check_duplicate: refuse a name that is already in use. Daemons below API 1.44
                otherwise create a second network of the same name; from API 1.44 on the
                daemon always refuses, and this flag is not sent.

        Returns:
            The new network's id and the daemon's warning (empty when none).

        Raises:
            InvalidArgument: an empty name, a malformed ``ipam``, labels or options that are
                not strings, or ``enable_ipv4`` on a daemon older than API 1.48.
            Conflict: a network of that name exists.
            NotFound: the driver (or the ``config_from`` network) does not exist.
            BadRequest: the daemon rejected the configuration (overlapping subnet…).
        """
        if not isinstance(name, str) or not name:
            raise InvalidArgument(f"a network needs a non-empty name, not {name!r}")
        if enable_ipv4 is not None:
            await self._t.require_api(
                "1.48", "enable_ipv4", "and would silently create an IPv4 network"
            )
        send_check = check_duplicate and not await self._t.api_at_least("1.44")
        body = NetworkCreateRequest(
            name=name,
            check_duplicate=True if send_check else None,
            driver=driver,
            scope=scope,
            internal=internal or None,
            attachable=attachable or None,
            ingress=ingress or None,
            config_only=config_only or None,
            config_from=ConfigReference(network=config_from) if config_from else None,
            ipam=_ipam(ipam),
            enable_ipv4=enable_ipv4,
            enable_ipv6=enable_ipv6,
            options=string_map("options", options),
            labels=string_map("labels", labels),
        )
        resp = await self._t.request("POST", "/networks/create", body=body)
        return resp.decode(NetworkCreateResponse)

    async def list(self, *, filters: Filters | None = None) -> builtins.list[Network]:
        """List networks.

        ``GET /networks``

        Args:
            filters: ``name``, ``id`` (both match a part), ``label`` (``"k"`` or ``"k=v"``),
                ``driver``, ``scope``, ``type`` (``"custom"`` or ``"builtin"``) and
                ``dangling`` (``"true"``: used by no container).

        Returns:
            One entry per network; ``containers`` is not filled in (use :meth:`inspect`).

        Raises:
            NotSupported: a ``type`` filter on Podman, which has none (nor built-in ``host``
                and ``none`` networks).
        """
        try:
            resp = await self._t.request("GET", "/networks", query={"filters": filters or None})
        except ServerError as exc:
            if not (filters and "type" in filters and self._t.podman_version
                    and 'filter "type"' in exc.message):
                raise
            raise NotSupported(exc.status, exc.message, method=exc.method, path=exc.path,
                               why=NO_NETWORK_TYPE_FILTER) from None
        listed = resp.decode(list[Network])
        return [_as_docker(net) for net in listed] if self._t.podman_version else listed

    async def inspect(
        self, network: str, *, verbose: bool = False, scope: str | None = None
    ) -> Network:
        """Everything the daemon knows about a network, with the containers attached to it.

        ``GET /networks/{id}``

        Args:
            network: the network's id, a unique prefix of it, or its name.
            verbose: also report the swarm services on it (swarm-scoped networks).
            scope: only find a network of this scope (``"local"``, ``"swarm"``,
                ``"global"``).

        Returns:
            The network; ``containers`` maps each attached container's id to its endpoint.

        Raises:
            NotFound: no such network (in that scope).
            BadRequest: the name is ambiguous (several networks share it).
        """
        resp = await self._t.request(
            "GET",
            self._t.path("/networks/{}", network),
            query={"verbose": verbose or None, "scope": scope},
        )
        net = resp.decode(Network)
        if not self._t.podman_version:
            return net
        if scope is not None and net.scope != scope:  # Podman ignores the scope asked for
            raise NotFound(404, f"network {network} not found", method="GET",
                           path=self._t.path("/networks/{}", network))
        return _as_docker(net)

    async def remove(self, network: str) -> None:
        """Remove a network.

        ``DELETE /networks/{id}``

        Args:
            network: the network's id or name.

        Raises:
            NotFound: no such network.
            APIError: 403 — containers are still attached, or it is a pre-defined network
                (``host``, ``none``, ``bridge``).
        """
        await self._t.request("DELETE", self._t.path("/networks/{}", network))

    async def prune(self, *, filters: Filters | None = None) -> NetworkPruneResponse:
        """Remove every network no container uses (pre-defined networks are kept).

        ``POST /networks/prune``

        Args:
            filters: ``until`` (a timestamp or duration such as ``"10m"``) and ``label``
                (``"k"``, ``"k=v"``, ``"label!=…"``) filters.

        Returns:
            The removed networks' names.
        """
        resp = await self._t.request(
            "POST", "/networks/prune", query={"filters": filters or None}
        )
        return resp.decode(NetworkPruneResponse)

    async def connect(
        self,
        network: str,
        container: str,
        *,
        aliases: Sequence[str] | None = None,
        ipv4_address: str | None = None,
        ipv6_address: str | None = None,
        links: Sequence[str] | None = None,
        driver_opts: Mapping[str, str] | None = None,
    ) -> None:
        """Attach a container to a network.

        ``POST /networks/{id}/connect``

        A running container gets its interface at once; a created one when it starts.

        Args:
            network: the network's id or name.
            container: the container's id or name.
            aliases: extra DNS names for the container on this network (user-defined networks).
            ipv4_address: a static IPv4 address (the network needs a configured subnet).
            ipv6_address: a static IPv6 address.
            links: legacy links, ``"container"`` or ``"container:alias"``.
            driver_opts: endpoint options passed to the network driver.

        Raises:
            InvalidArgument: ``aliases`` or ``links`` given as one string, or non-string
                ``driver_opts``.
            NotFound: no such network or container.
            BadRequest: the container's network mode (``none``, ``host``) forbids it, or an
                address is outside the network's subnets.
            APIError: 403 — the container is already attached to this network.
        """
        ipam_config = None
        if ipv4_address is not None or ipv6_address is not None:
            ipam_config = EndpointIPAMConfig(ipv4_address=ipv4_address, ipv6_address=ipv6_address)
        endpoint = EndpointSettings(
            ipam_config=ipam_config,
            aliases=string_list("aliases", aliases),
            links=string_list("links", links),
            driver_opts=string_map("driver_opts", driver_opts),
        )
        body = NetworkConnectRequest(
            container=container_ref(container),
            endpoint_config=endpoint if endpoint != EndpointSettings() else None,
        )
        await self._t.request(
            "POST", self._t.path("/networks/{}/connect", network), body=body
        )

    async def disconnect(self, network: str, container: str, *, force: bool = False) -> None:
        """Detach a container from a network.

        ``POST /networks/{id}/disconnect``

        Args:
            network: the network's id or name.
            container: the container's id or name.
            force: detach even if the network's driver cannot be reached (the endpoint is
                dropped from the daemon's records).

        Raises:
            NotFound: no such network or container.
            ServerError: the container is not attached to this network (the daemon answers
                500).
        """
        body = NetworkDisconnectRequest(container=container_ref(container), force=force or None)
        await self._t.request(
            "POST", self._t.path("/networks/{}/disconnect", network), body=body
        )


def _as_docker(net: Network) -> Network:
    """A network Podman reported, its options under Docker's names."""
    options = docker_network_options(net.options)
    return net if options is net.options else msgspec.structs.replace(net, options=options)


def _wire_names(cls: type[msgspec.Struct]) -> set[str]:
    return {f.encode_name for f in msgspec.structs.fields(cls)}


_IPAM_KEYS = _wire_names(IPAM)
_IPAM_CONFIG_KEYS = _wire_names(IPAMConfig)


def _check_keys(what: str, value: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        raise InvalidArgument(
            f"{what} has unknown key(s) {', '.join(map(repr, unknown))}; the Engine's names "
            f"are {', '.join(sorted(known))}"
        )


def _ipam(value: IPAM | Mapping[str, Any] | None) -> IPAM | None:
    """An ``IPAM`` struct from a struct or a mapping in the Engine's JSON shape."""
    if value is None or isinstance(value, IPAM):
        return value
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            f"ipam must be an IPAM struct or a mapping in the Engine's JSON shape, not "
            f"{type(value).__name__}"
        )
    _check_keys("ipam", value, _IPAM_KEYS)
    configs = value.get("Config")
    if configs is not None:
        if isinstance(configs, (str, Mapping)) or not isinstance(configs, Iterable):
            raise InvalidArgument(f"ipam['Config'] must be a list of pools, not {configs!r}")
        configs = builtins.list(configs)
        for i, config in enumerate(configs):
            if isinstance(config, Mapping):
                _check_keys(f"ipam['Config'][{i}]", config, _IPAM_CONFIG_KEYS)
        value = {**value, "Config": configs}
    try:
        return msgspec.convert(value, IPAM)
    except msgspec.ValidationError as exc:
        raise InvalidArgument(f"ipam is malformed: {exc}") from None
