"""The build context of a directory: which files go into the tar, by the ``.dockerignore`` rules.

The rules follow the Docker CLI's: each non-comment line is a pattern (``*`` and ``?`` stay
within a path component, ``**`` spans any number of them, ``[...]`` is a character class, ``\\``
escapes); the last pattern matching a path or one of its parent directories decides; ``!``
re-includes. The Dockerfile and ``.dockerignore`` itself are always sent. Excluded directories
are not walked unless a ``!`` rule could re-include something inside them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from ._exceptions import InvalidArgument

__all__ = ["IgnoreRules", "context_members", "escape_pattern", "pattern_regex"]




def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A ``.dockerignore`` pattern as a regex: ``*`` and ``?`` stay within a path component,
    ``**`` spans any number of them, ``[...]`` is a character class, ``\\`` escapes."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                i += 2
                if i < n and pattern[i] == "/":
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:end]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
                i = end
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


class IgnoreRules:
    """The rules of a ``.dockerignore`` file: the last rule matching a path (or one of its
    parent directories) decides; ``!`` rules re-include."""

    def __init__(self, lines: Sequence[str]) -> None:
        # (regex, re-include?, the pattern's literal start: what a match must begin with)
        self.rules: list[tuple[re.Pattern[str], bool, str]] = []
        for line in lines:
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            include = text.startswith("!")
            if include:
                text = text[1:].strip()
            text = os.path.normpath(text).replace(os.sep, "/").lstrip("/")
            if text in ("", "."):
                continue
            literal = re.split(r"[*?\[\\]", text, maxsplit=1)[0]
            self.rules.append((pattern_regex(text), include, literal))

    def excluded(self, name: str) -> bool:
        """Whether the file or directory ``name`` (``a/b/c``) is left out."""
        parts = name.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        verdict = False
        for regex, include, _ in self.rules:
            if any(regex.match(c) for c in candidates):
                verdict = not include
        return verdict

    def may_include_under(self, directory: str) -> bool:
        """Whether a ``!`` rule could re-include something inside an excluded directory (if
        not, the walk skips it)."""
        inside = directory + "/"
        return any(
            include and (literal.startswith(inside) or inside.startswith(literal))
            for _, include, literal in self.rules
        )


def context_members(
    root: Path, dockerfile: str
) -> Callable[[], Iterator[tuple[Path, str]]]:
    """What goes into the tar of a directory context, in a stable order: the returned function
    walks the directory (in the worker thread)."""
    ignore_file = root / ".dockerignore"
    try:
        lines = ignore_file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    except OSError as exc:
        raise InvalidArgument(f"cannot read {ignore_file}: {exc.strerror}") from None
    # the Dockerfile and .dockerignore are always sent, as the Docker CLI does it
    dockerfile_name = os.path.normpath(dockerfile).replace(os.sep, "/").lstrip("/")
    rules = IgnoreRules([*lines, "!.dockerignore", "!" + escape_pattern(dockerfile_name)])

    def members() -> Iterator[tuple[Path, str]]:
        for current, dirs, files in os.walk(root):
            base = os.path.relpath(current, root).replace(os.sep, "/")
            prefix = "" if base == "." else base + "/"
            dirs.sort()
            kept_dirs = []
            for d in dirs:
                name = prefix + d
                path = Path(current, d)
                excluded = rules.excluded(name)
                if path.is_symlink():  # a link to a directory: add the link, do not follow
                    if not excluded:
                        yield path, name
                    continue
                if excluded:
                    if rules.may_include_under(name):
                        kept_dirs.append(d)  # something inside is re-included
                    continue
                yield path, name
                kept_dirs.append(d)
            dirs[:] = kept_dirs
            for f in sorted(files):
                name = prefix + f
                if not rules.excluded(name):
                    yield Path(current, f), name

    return members


def escape_pattern(name: str) -> str:
    """``name`` as a pattern that matches it literally."""
    return re.sub(r"([*?\[\\])", r"\\\1", name)
