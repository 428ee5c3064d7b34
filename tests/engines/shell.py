"""Small standard-library helpers: progress messages, running commands, reading logs."""

import os
import struct
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import EngineError


def progress(message: str) -> None:
    """Print a progress message on stderr."""
    print(f"[test_engine] {message}", file=sys.stderr, flush=True)


def is_root() -> bool:
    """Return whether we run as root."""
    return os.geteuid() == 0


def run_command(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` capturing its output; raise :class:`EngineError` if it fails."""
    result = subprocess.run(
        [os.fspath(c) for c in cmd],
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-25:])
        raise EngineError(
            f"command failed ({result.returncode}): {' '.join(map(str, cmd))}\n{tail}"
        )
    return result


def log_tail(path: Path, lines: int = 40) -> str:
    """Return the last ``lines`` lines of a log file (or a note if unreadable)."""
    try:
        data = path.read_bytes()[-64 * 1024 :]
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def is_static_elf(path: Path) -> bool:
    """Return True if ``path`` is an ELF executable without a program interpreter."""
    try:
        with path.open("rb") as f:
            header = f.read(64)
            if len(header) < 52 or header[:4] != b"\x7fELF":
                return False
            endian = "<" if header[5] == 1 else ">"
            if header[4] == 2:  # ELFCLASS64
                (phoff,) = struct.unpack_from(endian + "Q", header, 0x20)
                phentsize, phnum = struct.unpack_from(endian + "HH", header, 0x36)
            else:
                (phoff,) = struct.unpack_from(endian + "I", header, 0x1C)
                phentsize, phnum = struct.unpack_from(endian + "HH", header, 0x2A)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
    except OSError:
        return False
    for i in range(phnum):
        (p_type,) = struct.unpack_from(endian + "I", table, i * phentsize)
        if p_type == 3:  # PT_INTERP: dynamically linked
            return False
    return True
