"""Host resolution and TLS settings."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest

from aiodockersock import InvalidArgument, TLSConfig
from aiodockersock._config import DEFAULT_HOST, resolve_host


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
    with pytest.raises(InvalidArgument, match="cannot load the TLS certificates"):
        resolve_host("tcp://h", tls=config, env={})


def test_plain_http_with_tls_is_refused(cert_dir: Path) -> None:
    with pytest.raises(InvalidArgument, match="use https"):
        resolve_host("http://h:1", tls=TLSConfig.from_cert_path(cert_dir), env={})
