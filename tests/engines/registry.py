"""A private registry: Debian's ``docker-registry`` on 127.0.0.1, optionally with basic auth or
token auth (a token server of the caller's: :mod:`.tokenauth` is the tests')."""

import http.client
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from .config import SEARCH_PATH, STOP_TIMEOUT
from .errors import EngineError, EngineStartError, EngineUnavailable
from .procs import terminate
from .shell import log_tail


@dataclass(frozen=True)
class TokenAuth:
    """distribution's ``auth: token:`` settings: the token server's ``realm`` (its URL), the
    ``service`` and ``issuer`` its tokens name, and the PEM file of the certificate whose key
    signs them (``rootcertbundle``)."""

    realm: str
    service: str
    issuer: str
    rootcertbundle: Path


def _free_port() -> int:
    """Return a currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Registry:
    """A private ``docker-registry`` (distribution 2.8) serving plain HTTP on 127.0.0.1.

    Attributes: ``address`` (``127.0.0.1:PORT``, usable as an image name prefix; Docker
    treats 127.0.0.0/8 registries as insecure so no daemon setup is needed),
    ``workdir``, ``pid``, ``username`` (``None`` unless basic auth is on).

    With ``username`` and ``password`` the registry requires HTTP basic auth (distribution's
    ``htpasswd`` backend; the bcrypt file is written by :func:`htpasswd_line`).
    """

    def __init__(
        self,
        workdir: Path,
        port: int = 0,
        *,
        username: str | None = None,
        password: str | None = None,
        token: TokenAuth | None = None,
    ) -> None:
        """Prepare a registry in ``workdir`` on ``port`` (0 picks a free one)."""
        if (username is None) != (password is None):
            raise ValueError("basic auth needs both a username and a password")
        if token is not None and username is not None:
            raise ValueError("basic auth or token auth, not both")
        self.token = token
        self.workdir = Path(os.path.abspath(workdir))
        self.port = port or _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = self.workdir / "registry.log"
        self.pid = 0
        self.username = username
        self._password = password
        self._proc: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        """Describe the registry (never its password)."""
        auth = f" basic-auth user={self.username!r}" if self.username else ""
        return f"<Registry {self.address}{auth} pid={self.pid}>"

    def _auth_config(self) -> str:
        """Write the htpasswd file if basic auth is on; return the config's ``auth:`` part."""
        if self.token is not None:
            return (
                "auth:\n  token:\n"
                f"    realm: {self.token.realm}\n    service: {self.token.service}\n"
                f"    issuer: {self.token.issuer}\n"
                f"    rootcertbundle: {self.token.rootcertbundle}\n"
            )
        if self.username is None or self._password is None:
            return ""
        htpasswd = self.workdir / "htpasswd"
        htpasswd.write_text(htpasswd_line(self.username, self._password) + "\n")
        htpasswd.chmod(0o600)
        return (
            "auth:\n  htpasswd:\n    realm: aiodockersock-test\n"
            f"    path: {htpasswd}\n"
        )

    def start(self, timeout: float = 30.0) -> None:
        """Launch the registry and wait until ``GET /v2/`` answers."""
        binary = shutil.which("docker-registry", path=SEARCH_PATH)
        if binary is None:
            raise EngineUnavailable(
                "docker-registry missing; run: sudo apt-get install -y docker-registry"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "registry.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: info\n"
            "storage:\n"
            f"  filesystem:\n    rootdirectory: {self.workdir}/registry-data\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.address}\n" + self._auth_config()
        )
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [binary, "serve", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
            )
        self.pid = self._proc.pid
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise EngineStartError(f"docker-registry exited:\n{log_tail(self.log_path)}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/v2/")
                # 401: up, and asking for the credentials basic auth needs
                if conn.getresponse().status in (200, 401):
                    return
            except OSError:
                pass
            finally:
                conn.close()
            if time.monotonic() >= deadline:
                self.stop()
                raise EngineStartError(
                    f"docker-registry did not answer:\n{log_tail(self.log_path)}"
                )
            time.sleep(0.1)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the registry (idempotent)."""
        if self._proc is not None:
            terminate(self._proc.pid, self._proc.pid, self._proc, timeout)

    def __enter__(self) -> "Registry":
        """Return self; the registry is already running."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the registry."""
        self.stop()


def start_registry(
    workdir: Path,
    port: int = 0,
    *,
    username: str | None = None,
    password: str | None = None,
    token: TokenAuth | None = None,
) -> Registry:
    """Start a private ``docker-registry`` in ``workdir``; see :class:`Registry`."""
    registry = Registry(workdir, port, username=username, password=password, token=token)
    registry.start()
    return registry


def htpasswd_line(username: str, password: str, cost: int = 5) -> str:
    """Return ``username:<bcrypt hash>``, the htpasswd line distribution's registry accepts.

    Uses ``htpasswd -B`` (package ``apache2-utils``, see :data:`REGISTRY_AUTH`), with the
    password on stdin so it never shows in a process listing.  Works offline.
    """
    binary = shutil.which("htpasswd", path=SEARCH_PATH)
    if binary is None:
        raise EngineUnavailable("htpasswd missing; run: sudo apt-get install -y apache2-utils")
    result = subprocess.run(
        [binary, "-n", "-i", "-B", "-C", str(cost), username],
        input=password,
        capture_output=True,
        text=True,
        check=False,
    )
    line = result.stdout.strip()
    if result.returncode != 0 or not line.startswith(f"{username}:$2"):
        raise EngineError(f"htpasswd -B failed ({result.returncode}): {result.stderr.strip()}")
    return line
