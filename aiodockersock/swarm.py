"""The swarm area of the Engine API: ``docker.swarm``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from ._args import (
    Versioned,
    read_versioned,
    retry_out_of_sequence,
    spec_struct,
    string_list,
    string_map,
)
from ._exceptions import InvalidArgument
from ._transport import Area
from .models.swarm import (
    SwarmInitRequest,
    SwarmInspect,
    SwarmJoinRequest,
    SwarmSpec,
    SwarmUnlockRequest,
    UnlockKeyResponse,
)

__all__ = ["Swarm"]

#: Where a node listens for other nodes unless told otherwise (what ``docker swarm init`` and
#: ``join`` use).
DEFAULT_LISTEN_ADDR = "0.0.0.0:2377"


class Swarm(Area):
    """Create, join, leave, inspect, update and unlock a swarm (``/swarm/…``).

    Every call but :meth:`init` and :meth:`join` needs a node in a swarm, and most need a
    manager: elsewhere they raise :class:`~aiodockersock.NotInSwarm` (swarm mode is off) or
    :class:`~aiodockersock.NotSwarmManager` (a worker), which say what to do.
    """

    __slots__ = ()

    async def init(
        self,
        *,
        advertise_addr: str | None = None,
        listen_addr: str = DEFAULT_LISTEN_ADDR,
        data_path_addr: str | None = None,
        data_path_port: int | None = None,
        default_addr_pool: Sequence[str] | None = None,
        subnet_size: int | None = None,
        force_new_cluster: bool = False,
        spec: SwarmSpec | Mapping[str, Any] | None = None,
    ) -> str:
        """Create a new swarm with this engine as its first manager (``docker swarm init``).

        ``POST /swarm/init``

        Args:
            advertise_addr: the address other nodes reach this one at (``"192.168.1.1"``,
                ``"eth0"``, ``"127.0.0.1"`` for a swarm on one machine; a port may follow);
                detected by the daemon when omitted, which fails on hosts with several
                addresses.
            listen_addr: where the node listens for other nodes (``"0.0.0.0:2377"``).
            data_path_addr: the address or interface for overlay network traffic (the
                advertise address when omitted).
            data_path_port: the UDP port of that traffic (1024-49151; 4789 when omitted).
            default_addr_pool: CIDRs overlay network subnets are taken from
                (``["10.20.0.0/16"]``; ``10.0.0.0/8`` when omitted).
            subnet_size: the prefix length of each overlay subnet taken from the pool (24).
            force_new_cluster: make a new single-manager swarm from this node's old state
                (recovery after losing the managers' quorum).
            spec: the swarm's settings (a :class:`~aiodockersock.models.SwarmSpec` or the
                Engine's JSON shape); the daemon's defaults when omitted.

        Returns:
            The new manager node's id.

        Raises:
            SwarmUnavailable: the engine is in a swarm already (leave it first).
            BadRequest: an address or setting is invalid.
            InvalidArgument: a value was rejected before anything was sent.
        """
        body = SwarmInitRequest(
            listen_addr=_addr("listen_addr", listen_addr),
            advertise_addr=_addr("advertise_addr", advertise_addr),
            data_path_addr=_addr("data_path_addr", data_path_addr),
            data_path_port=_port(data_path_port),
            default_addr_pool=string_list("default_addr_pool", default_addr_pool),
            subnet_size=_int("subnet_size", subnet_size),
            force_new_cluster=bool(force_new_cluster) or None,
            spec=None if spec is None else spec_struct("spec", spec, SwarmSpec),
        )
        resp = await self._t.request("POST", "/swarm/init", body=body)
        return resp.decode(str)

    async def join(
        self,
        remote_addrs: Sequence[str] | str,
        join_token: str,
        *,
        advertise_addr: str | None = None,
        listen_addr: str = DEFAULT_LISTEN_ADDR,
        data_path_addr: str | None = None,
    ) -> None:
        """Join this engine to a swarm as a worker or a manager, as the token says
        (``docker swarm join``).

        ``POST /swarm/join``

        The call returns once the node has joined (the daemon waits up to about 20 s).

        Args:
            remote_addrs: the address of one or more managers of the swarm
                (``"192.168.1.1:2377"``).
            join_token: the worker or manager token, from a manager's
                ``(await docker.swarm.inspect()).join_tokens``.
            advertise_addr: the address other nodes reach this one at (detected when omitted).
            listen_addr: where the node listens for other nodes (``"0.0.0.0:2377"``).
            data_path_addr: the address or interface for overlay network traffic.

        Raises:
            SwarmUnavailable: the engine is in a swarm already, or the join did not complete
                in time (it goes on in the background; ``docker.info()`` tells).
            APIError: the manager refused the token or could not be reached (the daemon's
                message says which).
            InvalidArgument: a value was rejected before anything was sent.
        """
        if isinstance(remote_addrs, str):
            remote_addrs = [remote_addrs]
        addrs = string_list("remote_addrs", remote_addrs)
        if not addrs:
            raise InvalidArgument("remote_addrs must name at least one manager (host:port)")
        if not isinstance(join_token, str) or not join_token:
            raise InvalidArgument(
                "join_token must be a non-empty str: the worker or manager token from "
                "(await manager.swarm.inspect()).join_tokens"
            )
        body = SwarmJoinRequest(
            listen_addr=_addr("listen_addr", listen_addr),
            advertise_addr=_addr("advertise_addr", advertise_addr),
            data_path_addr=_addr("data_path_addr", data_path_addr),
            remote_addrs=addrs,
            join_token=join_token,
        )
        await self._t.request("POST", "/swarm/join", body=body)

    async def leave(self, *, force: bool = False) -> None:
        """Leave the swarm (``docker swarm leave``).

        ``POST /swarm/leave``

        Args:
            force: leave even if this is a manager whose leaving breaks the swarm (the last
                manager: the swarm and its services are gone).

        Raises:
            NotInSwarm: the engine is in no swarm.
            ServerError: a manager without ``force`` (the daemon says why it refuses).
        """
        await self._t.request("POST", "/swarm/leave", query={"force": force or None})

    async def inspect(self) -> SwarmInspect:
        """The swarm as its managers see it: id, version, spec, join tokens
        (``docker swarm inspect`` … ``join-token``).

        ``GET /swarm``

        Raises:
            NotInSwarm: the engine is in no swarm.
            NotSwarmManager: the engine is a worker (only managers know the swarm).
        """
        resp = await self._t.request("GET", "/swarm")
        return resp.decode(SwarmInspect)

    async def update(
        self,
        spec: SwarmSpec | Mapping[str, Any] | None = None,
        *,
        labels: Mapping[str, str] | None = None,
        autolock: bool | None = None,
        version: int | None = None,
        rotate_worker_token: bool = False,
        rotate_manager_token: bool = False,
        rotate_manager_unlock_key: bool = False,
    ) -> None:
        """Change the swarm's settings, rotate its join tokens or unlock key
        (``docker swarm update``, ``join-token --rotate``, ``unlock-key --rotate``).

        ``POST /swarm/update``

        The daemon replaces the whole spec and refuses an update that does not name the
        swarm's current version: unless both ``spec`` and ``version`` are given, this reads
        the swarm first and starts from its current spec and version, so
        ``update(autolock=True)`` changes that setting alone (even settings of a newer engine
        that this library does not model are kept: the spec is changed as the daemon's JSON).

        Args:
            spec: the whole new spec (the current one when omitted); ``labels`` and
                ``autolock`` are then applied to it.
            labels: the swarm's labels (replacing them all).
            autolock: lock managers when their daemon restarts (they then need
                :meth:`unlock` with the key :meth:`unlock_key` returns).
            version: the swarm version the change is based on (``inspect().version.index``):
                give it to refuse the update if someone changed the swarm since you read it.
            rotate_worker_token: issue a new worker join token (the old one stops working).
            rotate_manager_token: issue a new manager join token.
            rotate_manager_unlock_key: issue a new unlock key.

        Raises:
            NotInSwarm: the engine is in no swarm.
            NotSwarmManager: the engine is a worker.
            BadRequest: a setting is invalid.
            Conflict: ``version`` is not the current one: someone changed the swarm since
                ("update out of sequence"). Without ``version``, the swarm is read again and
                the change redone on its new version instead (up to five times).
            InvalidArgument: a value was rejected before anything was sent.
        """
        given = None
        if spec is not None:
            given = msgspec.to_builtins(spec_struct("spec", spec, SwarmSpec))
        if version is not None and (
            isinstance(version, bool) or not isinstance(version, int) or version < 0
        ):
            raise InvalidArgument(f"version must be a swarm version index (int), not {version!r}")
        labels = string_map("labels", labels)

        async def get() -> Versioned:
            return (await self._t.request("GET", "/swarm")).decode(Versioned)

        # Read, change, write; if another writer got in between (a stale version), read again
        # and redo the change -- unless the caller pinned the version. The spec read stays
        # the daemon's JSON, so fields this library does not model are kept.
        async def attempt() -> None:
            new, at = await read_versioned(get, given, version, "the swarm")
            body: dict[str, Any] = dict(new)
            if labels is not None:
                body["Labels"] = labels
            if autolock is not None:
                encryption = body.get("EncryptionConfig")
                body["EncryptionConfig"] = {
                    **(encryption if isinstance(encryption, dict) else {}),
                    "AutoLockManagers": bool(autolock),
                }
            await self._t.request(
                "POST",
                "/swarm/update",
                query={
                    "version": at,
                    "rotateWorkerToken": rotate_worker_token or None,
                    "rotateManagerToken": rotate_manager_token or None,
                    "rotateManagerUnlockKey": rotate_manager_unlock_key or None,
                },
                body=body,
            )

        await retry_out_of_sequence(attempt, pinned=version is not None)

    async def unlock_key(self) -> str | None:
        """The key that unlocks a locked manager (``docker swarm unlock-key``).

        ``GET /swarm/unlockkey``

        Returns:
            The key (``SWMKEY-1-…``), or ``None`` when autolock is off (nothing to unlock).

        Raises:
            NotInSwarm: the engine is in no swarm.
            NotSwarmManager: the engine is a worker.
        """
        resp = await self._t.request("GET", "/swarm/unlockkey")
        return resp.decode(UnlockKeyResponse).unlock_key or None

    async def unlock(self, key: str) -> None:
        """Unlock a manager locked by autolock after its daemon restarted
        (``docker swarm unlock``).

        ``POST /swarm/unlock``

        Args:
            key: the unlock key (``SWMKEY-1-…``) :meth:`unlock_key` returned before.

        Raises:
            APIError: a wrong key (status 401).
            Conflict: the manager is not locked.
            NotInSwarm: the engine is in no swarm.
            InvalidArgument: the key is not a non-empty str.
        """
        if not isinstance(key, str) or not key:
            raise InvalidArgument(
                "key must be the unlock key (SWMKEY-1-…) that docker.swarm.unlock_key() "
                "returned while the manager was unlocked"
            )
        await self._t.request("POST", "/swarm/unlock", body=SwarmUnlockRequest(unlock_key=key))


def _addr(what: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidArgument(
            f"{what} must be an address (host, host:port or an interface name like eth0), "
            f"not {value!r}"
        )
    return value


def _int(what: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidArgument(f"{what} must be a positive int, not {value!r}")
    return value


def _port(value: int | None) -> int | None:
    port = _int("data_path_port", value)
    if port is not None and not 1024 <= port <= 49151:
        raise InvalidArgument(
            f"data_path_port must be in 1024-49151 (dockerd refuses others), not {port}"
        )
    return port
