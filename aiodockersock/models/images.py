"""Image structs (the ``ImageSummary`` definition of API 1.41 and 1.56)."""

from __future__ import annotations

from ._base import Model

__all__ = ["ImageSummary"]


class ImageSummary(Model, frozen=True):
    """One item of GET /images/json (and of ``Images`` in GET /system/df).

    ``Manifests`` and ``Descriptor`` (not in API 1.41; OCI descriptors) are not modelled.
    """

    id: str | None = None
    parent_id: str | None = None
    repo_tags: list[str] | None = None
    repo_digests: list[str] | None = None
    # Seconds since the Unix epoch.
    created: int | None = None
    size: int | None = None
    # -1 when not computed.
    shared_size: int | None = None
    # Not in API 1.56 (it equalled Size); sent by 1.41 daemons.
    virtual_size: int | None = None
    labels: dict[str, str] | None = None
    # -1 when not computed.
    containers: int | None = None
