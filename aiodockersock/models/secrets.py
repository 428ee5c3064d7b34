"""Swarm secret and config structs (the ``Secret``, ``SecretSpec``, ``Config`` and
``ConfigSpec`` definitions of API 1.41 and 1.56).

A secret's data never appears in a ``repr()``: the daemon never sends it back, and a spec built
here to send it shows ``data=<hidden>``.
"""

from __future__ import annotations

import base64
from typing import Any

import msgspec

from ._base import Model
from .swarm import NamedDriver
from .system import ObjectVersion

__all__ = [
    "Config",
    "ConfigSpec",
    "ObjectIdResponse",
    "Secret",
    "SecretSpec",
]

class SecretSpec(Model):
    """What a secret is: ``Secret.Spec``, and the body of POST /secrets/create and
    /secrets/{id}/update. ``repr()`` never shows ``data``."""

    name: str | None = None
    labels: dict[str, str] | None = None
    data: str | None = None
    """The secret, base64-encoded; only sent, never returned by the daemon."""
    driver: NamedDriver | None = None
    """A secret-store plugin holding the secret instead of the swarm's raft log."""
    templating: NamedDriver | None = None
    """A templating driver (``"golang"``) that expands the data per task."""

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={value!r}" for key, value in self.__rich_repr__())
        return f"SecretSpec({shown})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        """The fields that are set, ``data`` as ``<hidden>`` (for ``rich``)."""
        return [
            (field.name, _Hidden() if field.name == "data" else getattr(self, field.name))
            for field in msgspec.structs.fields(self)
            if getattr(self, field.name) is not None
        ]


class _Hidden:
    """Stands for a secret's data in a ``repr``."""

    def __repr__(self) -> str:
        return "<hidden>"


class Secret(Model):
    """A swarm secret: GET /secrets/{id}, items of GET /secrets."""

    id: str | None = msgspec.field(default=None, name="ID")
    version: ObjectVersion | None = None
    """The version to name in an update (``version.index``)."""
    created_at: str | None = None
    updated_at: str | None = None
    spec: SecretSpec | None = None

    @property
    def name(self) -> str | None:
        """The secret's name (``spec.name``)."""
        return self.spec.name if self.spec else None


class ConfigSpec(Model):
    """What a config is: ``Config.Spec``, and the body of POST /configs/create and
    /configs/{id}/update."""

    name: str | None = None
    labels: dict[str, str] | None = None
    data: str | None = None
    """The config's content, base64-encoded (the daemon returns it: configs are not secret)."""
    templating: NamedDriver | None = None
    """A templating driver (``"golang"``) that expands the data per task."""


class Config(Model):
    """A swarm config: GET /configs/{id}, items of GET /configs.

    Its content, decoded, is :attr:`content`.
    """

    id: str | None = msgspec.field(default=None, name="ID")
    version: ObjectVersion | None = None
    """The version to name in an update (``version.index``)."""
    created_at: str | None = None
    updated_at: str | None = None
    spec: ConfigSpec | None = None

    @property
    def name(self) -> str | None:
        """The config's name (``spec.name``)."""
        return self.spec.name if self.spec else None

    @property
    def content(self) -> bytes:
        """The config's data, decoded from base64 (``b""`` when there is none)."""
        data = self.spec.data if self.spec else None
        return base64.b64decode(data) if data else b""


class ObjectIdResponse(Model):
    """The answer to POST /secrets/create and /configs/create (``IDResponse``)."""

    id: str | None = msgspec.field(default=None, name="Id")
