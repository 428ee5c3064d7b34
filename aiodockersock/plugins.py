"""The plugins area of the Engine API: ``docker.plugins`` (managed, "v2" plugins).

A plugin is a rootfs and a ``config.json`` that dockerd runs (through containerd and runc) when
it is enabled, and talks to over the unix socket the config names. It is created from a local
directory (:meth:`Plugins.create`, offline) or pulled from a registry (:meth:`Plugins.pull`,
after its privileges are granted), configured (:meth:`Plugins.set`), enabled, disabled, pushed,
upgraded and removed. Pulls, pushes and upgrades return a :class:`~aiodockersock.ProgressStream`
like the images' own.
"""

from __future__ import annotations

import builtins
import contextlib
import inspect
import os
import re
from collections.abc import AsyncIterable, Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Union

import msgspec

from ._args import Filters
from ._auth import (
    RegistryAuth,
    auth_headers,
    reaching_registry,
    refused_credentials,
    registry_failure,
    registry_of,
)
from ._bodies import ProgressStream
from ._exceptions import (
    APIError,
    BadRequest,
    Conflict,
    DockerError,
    InvalidArgument,
    PrivilegesNotGranted,
    ProgressError,
    ServerError,
)
from ._tar import DirectoryTar, Upload, tree_members, upload_body
from ._transport import Area, Body, StreamResponse
from .models.images import PushResult
from .models.plugins import Plugin, PluginPrivilege
from .models.progress import ProgressMessage

__all__ = ["Grant", "PluginSource", "Plugins"]

#: What a plugin is created from: a directory holding ``config.json`` and ``rootfs/`` (a
#: ``str`` or path), or that directory already tarred (bytes, a binary file object, an async
#: iterable of bytes, or the path of a tar file).
PluginSource = Union[
    str, "os.PathLike[str]", bytes, bytearray, memoryview, AsyncIterable[bytes], IO[bytes]
]

#: Which privileges a pull or an upgrade may grant the plugin: ``True`` (all it asks for),
#: ``False`` (none: only a plugin that asks for none is installed), the privileges approved
#: beforehand (a list from :meth:`Plugins.privileges`: the plugin may ask for those and no
#: more), or a function given the list that returns (or awaits to) whether to grant them.
Grant = Union[  # noqa: UP007 (a runtime alias)
    bool,
    Sequence[PluginPrivilege],
    Callable[[builtins.list[PluginPrivilege]], Union[bool, Awaitable[bool]]],  # noqa: UP007
]

_TAR = {"Content-Type": "application/x-tar"}
#: dockerd refuses a plugin whose rootfs (or config.json) is a blob it holds already ("content
#: sha256:…: already exists"; 409 on Docker 20.10, 500 on 28.5).
_SAME_CONTENT = re.compile(r"^content sha256:[0-9a-f]{64}: already exists")
#: dockerd refuses to change an enabled plugin with a 500.
_ACTIVE = re.compile(r"active plugin|is enabled", re.IGNORECASE)
#: How long dockerd tries an enabled plugin's socket (0.5 s, then 3 s between 4 more tries),
#: with some slack: the client waits that much longer than its request timeout.
_START_WAIT = 15
#: dockerd's words when nothing listened on the socket.
_NOT_LISTENING = re.compile(r"dial unix \S+: connect: ")
#: dockerd answers a setting it does not know with 500.
_BAD_SETTING = re.compile(r"not found in the plugin configuration|is not settable|invalid "
                          r"key|must be of the form", re.IGNORECASE)


#: dockerd's plugin code tries a registry over HTTPS when plain HTTP failed, also when HTTP
#: failed for want of credentials, and reports only the HTTPS failure (20.10 and 28.5).
_HTTPS_FALLBACK = re.compile(r"server gave HTTP response to HTTPS client")
_FALLBACK_HINT = (
    " (dockerd tries HTTPS when plain HTTP fails, also when a registry refused it for want of "
    "credentials: if this registry needs a login, pass auth=RegistryAuth(...) or log in with "
    "docker login)"
)


def _failure(reference: str) -> Callable[..., ProgressError]:
    """The ``failure`` of a plugin's progress stream: a credential refusal told apart (as for
    images), and dockerd's misleading HTTPS fallback explained."""
    base = registry_failure(registry_of(reference))

    def failure(message: str, **kwargs: Any) -> ProgressError:
        err = base(message, **kwargs)
        if _HTTPS_FALLBACK.search(message):
            err.args = (f"{err.args[0]}{_FALLBACK_HINT}",)
        return err

    return failure


@contextlib.contextmanager
def _explained() -> Iterator[None]:
    """Explain dockerd's HTTPS fallback in an error it answers up front."""
    try:
        yield
    except ServerError as exc:
        if _HTTPS_FALLBACK.search(exc.message):
            exc.args = (f"{exc.args[0]}{_FALLBACK_HINT}",)
        raise


def _name(value: object, what: str = "a plugin name") -> str:
    if not isinstance(value, str) or not value:
        raise InvalidArgument(f"{what} must be a non-empty str, not {value!r}")
    return value


def _key(privilege: PluginPrivilege) -> tuple[str, tuple[str, ...]]:
    return (privilege.name or "", tuple(sorted(privilege.value or ())))


def _settings(settings: Mapping[str, str] | Sequence[str]) -> builtins.list[str]:
    """``{"DEBUG": "1"}`` or ``["DEBUG=1"]`` → ``["DEBUG=1"]``."""
    if isinstance(settings, Mapping):
        out = []
        for key, value in settings.items():
            if not isinstance(key, str) or not key or "=" in key or not isinstance(value, str):
                raise InvalidArgument(
                    f"settings: each key must be a non-empty str without '=' and each value a "
                    f"str, not {key!r}: {value!r}"
                )
            out.append(f"{key}={value}")
    elif isinstance(settings, (str, bytes)) or not isinstance(settings, Sequence):
        raise InvalidArgument(
            "settings must be a mapping ({'DEBUG': '1'}) or a list of 'KEY=VALUE' strings, "
            f"not {type(settings).__name__}"
        )
    else:
        out = builtins.list(settings)
        for item in out:
            if not isinstance(item, str) or not item.partition("=")[0] or "=" not in item:
                raise InvalidArgument(f"settings: {item!r} is not a 'KEY=VALUE' string")
    if not out:
        raise InvalidArgument("settings: nothing to set")
    return out


def _plugin_tar(source: object) -> tuple[Body, Upload | None]:
    """The tar body of ``plugins.create``: a directory is checked and tarred on the fly."""
    if isinstance(source, str):
        source = Path(source)
    if isinstance(source, os.PathLike):
        root = Path(source)
        if root.is_dir():
            config = root / "config.json"
            if not config.is_file():
                raise InvalidArgument(
                    f"{root} holds no config.json: a plugin directory holds config.json (the "
                    "plugin's config: Entrypoint, Interface…) and rootfs/ (its files)"
                )
            if not (root / "rootfs").is_dir():
                raise InvalidArgument(
                    f"{root} holds no rootfs/ directory: a plugin directory holds config.json "
                    "and rootfs/ (the files of the plugin's filesystem)"
                )
            try:
                msgspec.json.decode(config.read_bytes(), type=dict)
            except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise InvalidArgument(f"{config} is not a JSON object: {exc}") from None
            upload = DirectoryTar(root, tree_members(root, ""))
            return upload, upload
        if not root.exists():
            raise InvalidArgument(f"no such plugin directory or tar file: {root}")
    return upload_body(source, "a plugin's source")


class Plugins(Area):
    """Create, pull, configure, enable, disable, push, upgrade and remove plugins
    (``/plugins/…``)."""

    __slots__ = ()

    async def list(self, *, filters: Filters | None = None) -> builtins.list[Plugin]:
        """List the installed plugins.

        ``GET /plugins``

        Args:
            filters: ``capability`` (``"volumedriver"``, ``"networkdriver"``, ``"authz"``,
                ``"logdriver"``…) and ``enabled`` (``"true"`` or ``"false"``).

        Raises:
            NotSupported: the engine has no plugins (Podman's service).
        """
        resp = await self._t.request("GET", "/plugins", query={"filters": filters or None})
        return resp.decode(builtins.list[Plugin])

    async def inspect(self, name: str) -> Plugin:
        """Everything the daemon knows about a plugin.

        ``GET /plugins/{name}/json``

        Args:
            name: the plugin's name (``team/vol``, ``team/vol:latest``) or id (or a prefix).

        Raises:
            NotFound: no such plugin.
        """
        resp = await self._t.request("GET", self._t.path("/plugins/{}/json", _name(name)))
        return resp.decode(Plugin)

    async def privileges(
        self, remote: str, *, auth: RegistryAuth | None = None
    ) -> builtins.list[PluginPrivilege]:
        """The privileges a plugin of a registry asks for, read from its config there.

        ``GET /plugins/privileges``

        Show them to whoever decides, then pass the approved list to :meth:`pull` as
        ``grant``. A remote that does not exist, or that the registry does not show without
        credentials, gives an empty list (dockerd 20.10 and 28.5 answer so); the pull then
        fails.

        Args:
            remote: the plugin's reference (``registry.example:5000/team/vol:1.0``).
            auth: credentials; ``None`` looks them up in ``~/.docker/config.json``.

        Raises:
            RegistryUnreachable: the daemon cannot reach the registry.
        """
        remote = _name(remote, "remote")
        return await self._asked(remote, await auth_headers(remote, auth, required=False))

    def pull(
        self,
        remote: str,
        name: str | None = None,
        *,
        grant: Grant = False,
        auth: RegistryAuth | None = None,
    ) -> ProgressStream[ProgressMessage, Plugin]:
        """Install a plugin from a registry, granting the privileges it asks for when
        ``grant`` allows them. The plugin is installed disabled: :meth:`enable` it.

        ``POST /plugins/pull`` (after ``GET /plugins/privileges``)

        Args:
            remote: the plugin's reference (``registry.example:5000/team/vol:1.0``; the tag
                defaults to ``latest``).
            name: the local name (``vol``); the remote reference when omitted.
            grant: which privileges may be granted (see :data:`Grant`): ``False`` installs
                only a plugin that asks for none; ``True`` grants all; a list grants those
                (approved from :meth:`privileges`) and no more; a function decides from the
                list.
            auth: credentials; ``None`` looks them up in ``~/.docker/config.json``.

        Returns:
            A progress stream whose result is the installed :class:`Plugin`.

        Raises:
            PrivilegesNotGranted: the plugin asks for privileges ``grant`` did not allow
                (nothing was installed); raised when the stream opens.
            RegistryAuthError: the registry refused the credentials.
            RegistryUnreachable: the daemon cannot reach the registry.
            ProgressError: the pull failed after it had started (no such plugin…).
        """
        remote = _name(remote, "remote")
        if name is not None:
            _name(name, "name")
        _check_grant(grant)

        async def open_() -> StreamResponse:
            headers = await auth_headers(remote, auth, required=True)
            privileges = await self._granted(remote, grant, headers)
            with reaching_registry(remote, f"pull {remote}"), _explained(), \
                    refused_credentials(remote, f"pull of {remote}"):
                return await self._t.stream(
                    "POST", "/plugins/pull", query={"remote": remote, "name": name},
                    body=privileges, headers=headers,
                )

        async def finish(messages: builtins.list[ProgressMessage]) -> Plugin:
            return await self.inspect(name or remote)

        return ProgressStream(open_, ProgressMessage, f"pull of plugin {remote}", finish,
                              _failure(remote))

    def upgrade(
        self,
        name: str,
        remote: str,
        *,
        grant: Grant = False,
        auth: RegistryAuth | None = None,
    ) -> ProgressStream[ProgressMessage, Plugin]:
        """Replace a disabled plugin's rootfs and config by those of ``remote``, keeping its
        name and settings.

        ``POST /plugins/{name}/upgrade`` (after ``GET /plugins/privileges``)

        Args:
            name: the installed plugin (disable it first).
            remote: the reference to upgrade to.
            grant: which privileges may be granted, as for :meth:`pull`.
            auth: credentials; ``None`` looks them up in ``~/.docker/config.json``.

        Returns:
            A progress stream whose result is the upgraded :class:`Plugin`.

        Raises:
            PrivilegesNotGranted: ``remote`` asks for privileges ``grant`` did not allow.
            NotFound: no such plugin.
            Conflict: the plugin is enabled (disable it first).
            ProgressError: the upgrade failed after it had started.
        """
        name = _name(name)
        remote = _name(remote, "remote")
        _check_grant(grant)

        async def open_() -> StreamResponse:
            headers = await auth_headers(remote, auth, required=True)
            privileges = await self._granted(remote, grant, headers)
            with reaching_registry(remote, f"upgrade to {remote}"), _explained(), \
                    refused_credentials(remote, f"upgrade to {remote}"):
                return await self._t.stream(
                    "POST", self._t.path("/plugins/{}/upgrade", name), query={"remote": remote},
                    body=privileges, headers=headers,
                )

        async def finish(messages: builtins.list[ProgressMessage]) -> Plugin:
            return await self.inspect(name)

        return ProgressStream(open_, ProgressMessage, f"upgrade of plugin {name} to {remote}",
                              finish, _failure(remote))

    def push(
        self, name: str, *, auth: RegistryAuth | None = None
    ) -> ProgressStream[ProgressMessage, PushResult]:
        """Push a plugin to the registry its name names (``registry.example:5000/team/vol``).

        ``POST /plugins/{name}/push``

        Args:
            name: the installed plugin, named after its registry (create or pull it under
                that name).
            auth: credentials; ``None`` looks them up in ``~/.docker/config.json``.

        Returns:
            A progress stream whose result is a :class:`~aiodockersock.models.PushResult`:
            the tag and the manifest digest the registry now holds.

        Raises:
            NotFound: no such plugin.
            RegistryAuthError: the registry refused the credentials.
            ProgressError: the push failed after it had started.
        """
        name = _name(name)

        async def open_() -> StreamResponse:
            headers = await auth_headers(name, auth, required=True)
            with reaching_registry(name, f"push {name}"), _explained():
                return await self._t.stream(
                    "POST", self._t.path("/plugins/{}/push", name), headers=headers
                )

        async def finish(messages: builtins.list[ProgressMessage]) -> PushResult:
            for message in reversed(messages):
                aux = message.aux
                if isinstance(aux, dict) and isinstance(aux.get("Digest"), str):
                    size = aux.get("Size")
                    return PushResult(tag=str(aux.get("Tag") or ""), digest=aux["Digest"],
                                      size=size if isinstance(size, int) else None)
            raise ProgressError("the daemon ended the push without reporting a digest",
                                operation=f"push of plugin {name}",
                                log=builtins.list[object](messages[-20:]))

        return ProgressStream(open_, ProgressMessage, f"push of plugin {name}", finish,
                              _failure(name))

    async def create(self, name: str, source: PluginSource) -> Plugin:
        """Create a plugin from local files, offline: a directory holding ``config.json``
        and ``rootfs/``. The plugin is created disabled: :meth:`enable` it.

        ``POST /plugins/create``

        ``config.json`` is a :class:`~aiodockersock.models.PluginConfig`: at least
        ``Entrypoint``, ``Interface`` (``Types`` and the ``Socket`` the process listens on in
        ``/run/docker/plugins/``) and ``Network`` (``{"Type": "host"}`` or ``"none"``…).

        Args:
            name: the plugin's name (``team/vol``, or ``registry.example:5000/team/vol:1.0``
                to push it there later).
            source: the directory (a ``str`` or a path; tarred on the fly), or the tar of
                its contents (bytes, a binary file, an async iterable of bytes, or the path of
                a tar file).

        Returns:
            The new plugin, as :meth:`inspect` reports it.

        Raises:
            InvalidArgument: the directory lacks ``config.json`` or ``rootfs/``, or its
                ``config.json`` is not a JSON object; ``source`` is none of the kinds above.
            Conflict: a plugin of that name exists, or one with the same rootfs (the same
                files with the same times) or the same ``config.json``: dockerd stores each
                once.
            ServerError: the daemon refused the config (its message says what is wrong).
        """
        name = _name(name)
        body, upload = _plugin_tar(source)
        try:
            # no total timeout: a large rootfs uploads and unpacks for as long as it takes,
            # as an image load or build does
            await self._t.request("POST", "/plugins/create", query={"name": name}, data=body,
                                  headers=_TAR, timeout=None)
        except APIError as exc:
            if upload is not None and upload.error is not None:
                raise upload.error from None
            if _SAME_CONTENT.match(exc.message):
                raise _conflict(
                    exc, f"the engine holds a plugin with the same content as {name} already: "
                    "the same rootfs (files and their times) or the same config.json "
                    f"(dockerd stores each once and refuses a second copy: {exc.message}); "
                    "remove that plugin, or make the new one's its own (a file of its own in "
                    "rootfs/, its own Description in config.json)"
                ) from None
            raise
        except DockerError:
            if upload is not None and upload.error is not None:
                raise upload.error from None
            raise
        finally:
            if upload is not None:
                upload.close()
        return await self.inspect(name)

    async def enable(self, name: str, *, timeout: int = 30) -> None:
        """Start a plugin, and wait until it listens on its socket.

        ``POST /plugins/{name}/enable``

        dockerd starts the plugin's entrypoint, then tries its socket for about 12 s (at
        0.5 s, then every 3 s; not configurable) before it gives up and stops the plugin.

        Args:
            name: the plugin's name or id.
            timeout: seconds dockerd gives each of its own calls to the plugin once it runs
                (its HTTP client's timeout; the Docker CLI's default, 30).

        Raises:
            NotFound: no such plugin.
            Conflict: it is enabled already.
            ServerError: it did not start, or nothing listened on its socket in time (the
                message says which; ``.message`` keeps the daemon's words).
        """
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
            raise InvalidArgument(f"timeout must be a number of seconds (int >= 0), not "
                                  f"{timeout!r}")
        try:
            await self._t.request(
                "POST", self._t.path("/plugins/{}/enable", _name(name)),
                query={"timeout": str(timeout)},  # dockerd 28 refuses a request without it
                timeout=self._t.timeout_after(_START_WAIT),
            )
        except ServerError as exc:
            if not _NOT_LISTENING.search(exc.message):
                raise
            err = ServerError(exc.status, exc.message, method=exc.method, path=exc.path)
            err.args = (
                f"the plugin {name} started, but nothing listened on its socket in time: does "
                "its entrypoint listen on /run/docker/plugins/<Interface.Socket of its "
                f"config.json>? (the daemon said: {exc.message})",
            )
            raise err from None

    async def disable(self, name: str, *, force: bool = False) -> None:
        """Stop a plugin.

        ``POST /plugins/{name}/disable``

        Args:
            name: the plugin's name or id.
            force: stop it even while something uses it (a volume of a volume plugin…).

        Raises:
            NotFound: no such plugin.
            Conflict: it is disabled already, or in use (without ``force``).
        """
        await self._t.request(
            "POST", self._t.path("/plugins/{}/disable", _name(name)),
            query={"force": force or None},
        )

    async def set(self, name: str, settings: Mapping[str, str] | Sequence[str]) -> None:
        """Change a disabled plugin's settings: the environment variables, mount sources,
        device paths and arguments its config declares settable.

        ``POST /plugins/{name}/set``

        Args:
            name: the plugin's name or id.
            settings: ``{"DEBUG": "1"}`` or ``["DEBUG=1"]``; keys are an ``Env`` name, a
                mount's ``<name>.source``, a device's ``<name>.path``, or ``args`` (the
                daemon's syntax, as ``docker plugin set``).

        Raises:
            InvalidArgument: ``settings`` is not a mapping or a list of ``KEY=VALUE``.
            NotFound: no such plugin.
            BadRequest: the config has no such setting, or it is not settable.
            Conflict: the plugin is enabled (disable it first).
        """
        body = _settings(settings)
        try:
            await self._t.request(
                "POST", self._t.path("/plugins/{}/set", _name(name)), body=body
            )
        except ServerError as exc:  # dockerd answers these with a 500
            if _BAD_SETTING.search(exc.message):
                raise BadRequest(exc.status, exc.message, method=exc.method,
                                 path=exc.path) from None
            if _ACTIVE.search(exc.message):
                raise Conflict(exc.status, exc.message, method=exc.method,
                               path=exc.path) from None
            raise

    async def remove(self, name: str, *, force: bool = False) -> None:
        """Remove a plugin.

        ``DELETE /plugins/{name}``

        Args:
            name: the plugin's name or id.
            force: remove it even when enabled (it is stopped first) or in use.

        Raises:
            NotFound: no such plugin.
            Conflict: it is enabled (without ``force``).
        """
        await self._t.request(
            "DELETE", self._t.path("/plugins/{}", _name(name)), query={"force": force or None}
        )

    async def _asked(
        self, remote: str, headers: Mapping[str, str] | None
    ) -> builtins.list[PluginPrivilege]:
        with reaching_registry(remote, f"read the privileges of {remote}"):
            resp = await self._t.request(
                "GET", "/plugins/privileges", query={"remote": remote}, headers=headers
            )
        if resp.body.strip() in (b"", b"null"):
            return []
        return resp.decode(builtins.list[PluginPrivilege])

    async def _granted(
        self, remote: str, grant: Grant, headers: Mapping[str, str] | None
    ) -> builtins.list[PluginPrivilege]:
        """Ask the daemon which privileges ``remote`` needs and return them if ``grant``
        allows, or raise PrivilegesNotGranted."""
        asked = await self._asked(remote, headers)
        if not asked or grant is True:
            return asked
        if grant is False:
            refused = asked
        elif callable(grant):
            decided = grant(builtins.list(asked))
            if inspect.isawaitable(decided):
                decided = await decided
            refused = [] if decided else asked
        else:
            approved = {_key(p) for p in grant}
            refused = [p for p in asked if _key(p) not in approved]
        if refused:
            raise PrivilegesNotGranted(remote, builtins.list(asked), builtins.list(refused))
        return asked


def _check_grant(grant: object) -> None:
    """Refuse a ``grant`` that is none of the kinds :data:`Grant` names."""
    if isinstance(grant, bool) or callable(grant):
        return
    if isinstance(grant, Sequence) and not isinstance(grant, (str, bytes)) and all(
        isinstance(p, PluginPrivilege) for p in grant
    ):
        return
    raise InvalidArgument(
        "grant must be True (all), False (none), a list of PluginPrivilege (from "
        "plugins.privileges()) or a function deciding from that list, not "
        f"{type(grant).__name__}"
    )


def _conflict(exc: APIError, text: str) -> Conflict:
    err = Conflict(exc.status, exc.message, method=exc.method, path=exc.path)
    err.args = (text,)
    return err
