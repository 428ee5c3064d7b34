"""The command line: ``install``, ``start`` and ``stop`` (``scripts/test_engine.py``)."""

import argparse
import errno
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .config import DOCKER_ENGINES, KNOWN_ENGINES, PSEUDO_ENGINES, SEARCH_PATH, SSHD
from .daemon import start_engine, stop_engine
from .errors import EngineError
from .image import build_test_image
from .install import dockerd_version, engine_info, ensure_installed
from .shell import progress


def _parse_engines(text: str) -> list[str]:
    """Split a comma-separated engine list."""
    return [v.strip() for v in text.split(",") if v.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(
        description="Private Docker engines for the aiodockersock tests."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_install = sub.add_parser("install", help="install engines (idempotent; needs root)")
    p_install.add_argument(
        "--engines",
        default=",".join(DOCKER_ENGINES),
        help=f"comma-separated: {', '.join((*KNOWN_ENGINES, *PSEUDO_ENGINES))} "
        "(default: %(default)s)",
    )
    p_start = sub.add_parser(
        "start", help="start a private engine, build the test image, print DOCKER_HOST"
    )
    p_start.add_argument("version", choices=KNOWN_ENGINES)
    p_start.add_argument(
        "--dir", required=True, type=Path, help="short work directory, e.g. /tmp/ads-1"
    )
    p_start.add_argument("--no-image", action="store_true", help="do not build the test image")
    p_stop = sub.add_parser("stop", help="stop the engine started in --dir")
    p_stop.add_argument("--dir", required=True, type=Path)
    args = parser.parse_args(argv)

    try:
        if args.command == "install":
            engines = _parse_engines(args.engines)
            started = time.monotonic()
            ensure_installed(engines)
            for label in engines:
                if label in PSEUDO_ENGINES:
                    program = "sshd" if label == SSHD else "docker-registry"
                    print(f"{label}: {shutil.which(program, path=SEARCH_PATH)}")
                    continue
                info = engine_info(label)
                if info["kind"] == "dockerd":
                    print(
                        f"{label}: dockerd {dockerd_version(Path(info['binary']))}"
                        f" ({info['binary']})"
                    )
                else:
                    print(f"{label}: {info['binary']}")
            progress(f"install done in {time.monotonic() - started:.1f}s")
        elif args.command == "start":
            ensure_installed([args.version])
            engine = start_engine(args.version, args.dir)
            try:
                if not args.no_image:
                    build_test_image(engine)
            except BaseException:
                engine.stop()
                raise
            progress(
                f"engine {engine.version}: server {engine.server_version}, "
                f"API {engine.api_version}, pid {engine.pid}"
            )
            print(f"DOCKER_HOST={engine.host}")
        elif args.command == "stop":
            stop_engine(args.dir)
    except (EngineError, ValueError) as exc:
        print(f"test_engine: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno == errno.EACCES:
            print(f"test_engine: {exc} (needs root)", file=sys.stderr)
            return 2
        raise
    return 0
