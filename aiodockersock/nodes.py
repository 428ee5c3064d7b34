"""The nodes area of the Engine API: ``docker.nodes`` (swarm managers only)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

import msgspec

from ._args import (
    Filters,
    Versioned,
    read_versioned,
    retry_out_of_sequence,
    spec_struct,
    string_map,
)
from ._exceptions import InvalidArgument
from ._transport import Area
from .models.swarm import Node, NodeSpec

__all__ = ["Nodes"]

#: The roles and availabilities dockerd knows (``docker node update --role/--availability``).
ROLES = ("worker", "manager")
AVAILABILITIES = ("active", "pause", "drain")


class Nodes(Area):
    """List, inspect, update and remove the nodes of a swarm (``/nodes/…``).

    Every call needs a swarm manager: elsewhere they raise
    :class:`~aiodockersock.NotInSwarm` (swarm mode is off) or
    :class:`~aiodockersock.NotSwarmManager` (a worker), which say what to do.
    """

    __slots__ = ()

    async def list(self, *, filters: Filters | None = None) -> builtins.list[Node]:
        """The swarm's nodes (``docker node ls``).

        ``GET /nodes``

        Args:
            filters: ``id``, ``name`` (a node's spec name), ``role`` (``"manager"`` or
                ``"worker"``), ``membership`` (``"accepted"`` or ``"pending"``),
                ``node.label`` (``"k"`` or ``"k=v"``: the node's labels) and ``label``
                (the same on the engine's own labels).

        Raises:
            NotInSwarm: the engine is in no swarm.
            NotSwarmManager: the engine is a worker.
        """
        resp = await self._t.request("GET", "/nodes", query={"filters": filters or None})
        return resp.decode(builtins.list[Node] | None) or []  # type: ignore[arg-type]

    async def inspect(self, node: str) -> Node:
        """Everything the swarm knows about a node (``docker node inspect``).

        ``GET /nodes/{id}``

        Args:
            node: the node's id (or a unique prefix of it) or its hostname.

        Raises:
            NotFound: no such node.
            NotInSwarm: the engine is in no swarm.
            NotSwarmManager: the engine is a worker.
        """
        resp = await self._t.request("GET", self._t.path("/nodes/{}", node))
        return resp.decode(Node)

    async def update(
        self,
        node: str,
        *,
        availability: str | None = None,
        role: str | None = None,
        labels: Mapping[str, str] | None = None,
        name: str | None = None,
        spec: NodeSpec | Mapping[str, Any] | None = None,
        version: int | None = None,
    ) -> None:
        """Change a node's availability, role, labels or name (``docker node update``).

        ``POST /nodes/{id}/update``

        The daemon replaces the node's whole spec and refuses an update that does not name
        the node's current version: this reads the node first and applies the changes to its
        current spec, with its current version, so ``update(node, availability="drain")``
        leaves role and labels as they were (and settings of a newer engine that this library
        does not model: the spec is changed as the daemon's JSON).

        Args:
            node: the node's id or hostname.
            availability: ``"active"``, ``"pause"`` (no new tasks) or ``"drain"`` (its tasks
                move to other nodes).
            role: ``"worker"`` or ``"manager"`` (promote or demote).
            labels: the node's labels, replacing them all (``{**node.spec.labels, "k": "v"}``
                adds one).
            name: the node's spec name.
            spec: a whole spec to start from instead of the current one (a
                :class:`~aiodockersock.models.NodeSpec` or the Engine's JSON shape).
            version: the node version the change is based on (``node.version.index``): give
                it to refuse the update if someone changed the node since you read it.

        Raises:
            NotFound: no such node.
            NotInSwarm: the engine is in no swarm.
            NotSwarmManager: the engine is a worker.
            Conflict: ``version`` is not the current one: someone changed the node since
                ("update out of sequence"). Without ``version``, the node is read again and
                the change redone on its new version instead (up to five times).
            BadRequest: an invalid value, or a change that would leave the swarm without a
                manager (demoting the last one).
            InvalidArgument: a value was rejected before anything was sent.
        """
        _one_of("availability", availability, AVAILABILITIES)
        _one_of("role", role, ROLES)
        if name is not None and not isinstance(name, str):
            raise InvalidArgument(f"name must be a str, not a {type(name).__name__}")
        if version is not None and (
            isinstance(version, bool) or not isinstance(version, int) or version < 0
        ):
            raise InvalidArgument(f"version must be a node version index (int), not {version!r}")
        given = None if spec is None else _wire(spec_struct("spec", spec, NodeSpec))
        changes: dict[str, Any] = {}
        if availability is not None:
            changes["Availability"] = availability
        if role is not None:
            changes["Role"] = role
        if labels is not None:
            changes["Labels"] = string_map("labels", labels)
        if name is not None:
            changes["Name"] = name
        path = self._t.path("/nodes/{}", node)

        async def get() -> Versioned:
            return (await self._t.request("GET", path)).decode(Versioned)

        # Read, change, write; if another writer got in between (a stale version), read again
        # and redo the change -- unless the caller pinned the version. The spec read stays
        # the daemon's JSON, so fields this library does not model are kept.
        async def attempt() -> None:
            new, at = await read_versioned(get, given, version, f"node {node!r}")
            await self._t.request(
                "POST", f"{path}/update", query={"version": at}, body={**new, **changes}
            )

        await retry_out_of_sequence(attempt, pinned=version is not None)

    async def remove(self, node: str, *, force: bool = False) -> None:
        """Remove a node from the swarm (``docker node rm``).

        ``DELETE /nodes/{id}``

        A node that is still up must leave first (``swarm.leave()`` on it) or be removed with
        ``force``; a manager must be demoted first (``update(node, role="worker")``).

        Args:
            node: the node's id or hostname.
            force: remove it even if it is up (it is then cut off from the swarm).

        Raises:
            NotFound: no such node.
            BadRequest: the node is up, or a manager (the daemon's message says which).
            NotInSwarm: the engine is in no swarm.
            NotSwarmManager: the engine is a worker.
        """
        await self._t.request(
            "DELETE", self._t.path("/nodes/{}", node), query={"force": force or None}
        )


def _wire(spec: NodeSpec) -> dict[str, Any]:
    """A spec struct as the Engine's JSON object (what is unset left out)."""
    wire: dict[str, Any] = msgspec.to_builtins(spec)
    return wire


def _one_of(what: str, value: str | None, known: tuple[str, ...]) -> None:
    if value is not None and value not in known:
        raise InvalidArgument(
            f"{what} must be one of {', '.join(map(repr, known))}, not {value!r}"
        )
