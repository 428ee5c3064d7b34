"""Registry credentials: :class:`RegistryAuth`, and where to find them.

The daemon takes a registry's credentials in the ``X-Registry-Auth`` request header: the
JSON of its ``AuthConfig`` (``username``, ``password``, ``serveraddress``, ``identitytoken``,
``registrytoken``), base64url-encoded. :class:`RegistryAuth` holds them and makes that header;
its ``repr`` and ``str`` never show the password or a token, and nothing in this package
prints, logs or puts them in an exception.

Credentials not given by the caller are looked up as the Docker CLI does it, in
``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``):

- the registry of an image reference is found as :func:`registry_of` says; Docker Hub's key
  in the file is ``https://index.docker.io/v1/``;
- ``credHelpers[registry]``, else ``credsStore``: the helper program
  ``docker-credential-<name>`` is run (``get``, the registry on stdin) and its answer used
  (a name holding ``/`` is refused: it would name a file, not a program on ``PATH``);
- otherwise (or when the helper has nothing for that registry) the ``auths`` entry: its
  ``auth`` field (base64 of ``user:password``) or ``username``/``password``, plus
  ``identitytoken``; an entry is found by its exact key or by the host of a URL key
  (``https://127.0.0.1:5000/v1/`` matches ``127.0.0.1:5000``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from ._exceptions import (
    APIError,
    InvalidArgument,
    ProgressError,
    RegistryAuthError,
    RegistryUnreachable,
    ServerError,
)
from ._framing import DECODE_FAILURES

__all__ = ["AUTH_REFUSED", "DOCKER_HUB", "DOCKER_HUB_CONFIG_KEY", "NETWORK_FAILURE", "RegistryAuth",
           "auth_headers", "config_key", "reaching_registry", "refused_credentials",
           "registry_failure", "registry_of", "split_reference"]

#: The registry host of images without one (``busybox``, ``library/busybox``).
DOCKER_HUB = "docker.io"
#: Docker Hub's key in ``config.json`` ``auths`` and for credential helpers.
DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_HELPER_TIMEOUT = 30.0

#: How registries (and engines) say that credentials were missing, wrong or not enough.
AUTH_REFUSED = re.compile(
    r"unauthorized|no basic auth credentials|authentication required|"
    r"requested access to the resource is denied",
    re.IGNORECASE,
)
#: How engines report a registry they could not reach (network, DNS, proxy).
NETWORK_FAILURE = re.compile(
    r"dial tcp|no such host|connection refused|i/o timeout|network is unreachable|"
    r"no route to host|TLS handshake timeout|server misbehaving|name resolution|"
    r"context deadline exceeded|connection reset",
    re.IGNORECASE,
)
_HIDDEN = "'***'"
_JSON = msgspec.json.Decoder(dict[str, Any])


class RegistryAuth:
    """Credentials for one registry, as the daemon takes them (``X-Registry-Auth``).

    ``RegistryAuth("alice", "s3cret")`` for a username and password;
    ``RegistryAuth(identity_token=...)`` for an OAuth refresh token (what ``docker login``
    stores for some registries); ``RegistryAuth()`` for explicitly anonymous access (no
    lookup in ``config.json``). ``repr()`` and ``str()`` never show a password or token.

    Args:
        username: the account name.
        password: its password or access token.
        server_address: the registry (``"127.0.0.1:5000"``, ``"https://index.docker.io/v1/"``);
            informational for pulls and pushes, where the image names the registry.
        identity_token: an identity (refresh) token, used instead of a password.
        registry_token: a bearer token for the registry itself.
        email: legacy; ignored by current daemons.
    """

    __slots__ = ("_identity_token", "_password", "_registry_token", "email", "server_address",
                 "username")

    def __init__(
        self,
        username: str | None = None,
        password: str | None = None,
        *,
        server_address: str | None = None,
        identity_token: str | None = None,
        registry_token: str | None = None,
        email: str | None = None,
    ) -> None:
        for name, value in locals().items():  # the arguments, in order
            if name != "self" and value is not None and not isinstance(value, str):
                raise InvalidArgument(
                    f"RegistryAuth {name} must be a str, not {type(value).__name__}"
                )
        self.username = username
        self._password = password
        self.server_address = server_address
        self._identity_token = identity_token
        self._registry_token = registry_token
        self.email = email

    @property
    def password(self) -> str | None:
        """The password (kept out of ``repr``/``str``)."""
        return self._password

    @property
    def identity_token(self) -> str | None:
        """The identity token (kept out of ``repr``/``str``)."""
        return self._identity_token

    @property
    def registry_token(self) -> str | None:
        """The registry token (kept out of ``repr``/``str``)."""
        return self._registry_token

    @property
    def anonymous(self) -> bool:
        """Whether no credential at all is set (the header then says ``{}``)."""
        return not (self.username or self._password or self._identity_token
                    or self._registry_token)

    def to_json(self) -> dict[str, str]:
        """The ``AuthConfig`` JSON object the daemon expects (secrets included)."""
        fields = {
            "username": self.username,
            "password": self._password,
            "serveraddress": self.server_address,
            "identitytoken": self._identity_token,
            "registrytoken": self._registry_token,
            "email": self.email,
        }
        return {key: value for key, value in fields.items() if value is not None}

    def header(self) -> str:
        """The ``X-Registry-Auth`` header value: base64url (with padding) of the JSON."""
        return base64.urlsafe_b64encode(msgspec.json.encode(self.to_json())).decode("ascii")

    def __repr__(self) -> str:
        parts = [f"username={self.username!r}"] if self.username is not None else []
        parts += [f"{name}={_HIDDEN}" for name in ("password", "identity_token", "registry_token")
                  if getattr(self, name) is not None]
        if self.server_address is not None:
            parts.append(f"server_address={self.server_address!r}")
        return f"RegistryAuth({', '.join(parts)})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RegistryAuth):
            return NotImplemented
        return self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.to_json().items())))

    @classmethod
    def for_image(
        cls, reference: str, *, config_dir: str | os.PathLike[str] | None = None
    ) -> RegistryAuth | None:
        """The credentials ``docker login`` stored for the registry of image ``reference``.

        ``RegistryAuth.for_image("127.0.0.1:5000/team/app:1.0")`` looks up
        ``127.0.0.1:5000``; ``RegistryAuth.for_image("busybox")`` looks up Docker Hub. See
        :meth:`from_config`.
        """
        return cls.from_config(registry_of(reference), config_dir=config_dir)

    @classmethod
    def from_config(
        cls, registry: str, *, config_dir: str | os.PathLike[str] | None = None
    ) -> RegistryAuth | None:
        """The credentials ``docker login`` stored for ``registry``.

        Reads ``config.json`` in ``config_dir`` (default: ``$DOCKER_CONFIG``, else
        ``~/.docker``) and runs a credential helper if the file names one (see the module
        docstring for the order). Blocks on file reads and the helper: from async code call it
        through ``asyncio.to_thread``, as ``docker.images`` does.

        Args:
            registry: the registry's host (``"127.0.0.1:5000"``, ``"docker.io"``) or its key
                in ``config.json`` (``"https://index.docker.io/v1/"``).
            config_dir: the directory holding ``config.json``.

        Returns:
            The credentials, or ``None`` when there are none for that registry (or no file).

        Raises:
            InvalidArgument: ``config.json`` is not valid JSON, an entry's ``auth`` field is
                not base64 of ``user:password``, or a credential helper it names cannot be
                run or fails (the message names the helper, never a secret).
        """
        key = config_key(registry)
        if config_dir is None:
            config_dir = os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker"
        path = Path(config_dir) / "config.json"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InvalidArgument(f"cannot read {path}: {exc.strerror}") from None
        try:
            doc = _JSON.decode(raw) if raw.strip() else {}
        except DECODE_FAILURES:
            raise InvalidArgument(f"{path} is not valid JSON; fix or remove it") from None
        helpers = doc.get("credHelpers")
        helper = helpers.get(key) if isinstance(helpers, dict) else None
        if not isinstance(helper, str) or not helper:
            store = doc.get("credsStore")
            helper = store if isinstance(store, str) and store else None
        if helper is not None:
            found = _from_helper(helper, key, path)
            if found is not None:
                return found
        auths = doc.get("auths")
        if not isinstance(auths, dict):
            return None
        entry_key = key
        if auths.get(key) is None:
            host = _url_host(key)
            for candidate in auths:
                other = _url_host(candidate)
                if other == host or (other in _HUB_ALIASES and host in _HUB_ALIASES):
                    entry_key = candidate
                    break
        entry = auths.get(entry_key)
        return _from_entry(entry, entry_key, path) if isinstance(entry, dict) else None


def split_reference(reference: str) -> tuple[str, str | None, str | None]:
    """Split an image reference into ``(repository, tag, digest)``.

    ``"127.0.0.1:5000/app:1.0"`` → ``("127.0.0.1:5000/app", "1.0", None)``;
    ``"busybox@sha256:…"`` → ``("busybox", None, "sha256:…")``. The registry's port is not
    taken for a tag.
    """
    name, _, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
    return name, tag or None, digest or None


def registry_of(reference: str) -> str:
    """The registry host of an image reference, as the Docker CLI resolves it.

    The first path component is the registry when it holds ``.`` or ``:``, is
    ``localhost``, or has upper-case letters; otherwise the image is on Docker Hub
    (``"docker.io"``). ``index.docker.io`` is Docker Hub too.
    """
    first, slash, _ = split_reference(reference)[0].partition("/")
    if slash and (any(c in first for c in ".:") or first == "localhost" or first.lower() != first):
        return DOCKER_HUB if first in _HUB_ALIASES else first
    return DOCKER_HUB


def config_key(registry: str) -> str:
    """The key of ``registry`` in ``config.json``: ``https://index.docker.io/v1/`` for
    Docker Hub, the host itself for any other registry."""
    return DOCKER_HUB_CONFIG_KEY if _url_host(registry) in _HUB_ALIASES else registry


def _url_host(key: str) -> str:
    """``https://host:port/v1/`` → ``host:port`` (what the CLI calls ConvertToHostname)."""
    if key.startswith(("http://", "https://")):
        key = key.partition("://")[2]
    return key.split("/", 1)[0]


def _from_entry(entry: dict[str, Any], key: str, path: Path) -> RegistryAuth | None:
    username = _str(entry.get("username"))
    password = _str(entry.get("password"))
    encoded = _str(entry.get("auth"))
    if encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        user, colon, secret = decoded.partition(":")
        if not colon:
            raise InvalidArgument(
                f"the 'auth' field for {key!r} in {path} is not base64 of 'user:password'; "
                "run 'docker login' again"
            )
        username, password = user, secret
    auth = RegistryAuth(username or None, password or None, server_address=key,
                        identity_token=_str(entry.get("identitytoken")) or None,
                        registry_token=_str(entry.get("registrytoken")) or None)
    return None if auth.anonymous else auth


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _from_helper(helper: str, key: str, path: Path) -> RegistryAuth | None:
    """Ask ``docker-credential-<helper>`` for ``key``'s credentials.

    A name holding a path separator is refused: ``docker-credential-../x`` is a path, not a
    program on ``PATH``, and would run whatever file it names.
    """
    if "/" in helper or os.sep in helper:
        raise InvalidArgument(
            f"{path} names the credential helper {helper!r} for {key}; a helper name cannot "
            "contain '/' (it is the suffix of a program docker-credential-NAME on PATH): fix "
            "the credsStore or credHelpers entry"
        )
    program = f"docker-credential-{helper}"
    binary = shutil.which(program)
    if binary is None:
        raise InvalidArgument(
            f"{path} names the credential helper {helper!r} for {key}, but {program} is not "
            "on PATH; install it, remove the entry, or pass auth=RegistryAuth(...) explicitly"
        )
    try:
        done = subprocess.run([binary, "get"], input=key.encode(), capture_output=True,
                              timeout=_HELPER_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InvalidArgument(
            f"the credential helper {program} failed for {key}: {type(exc).__name__}"
        ) from None
    if done.returncode != 0:
        said = done.stdout.decode("utf-8", "replace").strip()
        if "credentials not found" in said.lower():
            return None
        raise InvalidArgument(
            f"the credential helper {program} failed for {key} (exit {done.returncode}): "
            f"{said.splitlines()[0][:200] if said else 'no message'}"
        )
    try:
        doc = _JSON.decode(done.stdout)
    except DECODE_FAILURES:
        raise InvalidArgument(
            f"the credential helper {program} answered something other than JSON for {key}"
        ) from None
    username, secret = _str(doc.get("Username")), _str(doc.get("Secret"))
    if not secret:
        return None
    if username == "<token>":
        return RegistryAuth(server_address=key, identity_token=secret)
    return RegistryAuth(username, secret, server_address=key)


# -- what every pull and push shares (images, plugins) ----------------------------------------

async def auth_headers(
    reference: str, auth: RegistryAuth | None, *, required: bool
) -> dict[str, str] | None:
    """The ``X-Registry-Auth`` header for ``reference``: ``auth``, else what ``config.json``
    holds for its registry, else none (or an anonymous one when the call ``required`` it).

    Raises:
        InvalidArgument: ``auth`` is not a :class:`RegistryAuth`.
    """
    if auth is not None and not isinstance(auth, RegistryAuth):
        raise InvalidArgument(f"auth must be a RegistryAuth, not {type(auth).__name__}")
    if auth is None:
        auth = await asyncio.to_thread(RegistryAuth.for_image, reference)
    if auth is None:
        if not required:
            return None
        auth = RegistryAuth()
    return {"X-Registry-Auth": auth.header()}


@contextlib.contextmanager
def reaching_registry(reference: str, action: str) -> Iterator[None]:
    """Raise a registry's network failure, reported by the daemon, as RegistryUnreachable."""
    try:
        yield
    except ServerError as exc:
        if NETWORK_FAILURE.search(exc.message):
            exc = RegistryUnreachable(
                exc.status, exc.message, method=exc.method, path=exc.path,
                registry=registry_of(reference), action=action,
            )
        raise exc from None


def registry_failure(registry: str) -> Callable[..., ProgressError]:
    """A ProgressStream ``failure`` that tells a registry's credential refusal apart."""

    def failure(message: str, **kwargs: Any) -> ProgressError:
        if AUTH_REFUSED.search(message):
            return RegistryAuthError(message, registry=registry, **kwargs)
        return ProgressError(message, **kwargs)

    return failure


@contextlib.contextmanager
def refused_credentials(reference: str, operation: str) -> Iterator[None]:
    """Raise an up-front refusal of a pull's credentials (401, or 500 on API 1.41) as the same
    RegistryAuthError a refusal inside the progress stream gives."""
    try:
        yield
    except APIError as exc:
        if exc.status in (401, 403, 500) and AUTH_REFUSED.search(exc.message):
            raise RegistryAuthError(exc.message, operation=operation, code=exc.status,
                                    registry=registry_of(reference)) from None
        raise
