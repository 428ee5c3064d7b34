"""A managed plugin that works offline, for the plugins tests and the guides' blocks.

Nothing can be pulled here, and the test image has no program that listens on a unix socket
(busybox's ``nc`` and ``httpd`` speak TCP only), yet dockerd enables a plugin only once its
process listens on the socket its config names. So a tiny volume-driver plugin is built from C
below (compiled statically with the system's gcc: ``gcc`` and ``libc6-dev``, installed as root
when missing, as the engines are), into a directory
holding ``config.json`` and ``rootfs/`` — what ``plugins.create`` takes.

The plugin answers the volume-driver protocol well enough for ``docker volume create -d
<plugin>`` and ``inspect`` to work (every volume's mountpoint is ``/``), so a test can prove a
plugin is really enabled, and that ``disable`` refuses while a volume uses it.
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from .engines import COMPILER, EngineError, ensure_installed

#: The socket's name in ``/run/docker/plugins/`` (inside the plugin).
SOCKET = "ads.sock"

LISTENER_C = r"""
/* A minimal Docker volume-driver plugin: answers the plugin protocol on a unix socket. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *answer(const char *path, const char *body, char *out, size_t size) {
    char name[128] = "";
    const char *n = strstr(body, "\"Name\":\"");
    if (n) {
        size_t i = 0;
        for (n += 8; n[i] && n[i] != '"' && i < sizeof name - 1; i++) name[i] = n[i];
        name[i] = 0;
    }
    if (!strcmp(path, "/Plugin.Activate")) return "{\"Implements\":[\"VolumeDriver\"]}";
    if (!strcmp(path, "/VolumeDriver.Capabilities"))
        return "{\"Capabilities\":{\"Scope\":\"local\"}}";
    if (!strcmp(path, "/VolumeDriver.List")) return "{\"Volumes\":[]}";
    if (!strcmp(path, "/VolumeDriver.Get")) {
        snprintf(out, size, "{\"Volume\":{\"Name\":\"%s\",\"Mountpoint\":\"/\"}}", name);
        return out;
    }
    if (!strcmp(path, "/VolumeDriver.Path") || !strcmp(path, "/VolumeDriver.Mount"))
        return "{\"Mountpoint\":\"/\"}";
    return "{}";
}

/* It runs as pid 1 of its namespace, where SIGTERM without a handler is ignored: without
   this, dockerd would wait 10 s before it kills the plugin on every disable. */
static void stop(int sig) { (void)sig; _exit(0); }

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    signal(SIGTERM, stop);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
    unlink(argv[1]);
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) || listen(s, 16)) return 1;
    for (;;) {
        int c = accept(s, 0, 0);
        if (c < 0) continue;
        char req[8192], path[256] = "", out[512], head[256];
        size_t got = 0;
        long want = 0;
        char *end = 0;
        for (;;) {  /* the head, then Content-Length bytes of body */
            ssize_t r = read(c, req + got, sizeof req - 1 - got);
            if (r <= 0) break;
            got += (size_t)r;
            req[got] = 0;
            if (!end && (end = strstr(req, "\r\n\r\n"))) {
                char *cl = strcasestr(req, "\r\nContent-Length:");
                want = (cl && cl < end) ? atol(cl + 17) : 0;
            }
            if (end && (long)(got - (size_t)(end + 4 - req)) >= want) break;
            if (got >= sizeof req - 1) break;
        }
        sscanf(req, "%*s %255s", path);
        const char *body = answer(path, end ? end + 4 : "", out, sizeof out);
        int h = snprintf(head, sizeof head,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.plugins.v1+json"
                         "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", strlen(body));
        if (write(c, head, (size_t)h) < 0 || write(c, body, strlen(body)) < 0) {}
        close(c);
    }
}
"""


class NoCompiler(Exception):
    """The listener cannot be built here (no gcc or no static libc)."""


@functools.cache
def listener() -> Path:
    """The static listener binary (built once per process).

    Raises:
        NoCompiler: gcc or the static C library is missing.
    """
    try:
        ensure_installed([COMPILER])  # as root it installs; otherwise names the command
    except EngineError as exc:
        raise NoCompiler(f"cannot build the test plugin: {exc}") from None
    gcc = shutil.which("gcc")
    if gcc is None:
        raise NoCompiler("no gcc to build the test plugin; run: apt-get install -y gcc libc6-dev")
    work = Path(tempfile.mkdtemp(prefix="ads-plugin-"))
    atexit.register(shutil.rmtree, work, True)
    (work / "listener.c").write_text(LISTENER_C)
    done = subprocess.run(
        [gcc, "-static", "-Os", "-s", "-D_GNU_SOURCE", "-o", str(work / "listener"),
         str(work / "listener.c")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    if done.returncode != 0:
        raise NoCompiler(f"cannot build the test plugin statically ({done.stderr.strip()[-300:]}"
                         "); run: apt-get install -y gcc libc6-dev")
    return work / "listener"


def config(description: str, **extra: Any) -> dict[str, Any]:
    """The plugin's ``config.json``: a volume driver on the host network, asking for
    ``CAP_SYS_ADMIN`` (so that pulling it asks for two privileges), with a settable ``DEBUG``."""
    return {
        "Description": description,
        "Documentation": "https://example.invalid/aiodockersock-test-plugin",
        "Entrypoint": ["/bin/listener", f"/run/docker/plugins/{SOCKET}"],
        "Interface": {"Types": ["docker.volumedriver/1.0"], "Socket": SOCKET},
        "Network": {"Type": "host"},
        "Linux": {"Capabilities": ["CAP_SYS_ADMIN"]},
        "Env": [{"Name": "DEBUG", "Description": "debug output", "Settable": ["value"],
                 "Value": "0"}],
        **extra,
    }


def make_plugin_dir(path: Path, description: str, **extra: Any) -> Path:
    """Write a plugin directory (``config.json`` + ``rootfs/``) at ``path``.

    dockerd refuses a plugin whose rootfs is byte for byte that of one it holds, whatever its
    config says (the same files with the same times: the listener is copied with its time): the
    ``description`` is written into the rootfs too, so a description of its own makes each
    plugin its own.

    Raises:
        NoCompiler: the listener cannot be built here.
    """
    (path / "rootfs/bin").mkdir(parents=True)
    (path / "rootfs/run/docker/plugins").mkdir(parents=True)
    shutil.copy2(listener(), path / "rootfs/bin/listener")
    (path / "rootfs/description").write_text(description)
    (path / "config.json").write_text(json.dumps(config(description, **extra), indent=1))
    return path
