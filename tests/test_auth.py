"""RegistryAuth: the X-Registry-Auth encoding, config.json lookup, and that secrets stay hidden
(pure unit tests; no daemon)."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from aiodockersock import InvalidArgument, RegistryAuth
from aiodockersock._auth import (
    DOCKER_HUB_CONFIG_KEY,
    config_key,
    registry_of,
    split_reference,
)

SECRET = "pa$$w0rd+/=?-_secret"


def decode_header(value: str) -> dict[str, str]:
    # The daemon decodes with Go's base64.URLEncoding: URL-safe alphabet, padded.
    assert "+" not in value and "/" not in value
    assert len(value) % 4 == 0
    decoded: dict[str, str] = json.loads(base64.urlsafe_b64decode(value))
    return decoded


def write_config(directory: Path, doc: object) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text(json.dumps(doc))
    return path


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


# ---------------------------------------------------------------------------------------------
# Encoding and hiding
# ---------------------------------------------------------------------------------------------


def test_header_is_base64url_json_of_the_auth_config() -> None:
    # ">>>" and "???" make standard base64 produce "+" and "/": the header must not.
    auth = RegistryAuth("alice>>>", "???" + SECRET, server_address="127.0.0.1:5000")
    assert decode_header(auth.header()) == {
        "username": "alice>>>",
        "password": "???" + SECRET,
        "serveraddress": "127.0.0.1:5000",
    }
    token = RegistryAuth(identity_token="tok-123", server_address="https://index.docker.io/v1/")
    assert decode_header(token.header()) == {
        "identitytoken": "tok-123",
        "serveraddress": "https://index.docker.io/v1/",
    }


def test_anonymous_auth_encodes_an_empty_object() -> None:
    auth = RegistryAuth()
    assert auth.anonymous
    assert auth.header() == "e30="  # "{}", what the Docker CLI sends for an anonymous push
    assert not RegistryAuth("alice", "x").anonymous


def test_repr_and_str_hide_every_secret() -> None:
    auth = RegistryAuth(
        "alice",
        SECRET,
        server_address="127.0.0.1:5000",
        identity_token="identity-" + SECRET,
        registry_token="registry-" + SECRET,
    )
    for text in (repr(auth), str(auth), f"{auth}", f"{auth!r}", repr([auth]), repr({"a": auth})):
        assert SECRET not in text
        assert "alice" in text and "127.0.0.1:5000" in text
        assert "***" in text
    assert repr(RegistryAuth()) == "RegistryAuth()"
    # the secrets stay readable for the caller who set them
    assert auth.password == SECRET
    assert auth.identity_token == "identity-" + SECRET
    assert auth.registry_token == "registry-" + SECRET


def test_secrets_cannot_be_reassigned_by_accident_and_bad_types_are_refused() -> None:
    auth = RegistryAuth("alice", SECRET)
    with pytest.raises(AttributeError):
        auth.password = "other"  # type: ignore[misc]
    with pytest.raises(InvalidArgument) as info:
        RegistryAuth("alice", 1234)  # type: ignore[arg-type]
    assert "password must be a str" in str(info.value)


def test_equality_compares_the_credentials() -> None:
    assert RegistryAuth("a", "b") == RegistryAuth("a", "b")
    assert RegistryAuth("a", "b") != RegistryAuth("a", "c")
    assert len({RegistryAuth("a", "b"), RegistryAuth("a", "b")}) == 1


# ---------------------------------------------------------------------------------------------
# References and registries
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("busybox", ("busybox", None, None)),
        ("busybox:1.36", ("busybox", "1.36", None)),
        ("127.0.0.1:5000/app", ("127.0.0.1:5000/app", None, None)),
        ("127.0.0.1:5000/team/app:v1", ("127.0.0.1:5000/team/app", "v1", None)),
        ("app@sha256:" + "a" * 64, ("app", None, "sha256:" + "a" * 64)),
        (
            "localhost:5000/app:1@sha256:" + "b" * 64,
            ("localhost:5000/app", "1", "sha256:" + "b" * 64),
        ),
    ],
)
def test_split_reference(reference: str, expected: tuple[str, str | None, str | None]) -> None:
    assert split_reference(reference) == expected


@pytest.mark.parametrize(
    ("reference", "registry"),
    [
        ("busybox", "docker.io"),
        ("busybox:latest", "docker.io"),
        ("library/busybox", "docker.io"),
        ("team/app:1.0", "docker.io"),
        ("docker.io/library/busybox", "docker.io"),
        ("index.docker.io/team/app", "docker.io"),
        ("127.0.0.1:5000/app:1", "127.0.0.1:5000"),
        ("localhost/app", "localhost"),
        ("localhost:5000/app", "localhost:5000"),
        ("registry.example.com/team/app", "registry.example.com"),
        ("Registry/app", "Registry"),  # upper case: a host, as the CLI decides
        ("ghcr.io/owner/app@sha256:" + "c" * 64, "ghcr.io"),
    ],
)
def test_registry_of_follows_the_cli(reference: str, registry: str) -> None:
    assert registry_of(reference) == registry


def test_config_key() -> None:
    assert config_key("docker.io") == DOCKER_HUB_CONFIG_KEY == "https://index.docker.io/v1/"
    assert config_key("index.docker.io") == DOCKER_HUB_CONFIG_KEY
    assert config_key("127.0.0.1:5000") == "127.0.0.1:5000"


# ---------------------------------------------------------------------------------------------
# config.json
# ---------------------------------------------------------------------------------------------


def test_config_auth_field_for_a_private_registry(tmp_path: Path) -> None:
    write_config(tmp_path, {"auths": {"127.0.0.1:5000": {"auth": basic("alice", SECRET)}}})
    auth = RegistryAuth.for_image("127.0.0.1:5000/team/app:v1", config_dir=tmp_path)
    assert auth == RegistryAuth("alice", SECRET, server_address="127.0.0.1:5000")
    assert RegistryAuth.from_config("127.0.0.1:5000", config_dir=tmp_path) == auth
    # another registry, or Docker Hub, has nothing
    assert RegistryAuth.for_image("127.0.0.1:5001/app", config_dir=tmp_path) is None
    assert RegistryAuth.for_image("busybox", config_dir=tmp_path) is None


def test_config_password_with_a_colon_and_username_password_fields(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        {
            "auths": {
                "a.example:443": {"auth": basic("bob", "x:y:" + SECRET)},
                "b.example": {"username": "carol", "password": SECRET},
                "c.example": {"identitytoken": "tok", "auth": ""},
                "d.example": {},
            }
        },
    )
    a = RegistryAuth.from_config("a.example:443", config_dir=tmp_path)
    assert a is not None and (a.username, a.password) == ("bob", "x:y:" + SECRET)
    b = RegistryAuth.from_config("b.example", config_dir=tmp_path)
    assert b is not None and (b.username, b.password) == ("carol", SECRET)
    c = RegistryAuth.from_config("c.example", config_dir=tmp_path)
    assert c is not None and c.identity_token == "tok" and c.username is None
    assert RegistryAuth.from_config("d.example", config_dir=tmp_path) is None


def test_docker_hub_is_looked_up_under_its_legacy_key(tmp_path: Path) -> None:
    hub = {"https://index.docker.io/v1/": {"auth": basic("hub", SECRET)}}
    write_config(tmp_path, {"auths": hub})
    for image in ("busybox", "library/busybox:1", "docker.io/team/app", "index.docker.io/x/y"):
        auth = RegistryAuth.for_image(image, config_dir=tmp_path)
        assert auth is not None and auth.username == "hub", image
        assert auth.server_address == "https://index.docker.io/v1/"


def test_url_keys_match_by_host(tmp_path: Path) -> None:
    write_config(tmp_path, {"auths": {"https://127.0.0.1:5000/v1/": {"auth": basic("u", SECRET)},
                                      "http://docker.io": {"auth": basic("hub2", SECRET)}}})
    auth = RegistryAuth.for_image("127.0.0.1:5000/app", config_dir=tmp_path)
    assert auth is not None and auth.username == "u"
    assert auth.server_address == "https://127.0.0.1:5000/v1/"
    hub = RegistryAuth.for_image("busybox", config_dir=tmp_path)
    assert hub is not None and hub.username == "hub2"


def test_docker_config_env_var_and_missing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "conf"))
    assert RegistryAuth.for_image("127.0.0.1:5000/app") is None  # no file: no credentials
    write_config(tmp_path / "conf", {"auths": {"127.0.0.1:5000": {"auth": basic("env", SECRET)}}})
    auth = RegistryAuth.for_image("127.0.0.1:5000/app")
    assert auth is not None and auth.username == "env"
    # without DOCKER_CONFIG: ~/.docker
    monkeypatch.delenv("DOCKER_CONFIG")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home = {"127.0.0.1:5000": {"auth": basic("home", SECRET)}}
    write_config(tmp_path / "home/.docker", {"auths": home})
    auth = RegistryAuth.for_image("127.0.0.1:5000/app")
    assert auth is not None and auth.username == "home"


def test_broken_config_gives_clear_errors_without_secrets(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"auths": {"r.example": {"auth": "' + SECRET)
    with pytest.raises(InvalidArgument) as info:
        RegistryAuth.from_config("r.example", config_dir=tmp_path)
    assert "not valid JSON" in str(info.value) and SECRET not in str(info.value)

    not_base64 = "!!" + SECRET
    write_config(tmp_path, {"auths": {"r.example": {"auth": not_base64}}})
    with pytest.raises(InvalidArgument) as info:
        RegistryAuth.from_config("r.example", config_dir=tmp_path)
    assert "not base64 of 'user:password'" in str(info.value)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)

    no_colon = base64.b64encode(SECRET.encode()).decode()
    write_config(tmp_path, {"auths": {"r.example": {"auth": no_colon}}})
    with pytest.raises(InvalidArgument) as info:
        RegistryAuth.from_config("r.example", config_dir=tmp_path)
    assert SECRET not in str(info.value) and no_colon not in str(info.value)


def test_empty_or_odd_config_means_no_credentials(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("")
    assert RegistryAuth.from_config("r.example", config_dir=tmp_path) is None
    write_config(tmp_path, {"auths": []})
    assert RegistryAuth.from_config("r.example", config_dir=tmp_path) is None
    write_config(tmp_path, {"auths": {"r.example": "nonsense"}})
    assert RegistryAuth.from_config("r.example", config_dir=tmp_path) is None


# ---------------------------------------------------------------------------------------------
# Credential helpers
# ---------------------------------------------------------------------------------------------


def make_helper(bin_dir: Path, name: str, script: str) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / f"docker-credential-{name}"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_credential_helper_is_run_for_its_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    # the helper gets the server on stdin and answers JSON; it logs what it was asked
    make_helper(
        bin_dir,
        "fake",
        f'read server; echo "$1 $server" >> {tmp_path}/asked\n'
        'case "$server" in\n'
        f'  127.0.0.1:5000) echo \'{{"ServerURL":"127.0.0.1:5000","Username":"helper",'
        f'"Secret":"{SECRET}"}}\' ;;\n'
        '  https://index.docker.io/v1/) echo \'{"Username":"<token>","Secret":"idtok"}\' ;;\n'
        '  *) echo "credentials not found in native keychain"; exit 1 ;;\n'
        "esac\n",
    )
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    write_config(
        tmp_path,
        {
            "credsStore": "fake",
            "auths": {"other.example": {"auth": basic("fromfile", SECRET)}},
        },
    )
    auth = RegistryAuth.for_image("127.0.0.1:5000/app", config_dir=tmp_path)
    assert auth == RegistryAuth("helper", SECRET, server_address="127.0.0.1:5000")
    hub = RegistryAuth.for_image("busybox", config_dir=tmp_path)
    assert hub is not None and hub.identity_token == "idtok" and hub.username is None
    # the helper has nothing: the auths entry is used, and no entry at all means None
    other = RegistryAuth.from_config("other.example", config_dir=tmp_path)
    assert other is not None and other.username == "fromfile"
    assert RegistryAuth.from_config("none.example", config_dir=tmp_path) is None
    asked = (tmp_path / "asked").read_text().splitlines()
    assert asked[:2] == ["get 127.0.0.1:5000", "get https://index.docker.io/v1/"]


def test_cred_helpers_entry_wins_over_creds_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    make_helper(bin_dir, "special", 'echo \'{"Username":"special","Secret":"s1"}\'\n')
    make_helper(bin_dir, "store", 'echo \'{"Username":"store","Secret":"s2"}\'\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    write_config(tmp_path, {"credsStore": "store", "credHelpers": {"r.example": "special"}})
    special = RegistryAuth.from_config("r.example", config_dir=tmp_path)
    assert special is not None and special.username == "special"
    store = RegistryAuth.from_config("q.example", config_dir=tmp_path)
    assert store is not None and store.username == "store"


def test_missing_or_failing_helper_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    make_helper(bin_dir, "broken", "echo 'keychain locked'; exit 3\n")
    make_helper(bin_dir, "garbage", f"echo 'not json {SECRET}'\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    write_config(tmp_path, {"credsStore": "absent-helper-xyz"})
    with pytest.raises(InvalidArgument) as info:
        RegistryAuth.from_config("r.example", config_dir=tmp_path)
    assert "docker-credential-absent-helper-xyz is not on PATH" in str(info.value)
    write_config(tmp_path, {"credsStore": "broken"})
    with pytest.raises(InvalidArgument) as info:
        RegistryAuth.from_config("r.example", config_dir=tmp_path)
    assert "exit 3" in str(info.value) and "keychain locked" in str(info.value)
    write_config(tmp_path, {"credsStore": "garbage"})
    with pytest.raises(InvalidArgument) as info:
        RegistryAuth.from_config("r.example", config_dir=tmp_path)
    assert "other than JSON" in str(info.value) and SECRET not in str(info.value)


@pytest.mark.parametrize("name", ["../evil", "x/../../evil", "sub/evil"])
def test_helper_names_with_a_slash_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # "docker-credential-" + a name holding "/" is a path, not a program on PATH: a config.json
    # written by someone else could run any file. The program below would answer if run.
    program = tmp_path / f"docker-credential-{name}"
    program.parent.mkdir(parents=True, exist_ok=True)
    program.write_text(f"#!/bin/sh\ntouch {tmp_path}/ran\n"
                       'echo \'{"Username":"evil","Secret":"s"}\'\n')
    program.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    config_dir = tmp_path / "config"
    for doc in ({"credsStore": name}, {"credHelpers": {"r.example": name}}):
        write_config(config_dir, doc)
        with pytest.raises(InvalidArgument) as info:
            RegistryAuth.from_config("r.example", config_dir=config_dir)
        message = str(info.value)
        assert repr(name) in message and "'/'" in message and str(config_dir) in message
    assert not (tmp_path / "ran").exists()
