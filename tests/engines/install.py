"""Installing the engines: apt for the machine's own packages, and ``docker.io`` from other
Debian suites downloaded with ``apt-get download`` and unpacked into the cache.
"""

import contextlib
import fcntl
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .config import (
    BUSYBOX,
    CACHE_ROOT,
    COMPILER,
    DOCKER_ENGINES,
    KNOWN_ENGINES,
    PODMAN,
    PSEUDO_ENGINES,
    REGISTRY,
    REGISTRY_AUTH,
    SEARCH_PATH,
    SSHD,
    SSHD_BINARY,
    SUITE_ENGINES,
    SYSTEM_DOCKERD,
    SYSTEM_ENGINE,
    SYSTEM_PATH,
)
from .errors import EngineError, EngineUnavailable
from .shell import is_root, is_static_elf, progress, run_command

DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"

def _apt_env() -> dict[str, str]:
    """Environment for non-interactive apt runs."""
    env = dict(os.environ)
    env["DEBIAN_FRONTEND"] = "noninteractive"
    env.setdefault("PATH", SYSTEM_PATH)
    return env


def _apt_lists_present() -> bool:
    """Return whether apt has any package lists (``apt-get update`` was run)."""
    lists = Path("/var/lib/apt/lists")
    return lists.is_dir() and any(lists.glob("*_Packages*"))


def _apt_install(packages: Sequence[str]) -> None:
    """``apt-get install`` ``packages``, running ``apt-get update`` first only if needed."""
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    env = _apt_env()
    if not _apt_lists_present():
        progress("apt lists missing: apt-get update")
        run_command(["apt-get", "update"], env=env)
    progress("apt-get install -y " + " ".join(packages))
    if run_command(cmd, env=env, check=False).returncode != 0:
        progress("install failed; apt-get update and retry")
        run_command(["apt-get", "update"], env=env)
        run_command(cmd, env=env)


def _debian_mirror() -> tuple[str, str]:
    """Return (URI, keyring) of the machine's main Debian archive from its apt sources."""
    candidates: list[tuple[str, str]] = []
    sources_d = Path("/etc/apt/sources.list.d")
    for path in sorted(sources_d.glob("*.sources")) if sources_d.is_dir() else []:
        with contextlib.suppress(OSError):
            for stanza in re.split(r"\n\s*\n", path.read_text()):
                fields: dict[str, str] = {}
                for line in stanza.splitlines():
                    if line.startswith("#") or ":" not in line or line[:1].isspace():
                        continue
                    key, _, value = line.partition(":")
                    fields[key.strip().lower()] = value.strip()
                if (
                    "deb" not in fields.get("types", "").split()
                    or fields.get("enabled", "yes") == "no"
                ):
                    continue
                suites = fields.get("suites", "").split()
                uris = fields.get("uris", "").split()
                keyring = fields.get("signed-by", DEFAULT_KEYRING)
                if uris and any("-security" not in s for s in suites):
                    candidates.append(
                        (uris[0], keyring if keyring.startswith("/") else DEFAULT_KEYRING)
                    )
    lists = [Path("/etc/apt/sources.list")]
    if sources_d.is_dir():
        lists += sorted(sources_d.glob("*.list"))
    for path in lists:
        with contextlib.suppress(OSError):
            for line in path.read_text().splitlines():
                m = re.match(r"\s*deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)", line)
                if m and "-security" not in m.group(3):
                    keyring = DEFAULT_KEYRING
                    for option in (m.group(1) or "").split():
                        if option.startswith("signed-by="):
                            keyring = option.split("=", 1)[1]
                    candidates.append((m.group(2), keyring))
    for uri, keyring in candidates:
        if "debian" in uri and "security" not in uri:
            return uri.rstrip("/"), keyring
    return candidates[0] if candidates else (DEFAULT_MIRROR, DEFAULT_KEYRING)


def dockerd_version(dockerd: Path) -> str:
    """Return the version printed by ``dockerd --version`` (e.g. ``28.5.2+dfsg4``)."""
    try:
        result = run_command([dockerd, "--version"])
    except (EngineError, OSError) as exc:
        raise EngineUnavailable(f"{dockerd} does not run on this machine: {exc}") from exc
    m = re.search(r"version\s+([^\s,]+)", result.stdout)
    if not m:
        raise EngineUnavailable(f"cannot parse `{dockerd} --version`: {result.stdout.strip()}")
    return m.group(1)


def dockerd_accepts(dockerd: Path, flag: str) -> bool:
    """Return whether ``dockerd --help`` lists ``flag``."""
    result = run_command([dockerd, "--help"], check=False)
    return re.search(rf"(^|\s){re.escape(flag)}(\s|=|$)", result.stdout, re.M) is not None


@contextlib.contextmanager
def _cache_lock() -> Iterator[None]:
    """Hold an exclusive lock on the engine cache (serialises parallel installs)."""
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with (CACHE_ROOT / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_cached(label: str) -> dict[str, Any] | None:
    """Return the recorded metadata of a cached suite engine if it is usable."""
    meta_path = CACHE_ROOT / label / "engine.json"
    try:
        meta: dict[str, Any] = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    if not (CACHE_ROOT / label / "bin" / "dockerd").exists():
        return None
    return meta


def _install_suite_engine(label: str, suite: str) -> dict[str, Any]:
    """Download ``docker.io`` from ``suite`` and unpack it into ``CACHE_ROOT/label``."""
    uri, keyring = _debian_mirror()
    target = CACHE_ROOT / label
    with tempfile.TemporaryDirectory(prefix="ads-apt-") as tmp_name:
        tmp = Path(tmp_name)
        for sub in ("lists/partial", "cache/archives/partial", "dl"):
            (tmp / sub).mkdir(parents=True)
        source_list = tmp / "sources.list"
        source_list.write_text(f"deb [signed-by={keyring}] {uri} {suite} main\n")
        opts = [
            "-o", f"Dir::Etc::SourceList={source_list}",
            "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={tmp / 'lists'}",
            "-o", f"Dir::Cache={tmp / 'cache'}",
            "-o", "APT::Sandbox::User=root",
        ]  # fmt: skip
        env = _apt_env()
        progress(f"engine {label}: apt-get update ({uri} {suite})")
        run_command(["apt-get", *opts, "update"], env=env)
        progress(f"engine {label}: apt-get download docker.io")
        run_command(["apt-get", *opts, "download", "docker.io"], cwd=tmp / "dl", env=env)
        debs = sorted((tmp / "dl").glob("docker.io_*.deb"))
        if not debs:
            raise EngineError(f"apt-get download docker.io from {suite} produced no .deb")
        deb = debs[-1]
        package_version = run_command(["dpkg-deb", "-f", deb, "Version"]).stdout.strip()

        staging = Path(tempfile.mkdtemp(prefix=f".{label}.", dir=CACHE_ROOT))
        try:
            run_command(["dpkg", "-x", deb, staging])
            dockerd = staging / "usr/sbin/dockerd"
            if not dockerd.is_file():
                raise EngineError(f"{deb.name} has no usr/sbin/dockerd")
            version = dockerd_version(dockerd)
            if not version.startswith(label + "."):
                progress(
                    f"WARNING: Debian {suite} now ships dockerd {version}, not {label}.x; "
                    "using it anyway (server_version tells the truth)"
                )
            # Only the dockerd helpers go on PATH: containerd and runc stay bookworm's
            # (sid's runc needs glibc 2.38, newer than bookworm's 2.36).
            bin_dir = staging / "bin"
            bin_dir.mkdir()
            (bin_dir / "dockerd").symlink_to("../usr/sbin/dockerd")
            if (staging / "usr/sbin/docker-proxy").is_file():
                (bin_dir / "docker-proxy").symlink_to("../usr/sbin/docker-proxy")
            init = staging / "usr/bin/docker-init"
            if init.exists():  # a dangling symlink (-> tini-static) does not count
                (bin_dir / "docker-init").symlink_to("../usr/bin/docker-init")
            else:
                for candidate in ("/usr/bin/tini-static", "/usr/bin/docker-init"):
                    if Path(candidate).exists():
                        (bin_dir / "docker-init").symlink_to(candidate)
                        break
            meta: dict[str, Any] = {
                "label": label,
                "suite": suite,
                "mirror": uri,
                "package": deb.name,
                "package_version": package_version,
                "dockerd_version": version,
                "ip6tables_flag": dockerd_accepts(dockerd, "--ip6tables"),
                "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            (staging / "engine.json").write_text(json.dumps(meta, indent=2) + "\n")
            staging.chmod(0o755)
            if target.exists() or target.is_symlink():
                shutil.rmtree(target)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    progress(f"engine {label}: dockerd {version} (package {package_version}) in {target}")
    return meta


def _missing_packages(versions: Sequence[str]) -> list[str]:
    """Return the Debian packages that must be installed for ``versions``."""
    packages: list[str] = []
    if any(v in DOCKER_ENGINES for v in versions) and not (
        SYSTEM_DOCKERD.exists()
        and shutil.which("containerd", path=SEARCH_PATH)
        and shutil.which("runc", path=SEARCH_PATH)
    ):
        packages.append("docker.io")
    if not is_static_elf(BUSYBOX):
        packages.append("busybox-static")
    if PODMAN in versions and not shutil.which("podman", path=SEARCH_PATH):
        packages.append("podman")
    registries = {REGISTRY, REGISTRY_AUTH} & set(versions)
    if registries and not shutil.which("docker-registry", path=SEARCH_PATH):
        packages.append("docker-registry")
    if REGISTRY_AUTH in versions and not shutil.which("htpasswd", path=SEARCH_PATH):
        packages.append("apache2-utils")
    keygen = shutil.which("ssh-keygen", path=SEARCH_PATH)
    if SSHD in versions and not (SSHD_BINARY.exists() and keygen):
        packages.append("openssh-server")  # with openssh-client: ssh and ssh-keygen
    if COMPILER in versions and not static_libc():
        packages += ["gcc", "libc6-dev"]
    return packages


def static_libc() -> bool:
    """Whether ``gcc`` is here and finds the static C library (``libc.a``)."""
    gcc = shutil.which("gcc", path=SEARCH_PATH)
    if gcc is None:
        return False
    found = run_command([gcc, "-print-file-name=libc.a"], check=False)
    return found.returncode == 0 and Path(found.stdout.strip()).is_absolute()


def ensure_installed(versions: Sequence[str]) -> None:
    """Make sure the engines named in ``versions`` (and busybox-static) are installed.

    ``versions`` holds labels from :data:`KNOWN_ENGINES` (``"20.10"``, ``"26.1"``,
    ``"28.5"``, ``"podman"``), :data:`REGISTRY`, :data:`REGISTRY_AUTH`, :data:`SSHD` or
    :data:`COMPILER`.
    Idempotent and quick when all is present.  As root it installs what is missing;
    otherwise it raises :class:`EngineUnavailable` naming the command to run.
    """
    versions = list(versions)
    for v in versions:
        if v not in KNOWN_ENGINES and v not in PSEUDO_ENGINES:
            raise ValueError(
                f"unknown engine {v!r}; known: {', '.join((*KNOWN_ENGINES, *PSEUDO_ENGINES))}"
            )
    packages = _missing_packages(versions)
    suites = [v for v in versions if v in SUITE_ENGINES and _read_cached(v) is None]
    if not packages and not suites:
        return
    if not is_root():
        hints = []
        if packages:
            hints.append(f"sudo apt-get install -y {' '.join(packages)}")
        if suites:
            hints.append(
                f"sudo python3 scripts/test_engine.py install --engines {','.join(suites)}"
            )
        raise EngineUnavailable("test engines not installed; run: " + " && ".join(hints))
    with _cache_lock():
        packages = _missing_packages(versions)
        if packages:
            _apt_install(packages)
            still = _missing_packages(versions)
            if still:
                raise EngineUnavailable(f"still missing after apt-get install: {' '.join(still)}")
        for label in suites:
            if _read_cached(label) is None:
                _install_suite_engine(label, SUITE_ENGINES[label])


def engine_info(version: str) -> dict[str, Any]:
    """Describe an installed engine: its binary, PATH prefix and recorded version.

    Raises :class:`EngineUnavailable` if it is not installed.
    """
    if version == SYSTEM_ENGINE:
        if not SYSTEM_DOCKERD.exists():
            raise EngineUnavailable(
                "dockerd missing; run: sudo apt-get install -y docker.io busybox-static"
            )
        return {
            "label": version,
            "kind": "dockerd",
            "binary": str(SYSTEM_DOCKERD),
            "path_prefix": "",
            "dockerd_version": dockerd_version(SYSTEM_DOCKERD),
        }
    if version in SUITE_ENGINES:
        meta = _read_cached(version)
        if meta is None:
            raise EngineUnavailable(
                f"engine {version} not installed; run: "
                f"sudo python3 scripts/test_engine.py install --engines {version}"
            )
        bin_dir = CACHE_ROOT / version / "bin"
        return {
            **meta,
            "kind": "dockerd",
            "binary": str(bin_dir / "dockerd"),
            "path_prefix": str(bin_dir),
        }
    if version == PODMAN:
        podman = shutil.which("podman", path=SEARCH_PATH)
        if podman is None:
            raise EngineUnavailable("podman missing; run: sudo apt-get install -y podman")
        return {"label": version, "kind": "podman", "binary": podman, "path_prefix": ""}
    raise ValueError(f"unknown engine {version!r}; known: {', '.join(KNOWN_ENGINES)}")
