"""The containers area of the Engine API: ``docker.containers``."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import functools
import os
import posixpath
import shlex
from collections.abc import Awaitable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from ._args import Filters, TimeSpec, container_ref, format_time, shielded, string_list
from ._attach import AttachStream, AttachWebSocket, Session, detach_sequence
from ._bodies import ArchiveStream, ByteStream, JSONStream, LogStream, Opener, decode_path_stat
from ._exceptions import (
    BadRequest,
    Conflict,
    ContainerError,
    DockerError,
    EventsLost,
    InvalidArgument,
    NotFound,
    ServerError,
    WaitTimeout,
)
from ._hub import SlowPolicy
from ._many import MergedLogs, StatsTable
from ._podman import (
    HEALTH_CHECK_HINT,
    STATS_GAP,
    TOP_WITHOUT_PS,
    docker_states,
    is_podman_answer,
    podman_path_stat,
    sha256_id,
    sorted_listing,
    split_top,
    with_baseline,
)
from ._streams import EventStream, ReconnectPolicy, event_stream
from ._tar import (
    DirectoryTar,
    SpecialFiles,
    Upload,
    UploadSource,
    check_special_files,
    extract_tar,
    tree_members,
    upload_body,
)
from ._transport import DEFAULT, Area, Body, QueryValue, StreamResponse, WebSocket
from ._watch import ContainerWatch
from .models.containers import (
    ContainerCommitResponse,
    ContainerCreateBody,
    ContainerCreateResponse,
    ContainerInspect,
    ContainerPruneResponse,
    ContainerResources,
    ContainerSummary,
    ContainerTopResponse,
    ContainerUpdateResponse,
    ContainerWaitResponse,
    FilesystemChange,
)
from .models.events import EventMessage
from .models.output import PathStat, RunResult
from .models.stats import ContainerStats

__all__ = ["Containers", "Filters"]

_MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
_RAW = "application/vnd.docker.raw-stream"


class Containers(Area):
    """Create, run, inspect and manage containers (``/containers/…``)."""

    __slots__ = ()

    async def create(
        self,
        config: ContainerCreateBody | Mapping[str, Any],
        *,
        name: str | None = None,
        platform: str | None = None,
    ) -> ContainerCreateResponse:
        """Create a container.

        ``POST /containers/create``

        Args:
            config: a typed ``ContainerCreateBody`` or a mapping in the Engine's own JSON shape
                (``{"Image": "busybox", "Cmd": ["true"], "HostConfig": {...}}``).
            name: the container's name (``[a-zA-Z0-9][a-zA-Z0-9_.-]+``); random when omitted.
            platform: ``os[/arch[/variant]]`` of the image to use.

        Returns:
            The new container's id and the daemon's warnings.

        Raises:
            NotFound: the image does not exist locally.
            Conflict: the name is already in use.
            BadRequest: the configuration is invalid.
        """
        if not isinstance(config, (ContainerCreateBody, Mapping)):
            raise InvalidArgument(
                "config must be a ContainerCreateBody or a mapping in the Engine's JSON shape, "
                f"not {type(config).__name__}"
            )
        query = {"name": name, "platform": platform}
        resp = await self._t.request("POST", "/containers/create", query=query, body=config)
        return resp.decode(ContainerCreateResponse)

    async def start(self, container: str) -> bool:
        """Start a container.

        ``POST /containers/{id}/start``

        Args:
            container: the container's id or name.

        Returns:
            ``True`` if it was started, ``False`` if it was already running (304).

        Raises:
            NotFound: no such container.
            ServerError: the daemon could not start it (bad command, missing mount…).
        """
        resp = await self._t.request("POST", self._path(container, "/start"), ok=(304,))
        return resp.status != 304

    async def stop(
        self, container: str, *, timeout: int | None = None, signal: str | None = None
    ) -> bool:
        """Stop a container: send its stop signal, then SIGKILL after ``timeout`` seconds.

        ``POST /containers/{id}/stop``

        Args:
            container: the container's id or name.
            timeout: seconds to wait before killing it (the container's ``StopTimeout``, or
                10 s, when omitted: then the container is inspected first, so that the call
                waits that long plus the client's request timeout).
            signal: the signal to send instead of the container's ``StopSignal``
                (API >= 1.42).

        Returns:
            ``True`` if it was stopped, ``False`` if it was not running (304).

        Raises:
            NotFound: no such container.
        """
        return await self._stop("/stop", container, timeout, signal)

    async def restart(
        self, container: str, *, timeout: int | None = None, signal: str | None = None
    ) -> None:
        """Restart a container (stop as :meth:`stop` does, then start).

        ``POST /containers/{id}/restart``

        Raises:
            NotFound: no such container.
        """
        await self._stop("/restart", container, timeout, signal)

    async def kill(self, container: str, *, signal: str | int = "SIGKILL") -> None:
        """Send a signal to a running container.

        ``POST /containers/{id}/kill``

        Args:
            container: the container's id or name.
            signal: a name (``"SIGTERM"``, ``"HUP"``) or a number.

        Raises:
            NotFound: no such container.
            Conflict: the container is not running.
        """
        await self._t.request("POST", self._path(container, "/kill"), query={"signal": str(signal)})

    async def pause(self, container: str) -> None:
        """Freeze every process of a running container.

        ``POST /containers/{id}/pause``

        Raises:
            NotFound: no such container.
            Conflict: the container is not running or already paused.
        """
        await self._t.request("POST", self._path(container, "/pause"))

    async def unpause(self, container: str) -> None:
        """Resume a paused container.

        ``POST /containers/{id}/unpause``

        Raises:
            NotFound: no such container.
            Conflict: the container is not paused.
        """
        await self._t.request("POST", self._path(container, "/unpause"))

    async def wait(
        self,
        container: str,
        *,
        condition: str = "not-running",
        timeout: float | None = None,
    ) -> ContainerWaitResponse:
        """Block until a container stops, and return its exit code.

        ``POST /containers/{id}/wait``

        Args:
            container: the container's id or name.
            condition: ``"not-running"`` (returns at once if it is not running),
                ``"next-exit"`` or ``"removed"``.
            timeout: give up after this many seconds (``None``: wait as long as it takes).

        Returns:
            The exit code (``status_code``) and the daemon's error, if any.

        Raises:
            NotFound: no such container.
            DockerTimeoutError: ``timeout`` passed first.
        """
        resp = await self._t.request(
            "POST", self._path(container, "/wait"), query={"condition": condition}, timeout=timeout
        )
        return resp.decode(ContainerWaitResponse)

    async def remove(
        self,
        container: str,
        *,
        force: bool = False,
        volumes: bool = False,
        link: bool = False,
    ) -> None:
        """Remove a container.

        ``DELETE /containers/{id}``

        Args:
            container: the container's id or name.
            force: kill it first if it is running (at once, with ``SIGKILL``, on every engine:
                Podman's service would stop it, waiting its stop timeout, so there it is
                killed first).
            volumes: also remove its anonymous volumes.
            link: remove the link of that name instead of a container.

        Raises:
            NotFound: no such container.
            Conflict: it is running and ``force`` is not set, or it is being removed already.
        """
        query = {"force": force or None, "v": volumes or None, "link": link or None}
        killed = False
        if force and not link and await self._t.is_podman():
            # Podman would stop it with its stop timeout (SIGTERM, a wait): kill it, as Docker
            # does. Not running (Conflict) or not there: the removal itself tells
            with contextlib.suppress(Conflict, NotFound):
                await self._t.request("POST", self._path(container, "/kill"))
                killed = True
        try:
            await self._t.request("DELETE", self._path(container), query=query)
        except NotFound:
            if not killed:  # killed, an auto-remove container may be gone already: removed
                raise

    async def list(
        self,
        *,
        all: bool = False,
        limit: int | None = None,
        size: bool = False,
        filters: Filters | None = None,
    ) -> builtins.list[ContainerSummary]:
        """List containers, newest first.

        ``GET /containers/json``

        Podman's service lists in no particular order unless given a limit, so there the list
        is asked for with one (the largest), and without ``all`` with a ``status`` filter for
        running and paused containers (what Docker lists without ``all``).

        Args:
            all: include stopped containers (only running ones otherwise).
            limit: at most this many, newest first (implies ``all``).
            size: also compute ``size_rw`` and ``size_root_fs`` (slow).
            filters: e.g. ``{"status": "exited", "label": ["a=1", "b"]}``; values of one key
                are ORed, different keys ANDed.

        Returns:
            One summary per container.
        """
        if limit is None and await self._t.is_podman():
            limit, filters = sorted_listing(all, filters)
        query = {"all": all or None, "limit": limit, "size": size or None,
                 "filters": filters or None}
        resp = await self._t.request("GET", "/containers/json", query=query)
        listed = resp.decode(list[ContainerSummary])
        return docker_states(listed) if is_podman_answer(resp.headers) else listed

    async def inspect(self, container: str, *, size: bool = False) -> ContainerInspect:
        """Everything the daemon knows about a container.

        ``GET /containers/{id}/json``

        Args:
            container: the container's id, a unique prefix of it, or its name.
            size: also compute ``size_rw`` and ``size_root_fs``.

        Raises:
            NotFound: no such container (with the daemon's message).
        """
        query = {"size": True} if size else None
        resp = await self._t.request("GET", self._path(container, "/json"), query=query)
        return resp.decode(ContainerInspect)

    async def rename(self, container: str, new_name: str) -> None:
        """Rename a container.

        ``POST /containers/{id}/rename``

        Raises:
            NotFound: no such container.
            Conflict: ``new_name`` is in use.
        """
        await self._t.request("POST", self._path(container, "/rename"), query={"name": new_name})

    async def commit(
        self,
        container: str,
        repository: str | None = None,
        tag: str | None = None,
        *,
        message: str | None = None,
        author: str | None = None,
        changes: Sequence[str] | None = None,
        pause: bool = True,
        config: ContainerCreateBody | Mapping[str, Any] | None = None,
    ) -> ContainerCommitResponse:
        """Make an image of a container's filesystem and settings, as ``docker commit`` does.

        ``POST /commit``

        Args:
            container: the container's id or name.
            repository: the new image's name (``"app"``, ``"registry:5000/team/app"``);
                without it the image has only its id.
            tag: its tag (the daemon's default: ``latest``); only with ``repository``.
            message: the commit message (``docker commit -m``), shown by ``docker history``.
            author: the image's author (``docker commit -a``).
            changes: Dockerfile instructions applied to the image's settings, one per item
                (``["ENV MODE=prod", "CMD [\"app\"]"]``; ``docker commit -c``).
            pause: pause the container while its filesystem is copied (the default, as in
                the CLI); ``False`` commits a running container without stopping it.
            config: settings for the image (the ``ContainerCreateBody`` shape); ``changes``
                are applied on top.

        Returns:
            The new image's id.

        Raises:
            NotFound: no such container.
            BadRequest: a change is not a Dockerfile instruction the daemon takes there.
            InvalidArgument: ``tag`` without ``repository``, or ``changes`` not a list.
        """
        name = container_ref(container)
        if tag is not None and repository is None:
            raise InvalidArgument(
                f"tag {tag!r} without a repository: name the image (repository=…) to tag it"
            )
        body: Any = {}  # dockerd reads a config from the body, and an empty body is an error
        if config is not None:
            body = config if isinstance(config, ContainerCreateBody) else dict(config)
        query: dict[str, QueryValue] = {
            "container": name,
            "repo": repository,
            "tag": tag,
            "comment": message,
            "author": author,
            "changes": string_list("changes", changes),
            "pause": pause,
        }
        resp = await self._t.request("POST", "/commit", query=query, body=body, timeout=None)
        made = resp.decode(ContainerCommitResponse)
        return msgspec.structs.replace(made, id=sha256_id(made.id))  # Podman's come bare

    async def top(self, container: str, *, ps_args: str | None = None) -> ContainerTopResponse:
        """The processes running inside a container, as ``ps`` shows them.

        ``GET /containers/{id}/top``

        Args:
            container: the container's id or name.
            ps_args: arguments for ``ps`` (default ``-ef``).

        Raises:
            NotFound: no such container.
            Conflict: the container is not running (Podman answers that with an empty body,
                raised as ``Conflict`` too).
            ServerError: Podman answered with nothing for a running container (it runs
                ``ps`` inside the container; the image most likely has none).
        """
        path = self._path(container, "/top")
        resp = await self._t.request("GET", path, query={"ps_args": ps_args})
        if not resp.body.strip():
            full = f"/v{self._t.api_version}{path}"
            state = (await self.inspect(container)).state
            if state is not None and state.running:
                raise ServerError(resp.status, TOP_WITHOUT_PS.format(container=container),
                                  method="GET", path=full)
            raise Conflict(
                resp.status, f"container {container} is not running (nothing to list)",
                method="GET", path=full,
            )
        return split_top(resp.decode(ContainerTopResponse))

    async def changes(self, container: str) -> builtins.list[FilesystemChange]:
        """Files added, changed or deleted in a container's filesystem.

        ``GET /containers/{id}/changes``

        Returns:
            One entry per path (``kind``: 0 modified, 1 added, 2 deleted); empty if none.

        Raises:
            NotFound: no such container.
        """
        resp = await self._t.request("GET", self._path(container, "/changes"))
        return resp.decode(list[FilesystemChange] | None) or []  # type: ignore[arg-type]

    async def update(
        self, container: str, resources: ContainerResources | Mapping[str, Any]
    ) -> ContainerUpdateResponse:
        """Change a container's resource limits or restart policy without recreating it.

        ``POST /containers/{id}/update``

        Args:
            container: the container's id or name.
            resources: a ``ContainerResources`` or a mapping in the Engine's JSON shape
                (``{"Memory": 64 * 2**20, "RestartPolicy": {"Name": "on-failure"}}``).

        Returns:
            The daemon's warnings.

        Raises:
            NotFound: no such container.
            BadRequest: a value is invalid (e.g. memory below the minimum).
            NotSupported: the engine has no such endpoint (Podman 4.3's service has not; its
                own ``/libpod/containers/{id}/update`` changes the cgroup limits only and
                inspect does not show them).
        """
        resp = await self._t.request("POST", self._path(container, "/update"), body=resources)
        return resp.decode(ContainerUpdateResponse)

    async def prune(self, *, filters: Filters | None = None) -> ContainerPruneResponse:
        """Remove every stopped container.

        ``POST /containers/prune``

        Args:
            filters: ``until`` (a timestamp or duration) and ``label`` (``"k"``, ``"k=v"``,
                ``"label!=…"``) filters.

        Returns:
            The removed containers' ids and the space reclaimed.
        """
        query = {"filters": filters or None}
        resp = await self._t.request("POST", "/containers/prune", query=query)
        return resp.decode(ContainerPruneResponse)

    def logs(
        self,
        container: str,
        *,
        follow: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        since: TimeSpec | None = None,
        until: TimeSpec | None = None,
        timestamps: bool = False,
        tail: int | str | None = None,
        tty: bool | None = None,
    ) -> LogStream:
        """A container's output, stdout and stderr demultiplexed: awaited whole, or streamed.

        ``GET /containers/{id}/logs``

        ``await docker.containers.logs(id)`` returns the output so far as ``ContainerLogs``;
        ``async for frame in docker.containers.logs(id, follow=True)`` yields each
        ``LogFrame`` as the container writes it, until it stops (``.lines()`` gives text lines
        instead). No timeout applies to a followed stream.

        Args:
            container: the container's id or name.
            follow: keep the stream open and deliver new output as it is written.
            stdout: include standard output.
            stderr: include standard error.
            since: only output from this point on, as ``docker.events()`` takes it: a
                ``datetime``, a ``timedelta`` from now (negative: before now), seconds since
                the epoch, or a string (``"1700000000.5"``, a duration before now such as
                ``"10m"``, or an ISO 8601 date-time). ``0``: from the start (the default).
            until: only output before this point (the same forms).
            timestamps: prefix every line with its RFC 3339 timestamp.
            tail: only the last N lines (``"all"`` or ``None`` for everything).
            tty: whether the container has a TTY, if known; found out when needed otherwise.

        Returns:
            A ``LogStream`` (it sends the request when first read, awaited or entered).

        Raises:
            NotFound: no such container (when the stream opens).
        """
        query: dict[str, QueryValue] = {
            "follow": follow or None, "stdout": stdout, "stderr": stderr,
            "since": None if since is None or since == 0 else format_time(since),
            "until": None if until is None else format_time(until),
            "timestamps": timestamps or None, "tail": tail,
        }
        opener = self._get(self._path(container, "/logs"), query, endless=follow)
        name = container_ref(container)

        async def probe(resp: StreamResponse) -> bool:
            return await self._output_is_tty(name, resp.headers, known=tty)

        return LogStream(opener, f"logs of {container}", probe, timestamps=timestamps)

    async def _output_is_tty(
        self, container: str, headers: Mapping[str, str], *, known: bool | None = None
    ) -> bool:
        """Whether a container's output stream (logs, attach) is a TTY's raw bytes.

        From API 1.42 on the Engine says so in the Content-Type (raw for a TTY, multiplexed
        otherwise); before, it always says raw, so the container is inspected unless the
        caller ``known`` it.
        """
        content_type = headers.get("Content-Type", "")
        if content_type.startswith(_MULTIPLEXED):
            return False
        if known is not None:
            return known
        if content_type.startswith(_RAW) and await self._t.api_at_least("1.42"):
            return True
        config = (await self.inspect(container)).config
        return bool(config is not None and config.tty)

    async def stats(self, container: str) -> ContainerStats:
        """One sample of a container's resource usage (CPU, memory, network, block I/O).

        ``GET /containers/{id}/stats?stream=false``

        The daemon takes two readings about a second apart so that ``cpu_percent`` has a
        previous sample to compare with (as ``docker stats --no-stream`` does). Podman's
        service takes one: there the library asks twice, a second apart, and puts the first
        reading in ``precpu_stats``.

        Raises:
            NotFound: no such container.
        """
        path = self._path(container, "/stats")
        resp = await self._t.request("GET", path, query={"stream": False})
        sample = resp.decode(ContainerStats)
        if not is_podman_answer(resp.headers):
            return sample
        await asyncio.sleep(STATS_GAP)  # Podman's reading has no baseline: take a second one
        resp = await self._t.request("GET", path, query={"stream": False})
        return with_baseline(resp.decode(ContainerStats), sample)

    def stats_stream(self, container: str) -> JSONStream[ContainerStats]:
        """A container's resource usage, one sample a second, for as long as it is read.

        ``GET /containers/{id}/stats``

        Use as ``async with docker.containers.stats_stream(id) as samples: async for s in
        samples: print(s.cpu_percent, s.memory_usage)``. The stream of a container that stops
        goes on with empty samples until closed. (Podman's service sends one every 5 s.)

        Returns:
            A ``JSONStream`` of ``ContainerStats`` (it sends the request when first read).

        Raises:
            NotFound: no such container (when the stream opens).
        """
        opener = self._get(self._path(container, "/stats"), {"stream": True}, endless=True)
        return JSONStream(opener, ContainerStats, f"stats of {container}")

    def export(self, container: str) -> ByteStream:
        """A container's filesystem as a tar archive, streamed (never held whole in memory).

        ``GET /containers/{id}/export``

        Use ``async for chunk in docker.containers.export(id)`` or
        ``await docker.containers.export(id).write_to(file)``.

        Returns:
            A ``ByteStream`` of the tar (it sends the request when first read).

        Raises:
            NotFound: no such container (when the stream opens).
        """
        return ByteStream(self._get(self._path(container, "/export")), f"export of {container}")

    async def stat_path(self, container: str, path: str) -> PathStat:
        """What a path in a container's filesystem is: name, size, mode, mtime, link target.

        ``HEAD /containers/{id}/archive``

        The ``name`` is the base name of ``path`` and ``link_target`` is set for symlinks only,
        whatever the engine (Podman names a symlink after its target and gives every path a
        ``linkTarget``).

        Raises:
            NotFound: no such container, or no such path in it.
        """
        try:
            resp = await self._t.request(
                "HEAD", self._path(container, "/archive"), query={"path": path}
            )
        except NotFound as exc:
            if exc.message:
                raise
            raise NotFound(  # a HEAD answer has no body, so no message: say what was missing
                404, f"no such path {path!r} in container {container!r} (or no such container)",
                method=exc.method, path=exc.path,
            ) from None
        stat = decode_path_stat(resp.headers.get("X-Docker-Container-Path-Stat"))
        return podman_path_stat(stat, path) if is_podman_answer(resp.headers) else stat

    def get_archive(self, container: str, path: str) -> ArchiveStream:
        """A tar archive of a file or directory in a container, streamed.

        ``GET /containers/{id}/archive``

        ``async with docker.containers.get_archive(id, "/etc") as tar:`` then ``tar.stat``
        says what the path is, and ``async for chunk in tar`` (or ``tar.write_to(file)``) reads
        the archive, whose top entry is the path's base name.

        Returns:
            An ``ArchiveStream`` (it sends the request when first read or entered).

        Raises:
            NotFound: no such container, or no such path in it (when the stream opens).
        """
        opener = self._get(self._path(container, "/archive"), {"path": path})
        return ArchiveStream(opener, f"archive of {path} in {container}", path=path)

    async def put_archive(
        self,
        container: str,
        path: str,
        data: UploadSource,
        *,
        no_overwrite_dir_non_dir: bool = False,
        copy_uid_gid: bool = False,
    ) -> None:
        """Extract a tar archive into a directory of a container.

        ``PUT /containers/{id}/archive``

        Args:
            container: the container's id or name.
            path: an existing directory in the container to extract into.
            data: the tar (plain, gzip, bzip2 or xz): bytes, a binary file object, a
                ``pathlib.Path`` of a file or an async iterable of bytes — all but bytes are
                streamed, not read into memory.
            no_overwrite_dir_non_dir: refuse to replace a directory with a file or back.
            copy_uid_gid: give the files the archive's owners instead of root.

        Raises:
            NotFound: no such container, or ``path`` does not exist in it (Podman's service
                would create it: there ``path`` is looked up first, ``HEAD /containers/{id}/
                archive``).
            BadRequest: ``path`` is not a directory (Docker 20.10 says so with a 500, which is
                raised as ``BadRequest`` too), or the data is not a tar archive.
            APIError: 403 when the target is read-only.
        """
        await self._put_archive(container, path, *upload_body(data, "put_archive"),
                                no_overwrite_dir_non_dir, copy_uid_gid)

    async def _put_archive(
        self, container: str, path: str, body: Body, upload: Upload | None,
        no_overwrite: bool, copy_ids: bool,
    ) -> None:
        try:
            if await self._t.is_podman():
                await self.stat_path(container, path)  # Podman would create a missing path
            query = {"path": path, "noOverwriteDirNonDir": no_overwrite or None,
                     "copyUIDGID": copy_ids or None}
            await self._t.request("PUT", self._path(container, "/archive"), query=query, data=body,
                                  headers={"Content-Type": "application/x-tar"}, timeout=None)
        except ServerError as exc:
            if "not a directory" not in exc.message:
                raise
            # Docker < 23 answers 500 here; newer engines 400: one error class for both
            raise BadRequest(exc.status, exc.message, method=exc.method, path=exc.path) from None
        except DockerError:
            if upload is not None and upload.error is not None:
                raise upload.error from None  # the local side failed (an unreadable file…)
            raise
        finally:
            if upload is not None:
                upload.close()

    async def copy_to(
        self, container: str, src: str | os.PathLike[str], dest: str, *,
        copy_uid_gid: bool = False, special_files: SpecialFiles = "refuse",
    ) -> None:
        """Copy a local file or directory into a container, as ``docker cp SRC CONTAINER:DEST``.

        ``HEAD`` then ``PUT /containers/{id}/archive``

        The archive is made as it is sent (nothing is packed in memory first). Where it lands
        follows ``docker cp``:

        - ``dest`` is a directory: ``src`` is copied into it under its own base name; a ``src``
          ending in ``/.`` (``"dir/."``, or ``"."``) copies what is in the directory instead.
        - ``dest`` does not exist (its parent must): a directory is created there with what is
          in ``src``, or a file ``src`` is written there under that name; a ``dest`` ending in
          ``/`` must exist, unless ``src`` is a directory.
        - ``dest`` is a file: a file ``src`` replaces it; a directory cannot.

        A ``dest`` that is a symlink is followed once; a relative ``dest`` is taken from the
        container's root. A directory in the container is never replaced by a file (nor back),
        and a symlink ``src`` is copied as a link. Device nodes, FIFOs and sockets in ``src``
        follow ``special_files``.

        Args:
            container: the container's id or name.
            src: a local file, directory or link; a ``str`` ending in ``/.`` for what is in a
                directory (``pathlib`` drops that ``.``).
            dest: where in the container (see above).
            copy_uid_gid: keep the local owners instead of making the files root's.
            special_files: ``"refuse"`` device nodes, FIFOs and sockets with an error naming
                the first one (the default), ``"skip"`` them, or ``"create"`` device nodes and
                FIFOs in the container (``docker cp`` does; sockets are still refused).

        Raises:
            InvalidArgument: ``src`` does not exist; ``src`` ends in ``/`` or ``/.`` and is no
                directory; a directory onto a file; a special file refused.
            NotFound: no such container, or ``dest`` and its parent do not exist (or a
                ``dest`` ending in ``/`` does not, for a file ``src``).
            BadRequest: the parent of a missing ``dest`` is not a directory, or a file would
                replace a directory.
        """
        special_files = check_special_files(special_files)
        raw = os.fspath(src)
        local, name, is_dir = await asyncio.to_thread(_local_source, raw)
        dest = posixpath.join("/", dest)
        stat: PathStat | None = None
        try:
            stat = await self.stat_path(container, dest)
            if stat.is_symlink:  # docker cp follows a symlink destination once
                dest = posixpath.join(posixpath.dirname(posixpath.normpath(dest)),
                                      stat.link_target)
                stat = await self.stat_path(container, dest)
        except NotFound as exc:
            if not is_dir and dest.endswith(("/", "/.")):
                raise NotFound(exc.status, f"cannot copy {raw!r} into {dest!r} in container "
                               f"{container!r}: no such directory", method=exc.method,
                               path=exc.path) from None
        norm = posixpath.normpath(dest)
        if stat is not None and stat.is_dir:
            into, top = norm, name
        elif stat is not None and is_dir:
            raise InvalidArgument(f"cannot copy the directory {raw!r} to {dest!r} in container "
                                  f"{container!r}: that is a file, not a directory")
        else:  # a file to replace, or a missing dest: written there under its name
            into, top = posixpath.dirname(norm), posixpath.basename(norm)
        tar = DirectoryTar(local, tree_members(local, top), keep_owners=copy_uid_gid,
                           special_files=special_files)
        await self._put_archive(container, into, tar, tar, True, copy_uid_gid)

    async def copy_from(
        self, container: str, src: str, dest: str | os.PathLike[str], *,
        copy_uid_gid: bool = False, keep_setuid: bool = False,
        special_files: SpecialFiles = "refuse",
    ) -> PathStat:
        """Copy a file or directory out of a container into a local directory (``docker cp``).

        ``GET /containers/{id}/archive``

        The archive is extracted as it arrives; ``src`` keeps its base name under ``dest``
        (created if missing); a ``src`` ending in ``/.`` copies what is in the directory.

        The container is not trusted, and the checks are ``docker cp``'s or stricter: members
        that would land outside ``dest`` or be written through a symlink are refused, and so
        is a relative symlink pointing outside ``dest`` (``docker cp``: "invalid symlink";
        absolute ones are kept as they are, as ``docker cp`` does). The files become the
        caller's, and lose setuid and setgid bits (``docker cp`` keeps those bits, which makes a
        container's setuid file one of the caller's, often root's); device nodes and FIFOs are
        refused, unless asked otherwise.

        Args:
            container: the container's id or name.
            src: the path in the container.
            dest: a local directory.
            copy_uid_gid: give the files the archive's owners, by number (needs root).
            keep_setuid: keep setuid and setgid bits.
            special_files: ``"refuse"`` device nodes and FIFOs with an error naming the first
                one (the default), ``"skip"`` them, or ``"create"`` them (device nodes need
                root; ``docker cp`` creates them).

        Returns:
            What ``src`` is (its ``PathStat``).

        Raises:
            NotFound: no such container, or no such path in it.
            InvalidArgument: a member was refused (outside ``dest``, a symlink pointing out of
                it, a device node or FIFO not asked for), or ``dest`` cannot be created.
            ArchiveError: the archive is malformed, or a member cannot be written (a file where
                the archive has a directory, no permission…); ``.member`` names it.
        """
        special_files = check_special_files(special_files)
        target = Path(dest)
        try:
            await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidArgument(f"cannot copy {src!r} from container {container!r} into "
                                  f"{target}: {exc.strerror or exc}") from None
        async with self.get_archive(container, src) as archive:
            await extract_tar(archive, target, keep_owners=copy_uid_gid, keep_setuid=keep_setuid,
                              special_files=special_files)
            return archive.stat

    async def run(
        self,
        config: str | ContainerCreateBody | Mapping[str, Any],
        cmd: str | Sequence[str] | None = None,
        *,
        name: str | None = None,
        wait: bool = True,
        remove: bool = False,
        check: bool = True,
        timeout: float | None = None,
    ) -> RunResult:
        """Create and start a container; optionally wait for it and collect its output.

        ``POST /containers/create``, ``POST /containers/{id}/start``, then, when waiting,
        ``POST /containers/{id}/wait``, ``GET /containers/{id}/logs`` and (``remove``)
        ``DELETE /containers/{id}``.

        Args:
            config: an image name, a ``ContainerCreateBody`` or a mapping in the Engine's JSON
                shape.
            cmd: the command, replacing the image's (a string is split like a shell would).
            name: the container's name.
            wait: wait for it to exit and collect its output; ``False`` returns once started.
            remove: remove it once it has exited and its output is collected, and also when
                anything fails after it was created (needs ``wait``; for a detached container
                use ``HostConfig(auto_remove=True)`` instead).
            check: raise ``ContainerError`` if it exits with a non-zero status.
            timeout: seconds to wait for it to exit; on expiry it is killed (and removed if
                ``remove``) and ``DockerTimeoutError`` is raised.

        Returns:
            The container's id, and its exit code and output when waited for.

        Raises:
            ContainerError: it exited non-zero and ``check`` is set (carries stderr).
            NotFound: the image does not exist locally.
        """
        if remove and not wait:
            raise InvalidArgument(
                "remove=True needs wait=True; for a detached container set "
                "HostConfig(auto_remove=True) in its config instead"
            )
        cid = (await self.create(_with_cmd(config, cmd), name=name)).id
        assert cid is not None
        try:
            await self.start(cid)
            if not wait:
                return RunResult(id=cid)
            try:
                waited = await self.wait(cid, timeout=timeout)
            except TimeoutError:
                await shielded(_quietly(self.kill(cid)))
                raise
            logs = await self.logs(cid)
        finally:
            if remove:
                await shielded(_quietly(self.remove(cid, force=True, volumes=True)))
        exit_code = waited.status_code if waited.status_code is not None else -1
        if check and exit_code != 0:
            raise ContainerError(cid, exit_code, logs.stderr)
        return RunResult(id=cid, exit_code=exit_code, logs=logs, removed=remove)

    async def wait_for(
        self,
        container: str,
        *,
        state: str | None = None,
        health: str | None = None,
        timeout: float | None = None,
    ) -> ContainerInspect:
        """Wait, driven by events, until a container is in a state and/or health status.

        ``GET /events`` (subscribed first, so no transition can slip between the check and the
        wait), then ``GET /containers/{id}/json`` once and after each of its events.

        Args:
            container: the container's id or name.
            state: the ``State.Status`` to reach: ``"created"``, ``"running"``, ``"paused"``,
                ``"restarting"``, ``"exited"`` or ``"dead"``.
            health: the health status to reach: ``"starting"``, ``"healthy"``, ``"unhealthy"``.
            timeout: seconds to wait at most (``None``: no limit).

        Returns:
            The container's inspection once both conditions hold.

        Raises:
            WaitTimeout: ``timeout`` passed first (the message says what it last saw).
            ContainerError: it exited, with no restart policy to bring it back, while a running
                state or a health status was awaited.
            NotFound: no such container, or it was removed while waited for.
            InvalidArgument: neither ``state`` nor ``health`` given, or an unknown value.
        """
        if state is None and health is None:
            raise InvalidArgument("wait_for() needs a state, a health status or both")
        if state is not None and state not in _STATES:
            raise InvalidArgument(f"state must be one of {', '.join(_STATES)}, not {state!r}")
        if health is not None and health not in _HEALTH:
            raise InvalidArgument(f"health must be one of {', '.join(_HEALTH)}, not {health!r}")
        last: list[ContainerInspect] = []
        try:
            return await asyncio.wait_for(
                self._wait_for(container_ref(container), state, health, last), timeout
            )
        except asyncio.TimeoutError:
            seen = _describe(last[-1]) if last else "nothing yet"
            wanted = " and ".join(
                f"{k} {v!r}" for k, v in (("state", state), ("health", health)) if v
            )
            never_checked = health is not None and last and _never_checked(last[-1])
            hint = HEALTH_CHECK_HINT if never_checked and self._t.podman_version else ""
            raise WaitTimeout(
                f"container {container!r} did not reach {wanted} within {timeout} s "
                f"(last seen: {seen}){hint}"
            ) from None

    async def _wait_for(
        self, container: str, state: str | None, health: str | None,
        last: builtins.list[ContainerInspect],
    ) -> ContainerInspect:
        stream: EventStream[EventMessage] = event_stream(
            self._t, filters={"type": ["container"], "container": [container]},
            on_malformed="skip",
        )
        async with stream:
            info = await self.inspect(container)
            cid = info.id
            while True:
                last[:] = [info]
                if _reached(info, state, health):
                    return info
                _check_hopeless(info, state, health)
                while True:
                    try:
                        ev = await stream.__anext__()
                    except EventsLost:
                        break  # something may have been missed: inspect again
                    if ev.actor_id != cid:
                        continue
                    if ev.action == "destroy":  # Podman's "remove" comes renamed
                        raise _removed(container)
                    break
                try:
                    info = await self.inspect(cid or container)
                except NotFound:
                    raise _removed(container) from None

    async def resize(self, container: str, height: int, width: int) -> None:
        """Resize a container's TTY.

        ``POST /containers/{id}/resize``

        Args:
            container: the container's id or name.
            height: rows.
            width: columns.

        Raises:
            NotFound: no such container.
            ServerError: the container has no TTY or is not running (as the daemon says).
        """
        query = {"h": height, "w": width}
        await self._t.request("POST", self._path(container, "/resize"), query=query)

    def attach(
        self,
        container: str,
        *,
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        stream: bool = True,
        logs: bool = False,
        detach_keys: str | None = None,
    ) -> AttachStream:
        """Attach to a container's standard streams; the stream connects on first use.

        ``POST /containers/{id}/attach`` (hijacked: the connection becomes the container's
        stdio), and on API 1.41 ``GET /containers/{id}/json`` to learn whether it has a TTY.

        Use ``async with docker.containers.attach(cid, stdin=True) as stream:``, iterate it
        for output and ``write()`` to it; ``detach()`` leaves the container running. Attaching
        to a container that is not running yet waits for it to start (enter the ``async with``
        before ``containers.start()`` to see all of its output, as ``docker start -a`` does).

        Args:
            container: the container's id or name.
            stdin: attach standard input (the container needs ``OpenStdin``).
            stdout: receive standard output.
            stderr: receive standard error.
            stream: receive output from now on.
            logs: first replay the output written so far.
            detach_keys: the key sequence that detaches from a TTY container
                (``"ctrl-p,ctrl-q"`` when omitted); :meth:`AttachStream.detach` sends it.

        Returns:
            An :class:`AttachStream` (not yet connected).

        Raises:
            NotFound: no such container (when the stream opens).
            InvalidArgument: malformed ``detach_keys`` (at once).
        """
        keys = detach_sequence(detach_keys)
        name = container_ref(container)
        path = self._path(name, "/attach")
        query: dict[str, QueryValue] = {"stdin": stdin, "stdout": stdout, "stderr": stderr,
                                        "stream": stream, "logs": logs, "detachKeys": detach_keys}
        unwanted = frozenset(s for s, want in (("stdout", stdout), ("stderr", stderr)) if not want)
        resize = functools.partial(self.resize, name)

        async def opener() -> Session:
            conn = await self._t.upgrade("POST", path, query=query)
            try:
                tty = await self._output_is_tty(name, conn.headers)
                podman = await self._t.is_podman()
            except BaseException:
                conn.writer.close()
                raise
            return Session(conn, tty, stdin, keys, None, resize, podman, unwanted)

        return AttachStream(opener, f"the attach stream of container {container!r}")

    def attach_websocket(
        self,
        container: str,
        *,
        stdin: bool = True,
        stdout: bool = True,
        stderr: bool = True,
        logs: bool = False,
        detach_keys: str | None = None,
    ) -> AttachWebSocket:
        """Attach to a container's standard streams over a WebSocket; it connects on first use.

        ``GET /containers/{id}/attach/ws``

        The same session as :meth:`attach`, as WebSocket messages: for code that relays
        them as they are (a browser terminal, a proxy that only passes WebSockets). Output
        arrives as ``bytes`` messages, stdout and stderr mixed; what is sent goes to stdin.
        Use :meth:`attach` to tell stdout from stderr, half-close stdin or detach with keys.

        Args:
            container: the container's id or name.
            stdin: send to its standard input (the container needs ``OpenStdin``).
            stdout: receive its standard output.
            stderr: receive its standard error.
            logs: first replay the output written so far.
            detach_keys: the key sequence that detaches from a TTY container.

        Returns:
            An :class:`AttachWebSocket` (not yet connected).

        Raises:
            NotFound: no such container (when it connects).
            NotSupported: the engine has no WebSocket attach (Podman's service), when it
                connects.
            InvalidArgument: malformed ``detach_keys`` (at once).
        """
        detach_sequence(detach_keys)  # checked now, sent as written
        name = container_ref(container)
        path = self._path(name, "/attach/ws")
        query: dict[str, QueryValue] = {"stdin": stdin, "stdout": stdout, "stderr": stderr,
                                        "stream": True, "logs": logs, "detachKeys": detach_keys}

        async def opener() -> WebSocket:
            try:
                return await self._t.websocket(path, query=query)
            except NotFound as exc:  # a refused handshake carries no text: name the container
                raise NotFound(exc.status, f"No such container: {name}", method=exc.method,
                               path=exc.path) from None

        return AttachWebSocket(opener, f"the attach WebSocket of container {container!r}")

    def watch(
        self,
        *,
        label: str | Sequence[str] | None = None,
        reconnect: ReconnectPolicy | bool = True,
    ) -> ContainerWatch:
        """A live, consistent cache of containers and the stream of its changes.

        ``GET /events`` (subscribed first), ``GET /containers/json`` (then listed, and again
        for each container an event names).

        Use as ``async with docker.containers.watch() as watch: async for change in watch:``;
        each existing container comes first as ``"added"``, then every ``"added"``,
        ``"updated"`` or ``"removed"`` as it happens, each once. ``watch.get(id)`` and
        ``watch.containers`` query the cache at any time.

        Args:
            label: only containers with these labels (``"k"`` or ``"k=v"``; all must match).
            reconnect: as for ``docker.events()``; after a reconnect that cannot prove it
                missed nothing, the watch lists everything again and reports the differences.

        Returns:
            A ``ContainerWatch`` (not yet started).
        """
        labels = [label] if isinstance(label, str) else list(label or [])
        filters = {"type": ["container"], **({"label": labels} if labels else {})}
        stream: EventStream[EventMessage] = event_stream(
            self._t, filters=filters, reconnect=reconnect, on_malformed="skip"
        )
        return ContainerWatch(self._watch_list, stream, labels)

    def stats_all(
        self,
        *,
        label: str | Sequence[str] | None = None,
        maxsize: int = 1024,
        policy: SlowPolicy = "drop_oldest",
        reconnect: ReconnectPolicy | bool = True,
    ) -> StatsTable:
        """Resource usage of every running container: a live table, or one sample of each.

        ``GET /events`` and ``GET /containers/json`` (the watch), then
        ``GET /containers/{id}/stats`` for each running container, opened as it joins.

        ``async with docker.containers.stats_all() as table: async for update in table:``
        yields a ``StatsUpdate`` per container joining, sample (about one a second each) and
        leaving; ``table.rows`` is the whole table, current. Containers join as they start
        and leave as they stop or are removed (driven by the event stream); a container whose
        stream fails leaves, with the reason, and the others go on.

        ``await docker.containers.stats_all()`` is the one-shot form, ``docker stats
        --no-stream``: one sample of every running container, all taken at once (so as long
        as one sample, about a second, whatever their number).

        Args:
            label: only containers with these labels (``"k"`` or ``"k=v"``; all must match).
            maxsize: the update buffer, in updates.
            policy: when the buffer is full: ``"drop_oldest"`` (the default: the rows stay
                current, the drops are counted in ``table.dropped``), ``"wait"`` (each
                container's stream waits for room) or ``"disconnect"`` (the iteration ends
                with ``SubscriberTooSlow``).
            reconnect: for the event stream, as for ``docker.events()``.

        Returns:
            A ``StatsTable`` (nothing is sent until it is entered, iterated or awaited).

        Raises:
            InvalidArgument: an unknown policy or a buffer smaller than 1.
        """
        labels = [label] if isinstance(label, str) else list(label or [])
        filters = {"label": labels} if labels else None
        return StatsTable(
            lambda: self._fleet_watch(labels, reconnect),
            self.stats_stream,
            lambda: self.list(filters=filters),
            self.stats,
            self.inspect,
            maxsize=maxsize,
            policy=policy,
        )

    def logs_all(
        self,
        *,
        label: str | Sequence[str] | None = None,
        tail: int | str | None = "all",
        timestamps: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        maxsize: int = 1024,
        policy: SlowPolicy = "wait",
        reconnect: ReconnectPolicy | bool = True,
    ) -> MergedLogs:
        """The followed output of every running container, merged into one stream of lines
        tagged with the container's id and name and the stream (``docker compose logs -f``).

        ``GET /events`` and ``GET /containers/json`` (the watch), then
        ``GET /containers/{id}/logs?follow=1`` for each running container, opened as it joins
        (and ``GET /containers/{id}/json`` for one that starts later).

        ``async with docker.containers.logs_all(label="app=web") as logs: async for line in
        logs:`` yields ``TaggedLogLine`` s. A container that starts later joins, from the start
        of that run; one that stops leaves after its last line; one whose stream fails leaves
        (``logs.failures`` says why) and the others go on.

        Args:
            label: only containers with these labels (``"k"`` or ``"k=v"``; all must match).
            tail: how many of their last lines the containers running at the start give first
                (``"all"``, a number, ``0`` for none).
            timestamps: put the daemon's timestamp in each line's ``timestamp``.
            stdout: include standard output.
            stderr: include standard error.
            maxsize: the line buffer, in lines.
            policy: when the buffer is full: ``"wait"`` (the default: the container's stream
                waits for room; the daemon keeps the log, nothing is lost), ``"drop_oldest"``
                (counted in ``logs.dropped``) or ``"disconnect"`` (the iteration ends with
                ``SubscriberTooSlow``).
            reconnect: for the event stream, as for ``docker.events()``.

        Returns:
            A ``MergedLogs`` (nothing is sent until it is entered or iterated).

        Raises:
            InvalidArgument: an unknown policy or a buffer smaller than 1.
        """
        labels = [label] if isinstance(label, str) else list(label or [])

        def open_logs(cid: str, since: str | None, first: int | str | None) -> LogStream:
            return self.logs(cid, follow=True, stdout=stdout, stderr=stderr, since=since,
                             timestamps=timestamps, tail=first)

        return MergedLogs(
            lambda: self._fleet_watch(labels, reconnect),
            open_logs,
            self.inspect,
            tail=tail,
            maxsize=maxsize,
            policy=policy,
        )

    def _fleet_watch(
        self, labels: builtins.list[str], reconnect: ReconnectPolicy | bool
    ) -> ContainerWatch:
        """The watch of ``stats_all`` and ``logs_all``."""
        return self.watch(label=labels, reconnect=reconnect)

    async def _watch_list(
        self, filters: dict[str, builtins.list[str]] | None
    ) -> builtins.list[ContainerSummary]:
        """The watch's listing: ``list(all=True)``; a look at the one container an event
        names is checked against ``inspect`` when it still says running.

        Docker 20.10 sends ``die`` before its listing shows the container stopped (listed at
        once after ``die``, it is still ``running``); the watch would then never see it stop,
        nor start again.
        """
        listed = await self.list(all=True, filters=filters)
        if not filters or "id" not in filters:
            return listed
        checked = []
        for summary in listed:
            if summary.state == "running" and summary.id is not None:
                with contextlib.suppress(NotFound):
                    info = await self.inspect(summary.id)
                    state = info.state.status if info.state is not None else None
                    if state is not None and state != summary.state:
                        summary = msgspec.structs.replace(summary, state=state)
            checked.append(summary)
        return checked

    def _path(self, container: str, suffix: str = "") -> str:
        return self._t.path("/containers/{}" + suffix, container_ref(container))

    def _get(
        self, path: str, query: Mapping[str, QueryValue] | None = None, *, endless: bool = False
    ) -> Opener:
        """Sends ``GET path`` for a stream, when the stream is first used. The head of an
        ``endless`` one (a followed log, a stats stream) is waited for as long as it takes, as
        its body is (Podman sends a followed log's head only with the first line); a finite
        body's head comes within the request timeout."""
        timeout = None if endless else DEFAULT
        return functools.partial(self._t.stream, "GET", path, query=query, timeout=timeout)

    async def _stop(
        self, action: str, container: str, timeout: int | None, signal: str | None
    ) -> bool:
        path = self._path(container, action)
        if signal is not None:
            await self._t.require_api("1.42", "signal")
        waits: float | None = timeout
        if waits is None:  # the daemon waits the container's own StopTimeout: so must we
            config = (await self.inspect(container)).config
            waits = config.stop_timeout if config and config.stop_timeout is not None else 10
        resp = await self._t.request(
            "POST", path, query={"t": timeout, "signal": signal},
            ok=(304,) if action == "/stop" else (),
            timeout=self._t.timeout_after(waits) if waits >= 0 else None,  # -1: for ever
        )
        return resp.status != 304


_STATES = ("created", "running", "paused", "restarting", "exited", "dead")
_HEALTH = ("starting", "healthy", "unhealthy")


def _local_source(raw: str) -> tuple[Path, str, bool]:
    """The local file ``docker cp`` would copy for ``raw``, the name it gets in a directory
    (``""`` for what is in the directory: ``raw`` ends in ``/.``), and whether it is a
    directory. A link is copied as a link, unless ``raw`` ends in ``/`` or ``/.``, which asserts
    a directory (and follows links to it).

    Raises:
        InvalidArgument: it does not exist, or is asserted to be a directory and is not one.
    """
    local = Path(raw)
    if not (local.exists() or local.is_symlink()):
        raise InvalidArgument(f"cannot copy {raw!r} into the container: it does not exist")
    contents = posixpath.basename(raw.replace(os.sep, "/")) == "."
    name = "" if contents else Path(os.path.abspath(raw)).name  # "/" has none: its contents
    if raw.endswith(("/", os.sep)) or contents:
        if not local.is_dir():
            raise InvalidArgument(f"cannot copy {raw!r} into the container: not a directory")
        local = local.resolve()
    return local, name, local.is_dir() and not local.is_symlink()


async def _quietly(cleanup: Awaitable[None]) -> None:
    with contextlib.suppress(NotFound):  # gone already
        await cleanup


def _removed(container: str) -> NotFound:
    return NotFound(404, f"container {container} was removed while waited for",
                    method="GET", path="/events")


def _never_checked(info: ContainerInspect) -> bool:
    """Whether a container's health check has not run once (its log is empty)."""
    health = info.state.health if info.state is not None else None
    return health is not None and health.status == "starting" and not health.log


def _status(info: ContainerInspect) -> tuple[str | None, str | None]:
    st = info.state
    if st is None:
        return None, None
    return st.status, (st.health.status if st.health is not None else None)


def _reached(info: ContainerInspect, state: str | None, health: str | None) -> bool:
    status, health_status = _status(info)
    return (state is None or status == state) and (health is None or health_status == health)


def _describe(info: ContainerInspect) -> str:
    status, health_status = _status(info)
    return f"state {status!r}" + (f", health {health_status!r}" if health_status else "")


def _check_hopeless(info: ContainerInspect, state: str | None, health: str | None) -> None:
    """Raise if the container has exited for good while it was to run or be healthy."""
    status, _ = _status(info)
    if status not in ("exited", "dead") or state in ("exited", "dead"):
        return
    policy = info.host_config.restart_policy if info.host_config is not None else None
    if policy is not None and policy.name not in (None, "", "no"):
        return  # it may come back
    code = info.state.exit_code if info.state is not None else None
    raise ContainerError(info.id or "?", code if code is not None else -1, b"")


def _with_cmd(
    config: str | ContainerCreateBody | Mapping[str, Any],
    cmd: str | Sequence[str] | None,
) -> ContainerCreateBody | Mapping[str, Any]:
    command = shlex.split(cmd) if isinstance(cmd, str) else (list(cmd) if cmd else None)
    if isinstance(config, str):
        return ContainerCreateBody(image=config, cmd=command)
    if command is None:
        return config
    if isinstance(config, ContainerCreateBody):
        return msgspec.structs.replace(config, cmd=command)
    if isinstance(config, Mapping):
        return {**config, "Cmd": command}
    raise InvalidArgument(
        "config must be an image name, a ContainerCreateBody or a mapping, "
        f"not {type(config).__name__}"
    )
