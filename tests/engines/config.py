"""The engines this package knows, and where their pieces live on the machine."""

import os
from collections.abc import Mapping
from pathlib import Path

#: The engine that is simply the machine's own (bookworm) dockerd.
SYSTEM_ENGINE = "20.10"
SYSTEM_DOCKERD = Path("/usr/sbin/dockerd")
#: Engines taken from another Debian suite: label -> suite.
SUITE_ENGINES: Mapping[str, str] = {"26.1": "trixie", "28.5": "sid"}
PODMAN = "podman"
#: Pseudo-engine name accepted by :func:`ensure_installed` for ``docker-registry``.
REGISTRY = "registry"
#: Pseudo-engine name for a registry with basic auth: ``docker-registry`` plus ``htpasswd``
#: (package ``apache2-utils``), which writes the bcrypt password file offline.
REGISTRY_AUTH = "registry-auth"
#: Pseudo-engine name for Debian's ``openssh-server``: an ``sshd`` on 127.0.0.1 in front of a
#: private engine, for the ``ssh://`` tests (:mod:`.sshd`).
SSHD = "sshd"
#: Where Debian's ``openssh-server`` puts the daemon.
SSHD_BINARY = Path("/usr/sbin/sshd")
#: Pseudo-engine name for a C compiler with the static C library (``gcc``, ``libc6-dev``): the
#: plugins tests build their plugin's program with it (``tests/plugindir.py``).
COMPILER = "cc"
PSEUDO_ENGINES: tuple[str, ...] = (REGISTRY, REGISTRY_AUTH, SSHD, COMPILER)
DOCKER_ENGINES: tuple[str, ...] = (SYSTEM_ENGINE, *SUITE_ENGINES)
KNOWN_ENGINES: tuple[str, ...] = (*DOCKER_ENGINES, PODMAN)

#: Where engines unpacked from other Debian suites are kept.
CACHE_ROOT = Path("/var/cache/aiodockersock/engines")
#: The static busybox the test image is built from (package ``busybox-static``).
BUSYBOX = Path("/bin/busybox")

START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: Where to look for installed programs (also finds /usr/sbin ones for non-root users).
SEARCH_PATH = f"{os.environ.get('PATH', '')}:{SYSTEM_PATH}".lstrip(":")
