"""Regenerate the protobuf messages of aiodockersock/_buildkit/proto/ from their sources.

    pip install grpcio-tools
    python3 scripts/gen_buildkit_proto.py BUILDKIT_CHECKOUT FSUTIL_CHECKOUT

BUILDKIT_CHECKOUT is a checkout of github.com/moby/buildkit, FSUTIL_CHECKOUT one of
github.com/tonistiigi/fsutil (the files checked in were made from the commits named in
aiodockersock/_buildkit/proto/README.md). What is taken, unchanged in field numbers and types:

* fsutil's ``types/stat.proto`` and ``types/wire.proto`` (the file sync's ``Stat`` and
  ``Packet``), without the vtprotobuf options (Go only) and with the import of ``stat.proto``
  made relative to this package;
* from buildkit's ``api/services/control/control.proto``: ``StatusResponse``, ``Vertex``,
  ``VertexStatus``, ``VertexLog``, ``VertexWarning`` (the ``moby.buildkit.trace`` records of a
  build), without the fields whose types live in ``solver/pb/ops.proto`` (``progressGroup``,
  ``info``, ``ranges``): protobuf skips them when decoding;
* buildkit's ``session/secrets/secrets.proto``, ``session/auth/auth.proto`` and
  ``session/sshforward/ssh.proto`` as they are (the ``Secrets``, ``Auth`` and ``SSH`` services'
  messages).

The Python code is then made by grpcio-tools' protoc (``--python_out`` and ``--pyi_out``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent
PKG = "aiodockersock/_buildkit/proto"
MESSAGES = ["StatusResponse", "Vertex", "VertexStatus", "VertexLog", "VertexWarning"]


def git_head(checkout: Path) -> str:
    return subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()


def fsutil_proto(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if "vtproto" in line:
            continue
        line = line.replace('import "github.com/tonistiigi/fsutil/types/stat.proto"',
                            f'import "{PKG}/stat.proto"')
        lines.append(line)
    return "\n".join(lines) + "\n"


def control_proto(text: str) -> str:
    blocks = []
    for name in MESSAGES:
        found = re.search(r"^message " + name + r" \{\n(.*?)^\}", text, re.S | re.M)
        if found is None:
            sys.exit(f"message {name} not found in control.proto")
        fields = [line for line in found[1].splitlines() if not re.search(r"\bpb\.", line)]
        blocks.append(f"message {name} {{\n" + "\n".join(fields) + "\n}\n")
    head = ('syntax = "proto3";\n\npackage moby.buildkit.v1;\n\n'
            'import "google/protobuf/timestamp.proto";\n\n')
    return head + "\n".join(blocks)


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    buildkit, fsutil = Path(sys.argv[1]), Path(sys.argv[2])
    out = OUT / PKG
    out.mkdir(parents=True, exist_ok=True)
    for name in ("stat.proto", "wire.proto"):
        (out / name).write_text(fsutil_proto((fsutil / "types" / name).read_text()))
    control = (buildkit / "api/services/control/control.proto").read_text()
    (out / "control.proto").write_text(control_proto(control))
    (out / "secrets.proto").write_text((buildkit / "session/secrets/secrets.proto").read_text())
    (out / "auth.proto").write_text((buildkit / "session/auth/auth.proto").read_text())
    (out / "ssh.proto").write_text((buildkit / "session/sshforward/ssh.proto").read_text())
    import grpc_tools

    include = Path(grpc_tools.__file__).parent / "_proto"
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{OUT}", f"-I{include}",
         f"--python_out={OUT}", f"--pyi_out={OUT}",
         f"{PKG}/stat.proto", f"{PKG}/wire.proto", f"{PKG}/control.proto",
         f"{PKG}/secrets.proto", f"{PKG}/auth.proto", f"{PKG}/ssh.proto"],
        check=True,
    )
    (out / "README.md").write_text(
        "# Generated: do not edit\n\n"
        "The `.proto` files here are taken from moby/buildkit and tonistiigi/fsutil, the\n"
        "`*_pb2.py`/`*_pb2.pyi` files generated from them, by\n\n"
        "    pip install grpcio-tools\n"
        "    python3 scripts/gen_buildkit_proto.py BUILDKIT_CHECKOUT FSUTIL_CHECKOUT\n\n"
        "(the script's docstring says what is taken and what is left out), from\n\n"
        f"- moby/buildkit {git_head(buildkit)} (`api/services/control/control.proto`,\n"
        "  `session/secrets/secrets.proto`, `session/auth/auth.proto`,\n"
        "  `session/sshforward/ssh.proto`)\n"
        f"- tonistiigi/fsutil {git_head(fsutil)} (`types/stat.proto`, `types/wire.proto`)\n"
        f"- with grpcio-tools {__import__('importlib.metadata').metadata.version('grpcio-tools')}\n"
    )


if __name__ == "__main__":
    main()
