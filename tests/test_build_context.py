"""The build context of a directory: ``.dockerignore`` rules, pure (no engine needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiodockersock import InvalidArgument
from aiodockersock._build_context import IgnoreRules, context_members, read_dockerignore


def rules_of(text: str | bytes) -> IgnoreRules:
    return IgnoreRules(read_dockerignore(text.encode() if isinstance(text, str) else text))


def test_dockerignore_rules() -> None:
    rules = rules_of(
        "# a comment\n\n*.log\n!keep.log\nsecret*\nbuild/\n**/*.tmp\n/docs/*.md\n"
        "!docs/README.md\ncache/**\na?c\n[xy].txt\n"
    )
    excluded = {
        "x.log", "secret.txt", "secrets/inner/file", "build", "build/out/bin", "deep/er/f.tmp",
        "f.tmp", "docs/guide.md", "cache/a/b", "abc", "x.txt",
    }
    kept = {
        "keep.log", "src/x.log", "src/secret.txt", "builder", "docs/README.md", "docs/sub/g.md",
        "cache", "abbc", "z.txt", "Dockerfile",
    }
    for name in excluded:
        assert rules.excluded(name), name
    for name in kept:
        assert not rules.excluded(name), name
    # an excluded directory is walked only if a "!" rule may re-include something inside
    assert rules.may_include_under("docs") and not rules.may_include_under("build")
    assert not IgnoreRules(["*.log"]).may_include_under("logs")
    # as the CLI does it: only a "!" pattern that begins with the directory's path counts
    assert IgnoreRules(["logs", "!logs/*/keep.log"]).may_include_under("logs")
    assert not IgnoreRules(["logs", "!**/keep.log"]).may_include_under("logs")


def test_dockerignore_is_read_as_the_cli_reads_it() -> None:
    # a byte order mark is dropped (it used to hide the first pattern: the secret was sent)
    assert read_dockerignore(b"\xef\xbb\xbfsecret.txt\n*.log\n") == ["secret.txt", "*.log"]
    assert rules_of(b"\xef\xbb\xbfsecret.txt\n").excluded("secret.txt")
    # a comment starts in the first column; CRLF, white space, "!" and "/" as the CLI reads them
    assert read_dockerignore(
        b"# c\r\n #not a comment\r\n\t a.txt \r\n! /b/../c/\n\r\n//d\n/\n./e") == [
        "#not a comment", "a.txt", "!c", "d", "/", "e"]


def test_classes_and_escapes_are_go_regexp_ones() -> None:
    # "[!a]" is a class of "!" and "a" (it used to be read as "not a"); "^" negates
    bang, caret = rules_of("[!a].txt"), rules_of("[^a].txt")
    assert [bang.excluded(n) for n in ("a.txt", "!.txt", "b.txt")] == [True, True, False]
    assert [caret.excluded(n) for n in ("a.txt", "!.txt", "b.txt")] == [False, True, True]
    # a backslash escape means what it means in a Go regular expression
    escapes = rules_of("\\d*\nstar\\*\n[[:upper:]]x\n")
    assert [escapes.excluded(n) for n in ("1st", "dst", "star*", "starry", "Ax", "ax")] == [
        True, False, True, False, True, False]
    # "**" first makes a suffix match, "**" last a prefix match
    assert rules_of("**bar").excluded("foo.bar") and rules_of("foo**").excluded("food")
    # "*" and "?" never match a "/", "**" spans directories but not a newline (Go's ".")
    assert not rules_of("a*c").excluded("a/c") and rules_of("a/**/c").excluded("a/b/b/c")
    assert not rules_of("**/c*").excluded("a\nb/c") and rules_of("**/c*").excluded("a b/c")


@pytest.mark.parametrize("pattern, why", [
    ("!", "illegal exclusion pattern"),
    ("[", "character class"),
    ("[]", "character class"),
    ("[a-]", "character class"),
    ("a\\", "escapes nothing"),
    ("[z-a]", "invalid character class range"),
    ("\\q*", "invalid escape sequence"),
    ("[[:nope:]]", "invalid character class"),
])
def test_a_pattern_the_cli_refuses_is_an_error(pattern: str, why: str) -> None:
    with pytest.raises(InvalidArgument, match=why) as exc:
        rules_of(pattern)
    assert ".dockerignore" in str(exc.value)


def make_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_context_members_honour_dockerignore(tmp_path: Path) -> None:
    make_tree(tmp_path, {
        "Dockerfile": "FROM x\n",
        ".dockerignore": (
            "*.log\nlogs\n!logs/keep.log\nDockerfile\n.dockerignore\nnode_modules\nbuild\n"
        ),
        "app.py": "",
        "debug.log": "",
        "logs/a.log": "",
        "logs/keep.log": "",
        "node_modules/m/index.js": "",
        "src/main.py": "",
        "build/Dockerfile.dev": "FROM y\n",
        "build/other": "",
    })
    # a Dockerfile inside an excluded directory is still sent (and only it)
    dev = [name for _, name in context_members(tmp_path, "build/Dockerfile.dev")()]
    assert "build/Dockerfile.dev" in dev and "build/other" not in dev
    names = [name for _, name in context_members(tmp_path, "Dockerfile")()]
    # the Dockerfile and .dockerignore always go, even when listed; "logs" itself is excluded
    # but what a "!" rule re-includes inside it is sent
    assert sorted(names) == [".dockerignore", "Dockerfile", "app.py", "logs/keep.log", "src",
                             "src/main.py"]
