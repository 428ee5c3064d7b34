"""BuildKit builds (``images.build(..., builder="buildkit")``): the session and its progress.

A BuildKit build is two connections. ``POST /session``, switched to HTTP/2 (``h2c``), on which
the daemon calls back into the client: the gRPC services announced in the request's
``X-Docker-Expose-Session-*`` headers (``_session``: the health check, the secrets, the
registry credentials BuildKit asks for, and the file sync of ``_filesync``, which sends the
build context and the Dockerfile, only the files the build reads); and
``POST /build?version=2&session=<id>&remote=client-session``, whose JSON messages
carry the build's progress as ``moby.buildkit.trace`` records (``_progress``: protobuf
``StatusResponse`` messages decoded into :class:`~aiodockersock.models.BuildStatus`).

It needs the ``buildkit`` extra (``pip install 'aiodockersock[buildkit]'``: ``h2``,
``protobuf`` and ``cryptography``, for the Ed25519 key of client-side registry tokens,
``_tokens``); this package's ``__init__`` and ``_progress`` import none of them, so the library
works without them and says what to install when a BuildKit build is asked for
(:func:`require`). The protobuf messages in ``proto/`` are generated (``proto/README.md`` has
the command).
"""

from __future__ import annotations

from .._exceptions import InvalidArgument

__all__ = ["require"]


def require() -> None:
    """Raise a clear error when the ``buildkit`` extra is not installed.

    Raises:
        InvalidArgument: ``h2``, ``protobuf`` or ``cryptography`` cannot be imported, or the
            ``protobuf`` installed is older than the generated messages need.
    """
    try:
        import cryptography.hazmat.primitives.asymmetric.ed25519  # noqa: F401
        import google.protobuf.message  # noqa: F401
        import h2  # noqa: F401

        from .proto import control_pb2  # noqa: F401
    except Exception as exc:  # ImportError, or protobuf's VersionError (too old a runtime)
        raise InvalidArgument(
            f'builder="buildkit" needs the buildkit extra ({exc}): '
            "pip install 'aiodockersock[buildkit]' (h2>=4.1, protobuf>=7.35.1 and "
            "cryptography>=42)"
        ) from None
