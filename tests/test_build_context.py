"""The build context of a directory: ``.dockerignore`` rules, pure (no engine needed)."""

from __future__ import annotations

from pathlib import Path

from aiodockersock._build_context import IgnoreRules, context_members


def test_dockerignore_rules() -> None:
    rules = IgnoreRules([
        "# a comment", "", "*.log", "!keep.log", "secret*", "build/", "**/*.tmp",
        "/docs/*.md", "!docs/README.md", "cache/**", "a?c", "[xy].txt",
    ])
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
    assert IgnoreRules(["logs", "!**/keep.log"]).may_include_under("logs")


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
