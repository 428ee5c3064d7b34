"""Install and run private container engines for the aiodockersock test suite.

The test suite's ``conftest.py`` imports this package; ``scripts/test_engine.py`` is its
command line. It only uses the standard library, and importing it has no side effects.

Engines (see DESIGN.md section 4):

* ``"20.10"`` -- Debian bookworm's own ``/usr/sbin/dockerd`` (package ``docker.io``).
* ``"26.1"`` -- ``docker.io`` from Debian ``trixie``, fetched with ``apt-get download``
  and unpacked with ``dpkg -x`` under ``/var/cache/aiodockersock/engines/26.1/``.
* ``"28.5"`` -- the same from Debian ``sid``.
* ``"podman"`` -- ``apt-get install podman``; ``podman system service``.

All Docker engines run on the machine's own (bookworm) ``containerd`` and ``runc``:
the newer ``dockerd`` binaries work with containerd 1.6 / runc 1.1, whereas sid's
own ``runc`` needs glibc 2.38 and cannot run on bookworm.

Every engine is *private*: its own socket, data, exec and state directories under
a short work directory, ``--bridge=none --iptables=false``, its own managed
``containerd`` under the exec root and its own containerd namespace, started in a
new session so a terminal Ctrl-C does not reach it.  Nothing touches
``/var/run/docker.sock``, ``/var/lib/docker`` or ``/etc/docker``.  Each daemon runs
under ``tini -s`` (from the ``tini`` package docker.io depends on), a subreaper that
reaps the daemonized containerd shims: on machines whose pid 1 does not reap
orphans they would otherwise linger as zombies.

The modules, one job each:

* :mod:`.config` -- the engine labels, the cache directory, search paths, timeouts;
* :mod:`.errors` -- :class:`EngineError` and its subclasses;
* :mod:`.shell` -- progress messages, running commands, log tails, the static-ELF check;
* :mod:`.procs` -- finding, signalling, reaping and killing an engine's processes; unmounting;
* :mod:`.unixhttp` -- HTTP over a unix socket (:class:`UnixAPI` for a daemon we did not start);
* :mod:`.install` -- apt installs, ``docker.io`` from other Debian suites, :func:`engine_info`;
* :mod:`.daemon` -- :class:`Engine`: start, restart and stop a private dockerd or Podman;
* :mod:`.image` -- the offline busybox test image;
* :mod:`.registry` -- :class:`Registry` (Debian's ``docker-registry``) and htpasswd lines;
* :mod:`.sshd` -- :class:`Sshd` (Debian's ``openssh-server``) and test users, for ``ssh://``;
* :mod:`.swarm` -- ``swarm init`` of a private dockerd on a loopback address of its own;
* :mod:`.dockercli` -- the Docker CLI that can make a BuildKit build (:func:`buildkit_cli`);
* :mod:`.cli` -- the command line (:func:`main`).

Command line::

    python scripts/test_engine.py install [--engines 20.10,26.1,28.5]
    python scripts/test_engine.py start VERSION --dir DIR   # prints DOCKER_HOST=unix://...
    python scripts/test_engine.py stop --dir DIR
"""

from .cli import main
from .config import (
    CACHE_ROOT,
    COMPILER,
    DOCKER_ENGINES,
    KNOWN_ENGINES,
    PODMAN,
    REGISTRY,
    REGISTRY_AUTH,
    SSHD,
)
from .daemon import Engine, start_engine, stop_engine
from .dockercli import BuildkitCLI, buildkit_cli
from .errors import EngineError, EngineStartError, EngineUnavailable
from .image import TEST_IMAGE, build_test_image
from .install import engine_info, ensure_installed
from .registry import Registry, htpasswd_line, start_registry
from .sshd import Sshd, create_user, remove_user, start_sshd
from .swarm import SwarmInfo, swarm_init
from .unixhttp import EngineAPI, UnixAPI, unix_request

__all__ = [
    "CACHE_ROOT",
    "COMPILER",
    "DOCKER_ENGINES",
    "KNOWN_ENGINES",
    "PODMAN",
    "REGISTRY",
    "REGISTRY_AUTH",
    "SSHD",
    "TEST_IMAGE",
    "BuildkitCLI",
    "Engine",
    "EngineAPI",
    "EngineError",
    "EngineStartError",
    "EngineUnavailable",
    "Registry",
    "Sshd",
    "SwarmInfo",
    "UnixAPI",
    "build_test_image",
    "buildkit_cli",
    "create_user",
    "engine_info",
    "ensure_installed",
    "htpasswd_line",
    "main",
    "remove_user",
    "start_engine",
    "start_registry",
    "start_sshd",
    "stop_engine",
    "swarm_init",
    "unix_request",
]
