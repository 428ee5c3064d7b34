"""The Docker CLI that can make a BuildKit build (:func:`buildkit_cli`), for the tests and the
benchmark that compare the library's BuildKit builds with the CLI's.

A CLI before 23.0 (Debian bookworm's ``docker.io`` 20.10, ``/usr/bin/docker``) has BuildKit
built in: ``DOCKER_BUILDKIT=1 docker build`` runs the build itself, over the daemon's
``POST /session``. From 23.0 on, ``docker build`` with BuildKit is the buildx plugin's, and a
CLI without the plugin refuses ("BuildKit is enabled but the buildx component is missing or
broken"). ``AIODOCKERSOCK_TEST_BUILDKIT_CLI`` names the CLI binary to use instead of looking
for one.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import EngineUnavailable

ENV_VAR = "AIODOCKERSOCK_TEST_BUILDKIT_CLI"
"""The environment variable that names the CLI binary :func:`buildkit_cli` must use."""

_DEBIAN_CLI = Path("/usr/bin/docker")
_VERSION = re.compile(r"Docker version (\d+)\.(\d+)")


@dataclass(frozen=True)
class BuildkitCLI:
    """A Docker CLI that makes BuildKit builds: ``binary``, its ``version`` (as ``docker
    --version`` says it) and whether the build is buildx's (``buildx``) or its own."""

    binary: str
    version: str
    buildx: bool

    def command(self, host: str, *args: str) -> list[str]:
        """The command line of ``docker -H HOST build ARGS...`` (run it with :meth:`env`)."""
        return [self.binary, "-H", host, "build", *args]

    @property
    def builds_itself(self) -> bool:
        """Whether the CLI runs the BuildKit session itself (a CLI before 23.0, no buildx)."""
        return not self.buildx

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) with BuildKit asked for."""
        return {**(os.environ if base is None else base), "DOCKER_BUILDKIT": "1"}


def _probe(binary: str) -> BuildkitCLI:
    """Check that ``binary`` is a Docker CLI that can make BuildKit builds (no daemon needed)."""
    try:
        shown = subprocess.run([binary, "--version"], capture_output=True, text=True,
                               timeout=30, check=False)
    except OSError as exc:
        raise EngineUnavailable(f"{binary}: cannot run it ({exc})") from exc
    found = _VERSION.search(shown.stdout)
    if shown.returncode != 0 or found is None:
        raise EngineUnavailable(f"{binary}: not a Docker CLI ({(shown.stdout + shown.stderr)!r})")
    version = shown.stdout.strip().removeprefix("Docker version ")
    env = {**os.environ, "DOCKER_CLI_HINTS": "false"}
    plugin = subprocess.run([binary, "buildx", "version"], capture_output=True, text=True,
                            timeout=30, check=False, env=env)
    if plugin.returncode == 0:
        return BuildkitCLI(binary, version, buildx=True)
    if (int(found[1]), int(found[2])) < (23, 0):
        return BuildkitCLI(binary, version, buildx=False)
    raise EngineUnavailable(
        f"{binary} (Docker CLI {version}) needs the buildx plugin for a BuildKit build, and "
        "it has none")


@functools.cache
def buildkit_cli() -> BuildkitCLI:
    """The Docker CLI to use for a BuildKit build: the binary ``$AIODOCKERSOCK_TEST_BUILDKIT_CLI``
    names, else the first of ``docker`` on ``PATH`` and Debian's ``/usr/bin/docker`` that can
    make one (a CLI before 23.0 has BuildKit built in; a later one needs the buildx plugin).

    Raises :class:`EngineUnavailable` with the reason when there is none.
    """
    chosen = os.environ.get(ENV_VAR)
    if chosen:
        found = shutil.which(chosen)
        if found is None:
            raise EngineUnavailable(f"{ENV_VAR}={chosen}: no such program")
        return _probe(found)
    candidates: list[str] = []
    for binary in (shutil.which("docker"), str(_DEBIAN_CLI) if _DEBIAN_CLI.exists() else None):
        if binary is not None and os.path.realpath(binary) not in map(os.path.realpath,
                                                                      candidates):
            candidates.append(binary)
    if not candidates:
        raise EngineUnavailable("no Docker CLI: neither `docker` on PATH nor /usr/bin/docker")
    reasons = []
    for binary in candidates:
        try:
            return _probe(binary)
        except EngineUnavailable as exc:
            reasons.append(str(exc))
    raise EngineUnavailable("no Docker CLI can make a BuildKit build here: " + "; ".join(reasons))
