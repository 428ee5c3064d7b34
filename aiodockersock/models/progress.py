"""Progress messages of streamed operations: pull, push, build, load, import.

The Engine writes them as NDJSON (one ``JSONMessage`` per line, as moby's ``jsonmessage``
package calls it); the spec describes the same shape as ``CreateImageInfo``, ``PushImageInfo``
and ``BuildInfo``. A failure after the operation started comes as a message with ``error`` set.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._base import Model

__all__ = ["ErrorDetail", "ProgressDetail", "ProgressMessage"]


class ProgressDetail(Model, rename="camel"):
    """How far one layer (or other item) has come, in bytes."""

    current: int | None = None
    total: int | None = None


class ErrorDetail(Model, rename="camel"):
    """The structured form of a progress stream's error."""

    code: int | None = None
    message: str | None = None


class ProgressMessage(Model, rename="camel"):
    """One line of a pull, push, build, load or import progress stream.

    Attributes:
        id: what the line is about: a layer's short id, a tag, or ``None`` for the whole.
        status: ``"Pulling fs layer"``, ``"Downloading"``, ``"Pushed"``, ``"Digest: …"`` …
        progress: the progress bar as the Docker CLI would draw it (``"[==>   ] 1.2MB/5MB"``).
        progress_detail: the same as numbers.
        stream: build output (a step's text) or the result line of a load.
        error: the failure message; the operation failed.
        error_detail: the failure's code and message.
        aux: extra data: ``{"ID": "sha256:…"}`` at the end of a build, ``{"Tag", "Digest",
            "Size"}`` at the end of a push; with BuildKit, the base64 protobuf of a
            ``moby.buildkit.trace`` record (``id``), decoded by
            :class:`~aiodockersock.BuildProgress`.
    """

    id: str | None = None
    status: str | None = None
    progress: str | None = None
    progress_detail: ProgressDetail | None = msgspec.field(default=None, name="progressDetail")
    stream: str | None = None
    error: str | None = None
    error_detail: ErrorDetail | None = msgspec.field(default=None, name="errorDetail")
    aux: dict[str, Any] | str | None = None
