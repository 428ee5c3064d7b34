"""TLS against a real ``dockerd --tlsverify``: what works, and errors that say what happened.

A private dockerd listens on ``tcp://127.0.0.1:<port>`` with ``--tlsverify`` and certificates
made here (:mod:`tests.tlscerts`): a daemon certificate from one CA, client certificates from it
and from another. Every refusal must name the certificate problem and the address, never the
unix-socket advice ("is your user in the docker group?") that an ``ssl.SSLError``'s errno 1
(EPERM) used to pick. Faults a real daemon cannot be told to produce (a certificate for another
host name, a plain-HTTP answer to TLS) come from small local servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from aiodockersock import Docker, DockerConnectionError, InvalidArgument, TLSConfig
from aiodockersock._config import HostConfig
from aiodockersock._transport import Transport

from .conftest import IN_CI, PODMAN, engine_labels
from .engines import Engine
from .tlscerts import PASSPHRASE, docker_cert_path, make_certs

_TLS_ENV = ("DOCKER_HOST", "DOCKER_TLS", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")


@dataclass
class TLSDaemon:
    address: str  # tcp://127.0.0.1:PORT
    certs: Path  # what tests.tlscerts made
    dirs: Path  # where DOCKER_CERT_PATH-style directories go

    def cert_path(self, name: str, **files: str | None) -> Path:
        """A DOCKER_CERT_PATH directory ``name`` (see :func:`tlscerts.docker_cert_path`)."""
        return docker_cert_path(self.dirs / name, self.certs, **files)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_certs(tmp_path_factory.mktemp("tls-certs"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def tls_daemon(certs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSDaemon]:
    labels = [label for label in engine_labels() if label not in (PODMAN, "external")]
    label = labels[0] if labels else "20.10"
    if os.geteuid() != 0:
        reason = "a private dockerd --tlsverify needs root"
        if IN_CI:
            pytest.fail(f"CI=true: {reason}", pytrace=False)
        pytest.skip(reason)
    workdir = Path(tempfile.mkdtemp(prefix="ads-tls-", dir="/tmp"))
    port = _free_port()
    try:
        engine = Engine.start_engine(label, workdir, extra_args=[
            "--tlsverify", "--tlscacert", str(certs / "ca.pem"),
            "--tlscert", str(certs / "server.pem"), "--tlskey", str(certs / "server-key.pem"),
            "--host", f"tcp://127.0.0.1:{port}",
        ])
    except Exception as exc:  # the engine package's errors say what failed
        shutil.rmtree(workdir, ignore_errors=True)
        if IN_CI:
            pytest.fail(f"CI=true and dockerd {label} --tlsverify did not start: {exc}")
        pytest.skip(f"dockerd {label} --tlsverify did not start: {exc}")
    try:
        yield TLSDaemon(f"tcp://127.0.0.1:{port}", certs, tmp_path_factory.mktemp("tls-dirs"))
    finally:
        engine.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(autouse=True)
def no_docker_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _TLS_ENV:
        monkeypatch.delenv(name, raising=False)


async def _refusal(address: str, tls: TLSConfig | ssl.SSLContext | bool | None) -> str:
    async with Docker(address, tls=tls) as docker:
        with pytest.raises(DockerConnectionError) as info:
            await docker.version()
    message = str(info.value)
    assert address in message, message
    assert "docker group" not in message, message
    return message


# ---------------------------------------------------------------------------------------------
# A real dockerd --tlsverify
# ---------------------------------------------------------------------------------------------


async def test_verified_daemon_answers_with_the_docker_cli_environment(
    tls_daemon: TLSDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", tls_daemon.address)
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tls_daemon.cert_path("good")))
    async with Docker() as docker:
        assert (await docker.version()).api_version


async def test_a_daemon_certificate_from_another_ca_names_the_problem_and_the_host(
    tls_daemon: TLSDaemon,
) -> None:
    wrong = tls_daemon.cert_path("wrong-ca", ca="otherca")
    message = await _refusal(tls_daemon.address, TLSConfig.from_cert_path(wrong))
    assert "the daemon's TLS certificate was refused" in message
    assert "unable to get local issuer certificate" in message
    assert str(wrong / "ca.pem") in message  # the CA it was checked against
    # an ssl.SSLContext of the caller's own: the same words
    context = ssl.create_default_context(cafile=str(tls_daemon.certs / "otherca.pem"))
    message = await _refusal(tls_daemon.address, context)
    assert "the daemon's TLS certificate was refused" in message


async def test_a_missing_client_certificate_is_named(tls_daemon: TLSDaemon) -> None:
    no_cert = tls_daemon.cert_path("no-client-cert", client=None)
    message = await _refusal(tls_daemon.address, TLSConfig.from_cert_path(no_cert))
    assert "asks for a client certificate" in message and "none was sent" in message
    assert "cert.pem" in message


async def test_a_client_certificate_from_another_ca_is_named(tls_daemon: TLSDaemon) -> None:
    other = tls_daemon.cert_path("other-client", client="badclient")
    # dockerd answers with an "unknown ca" alert, or (now and then) resets the connection
    # before the alert is read: both messages must point at the client certificate
    for _ in range(3):
        message = await _refusal(tls_daemon.address, TLSConfig.from_cert_path(other))
        assert "client certificate" in message, message


async def test_an_encrypted_key_with_its_passphrase(tls_daemon: TLSDaemon) -> None:
    d = tls_daemon.cert_path("encrypted", key="client-key-encrypted")
    async with Docker(tls_daemon.address,
                      tls=TLSConfig.from_cert_path(d, key_passphrase=PASSPHRASE)) as docker:
        assert (await docker.version()).api_version
    with pytest.raises(InvalidArgument, match="is encrypted"):
        Docker(tls_daemon.address, tls=TLSConfig.from_cert_path(d))


async def test_explicit_tls_true_verifies_even_when_docker_tls_is_set(
    tls_daemon: TLSDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DOCKER_TLS alone means "TLS without verification"; an explicit tls=True must verify
    wrong = tls_daemon.cert_path("wrong-ca-env", ca="otherca")
    monkeypatch.setenv("DOCKER_TLS", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(wrong))
    async with Docker(tls_daemon.address) as docker:  # DOCKER_TLS: not verified, as before
        assert (await docker.version()).api_version
    message = await _refusal(tls_daemon.address, True)
    assert "the daemon's TLS certificate was refused" in message


def test_verification_without_ca_pem_fails_like_the_docker_cli(
    tls_daemon: TLSDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_ca = tls_daemon.cert_path("no-ca", ca=None)
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(no_ca))
    with pytest.raises(InvalidArgument) as info:
        Docker(tls_daemon.address)
    assert f"cannot read the CA certificate {no_ca / 'ca.pem'}" in str(info.value)
    docker_cli = shutil.which("docker")
    if docker_cli is not None:  # the CLI refuses too, before connecting, naming ca.pem
        done = subprocess.run([docker_cli, "-H", tls_daemon.address, "version"],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode != 0 and f"{no_ca / 'ca.pem'}" in done.stderr, done.stderr


# ---------------------------------------------------------------------------------------------
# Local servers for what dockerd will not do on demand
# ---------------------------------------------------------------------------------------------


async def _answer_404(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await reader.read(65536)
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def local_server(context: ssl.SSLContext | None) -> AsyncIterator[str]:
    """A server on 127.0.0.1 (TLS with ``context``, else plain) answering 404; its address."""
    server = await asyncio.start_server(_answer_404, "127.0.0.1", 0, ssl=context)
    try:
        yield f"tcp://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


async def test_a_certificate_for_another_host_name_says_so(certs: Path) -> None:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(str(certs / "elsewhere.pem"), str(certs / "elsewhere-key.pem"))
    tls = TLSConfig(ca_cert=certs / "ca.pem")
    async with local_server(server_ctx) as address:
        message = await _refusal(address, tls)
        assert "certificate is not valid for '127.0.0.1'" in message
        assert "subjectAltName" in message
        # the upgraded connections of attach and exec map their errors the same way
        async with Docker(address, api_version="1.51", tls=tls) as docker:
            with pytest.raises(DockerConnectionError, match=r"not valid for '127\.0\.0\.1'"):
                async with docker.containers.attach("anything"):
                    pass


async def test_tls_to_a_plain_http_daemon_says_it_does_not_speak_tls(certs: Path) -> None:
    async with local_server(None) as address:
        message = await _refusal(address, TLSConfig(ca_cert=certs / "ca.pem"))
    assert "does not speak TLS" in message and "tls=False" in message


# ---------------------------------------------------------------------------------------------
# Every shape a TLS failure arrives in
# ---------------------------------------------------------------------------------------------


def _verify_error(code: int, said: str) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(
        1, f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {said} (_ssl.c:1006)"
    )
    error.reason, error.verify_code, error.verify_message = "CERTIFICATE_VERIFY_FAILED", code, said
    return error


def _alert(reason: str, said: str) -> ssl.SSLError:
    error = ssl.SSLError(1, f"[SSL: {reason}] {said} (_ssl.c:2580)")
    error.reason = reason
    return error


def _caused(outer: BaseException, cause: BaseException) -> BaseException:
    outer.__cause__ = cause
    return outer


_KEY = SimpleNamespace(host="127.0.0.1", port=2376, is_ssl=True, ssl=True)


@pytest.mark.parametrize(
    ("exc", "says"),
    [
        (_verify_error(20, "unable to get local issuer certificate"),
         "the daemon's TLS certificate was refused (unable to get local issuer certificate)"),
        (aiohttp.ClientConnectorCertificateError(
            _KEY, _verify_error(10, "certificate has expired")),  # type: ignore[arg-type]
         "renew the daemon's certificate"),
        (aiohttp.ClientSSLError(_KEY, _alert("TLSV13_ALERT_CERTIFICATE_REQUIRED",  # type: ignore[arg-type]
                                             "tlsv13 alert certificate required")),
         "asks for a client certificate"),
        (_caused(aiohttp.ClientOSError(1, "[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca"),
                 _alert("TLSV1_ALERT_UNKNOWN_CA", "tlsv1 alert unknown ca")),
         "refused the client certificate /c/cert.pem (tlsv1 alert unknown ca)"),
        (_alert("WRONG_VERSION_NUMBER", "wrong version number"), "does not speak TLS"),
        (ssl.SSLEOFError(8, "EOF occurred in violation of protocol (_ssl.c:2427)"),
         "TLS with tcp://127.0.0.1:2376 failed: EOF occurred in violation of protocol"),
    ],
)
def test_tls_failures_are_recognised_before_errno_in_every_wrapping(
    exc: BaseException, says: str
) -> None:
    # every one carries errno 1 (EPERM), which used to read "is your user in the docker group?"
    tls = TLSConfig(ca_cert=Path("/c/ca.pem"), client_cert=(Path("/c/cert.pem"),
                                                             Path("/c/key.pem")))
    host = HostConfig(address="tcp://127.0.0.1:2376", base_url="https://127.0.0.1:2376",
                      ssl=ssl.create_default_context(), tls=tls)
    message = str(Transport(host)._connection_error(exc))
    assert says in message and "docker group" not in message, message
    assert "tcp://127.0.0.1:2376" in message


# ---------------------------------------------------------------------------------------------
# Docker contexts with TLS files, made by the real `docker context create`
# ---------------------------------------------------------------------------------------------


def _context(config: Path, name: str, docker: str) -> None:
    cli = shutil.which("docker")
    assert cli is not None, "the docker CLI is needed to make contexts"
    done = subprocess.run(
        [cli, "context", "create", name, "--docker", docker],
        env={**os.environ, "DOCKER_CONFIG": str(config)}, capture_output=True, text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


async def test_a_tls_context_verifies_the_daemon_with_its_own_files(
    tls_daemon: TLSDaemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certs = tls_daemon.certs
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    _context(tmp_path, "secure", f"host={tls_daemon.address},ca={certs / 'ca.pem'},"
             f"cert={certs / 'client.pem'},key={certs / 'client-key.pem'}")
    async with Docker(context="secure") as docker:
        assert (await docker.version()).api_version
    # a context whose CA is another one's: refused, and the message says why
    _context(tmp_path, "wrongca", f"host={tls_daemon.address},ca={certs / 'otherca.pem'},"
             f"cert={certs / 'client.pem'},key={certs / 'client-key.pem'}")
    async with Docker(context="wrongca") as docker:
        with pytest.raises(DockerConnectionError, match="certificate") as info:
            await docker.version()
    assert tls_daemon.address in str(info.value)
    # skip-tls-verify, as the CLI does: the daemon is not verified, the client cert still sent
    _context(tmp_path, "skip", f"host={tls_daemon.address},ca={certs / 'otherca.pem'},"
             f"cert={certs / 'client.pem'},key={certs / 'client-key.pem'},skip-tls-verify=true")
    async with Docker(context="skip") as docker:
        assert (await docker.version()).api_version
