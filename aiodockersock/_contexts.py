"""Docker contexts, read from the store the Docker CLI writes. Standard library only.

``docker context create NAME --docker host=…`` writes, under the CLI's configuration directory
(``$DOCKER_CONFIG``, else ``~/.docker``):

- ``contexts/meta/<sha256 of NAME>/meta.json``: ``{"Name": …, "Metadata": {"Description": …},
  "Endpoints": {"docker": {"Host": "unix:///…", "SkipTLSVerify": false}}}``;
- ``contexts/tls/<sha256 of NAME>/docker/{ca,cert,key}.pem``: the TLS files given to it;
- ``config.json``'s ``currentContext``: the context ``docker context use`` chose.

The context named ``default`` is not stored: it stands for ``DOCKER_HOST`` (or the default socket)
with TLS from the environment. TLS follows the CLI: an endpoint with no TLS files and without
``SkipTLSVerify`` is plain; with files, ``ca.pem`` (when present) is the only CA trusted, else
the system's; ``SkipTLSVerify`` turns verification off.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ._exceptions import InvalidArgument

__all__ = [
    "DEFAULT_CONTEXT",
    "DockerContext",
    "config_dir",
    "current_context",
    "list_contexts",
    "load_context",
]

#: The name of the context that stands for ``DOCKER_HOST`` or the default socket.
DEFAULT_CONTEXT: Final = "default"
#: The names ``docker context create`` accepts.
_NAME: Final = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$")


@dataclass(frozen=True)
class DockerContext:
    """One Docker context, as ``docker context inspect`` shows it.

    Attributes:
        name: the context's name.
        host: its Docker endpoint (``unix:///…``, ``tcp://…``, ``ssh://…``); ``None`` for
            ``default``, which follows ``DOCKER_HOST``.
        description: its description (``""`` when none).
        skip_tls_verify: connect over TLS without verifying the daemon.
        tls_dir: the directory of its TLS files (``ca.pem``, ``cert.pem``, ``key.pem``), or
            ``None`` when it has none.
    """

    name: str
    host: str | None
    description: str = ""
    skip_tls_verify: bool = False
    tls_dir: Path | None = None


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """The Docker CLI's configuration directory: ``$DOCKER_CONFIG``, else ``~/.docker``."""
    environ = os.environ if env is None else env
    configured = environ.get("DOCKER_CONFIG")
    if configured:
        return Path(configured).expanduser()
    return Path(environ.get("HOME") or Path.home()) / ".docker"


def _key(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def current_context(env: Mapping[str, str] | None = None) -> str:
    """The context the CLI would use when given none: ``DOCKER_CONTEXT``, then
    ``currentContext`` in ``config.json``, then ``default``. (``DOCKER_HOST`` wins over all of
    them; :func:`~aiodockersock._config.resolve_host` applies that.)

    Raises:
        InvalidArgument: ``config.json`` exists but is not JSON.
    """
    environ = os.environ if env is None else env
    named = environ.get("DOCKER_CONTEXT")
    if named:
        return named
    path = config_dir(environ) / "config.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return DEFAULT_CONTEXT
    except OSError as exc:
        raise InvalidArgument(f"cannot read {path}: {exc.strerror or exc}") from None
    config = _json(text, path)
    current = config.get("currentContext") if isinstance(config, dict) else None
    return current if isinstance(current, str) and current else DEFAULT_CONTEXT


def load_context(name: str, env: Mapping[str, str] | None = None) -> DockerContext:
    """The context ``name`` from the CLI's store.

    Raises:
        InvalidArgument: no context of that name, an invalid name, or a store entry that is not
            what ``docker context create`` writes.
    """
    if name == DEFAULT_CONTEXT:
        return DockerContext(DEFAULT_CONTEXT, None, "Current DOCKER_HOST based configuration")
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(
            f"{name!r} is not a context name (letters, digits, and _ . + - after the first)"
        )
    store = config_dir(env) / "contexts"
    meta = store / "meta" / _key(name) / "meta.json"
    try:
        text = meta.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidArgument(
            f"there is no Docker context named {name!r} in {store.parent} "
            "(`docker context ls` lists them; DOCKER_CONFIG chooses another directory)"
        ) from None
    except OSError as exc:
        raise InvalidArgument(f"cannot read {meta}: {exc.strerror or exc}") from None
    return _context(name, _json(text, meta), meta, store / "tls" / _key(name) / "docker")


def list_contexts(env: Mapping[str, str] | None = None) -> list[DockerContext]:
    """Every context in the CLI's store, ``default`` first, then by name.

    Raises:
        InvalidArgument: a store entry is not what ``docker context create`` writes.
    """
    found = [load_context(DEFAULT_CONTEXT)]
    store = config_dir(env) / "contexts"
    metas = sorted((store / "meta").glob("*/meta.json"))
    named = []
    for meta in metas:
        doc = _json(meta.read_text(encoding="utf-8"), meta)
        name = doc.get("Name") if isinstance(doc, dict) else None
        if isinstance(name, str):
            named.append(_context(name, doc, meta, store / "tls" / meta.parent.name / "docker"))
    return found + sorted(named, key=lambda c: c.name)


def _json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"{path} is not JSON ({exc}); fix or remove it") from None


def _context(name: str, doc: Any, meta: Path, tls_dir: Path) -> DockerContext:
    endpoints = doc.get("Endpoints") if isinstance(doc, dict) else None
    docker = endpoints.get("docker") if isinstance(endpoints, dict) else None
    host = docker.get("Host") if isinstance(docker, dict) else None
    if not isinstance(docker, dict) or not isinstance(host, str) or not host:
        raise InvalidArgument(
            f"the Docker context {name!r} ({meta}) has no docker endpoint host; recreate it "
            f"with `docker context create {name} --docker host=…`"
        )
    metadata = doc.get("Metadata")
    description = metadata.get("Description", "") if isinstance(metadata, dict) else ""
    return DockerContext(
        name=name,
        host=host,
        description=description if isinstance(description, str) else "",
        skip_tls_verify=docker.get("SkipTLSVerify") is True,
        tls_dir=tls_dir if tls_dir.is_dir() and any(tls_dir.iterdir()) else None,
    )
