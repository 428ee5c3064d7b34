"""The ``.dockerignore`` selection against the Docker CLI's own: for each ``.dockerignore`` of a
corpus, ``docker build`` (classic builder) copies the context into an image and lists it; the
listing must be what :func:`context_members` selects."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aiodockersock import InvalidArgument
from aiodockersock._build_context import context_members

from .conftest import TEST_IMAGE, TEST_LABEL, EngineHandle
from .test_build_context import make_tree

# one tree for every case: names that the patterns below tell apart
TREE = [
    "secret.txt", "a.txt", "b.txt", "!.txt", "^.txt", "1st.txt", "b[1].txt", "star*.txt",
    "q?.txt", "sp ace.txt", "#notacomment", "é.txt", ".hidden", "abc", "abbc", "foo.bar",
    "fooXbar", "debug.log", "keep.log", "f.tmp",
    "logs/a.log", "logs/keep.log", "logs/sub/keep.log",
    "docs/guide.md", "docs/README.md", "docs/sub/g.md",
    "build/out/bin", "build/Dockerfile.dev",
    "src/main.py", "src/secret.txt", "src/deep/er/f.tmp", "src/x.log",
    "node_modules/m/index.js", "a b/c", "dir.d/x", "a]b", "a[^]b", "[x", "foo-bar",
]

# name -> .dockerignore (bytes: a byte order mark, CRLF and stray spaces are part of the test)
CORPUS: dict[str, bytes] = {
    "bom": b"\xef\xbb\xbfsecret.txt\n*.log\n",
    "bang-class": b"[!a].txt\n",
    "caret-class": b"[^a].txt\n",
    "ranges-posix": b"[[:digit:]]*\n[a-b].txt\n",
    "doublestar": b"**/*.tmp\n**/keep.log\nbuild/**\n",
    "doublestar-suffix-prefix": b"**bar\nfoo**\n",
    "reinclude": b"*.log\n!keep.log\nlogs\n!logs/keep.log\n",
    "reinclude-not-walked": b"logs\n!**/keep.log\n",
    "reinclude-deep": b"docs\n!docs/sub\nsrc\n!src/deep/er/f.tmp\n",
    "dirs-slash-dotdot": b"/docs/*.md\n!docs/README.md\nsrc/../build\n./node_modules\n//a b\n",
    "comments-spaces": b"# comment\n #notacomment\n  a.txt  \n\tb.txt\n! secret.txt\nsecret.txt\n",
    "crlf": b"secret.txt\r\nlogs/ \r\n\r\n*.md\r\n",
    "escapes": b"b\\[1\\].txt\nstar\\*.txt\nfoo\\.bar\n\\d*\nq\\?.txt\n",
    "wildcards": b"a?c\n*.md\nsp ace.txt\n.*\n*.d\n",
    "everything-but": b"*\n!src\n!docs/README.md\n",
    "build-files-excluded": b"Dockerfile\n.dockerignore\nbuild\n",
    "class-quirks": b"a[*]b\n[[]x\n\\bfoo*\n",
    "bom-not-first-line": b"x\n\xef\xbb\xbfsecret.txt\n\xef\xbb\xbfa*\n",
    "nested-doublestar": b"docs/**/*.md\nlogs/**\n!logs/keep.log\n**/sub\n",
}

_LISTED = re.compile(r"^/ctx/(.+)$", re.MULTILINE)


def cli_listing(engine: EngineHandle, context: Path) -> set[str]:
    """What ``docker build`` sent: the image's copy of the context, listed by ``find``."""
    tag = f"ads-ignore-{context.name}:latest"
    built = engine.cli("build", "--no-cache", "--network", "none", "--label", f"{TEST_LABEL}=1",
                       "-t", tag, str(context), check=False)
    try:
        assert built.returncode == 0, built.stderr + built.stdout
        return set(_LISTED.findall(built.stdout))
    finally:
        engine.cli("rmi", "-f", tag, check=False)


@pytest.mark.engine
@pytest.mark.parametrize("case", sorted(CORPUS))
def test_selection_is_the_docker_clis(
    engine: EngineHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    monkeypatch.setenv("DOCKER_BUILDKIT", "0")  # the classic builder sends the CLI's own tar
    context = tmp_path / case.replace("-", "")
    make_tree(context, {name: "x" for name in TREE})
    (context / "emptydir").mkdir()
    (context / "Dockerfile").write_text(
        f"FROM {TEST_IMAGE}\nCOPY . /ctx/\nRUN find /ctx -mindepth 1 | sort\n")
    (context / ".dockerignore").write_bytes(CORPUS[case])

    ours = {name for _, name in context_members(context, "Dockerfile")()}
    # .dockerignore and the Dockerfile are always sent (the daemon leaves them out of the
    # build's files when they are excluded)
    assert {"Dockerfile", ".dockerignore"} <= ours
    # a file re-included in an excluded directory is sent without the directory's entry: the
    # image has the directory all the same
    ours |= {"/".join(name.split("/")[:i]) for name in ours for i in range(1, name.count("/") + 1)}
    theirs = cli_listing(engine, context)
    skip = {"Dockerfile", ".dockerignore"}
    assert sorted(ours - skip) == sorted(theirs - skip)


@pytest.mark.engine
def test_a_pattern_the_cli_refuses_is_refused(
    engine: EngineHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the CLI refuses (it fails the build) is an error before anything is sent."""
    monkeypatch.setenv("DOCKER_BUILDKIT", "0")
    for i, pattern in enumerate(["!", "[", "[]", "[a-]", "a\\", "[z-a]", "\\q*", "[[:nope:]]"]):
        context = tmp_path / f"bad{i}"
        make_tree(context, {"Dockerfile": f"FROM {TEST_IMAGE}\n", "a": "",
                            ".dockerignore": pattern})
        refused = engine.cli("build", "--network", "none", str(context), check=False)
        assert refused.returncode != 0, (pattern, refused.stdout)
        with pytest.raises(InvalidArgument, match="dockerignore"):
            context_members(context, "Dockerfile")
