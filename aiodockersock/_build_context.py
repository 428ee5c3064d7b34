"""The build context of a directory: which files go into the tar, by the ``.dockerignore`` rules.

The selection is the Docker CLI's (``docker build`` with a directory context), rule for rule:

* the file (read as the CLI reads it): a UTF-8 byte order mark is dropped; a line that starts
  with ``#`` is a comment (only in the first column: ``" #x"`` is a pattern); the rest is
  trimmed of white space; a leading ``!`` re-includes; each pattern is cleaned like a path
  (``a/./b/../c`` is ``a/c``) and loses one leading ``/``;
* a pattern must be valid for Go's ``filepath.Match`` (so ``[``, a class without ``]`` or a
  trailing ``\\`` are errors), and is then matched the way the CLI's ``patternmatcher`` does it:
  ``*`` and ``?`` stay within a path component, ``**`` spans any number of them, ``\\x`` and
  ``[...]`` mean what they mean in a Go regular expression (so ``[^a]`` is a negated class,
  ``[!a]`` a class of ``!`` and ``a``, and ``\\d`` a digit);
* the last pattern matching a path or one of its parent directories decides; an excluded
  directory is not walked unless a ``!`` pattern, as written, begins with its path;
* ``.dockerignore`` and the Dockerfile are re-included when excluded (as the CLI does it; the
  daemon then leaves them out of the build's files).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from ._exceptions import InvalidArgument

__all__ = ["IgnoreRules", "context_members", "context_patterns", "read_dockerignore"]

# Go's unicode.IsSpace (what strings.TrimSpace removes); Python's str.strip() also removes
# \x1c-\x1f, which Go keeps.
_GO_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
             "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_BOM = b"\xef\xbb\xbf"
_MAX_RUNE = 0x10FFFF
# a byte that is not UTF-8 (decoded with surrogateescape) is U+FFFD to Go
_BAD_BYTE = re.compile("[\udc80-\udcff]")

Ranges = list[tuple[int, int]]


def read_dockerignore(data: bytes) -> list[str]:
    """The patterns of a ``.dockerignore`` file, read as the Docker CLI reads it.

    Args:
        data: the file's bytes.

    Returns:
        The patterns in order, cleaned, each with its leading ``!`` when it re-includes.
    """
    patterns = []
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()  # the newline ending the last line
    for number, raw in enumerate(lines):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if number == 0 and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        line = raw.decode("utf-8", "surrogateescape")
        if line.startswith("#"):
            continue
        pattern = line.strip(_GO_SPACE)
        if not pattern:
            continue
        include = pattern.startswith("!")
        if include:
            pattern = pattern[1:].strip(_GO_SPACE)
        if pattern:
            pattern = _go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        patterns.append("!" + pattern if include else pattern)
    return patterns


def _go_clean(path: str) -> str:
    """Go's ``filepath.Clean`` (POSIX): like ``normpath`` but ``//a`` is ``/a``."""
    cleaned = os.path.normpath(path)
    return cleaned[1:] if cleaned.startswith("//") else cleaned


class _Pattern:
    """One pattern as ``patternmatcher`` compiles it: an exact path, a prefix (``a/**``), a
    suffix (``**/a``) or a regular expression."""

    def __init__(self, text: str, exclusion: bool, source: str) -> None:
        self.text = text
        self.exclusion = exclusion
        self.dirs = len(text.split("/"))
        self.kind, go_regex = _compile_kind(text)
        self.regex: re.Pattern[str] | None = None
        if self.kind == "regexp":
            try:
                self.regex = re.compile(_python_regex(go_regex), re.ASCII)
            except (ValueError, re.error) as exc:
                raise InvalidArgument(
                    f"{source}: the pattern {text!r} is not valid (as a Go regular expression "
                    f"{go_regex!r}: {exc}); fix or escape it") from None

    def matches(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        assert self.regex is not None
        return self.regex.search(_BAD_BYTE.sub("\ufffd", path)) is not None


class IgnoreRules:
    """The patterns of a ``.dockerignore`` file, matched as the Docker CLI matches them.

    Args:
        patterns: the patterns, as :func:`read_dockerignore` returns them (``!`` re-includes).
        source: where they come from, for error messages.

    Raises:
        InvalidArgument: a pattern is not valid (``!`` alone, an unclosed ``[``, a trailing
            ``\\``, an escape Go's regular expressions do not know…).
    """

    def __init__(self, patterns: Sequence[str], *, source: str = ".dockerignore") -> None:
        self.patterns: list[_Pattern] = []
        for raw in patterns:
            text = raw.strip(_GO_SPACE)
            if not text:
                continue
            text = _go_clean(text)
            exclusion = text.startswith("!")
            if exclusion:
                if text == "!":
                    raise InvalidArgument(
                        f'{source}: illegal exclusion pattern "!" (a "!" needs a pattern after '
                        "it); remove the line or complete it")
                text = text[1:]
            problem = _glob_syntax_error(text)
            if problem:
                raise InvalidArgument(f"{source}: the pattern {text!r} is not valid ({problem}); "
                                      "fix it or escape the character with \\")
            self.patterns.append(_Pattern(text, exclusion, source))

    def match(self, name: str, parent: tuple[bool, ...] = ()) -> tuple[bool, tuple[bool, ...]]:
        """Whether ``name`` is excluded, given what matched its parent directory.

        Args:
            name: a path relative to the context, ``a/b/c``.
            parent: what this method returned as second value for the parent directory;
                empty for an entry at the top (or to check every parent directory).

        Returns:
            Whether the entry is excluded, and which patterns matched it (for its children).
        """
        excluded = False
        found = [False] * len(self.patterns)
        for i, pattern in enumerate(self.patterns):
            hit = parent[i] if parent else False
            if not hit:
                if pattern.exclusion != excluded:
                    continue  # cannot change the verdict: not even tried
                hit = pattern.matches(name)
                if not hit and not parent:
                    parts = name.split("/")[:-1]
                    hit = any(pattern.matches("/".join(parts[: j + 1]))
                              for j in range(len(parts)))
            found[i] = hit
            if hit:
                excluded = not pattern.exclusion
        return excluded, tuple(found)

    def excluded(self, name: str) -> bool:
        """Whether the file or directory ``name`` (``a/b/c``) is left out, as the walk of the
        context decides it (each parent directory matched first)."""
        parts = name.split("/")
        info: tuple[bool, ...] = ()
        verdict = False
        for i in range(len(parts)):
            verdict, info = self.match("/".join(parts[: i + 1]), info)
        return verdict

    def excluded_by_cli_check(self, name: str) -> bool:
        """The CLI's own quick check of whether its Dockerfile or ``.dockerignore`` is
        excluded (``patternmatcher.Matches``: it tries one parent directory per pattern, at
        the pattern's depth)."""
        name = _go_clean(name)
        if name == ".":
            return False
        parent_dirs = os.path.dirname(name).split("/") if "/" in name else []
        excluded = False
        for pattern in self.patterns:
            if pattern.exclusion != excluded:
                continue
            hit = pattern.matches(name)
            if not hit and parent_dirs and pattern.dirs <= len(parent_dirs):
                hit = pattern.matches("/".join(parent_dirs[: pattern.dirs]))
            if hit:
                excluded = not pattern.exclusion
        return excluded

    def may_include_under(self, directory: str) -> bool:
        """Whether an excluded directory is walked all the same: a ``!`` pattern, as written,
        begins with its path (``!logs/keep.log`` for ``logs``; ``!**/keep.log`` does not)."""
        inside = directory + "/"
        return any(p.exclusion and (p.text + "/").startswith(inside) for p in self.patterns)


def context_patterns(root: Path, dockerfile: str) -> list[str]:
    """The exclusion patterns of a directory context: its ``.dockerignore``, with
    ``.dockerignore`` and the Dockerfile re-included when excluded (as the CLI does it).

    Raises:
        InvalidArgument: ``.dockerignore`` cannot be read or has an invalid pattern.
    """
    ignore_file = root / ".dockerignore"
    try:
        patterns = read_dockerignore(ignore_file.read_bytes())
    except FileNotFoundError:
        patterns = []
    except OSError as exc:
        raise InvalidArgument(f"cannot read {ignore_file}: {exc.strerror}") from None
    source = str(ignore_file)
    if IgnoreRules(patterns, source=source).excluded_by_cli_check(".dockerignore"):
        patterns.append("!.dockerignore")
    dockerfile_name = _go_clean(dockerfile.replace(os.sep, "/"))
    if IgnoreRules(patterns, source=source).excluded_by_cli_check(dockerfile_name):
        patterns.append("!" + dockerfile_name)
    IgnoreRules(patterns, source=source)  # every pattern valid
    return patterns


def context_members(
    root: Path, dockerfile: str
) -> Callable[[], Iterator[tuple[Path, str]]]:
    """What goes into the tar of a directory context, in a stable order: the returned function
    walks the directory (in the worker thread).

    Args:
        root: the context directory.
        dockerfile: the Dockerfile's path inside it.

    Returns:
        A function yielding ``(local path, name in the tar)`` for each entry sent.

    Raises:
        InvalidArgument: ``.dockerignore`` cannot be read or has an invalid pattern.
    """
    patterns = context_patterns(root, dockerfile)
    dockerfile_name = _go_clean(dockerfile.replace(os.sep, "/"))
    rules = IgnoreRules(patterns, source=str(root / ".dockerignore"))

    def members() -> Iterator[tuple[Path, str]]:
        seen_dockerfile = False
        found: dict[str, tuple[bool, ...]] = {"": ()}  # what matched each walked directory
        for current, dirs, files in os.walk(root):
            base = os.path.relpath(current, root).replace(os.sep, "/")
            prefix = "" if base == "." else base + "/"
            parent = found.pop("" if base == "." else base, ())
            dirs.sort()
            kept_dirs = []
            for d in dirs:
                name = prefix + d
                path = Path(current, d)
                excluded, info = rules.match(name, parent)
                if path.is_symlink():  # a link to a directory: add the link, do not follow
                    if not excluded:
                        yield path, name
                    continue
                if excluded and not rules.may_include_under(name):
                    continue
                found[name] = info
                kept_dirs.append(d)
                if not excluded:
                    yield path, name
            dirs[:] = kept_dirs
            for f in sorted(files):
                name = prefix + f
                if not rules.match(name, parent)[0]:
                    seen_dockerfile = seen_dockerfile or name == dockerfile_name
                    yield Path(current, f), name
        # where the CLI's quick check misses it, the CLI's build fails: send it all the same
        path = root / dockerfile_name
        if not seen_dockerfile and not dockerfile_name.startswith("../") and path.is_file():
            yield path, dockerfile_name

    return members


# -- patterns: the glob syntax check, the regular expression patternmatcher builds ------------


def _glob_syntax_error(pattern: str) -> str | None:
    """Why Go's ``filepath.Match`` refuses ``pattern`` (``None`` if it does not): a class must
    hold at least one character or range and end with ``]``; ``-`` and ``]`` are escaped in
    it; a ``\\`` must be followed by a character."""
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 == n:
                return "a \\ at the end escapes nothing"
            i += 2
        elif c == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            ranges = 0
            while not (i < n and pattern[i] == "]" and ranges):
                i = _class_char(pattern, i)
                if i >= 0 and pattern[i] == "-":
                    i = _class_char(pattern, i + 1)
                if i < 0:
                    return ("a character class is empty or unclosed, or has a bare - or ] "
                            "(escape them with \\) or a byte that is not UTF-8")
                ranges += 1
            i += 1
        else:
            i += 1
    return None


def _class_char(pattern: str, i: int) -> int:
    """Where a (possibly escaped) character of a glob class at ``pattern[i]`` ends; -1 if
    there is none or nothing follows it."""
    if i >= len(pattern) or pattern[i] in "-]":
        return -1
    if pattern[i] == "\\":
        i += 1
    if i >= len(pattern) or _BAD_BYTE.match(pattern[i]):
        return -1
    return i + 1 if i + 1 < len(pattern) else -1


def _compile_kind(pattern: str) -> tuple[str, str]:
    """How ``patternmatcher`` matches ``pattern`` (``exact``, ``prefix``, ``suffix`` or
    ``regexp``) and the Go regular expression it builds for it."""
    regex = "^"
    kind = "exact"
    chars = _BAD_BYTE.sub("\ufffd", pattern)
    if chars.startswith("\ufeff"):  # Go's text/scanner skips a leading byte order mark
        chars = chars[1:]
    i, n = 0, len(chars)
    token = 0
    while i < n:
        c = chars[i]
        i += 1
        if c == "*" and i < n and chars[i] == "*":
            i += 1
            if i < n and chars[i] == "/":
                i += 1
            if i == n:
                if kind == "exact":
                    kind = "prefix"
                else:
                    regex += ".*"
                    kind = "regexp"
            else:
                regex += "(.*/)?"
                kind = "regexp"
            if token == 0:
                kind = "suffix"
        elif c == "*":
            regex += "[^/]*"
            kind = "regexp"
        elif c == "?":
            regex += "[^/]"
            kind = "regexp"
        elif c in ".+()|{}$":
            regex += "\\" + c
        elif c == "\\":
            if i < n:
                regex += "\\" + chars[i]
                i += 1
                kind = "regexp"
            else:
                regex += "\\"
        elif c in "[]":
            regex += c
            kind = "regexp"
        else:
            regex += c
        token += 1
    return kind, regex + "$"


# Go's regular expressions (RE2 syntax, as regexp.Compile reads it) into Python's: only what a
# pattern can produce (literals, escapes, classes, ".", "(...)", "*", "?", "^", "$").

_DIGIT: Ranges = [(0x30, 0x39)]
_SPACE: Ranges = [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)]
_WORD: Ranges = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
_PERL = {"d": _DIGIT, "s": _SPACE, "w": _WORD}
_POSIX: dict[str, Ranges] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)], "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)], "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)], "digit": _DIGIT, "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)], "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)], "upper": [(0x41, 0x5A)], "word": _WORD,
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
_SIMPLE_ESCAPES = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}


def _complement(ranges: Ranges) -> Ranges:
    out, low = [], 0
    for lo, hi in sorted(ranges):
        if lo > low:
            out.append((low, lo - 1))
        low = max(low, hi + 1)
    if low <= _MAX_RUNE:
        out.append((low, _MAX_RUNE))
    return out


def _python_class(ranges: Ranges, negated: bool) -> str:
    body = "".join(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}"
                   for lo, hi in ranges)
    return f"[{'^' if negated else ''}{body}]"


def _escape(go: str, i: int) -> tuple[int, int]:
    """The character of the escape at ``go[i]`` (after its ``\\``) and where it ends."""
    c = go[i] if i < len(go) else ""
    if not c:
        raise ValueError("trailing backslash")
    if c < "\x80" and not c.isalnum():
        return ord(c), i + 1
    if c in "01234567" and (c == "0" or go[i + 1:i + 2] in tuple("01234567")):
        j, value = i + 1, int(c)
        while j < len(go) and j < i + 3 and go[j] in "01234567":
            value, j = value * 8 + int(go[j]), j + 1
        return value, j
    if c == "x":
        if go[i + 1:i + 2] == "{":
            end = go.find("}", i + 2)
            digits = go[i + 2:end] if end > 0 else ""
            if digits and all(d in "0123456789abcdefABCDEF" for d in digits) \
                    and int(digits, 16) <= _MAX_RUNE:
                return int(digits, 16), end + 1
        else:
            digits = go[i + 1:i + 3]
            if len(digits) == 2 and all(d in "0123456789abcdefABCDEF" for d in digits):
                return int(digits, 16), i + 3
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c], i + 1
    raise ValueError(f"invalid escape sequence \\{c}")


def _perl_class(go: str, i: int) -> Ranges | None:
    """The ranges of ``\\d``, ``\\S``… at ``go[i]`` (on the backslash), or ``None``."""
    letter = go[i + 1:i + 2]
    if letter.lower() in _PERL:
        ranges = _PERL[letter.lower()]
        return _complement(ranges) if letter.isupper() else ranges
    if letter in ("p", "P"):
        raise ValueError("Unicode classes (\\p, \\P) are not supported here")
    return None


def _parse_class(go: str, i: int) -> tuple[str, int]:
    """The Python class for the Go class at ``go[i]`` (on its ``[``) and where it ends."""
    i += 1
    negated = go[i:i + 1] == "^"
    if negated:
        i += 1
    ranges: Ranges = []
    first = True
    while first or go[i:i + 1] != "]":
        if i >= len(go):
            raise ValueError("missing closing ]")
        first = False
        if go.startswith("[:", i) and (end := go.find(":]", i + 2)) >= 0:
            name = go[i + 2:end]
            group = _POSIX.get(name.removeprefix("^"))
            if group is None:
                raise ValueError(f"invalid character class [:{name}:]")
            ranges += _complement(group) if name.startswith("^") else group
            i = end + 2
            continue
        if go[i] == "\\" and (perl := _perl_class(go, i)) is not None:
            ranges += perl
            i += 2
            continue
        lo, i = _escape(go, i + 1) if go[i] == "\\" else (ord(go[i]), i + 1)
        hi = lo
        if go[i:i + 1] == "-" and go[i + 1:i + 2] not in ("]", ""):
            hi, i = _escape(go, i + 2) if go[i + 1] == "\\" else (ord(go[i + 1]), i + 2)
            if hi < lo:
                raise ValueError("invalid character class range")
        ranges.append((lo, hi))
    return _python_class(ranges, negated), i + 1


def _python_regex(go: str) -> str:
    """The Python regular expression matching what the Go one ``go`` matches."""
    out: list[str] = []
    i, n = 0, len(go)
    while i < n:
        c = go[i]
        if c == "[":
            text, i = _parse_class(go, i)
            out.append(text)
            continue
        i += 1
        if c == "^":
            out.append(r"\A")
        elif c == "$":
            out.append(r"\Z")
        elif c == "(":
            out.append("(?:")
        elif c in ".)*?":
            out.append(c)
        elif c != "\\":
            out.append(re.escape(c))
        elif go[i:i + 1] in ("A", "b", "B"):
            out.append("\\" + go[i])
            i += 1
        elif go[i:i + 1] == "z":
            out.append(r"\Z")
            i += 1
        elif go[i:i + 1] == "Q":
            end = go.find("\\E", i + 1)
            end = n if end < 0 else end
            out.append(re.escape(go[i + 1:end]))
            i = min(end + 2, n)
        elif (perl := _perl_class(go, i - 1)) is not None:
            out.append(_python_class(perl, False))
            i += 1
        else:
            value, i = _escape(go, i)
            out.append(re.escape(chr(value)))
    return "".join(out)
