"""A real ``ssh-agent`` holding one key, and a probe that talks to an agent from a build step.

The test image (busybox) has no ssh client, so :func:`build_probe` compiles a tiny static C
program (gcc) that a Dockerfile ``COPY``\\ s and runs under ``RUN --mount=type=ssh``: it
connects to ``$SSH_AUTH_SOCK`` and, with ``list``, asks for the identities and prints
``keys N`` and ``key COMMENT`` for each; with ``remove-all``, sends
``SSH_AGENTC_REMOVE_ALL_IDENTITIES`` (19) and prints ``answer T`` (5: failure, 6: success).
Without gcc the tests that need it skip, and fail under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket as socket_module
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import IN_CI

PROBE_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

static unsigned char buf[262144];

static int readall(int fd, unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t got = read(fd, p, n);
        if (got <= 0) return -1;
        p += got; n -= (size_t)got;
    }
    return 0;
}

static unsigned long be32(const unsigned char *p) {
    return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) | (p[2] << 8) | p[3];
}

static long request(int fd, unsigned char type) {
    unsigned char out[5] = {0, 0, 0, 1, type};
    unsigned char head[4];
    unsigned long len;
    if (write(fd, out, 5) != 5) { puts("write failed"); exit(2); }
    if (readall(fd, head, 4)) { puts("no answer"); exit(2); }
    len = be32(head);
    if (len == 0 || len > sizeof buf || readall(fd, buf, len)) { puts("bad answer"); exit(2); }
    return (long)len;
}

int main(int argc, char **argv) {
    const char *path = getenv("SSH_AUTH_SOCK");
    struct sockaddr_un addr;
    int fd;
    if (argc < 2 || !path) { puts("usage: probe list|remove-all (SSH_AUTH_SOCK set)"); return 2; }
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr)) { puts("connect failed"); return 2; }
    if (strcmp(argv[1], "remove-all") == 0) {
        request(fd, 19);
        printf("answer %d\n", buf[0]);
        return 0;
    }
    long len = request(fd, 11);
    if (buf[0] != 12) { printf("answer %d\n", buf[0]); return 1; }
    unsigned long n = be32(buf + 1), at = 5;
    printf("keys %lu\n", n);
    for (unsigned long i = 0; i < n; i++) {
        unsigned long blob = be32(buf + at);
        at += 4 + blob;
        unsigned long comment = be32(buf + at);
        at += 4;
        if (at + comment > (unsigned long)len) { puts("bad answer"); return 2; }
        printf("key %.*s\n", (int)comment, (const char *)buf + at);
        at += comment;
    }
    return 0;
}
"""


def build_probe(directory: Path) -> Path:
    """Compile the probe (static) into ``directory/sshprobe``."""
    gcc = shutil.which("gcc")
    if gcc is None:
        why = "gcc is needed to build the ssh agent probe (apt-get install gcc libc6-dev)"
        if IN_CI:
            pytest.fail(f"CI=true: {why}", pytrace=False)
        pytest.skip(why)
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / "sshprobe.c"
    source.write_text(PROBE_C)
    target = directory / "sshprobe"
    subprocess.run([gcc, "-static", "-O2", "-o", str(target), str(source)], check=True,
                   capture_output=True)
    source.unlink()
    return target


@dataclass
class Agent:
    """A running ``ssh-agent``: its socket and the comment of the key it holds."""

    socket: Path
    comment: str

    def listed(self) -> str:
        """``ssh-add -l`` against this agent."""
        env = {**os.environ, "SSH_AUTH_SOCK": str(self.socket)}
        return subprocess.run(["ssh-add", "-l"], env=env, capture_output=True, text=True,
                              check=False).stdout


@contextlib.contextmanager
def start_agent(comment: str) -> Iterator[Agent]:
    """Run an ``ssh-agent`` with one new ed25519 key added, for the ``with`` block (its socket
    in a short temporary directory: a unix socket's path has at most 107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="ads-agent-") as name:
        yield from _agent(Path(name), comment)


def _accepts(path: Path) -> bool:
    """Whether something listens on the unix socket at ``path``."""
    with socket_module.socket(socket_module.AF_UNIX, socket_module.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _agent(directory: Path, comment: str) -> Iterator[Agent]:
    socket = directory / "agent.sock"
    key = directory / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f",
                    str(key)], check=True, capture_output=True)
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # the socket's file exists from bind(), before the agent listens: wait until it
        # accepts a connection (ssh-add in between fails, exit 2)
        deadline = time.monotonic() + 10
        while not _accepts(socket):
            if time.monotonic() > deadline or agent.poll() is not None:
                raise RuntimeError("ssh-agent did not start")
            time.sleep(0.02)
        subprocess.run(["ssh-add", str(key)], env={**os.environ, "SSH_AUTH_SOCK": str(socket)},
                       check=True, capture_output=True)
        yield Agent(socket, comment)
    finally:
        agent.terminate()
        agent.wait(10)
