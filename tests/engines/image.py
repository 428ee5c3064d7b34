"""The offline test image: a busybox root filesystem imported as
``aiodockersock-test/busybox:latest`` (nothing can be pulled on these machines).
"""

import contextlib
import io
import json
import tarfile
import urllib.parse
from pathlib import Path

from .config import BUSYBOX
from .errors import EngineError, EngineUnavailable
from .shell import is_static_elf, run_command
from .unixhttp import EngineAPI

#: Repository and tag of the offline busybox test image.
TEST_IMAGE_REPO = "aiodockersock-test/busybox"
TEST_IMAGE_TAG = "latest"
TEST_IMAGE = f"{TEST_IMAGE_REPO}:{TEST_IMAGE_TAG}"

_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
_GROUP = "root:x:0:\nnogroup:x:65534:\n"
_IMAGE_MTIME = 1704067200  # 2024-01-01, for a reproducible layer


def _rootfs_tar(busybox: Path = BUSYBOX) -> bytes:
    """Return an uncompressed tar of a minimal busybox root filesystem."""
    if not is_static_elf(busybox):
        raise EngineUnavailable(
            f"{busybox} is not a static busybox; run: sudo apt-get install -y busybox-static"
        )
    listing = run_command([busybox, "--list"]).stdout.split()
    applets = sorted({a for a in listing if a and "/" not in a and a != "busybox"})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:

        def add(name: str, kind: bytes, mode: int, data: bytes = b"", link: str = "") -> None:
            """Add one root-owned member to the tar."""
            info = tarfile.TarInfo(name)
            info.type = kind
            info.mode = mode
            info.mtime = _IMAGE_MTIME
            info.uname = info.gname = "root"
            info.linkname = link
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        for d, mode in (("bin", 0o755), ("etc", 0o755), ("root", 0o700), ("tmp", 0o1777)):
            add(d, tarfile.DIRTYPE, mode)
        add("bin/busybox", tarfile.REGTYPE, 0o755, busybox.read_bytes())
        for applet in applets:
            add(f"bin/{applet}", tarfile.SYMTYPE, 0o777, link="busybox")
        add("etc/passwd", tarfile.REGTYPE, 0o644, _PASSWD.encode())
        add("etc/group", tarfile.REGTYPE, 0o644, _GROUP.encode())
    return buf.getvalue()


def _image_id(engine: EngineAPI, ref: str) -> str | None:
    """Return the id of image ``ref`` on ``engine``, or None if it is missing."""
    status, body = engine.request("GET", f"/images/{ref}/json", timeout=30)
    if status == 404:
        return None
    if status != 200:
        raise EngineError(f"GET /images/{ref}/json answered {status}: {body[:300]!r}")
    return str(json.loads(body)["Id"])


def build_test_image(engine: EngineAPI) -> str:
    """Import ``aiodockersock-test/busybox:latest`` into ``engine`` if missing; return its id.

    The image is built offline from the machine's static busybox, with
    ``Cmd ["sh"]`` and ``PATH`` set.
    """
    existing = _image_id(engine, TEST_IMAGE)
    if existing:
        return existing
    query = urllib.parse.urlencode(
        [
            ("fromSrc", "-"),
            ("repo", TEST_IMAGE_REPO),
            ("tag", TEST_IMAGE_TAG),
            ("changes", 'CMD ["sh"]'),
            ("changes", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        ]
    )
    status, body = engine.request(
        "POST",
        f"/images/create?{query}",
        body=_rootfs_tar(),
        headers={"Content-Type": "application/x-tar"},
        timeout=300,
    )
    if status != 200:
        raise EngineError(f"image import answered {status}: {body[:500]!r}")
    for line in body.splitlines():
        with contextlib.suppress(ValueError):
            message = json.loads(line)
            if isinstance(message, dict) and message.get("error"):
                raise EngineError(f"image import failed: {message['error']}")
    image_id = _image_id(engine, TEST_IMAGE)
    if image_id is None:
        raise EngineError(f"image import finished but {TEST_IMAGE} is missing: {body[-500:]!r}")
    return image_id
