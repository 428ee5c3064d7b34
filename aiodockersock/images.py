"""The images area of the Engine API: ``docker.images``.

Tarballs (``save``, ``load``, ``import_``, ``build`` contexts) are streamed both ways and never
held in memory whole: a directory given as a build context is tarred by a worker thread into a
small bounded buffer while it uploads. Pulls, pushes, builds, loads and imports return a
:class:`~aiodockersock.ProgressStream`: ``async for`` its typed progress messages, or ``await``
it for the result.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import re
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Literal, Union

import msgspec

from ._args import Filters, SSHAgents, ssh_agents, string_list, string_map
from ._auth import RegistryAuth, auth_headers, config_key, registry_of, split_reference
from ._auth import reaching_registry as _reaching
from ._auth import refused_credentials as _refusing
from ._auth import registry_failure as _failure
from ._bodies import ByteStream, ProgressStream
from ._build_context import context_members, context_patterns
from ._exceptions import (
    APIError,
    DockerError,
    InvalidArgument,
    NotSupported,
    ProgressError,
    ServerError,
)
from ._podman import (
    PrunedImage,
    deleted_ids,
    history_ids,
    import_changes,
    is_podman_answer,
    prune_report,
)
from ._tar import DirectoryTar, Upload, UploadSource, upload_body
from ._transport import Area, Body, QueryValue, StreamResponse
from .models.images import (
    AttestationStatement,
    BuildPruneResponse,
    DistributionInspect,
    HistoryResponseItem,
    ImageDeleteResponseItem,
    ImageInspect,
    ImagePruneResponse,
    ImageSearchResponseItem,
    ImageSummary,
    PushResult,
)
from .models.progress import ProgressMessage

__all__ = ["BuildContext", "ImageSource", "Images"]


#: A tarball to upload: bytes, an async iterable of bytes, a binary file object (its ``read``
#: may be sync or async), or the path of a file.
ImageSource = UploadSource

#: A build context: the path of a directory (tarred on the fly, ``.dockerignore`` honoured) or
#: of a tar file, or the tar itself as for :data:`ImageSource`.
BuildContext = Union[
    str, "os.PathLike[str]", bytes, bytearray, memoryview, AsyncIterable[bytes], IO[bytes]
]

_TAR = {"Content-Type": "application/x-tar"}
_LOADED = re.compile(r"^Loaded image(?: ID)?: (.+?)\s*$")
_BUILT = re.compile(r"^Successfully built ([0-9a-f]{12,64})\s*$")
_IMAGE_ID = re.compile(r"^sha256:[0-9a-f]{64}$")


def _build_auths(auth: RegistryAuth | Mapping[str, RegistryAuth] | None,
                 ) -> dict[str, RegistryAuth]:
    """A BuildKit build's ``auth`` as ``{config.json key: RegistryAuth}``."""
    if auth is None:
        return {}
    if isinstance(auth, RegistryAuth):
        if not auth.server_address:
            raise InvalidArgument(
                "build: auth=RegistryAuth(...) needs server_address= naming its registry (a "
                'build may pull from several); or pass {"registry": RegistryAuth(...)}')
        return {config_key(auth.server_address): auth}
    if not isinstance(auth, Mapping):
        raise InvalidArgument("build: auth must be a RegistryAuth or a mapping of registry to "
                              f"RegistryAuth, not {type(auth).__name__}")
    out: dict[str, RegistryAuth] = {}
    for registry, value in auth.items():
        if not isinstance(registry, str) or not registry or not isinstance(value, RegistryAuth):
            raise InvalidArgument(
                "build: auth maps a registry (a non-empty str) to a RegistryAuth, not "
                f"{registry!r}: {type(value).__name__}")
        out[config_key(registry)] = value
    return out


def _json_map(name: str, value: Mapping[str, str] | None) -> str | None:
    checked = string_map(name, value)
    return None if checked is None else msgspec.json.encode(checked).decode()


class _UploadProgress(ProgressStream[ProgressMessage, Any]):
    """A progress stream that also releases its upload source when it closes."""

    _upload: Upload | None = None

    def close(self) -> None:
        super().close()
        if self._upload is not None:
            self._upload.close()


def _no_result(action: str, what: str, operation: str, messages: list[Any]) -> ProgressError:
    return ProgressError(f"the daemon ended the {action} without reporting {what}",
                         operation=operation, log=messages[-20:])


def _tag_from(image: str, tag: str | None, *, default: str | None) -> tuple[str, str | None]:
    """Split ``image`` into a repository and the tag (or digest) to send."""
    repository, own_tag, digest = split_reference(image)
    if not repository:
        raise InvalidArgument(f"{image!r} is not an image reference")
    own = digest or own_tag
    if own and tag and own != tag:
        raise InvalidArgument(f"{image!r} names a tag or digest already; do not pass tag={tag!r}")
    return repository, own or tag or default


def _oci_platform(platform: str | Mapping[str, str]) -> str:
    """``"linux/arm64/v8"`` or an OCI platform mapping → the JSON the Engine takes."""
    if isinstance(platform, str):
        parts = platform.split("/")
        if not 1 <= len(parts) <= 3 or not all(parts):
            raise InvalidArgument(
                f"platform {platform!r} is not os[/architecture[/variant]] (e.g. 'linux/amd64')"
            )
        keys = ("os", "architecture", "variant")
        return msgspec.json.encode(dict(zip(keys, parts, strict=False))).decode()
    return msgspec.json.encode(string_map("platform", platform)).decode()


def _ref(repository: str, tag: str | None) -> str:
    if tag is None:
        return repository
    return f"{repository}@{tag}" if ":" in tag else f"{repository}:{tag}"


class Images(Area):
    """List, inspect, build, pull, push, save, load and remove images (``/images/…``,
    ``/build``)."""

    __slots__ = ()

    async def list(
        self, *, all: bool = False, filters: Filters | None = None, digests: bool = False
    ) -> builtins.list[ImageSummary]:
        """List images.

        ``GET /images/json``

        Args:
            all: include intermediate images (the classic builder's layers).
            filters: ``{"reference": "app:*"}``, ``{"label": ["a=b"]}``, ``{"dangling":
                "true"}``, ``{"before"|"since": image}``.
            digests: fill ``repo_digests``.

        Returns:
            One ``ImageSummary`` per image.

        Raises:
            BadRequest: a filter is not valid.
        """
        resp = await self._t.request(
            "GET", "/images/json", query={"all": all, "filters": filters, "digests": digests}
        )
        return resp.decode(builtins.list[ImageSummary])

    async def inspect(self, image: str) -> ImageInspect:
        """Low-level information about an image.

        ``GET /images/{name}/json``

        Args:
            image: a name (``app:1.0``, ``127.0.0.1:5000/team/app``), an id or an id prefix.

        Returns:
            Its id, tags, digests, config, layers, size….

        Raises:
            NotFound: no such image.
        """
        resp = await self._t.request("GET", self._t.path("/images/{}/json", image))
        return resp.decode(ImageInspect)

    async def exists(self, image: str) -> bool:
        """Whether an image exists locally.

        ``GET /images/{name}/json``
        """
        try:
            await self.inspect(image)
        except APIError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def history(self, image: str) -> builtins.list[HistoryResponseItem]:
        """The layers of an image and the steps that made them, newest first.

        ``GET /images/{name}/history``

        Raises:
            NotFound: no such image.
        """
        resp = await self._t.request("GET", self._t.path("/images/{}/history", image))
        history = resp.decode(builtins.list[HistoryResponseItem])
        return history_ids(history) if is_podman_answer(resp.headers) else history

    async def distribution(
        self, image: str, *, auth: RegistryAuth | None = None
    ) -> DistributionInspect:
        """What the registry holds under an image's name, asked of the registry itself (like
        ``docker manifest inspect`` or ``docker buildx imagetools inspect``).

        ``GET /distribution/{name}/json``

        The daemon asks the registry; nothing is pulled. The digest is the one a pull of
        ``image`` would resolve to, and the one :meth:`push` reported.

        Args:
            image: ``127.0.0.1:5000/team/app:1.0``, ``busybox`` (Docker Hub, ``latest``),
                ``app@sha256:…``.
            auth: credentials; ``None`` looks them up in ``~/.docker/config.json`` and asks
                anonymously if there are none.

        Returns:
            The manifest's descriptor (``descriptor.digest``, ``media_type``, ``size``) and
            the platforms the image is available for.

        Raises:
            NotFound: the registry has no such repository or tag.
            RegistryAuthError: the registry refused the credentials (or wants some).
            RegistryUnreachable: the daemon cannot reach the registry.
            NotSupported: the engine has no such endpoint (Podman's service).
        """
        repository = split_reference(image)[0]
        if not repository:
            raise InvalidArgument(f"{image!r} is not an image reference")
        headers = await self._auth_headers(repository, auth, required=False)
        with _reaching(repository, f"inspect {image}"), _refusing(image, f"inspect of {image}"):
            resp = await self._t.request(
                "GET", self._t.path("/distribution/{}/json", image), headers=headers
            )
        return resp.decode(DistributionInspect)

    async def attestations(
        self,
        image: str,
        *,
        platform: str | Mapping[str, str] | None = None,
        types: str | Sequence[str] | None = None,
        statement: bool = False,
    ) -> builtins.list[AttestationStatement]:
        """The in-toto attestations (provenance, SBOM …) stored with a local image.

        ``GET /images/{name}/attestations`` (API 1.56; engines that speak an older API are
        refused before anything is sent, naming both versions)

        Args:
            image: the image's name or id.
            platform: which variant of a multi-platform image: ``"linux/arm64/v8"`` or an OCI
                platform mapping (``{"os": "linux", "architecture": "amd64"}``); the
                daemon's own platform when omitted.
            types: only statements of these predicate types
                (``"https://slsa.dev/provenance/v0.2"``, ``"https://spdx.dev/Document"``).
            statement: include each statement's JSON (otherwise only its descriptor and
                type are returned, and the daemon reads no statement blob).

        Returns:
            The statements; empty when the image has none.

        Raises:
            InvalidArgument: the engine speaks an API older than 1.56, or ``platform`` is not
                ``os[/arch[/variant]]``.
            NotFound: no such image, or no manifest for that platform.
            APIError: ``501`` from an engine whose image store keeps no attestations (the
                graphdriver store).
        """
        query: dict[str, QueryValue] = {"statement": statement or None}
        if platform is not None:
            query["platform"] = _oci_platform(platform)
        if types is not None:
            query["type"] = [types] if isinstance(types, str) else string_list("types", types)
        await self._t.require_api("1.56", "images.attestations() (GET /images/{name}/attestations)")
        resp = await self._t.request(
            "GET", self._t.path("/images/{}/attestations", image), query=query
        )
        return resp.decode(builtins.list[AttestationStatement])

    async def tag(self, image: str, repo: str, tag: str | None = None) -> None:
        """Give an image another name.

        ``POST /images/{name}/tag``

        Args:
            image: the image's name or id.
            repo: the new repository (``127.0.0.1:5000/team/app``), optionally with a tag
                (``app:2.0``; it is sent as the ``tag`` parameter, which Podman needs).
            tag: the new tag (``latest`` when neither gives one).

        Raises:
            NotFound: no such image.
            BadRequest: the new name is not valid.
        """
        if tag is None:
            name, own_tag, digest = split_reference(repo)
            if own_tag is not None and digest is None:
                repo, tag = name, own_tag
        await self._t.request(
            "POST", self._t.path("/images/{}/tag", image), query={"repo": repo, "tag": tag}
        )

    async def remove(
        self, image: str, *, force: bool = False, noprune: bool = False
    ) -> builtins.list[ImageDeleteResponseItem]:
        """Remove an image (or one of its names).

        ``DELETE /images/{name}``

        Args:
            image: a name (removes that name; the image goes with its last name) or an id.
            force: remove it even if containers use it or it has several names.
            noprune: keep its untagged parent images.

        Returns:
            What was untagged and what was deleted (ids as ``sha256:…`` from every engine).

        Raises:
            NotFound: no such image.
            Conflict: a container uses it, or the id has several names (use ``force``).
        """
        resp = await self._t.request("DELETE", self._t.path("/images/{}", image),
                                     query={"force": force, "noprune": noprune})
        items = resp.decode(builtins.list[ImageDeleteResponseItem])
        return deleted_ids(items) if is_podman_answer(resp.headers) else items

    async def prune(
        self, *, filters: Filters | None = None, dangling_only: bool = True
    ) -> ImagePruneResponse:
        """Remove unused images.

        ``POST /images/prune``

        Podman's Docker-compatible endpoint prunes dangling images only; there
        ``dangling_only=False`` is sent to its own ``POST /libpod/images/prune`` (``all``).

        Args:
            filters: ``{"until": "24h"}``, ``{"label": ["a=b"]}``, ``{"label!": …}``.
            dangling_only: remove only images without a name (``False``: every image no
                container uses). A ``"dangling"`` filter, if given, wins.

        Returns:
            The removed images and the bytes reclaimed.
        """
        chosen: dict[str, Any] = dict(filters or {})
        if "dangling" not in chosen:
            chosen["dangling"] = "true" if dangling_only else "false"
        if chosen["dangling"] in ("false", ["false"]) and await self._t.is_podman():
            del chosen["dangling"]
            resp = await self._t.request(
                "POST", "/libpod/images/prune", query={"all": True, "filters": chosen or None},
                timeout=None,
            )
            reports = resp.decode(builtins.list[PrunedImage])
            failed = [r.err for r in reports if r.err]
            if failed:
                raise ServerError(resp.status, "; ".join(failed), method="POST",
                                  path=f"/v{self._t.api_version}/libpod/images/prune")
            return prune_report(reports)
        resp = await self._t.request("POST", "/images/prune", query={"filters": chosen},
                                     timeout=None)
        report = resp.decode(ImagePruneResponse)
        if is_podman_answer(resp.headers) and report.images_deleted:  # Podman sends bare ids
            report = msgspec.structs.replace(report,
                                             images_deleted=deleted_ids(report.images_deleted))
        return report

    async def prune_builds(
        self,
        *,
        filters: Filters | None = None,
        all: bool = False,
        keep_storage: int | None = None,
        max_used_space: int | None = None,
        min_free_space: int | None = None,
    ) -> BuildPruneResponse:
        """Remove the build cache (BuildKit's), as ``docker builder prune`` does.

        ``POST /build/prune``

        Without ``all`` only the cache that no image or running build uses and that is not
        an internal or frontend record goes (the CLI's default); with it, everything unused.

        Args:
            filters: ``until`` (``"24h"``: unused for that long), ``id``, ``parent``,
                ``type`` (``"regular"``, ``"exec.cachemount"`` …), ``description``,
                ``inuse``, ``shared``, ``private``.
            all: remove every kind of unused cache, not only the unshared one.
            keep_storage: keep this many bytes of cache (the newest); sent as
                ``reserved-space`` from API 1.48, ``keep-storage`` before.
            max_used_space: prune until the cache is at most this many bytes (API 1.48).
            min_free_space: prune until the disk has this many bytes free (API 1.48).

        Returns:
            The removed records' ids and the bytes reclaimed.

        Raises:
            InvalidArgument: a size that is not a non-negative int, or ``max_used_space`` /
                ``min_free_space`` on an engine older than API 1.48.
            NotSupported: the engine has no build cache to prune (Podman's service).
        """
        sizes = {"keep_storage": keep_storage, "max_used_space": max_used_space,
                 "min_free_space": min_free_space}
        for name, value in sizes.items():
            if value is not None and (type(value) is not int or value < 0):
                raise InvalidArgument(f"{name} must be a number of bytes (an int >= 0), "
                                      f"not {value!r}")
        for name in ("max_used_space", "min_free_space"):
            if sizes[name] is not None:
                await self._t.require_api("1.48", f"prune_builds({name}=…)")
        keep_key = "reserved-space" if await self._t.api_at_least("1.48") else "keep-storage"
        query: dict[str, QueryValue] = {
            "all": all or None,
            "filters": filters or None,
            keep_key: keep_storage,
            "max-used-space": max_used_space,
            "min-free-space": min_free_space,
        }
        resp = await self._t.request("POST", "/build/prune", query=query, timeout=None)
        return resp.decode(BuildPruneResponse)

    async def search(
        self, term: str, *, limit: int | None = None, filters: Filters | None = None,
        auth: RegistryAuth | None = None,
    ) -> builtins.list[ImageSearchResponseItem]:
        """Search a registry (Docker Hub unless ``term`` names another) for images.

        ``GET /images/search``

        Args:
            term: what to look for (``"nginx"``, ``"registry.example.com/team"``).
            limit: at most this many results (the registry's default is 25).
            filters: ``{"is-official": "true"}``, ``{"stars": "3"}``.
            auth: credentials; ``None`` looks them up in ``~/.docker/config.json``.

        Returns:
            The matching repositories.

        Raises:
            RegistryUnreachable: the daemon cannot reach the registry (e.g. no internet).
            ServerError: the registry answered with an error.
        """
        headers = await self._auth_headers(term, auth, required=False)
        with _reaching(term, f"search for {term!r}"):
            resp = await self._t.request(
                "GET", "/images/search", query={"term": term, "limit": limit, "filters": filters},
                headers=headers,
            )
        return resp.decode(builtins.list[ImageSearchResponseItem])

    def pull(
        self, image: str, tag: str | None = None, *, platform: str | None = None,
        auth: RegistryAuth | None = None,
    ) -> ProgressStream[ProgressMessage, ImageInspect]:
        """Pull an image from its registry.

        ``POST /images/create`` (``fromImage``)

        Args:
            image: ``busybox``, ``127.0.0.1:5000/team/app:1.0``, ``app@sha256:…``.
            tag: the tag or digest, if ``image`` has none (default ``latest``; never all
                tags).
            platform: ``os[/arch[/variant]]`` to pull from a multi-platform image.
            auth: credentials; ``None`` looks them up in ``~/.docker/config.json``
                (``$DOCKER_CONFIG``) for the image's registry, and sends none if there are
                none; ``RegistryAuth()`` forces an anonymous pull.

        Returns:
            A progress stream whose result is the pulled image's :class:`ImageInspect`.

        Raises:
            NotFound: the registry has no such image or tag (some registries say so in the
                stream instead: ProgressError).
            RegistryAuthError: the registry refused the credentials (however the engine
                reported it).
            RegistryUnreachable: the daemon cannot reach the registry.
            ProgressError: the pull failed after it had started.
        """
        repository, ref_tag = _tag_from(image, tag, default="latest")
        ref = _ref(repository, ref_tag)

        async def open_() -> StreamResponse:
            headers = await self._auth_headers(repository, auth, required=False)
            with _reaching(repository, f"pull {ref}"), _refusing(repository, f"pull of {ref}"):
                return await self._t.stream(
                    "POST", "/images/create", headers=headers,
                    query={"fromImage": repository, "tag": ref_tag, "platform": platform},
                )

        async def finish(messages: builtins.list[ProgressMessage]) -> ImageInspect:
            return await self.inspect(ref)

        return ProgressStream(open_, ProgressMessage, f"pull of {ref}", finish,
                              _failure(registry_of(repository)))

    def push(
        self, image: str, tag: str | None = None, *, auth: RegistryAuth | None = None
    ) -> ProgressStream[ProgressMessage, PushResult]:
        """Push an image to its registry (the registry named in the image's name).

        ``POST /images/{name}/push``

        Args:
            image: ``127.0.0.1:5000/team/app:1.0`` (tag it first with :meth:`tag`).
            tag: the tag, if ``image`` has none (default ``latest``).
            auth: credentials; ``None`` looks them up in ``~/.docker/config.json``
                (``$DOCKER_CONFIG``) and pushes anonymously if there are none.

        Returns:
            A progress stream whose result is a :class:`PushResult`: the tag, the manifest
            digest the registry now holds, and its size.

        Raises:
            RegistryAuthError: the registry refused the credentials.
            ProgressError: the push failed: no such local image, the registry cannot be
                reached…
            RegistryUnreachable: the daemon reported an unreachable registry up front.
        """
        repository, ref_tag = _tag_from(image, tag, default="latest")
        if ref_tag is not None and ":" in ref_tag:
            raise InvalidArgument(f"push a tag, not a digest ({image!r})")
        ref = _ref(repository, ref_tag)

        async def open_() -> StreamResponse:
            # Docker 20.10 refuses a push without the header: send "{}" when anonymous.
            headers = await self._auth_headers(repository, auth, required=True)
            with _reaching(repository, f"push {ref}"):
                return await self._t.stream(
                    "POST", self._t.path("/images/{}/push", repository), query={"tag": ref_tag},
                    headers=headers,
                )

        async def finish(messages: builtins.list[ProgressMessage]) -> PushResult:
            for message in reversed(messages):
                aux = message.aux
                if isinstance(aux, dict) and isinstance(aux.get("Digest"), str):
                    size = aux.get("Size")
                    return PushResult(tag=str(aux.get("Tag") or ref_tag), digest=aux["Digest"],
                                      size=size if isinstance(size, int) else None)
            for message in reversed(messages):
                # "<tag>: digest: sha256:… size: 527" (daemons that send no aux)
                found = re.match(r"^(\S+): digest: (\S+) size: (\d+)", message.status or "")
                if found:
                    return PushResult(tag=found[1], digest=found[2], size=int(found[3]))
            raise _no_result("push", "a digest", f"push of {ref}", messages)

        return ProgressStream(open_, ProgressMessage, f"push of {ref}", finish,
                              _failure(registry_of(repository)))

    def save(self, images: str | Sequence[str]) -> ByteStream:
        """Export one or more images, with their names and layers, as a tarball.

        ``GET /images/{name}/get`` (one image) or ``GET /images/get`` (several)

        ``async for chunk in docker.images.save("app")``, or ``await stream.write_to(file)``.

        Args:
            images: names or ids; the tar holds them all, sharing common layers.

        Raises:
            NotFound: an image does not exist (when the stream opens).
        """
        names = [images] if isinstance(images, str) else builtins.list(images)
        if not names or not all(isinstance(n, str) and n for n in names):
            raise InvalidArgument(f"images must be one or more names or ids, not {images!r}")
        query: dict[str, QueryValue] | None = None
        if len(names) == 1:
            path = self._t.path("/images/{}/get", names[0])
        else:
            path, query = "/images/get", {"names": names}

        async def open_() -> StreamResponse:
            return await self._t.stream("GET", path, query=query)

        return ByteStream(open_, f"save of {', '.join(names)}")

    def load(
        self, data: ImageSource, *, quiet: bool = True
    ) -> ProgressStream[ProgressMessage, builtins.list[str]]:
        """Load images from a tarball made by :meth:`save` (or ``docker save``).

        ``POST /images/load``

        Args:
            data: the tar: bytes, a binary file object, an async iterable of bytes, or a
                ``pathlib.Path``; anything but bytes is streamed.
            quiet: no per-layer progress messages.

        Returns:
            A progress stream whose result is the loaded images' names (``app:1.0``), or
            their ids (``sha256:…``) for images saved by id.

        Raises:
            ProgressError: the tar is not an image archive, or loading it failed.
            InvalidArgument: ``data`` cannot be read.
        """
        async def finish(messages: builtins.list[ProgressMessage]) -> builtins.list[str]:
            loaded: builtins.list[str] = []
            for message in messages:
                for text in (message.stream, message.status):
                    found = _LOADED.match(text or "")
                    # Podman names all the images in one message: "a:1,b:2"
                    for name in found[1].split(",") if found else ():
                        if name and name not in loaded:
                            loaded.append(name)
            return loaded

        return self._upload("/images/load", {"quiet": quiet}, upload_body(data, "load"), "load",
                            finish)

    def import_(
        self,
        source: ImageSource,
        *,
        repository: str | None = None,
        tag: str | None = None,
        changes: Sequence[str] | None = None,
        message: str | None = None,
        platform: str | None = None,
    ) -> ProgressStream[ProgressMessage, str]:
        """Create an image from a tarball of a root filesystem (``docker import``).

        ``POST /images/create`` (``fromSrc=-``)

        Args:
            source: the rootfs tar (plain or compressed): bytes, a binary file object, an
                async iterable of bytes, or a ``pathlib.Path``.
            repository: the new image's name (may include a tag).
            tag: its tag (sent as part of the name, the only form Podman honours).
            changes: Dockerfile instructions to apply: ``CMD``, ``ENTRYPOINT``, ``ENV``,
                ``EXPOSE``, ``ONBUILD``, ``USER``, ``VOLUME``, ``WORKDIR``
                (``['CMD ["sh"]', "ENV A=1"]``).
            message: the commit message (shown by :meth:`history`).
            platform: ``os[/arch[/variant]]`` of the image.

        Returns:
            A progress stream whose result is the new image's id (``sha256:…``).

        Raises:
            ProgressError: the tar could not be imported.
            BadRequest: a change is not one of the instructions above.
        """
        if isinstance(changes, str):
            changes = [changes]
        if repository is not None and tag is not None:
            repository, tag = _ref(*_tag_from(repository, tag, default=None)), None
        source_body = upload_body(source, "import_")
        wanted = builtins.list(changes or [])
        params: dict[str, Any] = {
            "fromSrc": "-",
            "repo": repository,
            "tag": tag,
            "message": message,
            "platform": platform,
            "changes": wanted,
        }

        async def podman_changes() -> None:
            if wanted and await self._t.is_podman():
                params["changes"] = import_changes(wanted)

        async def finish(messages: builtins.list[ProgressMessage]) -> str:
            for m in reversed(messages):
                if m.status and _IMAGE_ID.match(m.status.strip()):
                    return m.status.strip()
            raise _no_result("import", "an image id", "import", messages)

        return self._upload("/images/create", params, source_body, "import", finish,
                            podman_changes)

    def build(
        self,
        context: BuildContext,
        *,
        tag: str | Sequence[str] | None = None,
        dockerfile: str = "Dockerfile",
        buildargs: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        target: str | None = None,
        nocache: bool = False,
        pull: bool = False,
        rm: bool = True,
        forcerm: bool = False,
        network_mode: str | None = None,
        platform: str | None = None,
        extra_hosts: Sequence[str] | None = None,
        cache_from: Sequence[str] | None = None,
        shm_size: int | None = None,
        memory: int | None = None,
        quiet: bool = False,
        builder: Literal["classic", "buildkit"] = "classic",
        secrets: Mapping[str, bytes | str | os.PathLike[str]] | None = None,
        auth: RegistryAuth | Mapping[str, RegistryAuth] | None = None,
        ssh: SSHAgents | None = None,
    ) -> ProgressStream[ProgressMessage, str]:
        """Build an image with the classic builder (``DOCKER_BUILDKIT=0 docker build``), or
        with BuildKit (``builder="buildkit"``).

        ``POST /build``

        Classic: each step's output is in ``message.stream`` of the progress messages.

        BuildKit (needs ``pip install 'aiodockersock[buildkit]'``; the context must be a
        directory): the build runs with a session (``POST /session``) through which the daemon
        fetches only the files it needs, ``.dockerignore`` honoured; the stream returned is a
        :class:`~aiodockersock.BuildProgress`, whose ``statuses()`` yields the typed progress
        (:class:`~aiodockersock.models.BuildStatus`) and whose failure is a
        :class:`~aiodockersock.BuildError` naming the step and its last output lines.
        ``rm``, ``forcerm`` and ``quiet`` do not apply.

        Args:
            context: a directory (tarred on the fly; ``.dockerignore`` is honoured: ``*``,
                ``?``, ``[...]``, ``**``, ``!`` exceptions, comments; the Dockerfile and
                ``.dockerignore`` are always sent), the path of a tar file, or a tar as for
                :data:`ImageSource` (may be gzip/bzip2/xz-compressed).
            tag: a name for the image (``app:1.0``), or several.
            dockerfile: the Dockerfile's path inside the context.
            buildargs: values for the Dockerfile's ``ARG``.
            labels: labels to set on the image.
            target: the stage of a multi-stage Dockerfile to build.
            nocache: do not use cached layers.
            pull: pull newer versions of the base images.
            rm: remove the intermediate containers after a successful build.
            forcerm: remove them even after a failed one.
            network_mode: the network of ``RUN`` steps: ``"none"``, ``"host"``,
                ``"default"``, a network name (all work even with ``--bridge=none``); ``None``
                leaves it to the daemon.
            platform: ``os[/arch[/variant]]`` to build for.
            extra_hosts: ``"name:ip"`` entries for ``/etc/hosts`` of ``RUN`` steps.
            cache_from: images to use as cache sources.
            shm_size: size of ``/dev/shm`` of ``RUN`` steps, in bytes.
            memory: memory limit of ``RUN`` steps, in bytes.
            quiet: suppress the steps' output.
            builder: ``"classic"`` (the default) or ``"buildkit"``.
            secrets: BuildKit only: the secrets ``RUN --mount=type=secret,id=…`` may read, by
                id: the value as bytes, or the path of the file holding it (read when the step
                asks). They are never part of an image layer.
            auth: BuildKit only: credentials for the registries the build pulls from
                (``FROM``, ``COPY --from``), given when BuildKit asks for a registry's: a
                :class:`RegistryAuth` whose ``server_address`` names its registry, or a mapping
                ``{"127.0.0.1:5000": RegistryAuth(...)}``. A registry not given is looked up
                in ``config.json`` as for :meth:`pull`, else accessed anonymously.
            ssh: BuildKit only: the ssh agents ``RUN --mount=type=ssh[,id=…]`` may use, by id
                (``docker build --ssh``): ``{"default": None}`` forwards the agent at
                ``$SSH_AUTH_SOCK`` to the steps' plain ``--mount=type=ssh``; a path names
                another agent's socket. Read-only: a step may list the agent's keys and sign
                with them, any other request (adding, removing keys, locking) is refused
                without reaching the agent. Key files are refused: load a key into an agent
                (``ssh-add``) and forward the agent.

        Returns:
            A progress stream whose result is the new image's id (``sha256:…``).

        Raises:
            ProgressError: a step failed; ``.log`` holds the build output before the error
                (with BuildKit a :class:`~aiodockersock.BuildError`; when a registry refused the
                credentials, or wanted some, one that is also a
                :class:`~aiodockersock.RegistryAuthError` naming the registry).
            BadRequest: a parameter was refused (unknown target, bad Dockerfile…).
            InvalidArgument: the context is not a directory, file or tar, or the Dockerfile
                is missing from a directory context; an ``ssh`` entry is not an agent's socket
                (or ``None`` without ``SSH_AUTH_SOCK`` set).
        """
        agents = ssh_agents(ssh) if builder == "buildkit" else None
        tags = [tag] if isinstance(tag, str) else builtins.list(tag or [])
        params: dict[str, Any] = {
            "dockerfile": dockerfile,
            "t": tags,
            "buildargs": _json_map("buildargs", buildargs),
            "labels": _json_map("labels", labels),
            "target": target,
            "nocache": nocache or None,
            "pull": pull or None,
            "rm": rm,
            "forcerm": forcerm or None,
            "networkmode": network_mode,
            "platform": platform,
            "extrahosts": ",".join(extra_hosts) if extra_hosts else None,
            "cachefrom": msgspec.json.encode(builtins.list(cache_from)).decode()
            if cache_from else None,
            "shmsize": shm_size,
            "memory": memory,
            "q": quiet or None,
            "version": "1",
        }
        if builder == "buildkit":
            return self._buildkit(context, params, dockerfile, tags, secrets, auth, agents)
        if builder != "classic":
            raise InvalidArgument(f'builder must be "classic" or "buildkit", not {builder!r}')
        if secrets:
            raise InvalidArgument('build: secrets need builder="buildkit" (the classic builder '
                                  "has none)")
        if auth is not None:
            raise InvalidArgument('build: auth needs builder="buildkit" (the classic builder '
                                  "reads X-Registry-Config, not supported here)")
        if ssh:
            raise InvalidArgument('build: ssh needs builder="buildkit" (the classic builder '
                                  "cannot forward an ssh agent)")
        if not isinstance(context, (str, os.PathLike)):
            source = upload_body(context, "build")
        elif (root := Path(context)).is_dir():
            if not (root / dockerfile).is_file():
                raise InvalidArgument(f"build: no {dockerfile} in the context {root}")
            tar = DirectoryTar(root, context_members(root, dockerfile))
            source = (tar, tar)
        elif root.is_file():
            source = upload_body(root, "build")
        else:
            raise InvalidArgument(f"build: {root} is neither a directory nor a tar file")

        async def finish(messages: builtins.list[ProgressMessage]) -> str:
            for m in reversed(messages):
                if isinstance(m.aux, dict) and isinstance(m.aux.get("ID"), str):
                    return str(m.aux["ID"])
            for m in reversed(messages):
                text = (m.stream or "").strip()
                if _IMAGE_ID.match(text):
                    return text
                found = _BUILT.match(text)
                if found:
                    return (await self.inspect(found[1])).id or found[1]
            raise _no_result("build", "an image id", "build", messages)

        what = f"build of {tags[0]}" if tags else "build"
        return self._upload("/build", params, source, what, finish)

    def _buildkit(self, context: BuildContext, params: dict[str, Any], dockerfile: str,
                  tags: builtins.list[str],
                  secrets: Mapping[str, bytes | str | os.PathLike[str]] | None,
                  auth: RegistryAuth | Mapping[str, RegistryAuth] | None = None,
                  agents: dict[str, str] | None = None,
                  ) -> ProgressStream[ProgressMessage, str]:
        """``images.build(..., builder="buildkit")``: the session, then the build."""
        from ._buildkit import require

        require()
        given = _build_auths(auth)
        from ._buildkit._filesync import SyncedDir
        from ._buildkit._progress import BuildProgress
        from ._buildkit._session import BuildSession

        if not isinstance(context, (str, os.PathLike)) or not Path(context).is_dir():
            raise InvalidArgument(
                'build: with builder="buildkit" the context must be a directory, not '
                f"{context!r}")
        root = Path(context)
        dockerfile_path = root / dockerfile
        if not dockerfile_path.is_file():
            raise InvalidArgument(f"build: no {dockerfile} in the context {root}")
        excludes = tuple(context_patterns(root, dockerfile))
        for id_, value in (secrets or {}).items():
            if not isinstance(id_, str) or not id_ or not isinstance(
                    value, (bytes, str, os.PathLike)):
                raise InvalidArgument(
                    "build: secrets maps an id (a non-empty str) to bytes or a file's path, "
                    f"not {id_!r}: {type(value).__name__}")
        async def credentials(host: str) -> RegistryAuth | None:
            key = config_key(host)
            found = given.get(key)
            if found is None:
                found = await asyncio.to_thread(RegistryAuth.from_config, host)
            return found

        session = BuildSession(self._t, {
            "context": SyncedDir(root, excludes),
            "dockerfile": SyncedDir(dockerfile_path.parent),
        }, root.resolve().name, secrets, credentials, agents)
        params = {**params, "version": "2", "session": session.id, "remote": "client-session",
                  "dockerfile": dockerfile_path.name, "rm": None, "q": None}

        async def open_() -> StreamResponse:
            try:
                await session.start()
            except NotSupported as exc:  # Podman's service: no BuildKit
                exc.args = (f"{exc.args[0]}: this engine cannot build with BuildKit; use "
                            'builder="classic"',)
                raise
            try:
                return await self._t.stream("POST", "/build", query=params)
            except BaseException:
                session.close()
                raise

        async def finish(messages: builtins.list[ProgressMessage]) -> str:
            for m in reversed(messages):
                if isinstance(m.aux, dict) and isinstance(m.aux.get("ID"), str):
                    return str(m.aux["ID"])
            raise _no_result("build", "an image id", "build", messages)

        what = f"build of {tags[0]}" if tags else "build"
        return BuildProgress(open_, what, finish, session.close)

    def _upload(
        self, path: str, params: Mapping[str, QueryValue], source: tuple[Body, Upload | None],
        what: str, finish: Callable[[builtins.list[ProgressMessage]], Awaitable[Any]],
        prepare: Callable[[], Awaitable[None]] | None = None,
    ) -> ProgressStream[ProgressMessage, Any]:
        """A progress stream of ``POST path`` with a tar body; a failure of the local side
        (an unreadable file…) is raised rather than the daemon's view of it."""
        body, upload = source

        async def open_() -> StreamResponse:
            if prepare is not None:
                await prepare()
            try:
                return await self._t.stream("POST", path, query=params, data=body, headers=_TAR)
            except DockerError:
                if upload is not None:
                    upload.close()
                    if upload.error is not None:
                        raise upload.error from None
                raise

        stream = _UploadProgress(open_, ProgressMessage, what, finish)
        stream._upload = upload
        return stream

    async def _auth_headers(
        self, reference: str, auth: RegistryAuth | None, *, required: bool
    ) -> dict[str, str] | None:
        return await auth_headers(reference, auth, required=required)
