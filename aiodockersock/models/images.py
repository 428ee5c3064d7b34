"""Image structs (the ``ImageSummary``, ``ImageInspect``, ``ImageHistoryResponseItem``,
``ImageDeleteResponseItem``, ``DistributionInspect``, ``OCIDescriptor``, ``OCIPlatform`` and
``AttestationStatement`` definitions and the prune and search responses of API 1.41 and
1.56), plus :class:`PushResult`, the client's summary of a finished push."""

from __future__ import annotations

from typing import Any

import msgspec

from ._base import Model
from .containers import ContainerConfig, DriverData

__all__ = [
    "AttestationStatement",
    "BuildPruneResponse",
    "DistributionInspect",
    "HistoryResponseItem",
    "ImageDeleteResponseItem",
    "ImageInspect",
    "ImageMetadata",
    "ImagePruneResponse",
    "ImageRootFS",
    "ImageSearchResponseItem",
    "ImageSummary",
    "OCIDescriptor",
    "OCIPlatform",
    "PushResult",
]


class ImageSummary(Model):
    """One item of GET /images/json (and of ``Images`` in GET /system/df).

    ``Manifests`` and ``Descriptor`` (not in API 1.41; OCI descriptors) are not modelled.
    """

    id: str | None = None
    parent_id: str | None = None
    repo_tags: list[str] | None = None
    repo_digests: list[str] | None = None
    created: int | None = None
    """Seconds since the Unix epoch."""
    size: int | None = None
    shared_size: int | None = None
    """-1 when not computed."""
    virtual_size: int | None = None
    """Not in API 1.56 (it equalled Size); sent by 1.41 daemons."""
    labels: dict[str, str] | None = None
    containers: int | None = None
    """-1 when not computed."""


class ImageRootFS(Model):
    """``RootFS`` of GET /images/{name}/json: the image's layers, bottom first."""

    type: str | None = None
    """``"layers"``."""
    layers: list[str] | None = None
    """The layers' content digests (diff ids, "sha256:…"), not the registry's blob digests."""


class ImageMetadata(Model):
    """``Metadata`` of GET /images/{name}/json: local facts, not part of the image itself."""

    last_tag_time: str | None = None
    """RFC 3339 with nanoseconds; only set once the image was tagged locally."""


class ImageInspect(Model):
    """The response of GET /images/{name}/json.

    ``Descriptor``, ``Manifests`` and ``Identity`` (not in API 1.41; OCI descriptors and
    signature data of the containerd image store) are not modelled.
    """

    id: str | None = None
    """``"sha256:…"``: the image's content-addressable id."""
    repo_tags: list[str] | None = None
    repo_digests: list[str] | None = None
    """``"name@sha256:…"`` once pulled from or pushed to a registry."""
    parent: str | None = None
    """Not in API 1.56; the parent image id for images built locally by the classic builder."""
    comment: str | None = None
    created: str | None = None
    """RFC 3339 with nanoseconds."""
    container: str | None = None
    """Not in API 1.56: the container the image was committed from."""
    container_config: ContainerConfig | None = None
    """Not in API 1.56: the config of the container the image was committed from."""
    docker_version: str | None = None
    author: str | None = None
    config: ContainerConfig | None = None
    """The ``ImageConfig`` definition: in API 1.41 the same fields as ``ContainerConfig``, in
    1.56 a subset of them."""
    architecture: str | None = None
    variant: str | None = None
    os: str | None = None
    os_version: str | None = None
    size: int | None = None
    virtual_size: int | None = None
    """Not in API 1.56 (it equalled Size); sent by 1.41 daemons."""
    graph_driver: DriverData | None = None
    root_fs: ImageRootFS | None = msgspec.field(default=None, name="RootFS")
    metadata: ImageMetadata | None = None


class HistoryResponseItem(Model):
    """One layer of GET /images/{name}/history (``ImageHistoryResponseItem``), newest first."""

    id: str | None = None
    """The image id of the layer, or ``"<missing>"`` for layers built elsewhere."""
    created: int | None = None
    """Seconds since the Unix epoch."""
    created_by: str | None = None
    """The Dockerfile step that made the layer (``/bin/sh -c #(nop)  CMD ["sh"]`` …)."""
    tags: list[str] | None = None
    """The tags of the image whose top layer this is."""
    size: int | None = None
    comment: str | None = None


class ImageDeleteResponseItem(Model):
    """One item of DELETE /images/{name} or of the prune response: an untagged name or a
    deleted image or layer id (one of the two is set)."""

    untagged: str | None = None
    deleted: str | None = None


class ImagePruneResponse(Model):
    """The response of POST /images/prune."""

    images_deleted: list[ImageDeleteResponseItem] | None = None
    space_reclaimed: int | None = None
    """Bytes."""


class ImageSearchResponseItem(Model, rename=None):
    """One result of GET /images/search (the registry's own, lower-case field names)."""

    name: str | None = None
    description: str | None = None
    star_count: int | None = None
    is_official: bool | None = None
    is_automated: bool | None = None
    """Deprecated by Docker Hub; always false there."""


class PushResult(msgspec.Struct, frozen=True, kw_only=True):
    """What a finished push reports (the ``aux`` message at the end of POST
    /images/{name}/push; not an Engine API definition).

    Attributes:
        tag: the tag that was pushed.
        digest: the manifest digest the registry now holds (``"sha256:…"``): pull
            ``repository@digest`` to get exactly this image.
        size: the manifest's size in bytes.
    """

    tag: str
    digest: str
    size: int | None = None


class BuildPruneResponse(Model):
    """The answer to POST /build/prune."""

    caches_deleted: list[str] | None = None
    """Ids of the removed build-cache records (None when nothing was removed)."""
    space_reclaimed: int | None = None
    """Bytes."""


class OCIPlatform(Model, rename=None):
    """A platform an image runs on (``OCIPlatform``: the OCI image index's lower-case names)."""

    architecture: str | None = None
    """``"amd64"``, ``"arm64"``, ``"arm"`` …"""
    os: str | None = None
    """``"linux"``, ``"windows"`` …"""
    os_version: str | None = msgspec.field(default=None, name="os.version")
    os_features: list[str] | None = msgspec.field(default=None, name="os.features")
    variant: str | None = None
    """The CPU variant (``"v7"`` for ARMv7)."""


class OCIDescriptor(Model, rename="camel"):
    """An OCI content descriptor (``OCIDescriptor``): what a registry or store holds under a
    digest."""

    media_type: str | None = None
    """``"application/vnd.oci.image.index.v1+json"``,
    ``"application/vnd.docker.distribution.manifest.v2+json"`` …"""
    digest: str | None = None
    """``"sha256:…"``: pull ``name@digest`` to get exactly this content."""
    size: int | None = None
    """Bytes."""
    urls: list[str] | None = None
    annotations: dict[str, str] | None = None
    data: str | None = None
    """The content itself, base64-encoded, when embedded (rare)."""
    platform: OCIPlatform | None = None
    artifact_type: str | None = None


class DistributionInspect(Model):
    """The answer to GET /distribution/{name}/json: what the registry holds under a name."""

    descriptor: OCIDescriptor | None = None
    """The manifest (or index) the name points to; its digest is what a push reported."""
    platforms: list[OCIPlatform] | None = None
    """Every platform the image is available for (one for a single-platform image)."""


class AttestationStatement(Model):
    """One in-toto statement attached to an image (GET /images/{name}/attestations, API 1.56)."""

    descriptor: OCIDescriptor | None = None
    """The statement's layer in the attestation manifest."""
    predicate_type: str | None = None
    """The predicate's type URI (``"https://slsa.dev/provenance/v0.2"`` …)."""
    statement: dict[str, Any] | None = None
    """The statement's JSON as stored, when asked for (``statement=True``)."""
