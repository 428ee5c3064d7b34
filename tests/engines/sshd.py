"""A private ``sshd`` (Debian's ``openssh-server``) on 127.0.0.1, for the ``ssh://`` tests.

Everything it uses is made here, under its work directory: its host key, its configuration
(public keys only, no PAM), the ``authorized_keys`` of the users it lets in, and a client key,
``known_hosts`` and ``ssh_config`` for the client side (``ssh -F``), so neither the system's
sshd nor root's ``~/.ssh`` is ever touched. Users are real accounts (``useradd``) made by
:func:`create_user` and removed by :func:`remove_user`.
"""

import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from .config import SEARCH_PATH, SSHD_BINARY, STOP_TIMEOUT
from .errors import EngineError, EngineStartError, EngineUnavailable
from .procs import terminate
from .registry import _free_port
from .shell import log_tail, run_command


def _keygen(path: Path, comment: str) -> str:
    """Make an ed25519 key pair at ``path`` (no passphrase); return the public key line."""
    binary = shutil.which("ssh-keygen", path=SEARCH_PATH)
    if binary is None:
        raise EngineUnavailable("ssh-keygen missing; run: sudo apt-get install -y openssh-client")
    run_command([binary, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
    return path.with_suffix(".pub").read_text().strip()


class Sshd:
    """A private ``sshd -D`` on 127.0.0.1:``port`` (public-key logins only).

    Attributes: ``port``, ``workdir``, ``pid``, ``log_path``, ``host_key`` (the public host key
    line), ``client_key`` (the private key file of the client side), ``client_config`` (an
    ``ssh_config`` for ``ssh -F`` naming that key and a ``known_hosts`` that holds the host key,
    with strict checking), ``max_sessions`` (sshd's ``MaxSessions``).

    Args:
        workdir: where its files go (made if missing).
        port: the port to listen on (0 picks a free one).
        max_sessions: sshd's ``MaxSessions`` (its default is 10).
        extra_config: more ``sshd_config`` lines, appended (``Match`` blocks go last).
    """

    def __init__(
        self,
        workdir: Path,
        port: int = 0,
        *,
        max_sessions: int = 10,
        extra_config: str = "",
    ) -> None:
        self.workdir = Path(os.path.abspath(workdir))
        self.port = port or _free_port()
        self.max_sessions = max_sessions
        self.extra_config = extra_config
        self.log_path = self.workdir / "sshd.log"
        self.keys_dir = self.workdir / "authorized_keys"
        self.client_key = self.workdir / "client" / "id_ed25519"
        self.client_config = self.workdir / "client" / "ssh_config"
        self.known_hosts = self.workdir / "client" / "known_hosts"
        self.host_key = ""
        self.client_public_key = ""
        self.pid = 0
        self._proc: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        """Describe the server."""
        return f"<Sshd 127.0.0.1:{self.port} pid={self.pid}>"

    def _prepare(self) -> Path:
        # sshd reads authorized_keys as the user: the directories on the way must be
        # traversable by others
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o755)
        self.keys_dir.mkdir(mode=0o755, exist_ok=True)
        client = self.client_key.parent
        client.mkdir(mode=0o700, exist_ok=True)
        host_key = self.workdir / "ssh_host_ed25519_key"
        if not host_key.exists():
            self.host_key = _keygen(host_key, "aiodockersock-test-host")
        else:
            self.host_key = host_key.with_suffix(".pub").read_text().strip()
        if not self.client_key.exists():
            self.client_public_key = _keygen(self.client_key, "aiodockersock-test-client")
        else:
            self.client_public_key = self.client_key.with_suffix(".pub").read_text().strip()
        key_type, key_data = self.host_key.split()[:2]
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {key_type} {key_data}\n")
        self.client_config.write_text(
            "Host *\n"
            f"  IdentityFile {self.client_key}\n"
            "  IdentitiesOnly yes\n"
            "  IdentityAgent none\n"
            f"  UserKnownHostsFile {self.known_hosts}\n"
            "  GlobalKnownHostsFile /dev/null\n"
            "  StrictHostKeyChecking yes\n"
            "  BatchMode yes\n"
            "  LogLevel ERROR\n"
        )
        # the privilege separation directory the package's init script would make
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        config = self.workdir / "sshd_config"
        config.write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {host_key}\n"
            f"PidFile {self.workdir / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {self.keys_dir}/%u\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "UsePAM no\n"
            "PermitRootLogin no\n"
            # its files live under /tmp, which is world-writable: StrictModes would refuse them
            "StrictModes no\n"
            f"MaxSessions {self.max_sessions}\n"
            "MaxStartups 100:30:200\n"
            "X11Forwarding no\n"
            "PrintMotd no\n"
            "LogLevel VERBOSE\n"
            + self.extra_config
        )
        return config

    def authorize(self, user: str, public_key: str | None = None) -> None:
        """Let ``user`` in with ``public_key`` (the client key made here by default)."""
        keys = self.keys_dir / user
        keys.write_text((public_key or self.client_public_key) + "\n")
        keys.chmod(0o644)

    def start(self, timeout: float = 30.0) -> None:
        """Launch ``sshd -D`` and wait until it greets on its port."""
        if not SSHD_BINARY.exists():
            raise EngineUnavailable(
                f"{SSHD_BINARY} missing; run: sudo apt-get install -y openssh-server"
            )
        config = self._prepare()
        check = run_command([str(SSHD_BINARY), "-t", "-f", str(config)], check=False)
        if check.returncode != 0:
            raise EngineStartError(f"sshd -t refused {config}: {check.stdout.strip()}")
        self._proc = subprocess.Popen(
            [str(SSHD_BINARY), "-D", "-f", str(config), "-E", str(self.log_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.workdir,
            start_new_session=True,
        )
        self.pid = self._proc.pid
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise EngineStartError(f"sshd exited:\n{log_tail(self.log_path)}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
                    if conn.recv(64).startswith(b"SSH-2.0-"):
                        return
            except OSError:
                pass
            if time.monotonic() >= deadline:
                self.stop()
                raise EngineStartError(f"sshd did not greet:\n{log_tail(self.log_path)}")
            time.sleep(0.05)

    def handshakes(self) -> int:
        """How many logins sshd accepted so far (one per ssh connection, from its log)."""
        try:
            return self.log_path.read_text(errors="replace").count("Accepted publickey for ")
        except OSError:
            return 0

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the server (idempotent); the connections it serves end with it."""
        if self._proc is not None:
            terminate(self._proc.pid, self._proc.pid, self._proc, timeout)

    def __enter__(self) -> "Sshd":
        """Return self; the server is already running."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()


def start_sshd(
    workdir: Path, port: int = 0, *, max_sessions: int = 10, extra_config: str = ""
) -> Sshd:
    """Start a private ``sshd`` in ``workdir``; see :class:`Sshd`."""
    server = Sshd(workdir, port, max_sessions=max_sessions, extra_config=extra_config)
    server.start()
    return server


def create_user(name: str, *, shell: str = "/bin/bash", groups: tuple[str, ...] = ()) -> Path:
    """Create the unprivileged user ``name`` with a home directory; return the home.

    Its password is ``*`` (no password login, yet not a locked account: sshd without PAM
    refuses locked ones even with a key).
    """
    useradd = shutil.which("useradd", path=SEARCH_PATH)
    if useradd is None:
        raise EngineUnavailable("useradd missing (package passwd)")
    args = [useradd, "--create-home", "--shell", shell, "--password", "*"]
    if groups:
        args += ["--groups", ",".join(groups)]
    result = run_command([*args, name], check=False)
    if result.returncode != 0:
        raise EngineError(f"useradd {name} failed: {result.stdout.strip()}")
    return Path(pwd.getpwnam(name).pw_dir)


def remove_user(name: str) -> None:
    """Remove the user ``name`` and its home directory (idempotent; stop the sshd first)."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    userdel = shutil.which("userdel", path=SEARCH_PATH) or "userdel"
    run_command([userdel, "--remove", "--force", name], check=False)
