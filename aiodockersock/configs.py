"""The configs area of the Engine API: ``docker.configs`` (swarm managers only).

A config is like a secret whose content is not secret: the daemon sends it back
(``Config.content``) and services mount it as a file anywhere in their containers.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._args import Filters, Versioned, object_data, retry_out_of_sequence, string_map
from ._exceptions import InvalidArgument
from ._transport import Area
from .models.secrets import Config, ConfigSpec, ObjectIdResponse
from .models.swarm import NamedDriver

__all__ = ["Configs"]

_CONFIG_LIST = list[Config]


class Configs(Area):
    """Create, list, inspect, update and remove swarm configs (``/configs/…``)."""

    __slots__ = ()

    async def create(
        self,
        name: str,
        data: bytes | str,
        *,
        labels: Mapping[str, str] | None = None,
        templating: str | None = None,
    ) -> Config:
        """Store a config in the swarm, for services to mount as a file.

        ``POST /configs/create``

        Args:
            name: the config's name, unique in the swarm.
            data: its content (a str is taken as UTF-8); at most 1000 KiB.
            labels: the config's labels.
            templating: a templating driver (``"golang"``) expanding the data per task.

        Returns:
            The config, as :meth:`inspect` reports it.

        Raises:
            InvalidArgument: an empty name, or data that is not bytes or str.
            Conflict: a config of that name exists.
            BadRequest: the name is invalid, or the data is empty or too large.
            NotSwarmManager: the node is not a swarm manager (NotInSwarm: in no swarm).
        """
        if not isinstance(name, str) or not name:
            raise InvalidArgument(f"a config needs a name: a non-empty str, not {name!r}")
        if templating is not None and (not isinstance(templating, str) or not templating):
            raise InvalidArgument(
                f"templating must be a driver's name (a non-empty str), not {templating!r}"
            )
        spec = ConfigSpec(
            name=name,
            labels=string_map("labels", labels),
            data=object_data("a config's", data),
            templating=NamedDriver(name=templating) if templating else None,
        )
        resp = await self._t.request("POST", "/configs/create", body=spec)
        created = resp.decode(ObjectIdResponse)
        return await self.inspect(created.id or name)

    async def list(self, *, filters: Filters | None = None) -> list[Config]:
        """List the swarm's configs, with their content.

        ``GET /configs``

        Args:
            filters: ``id``, ``name`` (a prefix), ``label`` (``"k"`` or ``"k=v"``). (No
                ``names``, which the spec lists and dockerd refuses.)

        Raises:
            NotSwarmManager: the node is not a swarm manager (NotInSwarm: in no swarm).
        """
        resp = await self._t.request("GET", "/configs", query={"filters": filters or None})
        return resp.decode(_CONFIG_LIST)

    async def inspect(self, config: str) -> Config:
        """One config, with its content (``.content`` decodes it).

        ``GET /configs/{id}``

        Args:
            config: the config's id or name.

        Raises:
            NotFound: no such config.
        """
        resp = await self._t.request("GET", self._t.path("/configs/{}", config))
        return resp.decode(Config)

    async def update(self, config: str, *, labels: Mapping[str, str]) -> Config:
        """Replace a config's labels (the only thing of a config the swarm lets change; for
        new content, create a config under a new name and update the services to it).

        ``POST /configs/{id}/update``

        The version handshake is done here: the config's current version and spec are read
        and sent back with the new labels (tried again if another update came in between).

        Args:
            config: the config's id or name.
            labels: the new labels, replacing all of the old ones.

        Returns:
            The updated config.

        Raises:
            NotFound: no such config.
            InvalidArgument: labels that are not a mapping of strings.
        """
        new_labels = string_map("labels", labels) or {}

        async def attempt() -> Config:
            resp = await self._t.request("GET", self._t.path("/configs/{}", config))
            current = resp.decode(Config)
            # the spec as the daemon sent it (its data, a newer engine's settings), new labels
            body = {**(resp.decode(Versioned).spec or {}), "Labels": new_labels}
            version = current.version.index if current.version else None
            await self._t.request(
                "POST",
                self._t.path("/configs/{}/update", current.id or config),
                query={"version": version},
                body=body,
            )
            return await self.inspect(current.id or config)

        return await retry_out_of_sequence(attempt)

    async def remove(self, config: str) -> None:
        """Remove a config.

        ``DELETE /configs/{id}``

        Args:
            config: the config's id or name.

        Raises:
            NotFound: no such config.
            BadRequest: a service uses it (update the service first).
        """
        await self._t.request("DELETE", self._t.path("/configs/{}", config))
