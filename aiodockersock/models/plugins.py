"""Plugin structs (the ``Plugin`` definitions of API 1.41 and 1.56): managed (v2) plugins as
``GET /plugins`` and ``GET /plugins/{name}/json`` report them, and the privileges a plugin asks
for before it is pulled."""

from __future__ import annotations

import msgspec

from ._base import Model

__all__ = [
    "Plugin",
    "PluginArgs",
    "PluginConfig",
    "PluginDevice",
    "PluginEnv",
    "PluginInterface",
    "PluginLinux",
    "PluginMount",
    "PluginNetwork",
    "PluginPrivilege",
    "PluginRootFS",
    "PluginSettings",
    "PluginUser",
]


class PluginMount(Model):
    """A mount the plugin asks for (``Config.Mounts``) or has (``Settings.Mounts``)."""

    name: str | None = None
    description: str | None = None
    settable: list[str] | None = None
    """Which parts a user may change with ``plugins.set`` (``"source"``…)."""
    source: str | None = None
    """The host path (a mount with a source is a privilege the puller must grant)."""
    destination: str | None = None
    """The path inside the plugin."""
    type: str | None = None
    """``"bind"``…"""
    options: list[str] | None = None
    """``["rbind", "rw"]``…"""


class PluginDevice(Model):
    """A host device the plugin asks for (``Config.Linux.Devices``) or has."""

    name: str | None = None
    description: str | None = None
    settable: list[str] | None = None
    path: str | None = None
    """``"/dev/fuse"``…"""


class PluginEnv(Model):
    """An environment variable of the plugin's config, with its default."""

    name: str | None = None
    description: str | None = None
    settable: list[str] | None = None
    """``["value"]`` when ``plugins.set`` may change it."""
    value: str | None = None


class PluginArgs(Model):
    """The arguments appended to the plugin's entrypoint (``Config.Args``)."""

    name: str | None = None
    description: str | None = None
    settable: list[str] | None = None
    value: list[str] | None = None


class PluginInterface(Model):
    """How dockerd talks to the plugin: its types and the socket it listens on."""

    types: list[str] | None = None
    """``["docker.volumedriver/1.0"]``, ``docker.networkdriver/1.0``,
    ``docker.authz/1.0``, ``docker.logdriver/1.0``…"""
    socket: str | None = None
    """The socket's file name in ``/run/docker/plugins/`` inside the plugin (``plugin.sock``);
    dockerd waits for it when the plugin is enabled."""
    protocol_scheme: str | None = None
    """``""`` or ``"moby.plugins.http/v1"`` (the default)."""


class PluginUser(Model):
    """The user the plugin's process runs as."""

    uid: int | None = msgspec.field(default=None, name="UID")
    gid: int | None = msgspec.field(default=None, name="GID")


class PluginNetwork(Model):
    """The plugin's network (``Config.Network``)."""

    type: str | None = None
    """``"host"`` (a privilege), ``"none"``…"""


class PluginLinux(Model):
    """Linux privileges the plugin asks for (``Config.Linux``)."""

    capabilities: list[str] | None = None
    """``["CAP_SYS_ADMIN"]``…"""
    allow_all_devices: bool | None = None
    devices: list[PluginDevice] | None = None


class PluginRootFS(Model):
    """The plugin's filesystem layers (``Config.rootfs``)."""

    type: str | None = msgspec.field(default=None, name="type")
    """``"layers"``."""
    diff_ids: list[str] | None = msgspec.field(default=None, name="diff_ids")


class PluginConfig(Model):
    """A plugin's ``config.json``: what it is, what it runs, and what it asks of the host.

    The file a plugin is created from (``plugins.create``) has this shape (``rootfs`` and
    ``DockerVersion`` are filled in by the daemon).
    """

    docker_version: str | None = None
    """The Docker version that created the plugin (API 1.41 documents it; dockerd 28 sends it
    too)."""
    description: str | None = None
    documentation: str | None = None
    interface: PluginInterface | None = None
    entrypoint: list[str] | None = None
    work_dir: str | None = None
    user: PluginUser | None = None
    network: PluginNetwork | None = None
    linux: PluginLinux | None = None
    propagated_mount: str | None = None
    """A path inside the plugin shared with the host (volume plugins mount volumes there)."""
    ipc_host: bool | None = None
    pid_host: bool | None = None
    mounts: list[PluginMount] | None = None
    env: list[PluginEnv] | None = None
    args: PluginArgs | None = None
    rootfs: PluginRootFS | None = msgspec.field(default=None, name="rootfs")


class PluginSettings(Model):
    """What a user set (``plugins.set``) on top of the plugin's config."""

    mounts: list[PluginMount] | None = None
    env: list[str] | None = None
    """``["DEBUG=0"]``: every variable of the config, with its current value."""
    args: list[str] | None = None
    devices: list[PluginDevice] | None = None


class Plugin(Model):
    """A plugin: items of GET /plugins, GET /plugins/{name}/json."""

    id: str | None = None
    name: str | None = None
    """With its tag: ``"team/vol:latest"``."""
    enabled: bool | None = None
    """Whether it runs (enabled); ``False`` when only installed."""
    settings: PluginSettings | None = None
    plugin_reference: str | None = None
    """The remote reference it was pulled from or is pushed to."""
    config: PluginConfig | None = None


class PluginPrivilege(Model):
    """A permission a plugin needs, which the puller must grant: GET /plugins/privileges, and
    the body of POST /plugins/pull and /plugins/{name}/upgrade.

    The privileges come from the plugin's config: ``network`` (a network type other than
    ``bridge``), ``mount`` (host paths), ``device``, ``allow-all-devices``, ``host pid
    namespace``, ``host ipc namespace`` and ``capabilities``.
    """

    name: str | None = None
    """``"network"``, ``"mount"``, ``"capabilities"``…"""
    description: str | None = None
    value: list[str] | None = None
    """``["host"]``, ``["CAP_SYS_ADMIN"]``…"""
