"""Measure aiodockersock as it is at another git revision, next to this checkout's.

Shared by ``bench_events.py``, ``bench_api.py`` and ``bench_logs.py`` (their ``--baseline REV``
option). Two versions of one package cannot live in one process, so a benchmark runs the
baseline's work in a subprocess whose ``sys.path`` starts at a copy of the package as it is
at ``REV``; in that mode the current version runs in a subprocess of the same kind, started
the same way, so both are timed under the same process model.

The copy is ``git archive REV aiodockersock`` unpacked into
``$AIODOCKERSOCK_BENCH_CACHE/<full sha>/`` (default ``<tmp>/aiodockersock-bench-baselines``)
and reused by later runs. Unlike ``git worktree add`` this registers nothing in the repository
(no ``.git/worktrees`` entry to prune); the benchmark scripts themselves always come from this
checkout, so both versions do exactly the same work. No bytecode is compiled ahead: like this
checkout's, the copy's is written (or, under ``PYTHONDONTWRITEBYTECODE``, not) by the first
import, so both versions start up alike; the benchmarks keep imports out of their timings.

A subprocess learns which copy to import from ``$AIODOCKERSOCK_BENCH_IMPORT_ROOT`` (see
:func:`setup_sys_path`, which every benchmark calls before importing aiodockersock), and
reports the ``aiodockersock.__file__`` it imported, which :func:`check_origin` compares with
the copy it should have used.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: the directory a benchmark subprocess imports aiodockersock from (set for baseline workers)
IMPORT_ROOT_ENV = "AIODOCKERSOCK_BENCH_IMPORT_ROOT"
#: where unpacked baselines are kept (default: <tmp>/aiodockersock-bench-baselines)
CACHE_ENV = "AIODOCKERSOCK_BENCH_CACHE"
PACKAGE = "aiodockersock"


def setup_sys_path(repo_root: Path) -> Path | None:
    """Put the aiodockersock to measure first on ``sys.path``; return its directory.

    ``$AIODOCKERSOCK_BENCH_IMPORT_ROOT`` (a baseline worker) wins; otherwise this checkout's
    package is used whether or not it is installed (an editable install of another checkout
    comes after ``sys.path`` in the import order)."""
    override = os.environ.get(IMPORT_ROOT_ENV)
    if override:
        sys.path.insert(0, override)
        return Path(override)
    if (repo_root / PACKAGE / "__init__.py").is_file():
        sys.path.insert(0, str(repo_root))
        return repo_root
    return None


def imported_from() -> str | None:
    """The directory this process's aiodockersock was imported from, if it was imported."""
    module = sys.modules.get(PACKAGE)
    file = getattr(module, "__file__", None)
    return str(Path(file).resolve().parent.parent) if file else None


def check_origin(who: str, reported: str | None, expected: Path | None) -> str | None:
    """An error message if a worker imported aiodockersock from elsewhere than ``expected``
    (``None``: whatever is installed, not checked)."""
    if reported is None or expected is None:
        return None  # this client does not import aiodockersock
    if Path(reported).resolve() != expected.resolve():
        return f"{who} imported aiodockersock from {reported}, expected {expected}"
    return None


def _git(repo_root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo_root), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def describe(repo_root: Path) -> str:
    """This checkout's commit, ``-dirty`` when it has uncommitted changes."""
    try:
        return _git(repo_root, "describe", "--always", "--dirty", "--abbrev=9")
    except (OSError, subprocess.CalledProcessError):
        return "?"


@dataclass(frozen=True)
class Baseline:
    """aiodockersock at one commit, unpacked where a subprocess can import it."""

    rev: str  #: as given on the command line
    sha: str  #: the full commit id
    short: str  #: abbreviated commit id, used in the client's name
    root: Path  #: directory holding ``aiodockersock/`` as it is at ``sha``
    subject: str  #: the commit's subject line

    @property
    def name(self) -> str:
        """The client name the benchmarks report it under."""
        return f"{PACKAGE}@{self.short}"

    def env(self) -> dict[str, str]:
        """Environment for a subprocess that must import this baseline."""
        env = dict(os.environ)
        env[IMPORT_ROOT_ENV] = str(self.root)
        old = env.get("PYTHONPATH")
        env["PYTHONPATH"] = str(self.root) + (os.pathsep + old if old else "")
        return env

    def describe(self) -> str:
        return f"{self.name} = {self.sha[:12]} ({self.rev}): {self.subject}"


def current_env() -> dict[str, str]:
    """Environment for a subprocess that must import this checkout's aiodockersock."""
    env = dict(os.environ)
    env.pop(IMPORT_ROOT_ENV, None)
    return env


def cache_dir() -> Path:
    return Path(
        os.environ.get(CACHE_ENV)
        or Path(tempfile.gettempdir()) / "aiodockersock-bench-baselines"
    )


def prepare(rev: str, repo_root: Path) -> Baseline:
    """Resolve ``rev`` in this checkout's repository and unpack its aiodockersock (or reuse an
    earlier unpacking of the same commit)."""
    try:
        sha = _git(repo_root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"--baseline {rev!r}: not a commit in {repo_root}") from None
    short = _git(repo_root, "rev-parse", "--short", sha)
    subject = _git(repo_root, "log", "-1", "--format=%s", sha)
    cache = cache_dir()
    root = cache / sha
    done = root / ".complete"
    if not done.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{sha[:12]}-", dir=cache))
        try:
            tar = subprocess.run(
                ["git", "-C", str(repo_root), "archive", "--format=tar", sha, PACKAGE],
                capture_output=True,
                check=True,
            ).stdout
            with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
                if hasattr(tarfile, "data_filter"):
                    archive.extractall(tmp, filter="data")
                else:  # an older Python without extraction filters; our own repository's tree
                    archive.extractall(tmp)
            if not (tmp / PACKAGE / "__init__.py").is_file():
                raise SystemExit(f"--baseline {rev!r}: {sha[:12]} has no {PACKAGE}/__init__.py")
            (tmp / ".complete").write_text(f"{sha}\n{subject}\n")
            try:
                tmp.rename(root)
            except OSError:  # another run unpacked the same commit meanwhile
                if not done.is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return Baseline(rev=rev, sha=sha, short=short, root=root, subject=subject)
