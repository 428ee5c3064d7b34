"""The secrets area of the Engine API: ``docker.secrets`` (swarm managers only).

A secret's data goes to the daemon once, base64-encoded in the create request, and never comes
back: no answer holds it, and no ``repr()``, log line or error message of this library shows it
(``SecretSpec`` prints ``data=<hidden>``; validators name a type, never a value).
"""

from __future__ import annotations

from collections.abc import Mapping

from ._args import Filters, Versioned, object_data, retry_out_of_sequence, string_map
from ._exceptions import APIError, InvalidArgument, NotSupported
from ._podman import NO_SECRET_UPDATE
from ._transport import Area
from .models.secrets import ObjectIdResponse, Secret, SecretSpec
from .models.swarm import NamedDriver

__all__ = ["Secrets"]

_SECRET_LIST = list[Secret]


class Secrets(Area):
    """Create, list, inspect, update and remove swarm secrets (``/secrets/…``)."""

    __slots__ = ()

    async def create(
        self,
        name: str,
        data: bytes | str,
        *,
        labels: Mapping[str, str] | None = None,
        driver: str | None = None,
        templating: str | None = None,
    ) -> Secret:
        """Store a secret in the swarm, for services to mount (``/run/secrets/NAME``).

        ``POST /secrets/create``

        Args:
            name: the secret's name, unique in the swarm.
            data: the secret itself (a str is taken as UTF-8); at most 500 KiB.
            labels: the secret's labels.
            driver: a secret-store plugin to hold it instead of the swarm's raft log.
            templating: a templating driver (``"golang"``) expanding the data per task.

        Returns:
            The secret, as :meth:`inspect` reports it (without its data).

        Raises:
            InvalidArgument: an empty name, or data that is not bytes or str.
            Conflict: a secret of that name exists.
            BadRequest: the name is invalid, or the data is empty or too large.
            NotSwarmManager: the node is not a swarm manager (NotInSwarm: in no swarm).
        """
        spec = SecretSpec(
            name=_name(name),
            labels=string_map("labels", labels),
            data=object_data("a secret's", data),
            driver=_driver("driver", driver),
            templating=_driver("templating", templating),
        )
        resp = await self._t.request("POST", "/secrets/create", body=spec)
        created = resp.decode(ObjectIdResponse)
        return await self.inspect(created.id or name)

    async def list(self, *, filters: Filters | None = None) -> list[Secret]:
        """List the swarm's secrets (never their data).

        ``GET /secrets``

        Args:
            filters: ``id``, ``name`` (a prefix), ``names`` (exact), ``label`` (``"k"`` or
                ``"k=v"``).

        Raises:
            NotSwarmManager: the node is not a swarm manager (NotInSwarm: in no swarm).
        """
        resp = await self._t.request("GET", "/secrets", query={"filters": filters or None})
        return resp.decode(_SECRET_LIST)

    async def inspect(self, secret: str) -> Secret:
        """One secret, without its data (the daemon never sends it back).

        ``GET /secrets/{id}``

        Args:
            secret: the secret's id or name.

        Raises:
            NotFound: no such secret.
        """
        resp = await self._t.request("GET", self._t.path("/secrets/{}", secret))
        return resp.decode(Secret)

    async def update(self, secret: str, *, labels: Mapping[str, str]) -> Secret:
        """Replace a secret's labels (the only thing of a secret the swarm lets change; for
        new data, create a secret under a new name and update the services to it).

        ``POST /secrets/{id}/update``

        The version handshake is done here: the secret's current version is read and sent
        with the change (tried again if another update came in between).

        Args:
            secret: the secret's id or name.
            labels: the new labels, replacing all of the old ones.

        Returns:
            The updated secret.

        Raises:
            NotFound: no such secret.
            InvalidArgument: labels that are not a mapping of strings.
            NotSupported: the engine is Podman, whose secrets cannot be updated.
        """
        new_labels = string_map("labels", labels) or {}

        async def attempt() -> Secret:
            resp = await self._t.request("GET", self._t.path("/secrets/{}", secret))
            current = resp.decode(Secret)
            # the spec as the daemon sent it (a newer engine's settings kept), new labels;
            # Data stays unset: the daemon refuses any change but the labels
            body = {**(resp.decode(Versioned).spec or {}), "Labels": new_labels}
            body.pop("Data", None)
            version = current.version.index if current.version else None
            try:
                await self._t.request(
                    "POST",
                    self._t.path("/secrets/{}/update", current.id or secret),
                    query={"version": version},
                    body=body,
                )
            except APIError as exc:
                if exc.status != 501 or not await self._t.is_podman():
                    raise
                raise NotSupported(exc.status, exc.message, method=exc.method, path=exc.path,
                                   why=NO_SECRET_UPDATE) from None
            return await self.inspect(current.id or secret)

        return await retry_out_of_sequence(attempt)

    async def remove(self, secret: str) -> None:
        """Remove a secret.

        ``DELETE /secrets/{id}``

        Args:
            secret: the secret's id or name.

        Raises:
            NotFound: no such secret.
            BadRequest: a service uses it (update the service first).
        """
        await self._t.request("DELETE", self._t.path("/secrets/{}", secret))


def _name(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"a secret needs a name: a non-empty str, not {name!r}")
    return name


def _driver(what: str, name: str | None) -> NamedDriver | None:
    if name is None:
        return None
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"{what} must be a driver's name (a non-empty str), not {name!r}")
    return NamedDriver(name=name)
