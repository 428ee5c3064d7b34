"""Test certificates made with ``openssl``: two CAs, a daemon certificate and client ones.

``make_certs(directory)`` writes, all EC P-256 and valid for a day:

- ``ca.pem`` / ``ca-key.pem`` and ``otherca.pem`` / ``otherca-key.pem``: two unrelated CAs;
- ``server.pem`` / ``server-key.pem``: the daemon's, signed by ``ca``, for ``127.0.0.1`` and
  ``localhost``;
- ``elsewhere.pem`` / ``elsewhere-key.pem``: a daemon certificate signed by ``ca`` for
  ``daemon.example`` only;
- ``client.pem`` / ``client-key.pem``: a client certificate signed by ``ca``;
- ``badclient.pem`` / ``badclient-key.pem``: a client certificate signed by ``otherca``;
- ``client-key-encrypted.pem``: ``client-key.pem`` encrypted (AES-256) with :data:`PASSPHRASE`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PASSPHRASE = "s3cret passphrase"
_EC = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def _ca(d: Path, name: str) -> None:
    _openssl("req", "-x509", *_EC, "-days", "1", "-subj", f"/CN=aiodockersock test {name}",
             "-keyout", str(d / f"{name}-key.pem"), "-out", str(d / f"{name}.pem"),
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def _leaf(d: Path, ca: str, name: str, usage: str,
          names: str = "IP:127.0.0.1,DNS:localhost") -> None:
    csr, ext = d / f"{name}.csr", d / f"{name}.ext"
    _openssl("req", "-new", *_EC, "-subj", f"/CN={name}",
             "-keyout", str(d / f"{name}-key.pem"), "-out", str(csr))
    ext.write_text("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                   f"extendedKeyUsage={usage}\nsubjectAltName={names}\n"
                   "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(d / f"{ca}.pem"),
             "-CAkey", str(d / f"{ca}-key.pem"), "-CAcreateserial", "-days", "1",
             "-out", str(d / f"{name}.pem"), "-extfile", str(ext))


def make_certs(d: Path) -> Path:
    """Write the certificates the module docstring lists into ``d``; return ``d``."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make test certificates")
    d.mkdir(parents=True, exist_ok=True)
    _ca(d, "ca")
    _ca(d, "otherca")
    _leaf(d, "ca", "server", "serverAuth")
    _leaf(d, "ca", "client", "clientAuth")
    _leaf(d, "ca", "elsewhere", "serverAuth", names="DNS:daemon.example")
    _leaf(d, "otherca", "badclient", "clientAuth")
    _openssl("pkey", "-in", str(d / "client-key.pem"), "-aes256",
             "-passout", f"pass:{PASSPHRASE}", "-out", str(d / "client-key-encrypted.pem"))
    return d


def docker_cert_path(d: Path, certs: Path, *, ca: str | None = "ca", client: str | None = "client",
             key: str | None = None) -> Path:
    """A ``DOCKER_CERT_PATH``-style directory ``d``: ``ca.pem`` copied from ``certs/<ca>.pem``,
    ``cert.pem`` / ``key.pem`` from ``certs/<client>.pem`` and ``certs/<key or client-key>.pem``
    (``None`` leaves a file out)."""
    d.mkdir(parents=True, exist_ok=True)
    if ca is not None:
        shutil.copy(certs / f"{ca}.pem", d / "ca.pem")
    if client is not None:
        shutil.copy(certs / f"{client}.pem", d / "cert.pem")
        shutil.copy(certs / f"{key or client + '-key'}.pem", d / "key.pem")
    return d
