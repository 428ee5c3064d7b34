"""The volumes area of the Engine API: ``docker.volumes``."""

from __future__ import annotations

from collections.abc import Mapping

from ._args import Filters, string_map
from ._exceptions import APIError, InvalidArgument, NotSupported
from ._podman import has_labels, split_label_filter
from ._transport import Area
from .models.volumes import (
    ClusterVolumeSpec,
    ClusterVolumeUpdateBody,
    Volume,
    VolumeCreateOptions,
    VolumeList,
    VolumeListResponse,
    VolumePruneResponse,
)

__all__ = ["Volumes"]


class Volumes(Area):
    """Create, list, inspect and remove volumes (``/volumes/…``)."""

    __slots__ = ()

    async def create(
        self,
        name: str | None = None,
        *,
        driver: str | None = None,
        driver_opts: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> Volume:
        """Create a volume, or return the existing one of that name.

        ``POST /volumes/create``

        Creating a name that exists is not an error: the daemon returns the existing volume
        unchanged, even when ``driver_opts`` or ``labels`` differ (compare them if it matters).

        Args:
            name: the volume's name (``[a-zA-Z0-9][a-zA-Z0-9_.-]*`` for the local driver);
                ``None`` for a generated one (an anonymous volume).
            driver: the volume driver (``"local"`` when omitted) or a plugin's name.
            driver_opts: driver options; for ``local`` e.g.
                ``{"type": "tmpfs", "device": "tmpfs", "o": "size=64m"}``.
            labels: the volume's labels.

        Returns:
            The volume, as :meth:`inspect` reports it.

        Raises:
            InvalidArgument: an empty name or driver, or non-string options or labels.
            NotFound: no such volume driver.
            BadRequest: the name is invalid for the driver, or an option is unknown.
        """
        if name is not None and (not isinstance(name, str) or not name):
            raise InvalidArgument(
                f"a volume name must be a non-empty str (None for a generated one), not {name!r}"
            )
        if driver is not None and (not isinstance(driver, str) or not driver):
            raise InvalidArgument(f"driver must be a non-empty str or None, not {driver!r}")
        body = VolumeCreateOptions(
            name=name,
            driver=driver,
            driver_opts=string_map("driver_opts", driver_opts),
            labels=string_map("labels", labels),
        )
        resp = await self._t.request("POST", "/volumes/create", body=body)
        return resp.decode(Volume)

    async def list(self, *, filters: Filters | None = None) -> VolumeList:
        """List volumes.

        ``GET /volumes``

        Args:
            filters: ``name`` (matches a part), ``label`` (``"k"`` or ``"k=v"``), ``driver``
                and ``dangling`` (``"true"``: used by no container).

        Returns:
            The volumes, in a list whose ``warnings`` attribute holds the daemon's warnings:
            one per volume driver that failed to answer, in which case the list is incomplete.
            With the ``local`` driver alone it is always empty.
        """
        labels: list[str] = []
        if filters and "label" in filters and await self._t.is_podman():
            filters, labels = split_label_filter(filters)  # Podman matches any one label
        resp = await self._t.request("GET", "/volumes", query={"filters": filters or None})
        listed = resp.decode(VolumeListResponse)
        volumes = listed.volumes or ()
        if labels:
            volumes = [volume for volume in volumes if has_labels(volume.labels, labels)]
        return VolumeList(volumes, listed.warnings or ())

    async def inspect(self, volume: str) -> Volume:
        """Everything the daemon knows about a volume.

        ``GET /volumes/{name}``

        Args:
            volume: the volume's name.

        Raises:
            NotFound: no such volume.
        """
        resp = await self._t.request("GET", self._t.path("/volumes/{}", volume))
        return resp.decode(Volume)

    async def update(self, volume: str, spec: ClusterVolumeSpec, *, version: int) -> None:
        """Change a Swarm cluster volume (a CSI plugin's volume, on a swarm manager).

        ``PUT /volumes/{name}``

        Only ``availability`` may change; every other field of ``spec`` must be what the
        volume has. So start from the volume's own spec::

            current = (await docker.volumes.inspect("data")).cluster_volume
            spec = msgspec.structs.replace(current.spec, availability="drain")
            await docker.volumes.update("data", spec, version=current.version.index)

        Local volumes cannot be updated, and only swarm managers have cluster volumes.

        Args:
            volume: the volume's name or its swarm id.
            spec: the volume's spec, with the new ``availability`` (``"active"``,
                ``"pause"``, ``"drain"``).
            version: the ``cluster_volume.version.index`` the spec was read at; the update
                is refused if the volume changed since.

        Raises:
            NotSupported: the engine has no cluster volumes: it is not a swarm manager
                (dockerd answers ``503``), or it predates them (Docker 20.10 and other
                engines below API 1.42 have no such endpoint); the message says what the
                engine answered and why.
            NotFound: no such volume.
            BadRequest: ``spec`` changes more than the availability.
            APIError: the version is stale (dockerd: 500 "update out of sequence"); read
                the volume again and retry.
            InvalidArgument: ``spec`` is not a ``ClusterVolumeSpec`` or ``version`` not an
                int.
        """
        if not isinstance(spec, ClusterVolumeSpec):
            raise InvalidArgument(f"spec must be a ClusterVolumeSpec, not {type(spec).__name__}")
        if type(version) is not int or version < 0:
            raise InvalidArgument(
                f"version must be the volume's cluster_volume.version.index (an int >= 0), not "
                f"{version!r}"
            )
        try:
            await self._t.request(
                "PUT",
                self._t.path("/volumes/{}", volume),
                query={"version": version},
                body=ClusterVolumeUpdateBody(spec=spec),
            )
        except APIError as exc:
            why = _no_cluster_volumes(exc)
            if why is None:
                raise
            error = NotSupported(exc.status, exc.message, method=exc.method, path=exc.path)
            error.args = (
                f"cannot update volume {volume!r}: {why} (the engine answered {exc.status} "
                f"{exc.message!r})",
            )
            raise error from None

    async def remove(self, volume: str, *, force: bool = False) -> None:
        """Remove a volume and its data.

        ``DELETE /volumes/{name}``

        Args:
            volume: the volume's name.
            force: also succeed when the volume does not exist (and remove it from the
                daemon's records even if its driver fails).

        Raises:
            NotFound: no such volume (without ``force``).
            Conflict: a container uses it (even a stopped one; remove the container first).
        """
        await self._t.request(
            "DELETE",
            self._t.path("/volumes/{}", volume),
            query={"force": force or None},
        )

    async def prune(
        self, *, filters: Filters | None = None, all: bool | None = None
    ) -> VolumePruneResponse:
        """Remove local volumes no container uses.

        ``POST /volumes/prune``

        Which volumes are candidates depends on the API version: from API 1.42 on, only
        anonymous ones unless ``all`` is set; at API 1.41 every unused volume, named ones
        included. The daemon never prunes a volume created with ``driver_opts`` (a tmpfs or
        NFS mount, say: removing it would reclaim no space) nor a volume of another driver.

        Args:
            filters: ``label`` (``"k"``, ``"k=v"``, ``"label!=…"``) filters.
            all: ``True``: named volumes too (the ``all`` filter from API 1.42; what API 1.41
                does anyway). ``False``: anonymous volumes only (API >= 1.42). ``None``: the
                daemon's default for the API version in use.

        Returns:
            The removed volumes' names and the space reclaimed, in bytes.

        Raises:
            InvalidArgument: ``all=False`` at API 1.41, which cannot spare named volumes, or
                ``all`` given both here and in ``filters``.
            Conflict: another prune is running.
        """
        query_filters = dict(filters) if filters else {}
        if all is not None:
            if "all" in query_filters:
                raise InvalidArgument(
                    "give 'all' either as the all= argument or in filters, not both"
                )
            if await self._t.api_at_least("1.42"):
                if all:
                    query_filters["all"] = "true"
            elif not all:
                raise InvalidArgument(
                    "all=False (prune anonymous volumes only) needs API 1.42 or newer; this "
                    f"daemon speaks {self._t.api_version}, which prunes named volumes too "
                    "(pass all=True or leave it out to accept that)"
                )
        resp = await self._t.request(
            "POST", "/volumes/prune", query={"filters": query_filters or None}
        )
        return resp.decode(VolumePruneResponse)


def _no_cluster_volumes(exc: APIError) -> str | None:
    """Why an engine refused a volume update for want of cluster volumes; ``None`` when the
    refusal is about the volume or the request itself."""
    if exc.status == 503:  # dockerd: not a swarm manager
        return ("only Swarm cluster volumes can be updated, and this engine is not a swarm "
                "manager (cluster volumes need a swarm manager with a CSI volume plugin)")
    if isinstance(exc, NotSupported) or exc.status == 405 or (
        exc.status == 404 and exc.message.strip().lower() == "page not found"
    ):  # no route: dockerd below API 1.42 ("page not found"), Podman (404 or 405)
        return ("this engine has no cluster volumes at all (PUT /volumes/{name} is API 1.42, "
                "Docker 23 and newer, on a swarm manager with a CSI volume plugin)")
    return None
