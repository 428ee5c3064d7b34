"""Host resolution and TLS settings."""

from __future__ import annotations

import os
import select
import ssl
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from aiodockersock import InvalidArgument, Limits, TLSConfig
from aiodockersock._config import DEFAULT_HOST, resolve_host

from .tlscerts import PASSPHRASE, docker_cert_path, make_certs

ROOT = Path(__file__).resolve().parent.parent


def test_default_is_the_standard_socket() -> None:
    host = resolve_host(None, env={})
    assert host.address == DEFAULT_HOST
    assert host.socket_path == "/var/run/docker.sock"
    assert host.base_url == "http://localhost"


def test_argument_beats_docker_host() -> None:
    host = resolve_host("unix:///tmp/a.sock", env={"DOCKER_HOST": "unix:///tmp/b.sock"})
    assert host.socket_path == "/tmp/a.sock"


def test_docker_host_beats_default() -> None:
    host = resolve_host(None, env={"DOCKER_HOST": "unix:///tmp/b.sock"})
    assert host.socket_path == "/tmp/b.sock"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("tcp://127.0.0.1:2375", "http://127.0.0.1:2375"),
        ("tcp://example.internal", "http://example.internal:2375"),
        ("http://127.0.0.1:9999", "http://127.0.0.1:9999"),
        ("tcp://[::1]:2375", "http://[::1]:2375"),
    ],
)
def test_tcp_addresses(url: str, origin: str) -> None:
    host = resolve_host(url, env={})
    assert host.base_url == origin
    assert host.socket_path is None
    assert host.ssl is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("npipe:////./pipe/docker_engine", "not supported"),
        ("ssh://user@host", "forward the socket"),
        ("ftp://host", "not a daemon address"),
        ("unix://", "names no socket path"),
        ("tcp://:2375", "names no host"),
        ("tcp://host:2375/path", "has a path"),
        ("tcp://host:99999", "invalid port"),
    ],
)
def test_bad_addresses_say_what_to_write(url: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        resolve_host(url, env={})


def test_https_without_env_verifies_with_system_cas() -> None:
    host = resolve_host("https://127.0.0.1:2376", env={})
    assert host.base_url == "https://127.0.0.1:2376"
    assert host.ssl is not None and host.ssl.verify_mode == ssl.CERT_REQUIRED


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("certs")
    for name in ("ca", "cert"):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=test", "-keyout", str(d / f"{name}-key.pem"),
             "-out", str(d / f"{name}.pem")],
            check=True, capture_output=True,
        )
    (d / "cert-key.pem").rename(d / "key.pem")
    return d


def test_docker_tls_verify_uses_cert_path(cert_dir: Path) -> None:
    env = {"DOCKER_HOST": "tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1",
           "DOCKER_CERT_PATH": str(cert_dir)}
    host = resolve_host(None, env=env)
    assert host.base_url == "https://127.0.0.1:2376"
    assert host.ssl is not None
    assert host.ssl.verify_mode == ssl.CERT_REQUIRED
    assert host.ssl.check_hostname
    assert len(host.ssl.get_ca_certs()) == 1


def test_docker_tls_without_verify(cert_dir: Path) -> None:
    env = {"DOCKER_TLS": "1", "DOCKER_CERT_PATH": str(cert_dir)}
    host = resolve_host("tcp://127.0.0.1:2376", env=env)
    assert host.ssl is not None and host.ssl.verify_mode == ssl.CERT_NONE


def test_tls_false_overrides_env(cert_dir: Path) -> None:
    env = {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(cert_dir)}
    assert resolve_host("tcp://h:2375", tls=False, env=env).base_url == "http://h:2375"


def test_explicit_context_is_used_as_given() -> None:
    ctx = ssl.create_default_context()
    assert resolve_host("tcp://h", tls=ctx, env={}).ssl is ctx


def test_tls_config_with_missing_files_is_a_clear_error(tmp_path: Path) -> None:
    config = TLSConfig(ca_cert=tmp_path / "nope.pem")
    with pytest.raises(InvalidArgument, match=r"cannot read the CA certificate .*nope\.pem"):
        resolve_host("tcp://h", tls=config, env={})


def test_plain_http_with_tls_is_refused(cert_dir: Path) -> None:
    with pytest.raises(InvalidArgument, match="use https"):
        resolve_host("http://h:1", tls=TLSConfig.from_cert_path(cert_dir), env={})


# ---------------------------------------------------------------------------------------------
# TLS files: what cannot be loaded is named (item 4 of issue 10)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_certs(tmp_path_factory.mktemp("tls"))


def test_verify_without_ca_pem_fails_like_the_docker_cli(certs: Path, tmp_path: Path) -> None:
    # The CLI: "unable to resolve docker endpoint: open <dir>/ca.pem: no such file or
    # directory". Falling back to the system CAs instead would verify against another trust.
    no_ca = docker_cert_path(tmp_path / "no-ca", certs, ca=None)
    env = {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(no_ca)}
    for tls in (None, True):
        with pytest.raises(InvalidArgument) as info:
            resolve_host("tcp://127.0.0.1:2376", tls=tls, env=env)
        message = str(info.value)
        assert f"{no_ca / 'ca.pem'}" in message and "No such file" in message
        assert "DOCKER_CERT_PATH" in message
    # without verification no CA is needed (DOCKER_TLS), as before
    env = {"DOCKER_TLS": "1", "DOCKER_CERT_PATH": str(no_ca)}
    host = resolve_host("tcp://127.0.0.1:2376", env=env)
    assert host.ssl is not None and host.ssl.verify_mode == ssl.CERT_NONE


def test_explicit_tls_true_verifies_even_with_docker_tls_set(certs: Path, tmp_path: Path) -> None:
    d = docker_cert_path(tmp_path / "d", certs)
    env = {"DOCKER_TLS": "1", "DOCKER_CERT_PATH": str(d)}
    unverified = resolve_host("tcp://h:2376", env=env).ssl
    assert unverified is not None and unverified.verify_mode == ssl.CERT_NONE
    host = resolve_host("tcp://h:2376", tls=True, env=env)
    assert host.ssl is not None
    assert host.ssl.verify_mode == ssl.CERT_REQUIRED and host.ssl.check_hostname
    assert len(host.ssl.get_ca_certs()) == 1


@pytest.mark.parametrize(
    ("ca", "cert", "key", "named", "says"),
    [
        ("ca", "client", "missing", "missing.pem", "cannot read the client key"),
        ("ca", "missing", "client-key", "missing.pem", "cannot read the client certificate"),
        ("missing", "client", "client-key", "missing.pem", "cannot read the CA certificate"),
        ("ca", "client", "junk", "junk.pem", "holds no PEM private key"),
        ("ca", "junk", "client-key", "junk.pem", "holds no PEM certificate"),
        ("ca", "client-key", "client-key", "client-key.pem", "holds no PEM certificate"),
        ("junk", "client", "client-key", "junk.pem", "holds no PEM CA certificate"),
        ("ca", "client", "server-key", "server-key.pem", "does not belong to"),
    ],
)
def test_an_unloadable_file_is_named(
    certs: Path, tmp_path: Path, ca: str, cert: str, key: str, named: str, says: str
) -> None:
    (tmp_path / "junk.pem").write_text("not a PEM file\n")

    def path(name: str) -> Path:
        made = certs / f"{name}.pem"
        return made if made.exists() else tmp_path / f"{name}.pem"

    config = TLSConfig(ca_cert=path(ca), client_cert=(path(cert), path(key)))
    with pytest.raises(InvalidArgument) as info:
        config.ssl_context()
    message = str(info.value)
    assert says in message and named in message, message


def test_encrypted_key_with_its_passphrase(certs: Path) -> None:
    client = (certs / "client.pem", certs / "client-key-encrypted.pem")
    for passphrase in (PASSPHRASE, PASSPHRASE.encode()):
        config = TLSConfig(ca_cert=certs / "ca.pem", client_cert=client, key_passphrase=passphrase)
        assert isinstance(config.ssl_context(), ssl.SSLContext)
        assert PASSPHRASE not in repr(config)
    with pytest.raises(InvalidArgument, match=r"passphrase .* is wrong") as info:
        TLSConfig(ca_cert=certs / "ca.pem", client_cert=client, key_passphrase="nope").ssl_context()
    assert "client-key-encrypted.pem" in str(info.value)
    # a passphrase for a key that is not encrypted is harmless
    plain = (certs / "client.pem", certs / "client-key.pem")
    TLSConfig(ca_cert=certs / "ca.pem", client_cert=plain, key_passphrase="x").ssl_context()
    # from_cert_path takes it too
    d = certs / "encrypted-dir"
    d.mkdir(exist_ok=True)
    for name, target in (("ca", "ca.pem"), ("client", "cert.pem"),
                         ("client-key-encrypted", "key.pem")):
        (d / target).write_bytes((certs / f"{name}.pem").read_bytes())
    config = TLSConfig.from_cert_path(d, key_passphrase=PASSPHRASE)
    assert config.key_passphrase == PASSPHRASE and PASSPHRASE not in repr(config)
    assert resolve_host("tcp://h", tls=config, env={}).ssl is not None


def test_encrypted_key_without_passphrase_is_an_error_not_a_terminal_prompt(certs: Path) -> None:
    # OpenSSL asks for an encrypted key's passphrase on the controlling terminal when none is
    # given ("Enter PEM pass phrase:") and waits: a library must never do that. The child runs
    # on a pseudo-terminal of its own, made its controlling terminal.
    script = textwrap.dedent(f"""
        import fcntl, termios
        from pathlib import Path
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        from aiodockersock import InvalidArgument, TLSConfig
        c = Path({str(certs)!r})
        try:
            key = c / "client-key-encrypted.pem"
            TLSConfig(c / "ca.pem", (c / "client.pem", key)).ssl_context()
        except InvalidArgument as exc:
            print("REFUSED:", exc)
    """)
    controller, terminal = os.openpty()
    child = subprocess.Popen([sys.executable, "-c", script], stdin=terminal, stdout=terminal,
                             stderr=terminal, cwd=ROOT, start_new_session=True)
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            elif child.poll() is not None:
                break
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)
        os.close(controller)
    text = output.decode(errors="replace")
    assert "pass phrase" not in text.lower(), f"a terminal prompt appeared: {text!r}"
    assert "REFUSED:" in text and "is encrypted" in text and "key_passphrase" in text, text
    assert "client-key-encrypted.pem" in text


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [({"connections": 0}, "connections"), ({"streams": -1}, "streams"),
     ({"streams": 2.5}, "streams"), ({"connections": True}, "connections")],
)
def test_limits_refuse_what_is_not_a_positive_count(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidArgument, match=rf"Limits\({named}=…\) must be a positive int"):
        Limits(**kwargs)


def test_limits_default_to_no_cap() -> None:
    assert Limits() == Limits(connections=None, streams=None)
