#!/usr/bin/env python3
"""Build the documentation site: the guides in docs/*.md and the API reference from docstrings.

    pip install -e '.[docs]'
    python scripts/docs.py                 # into site/ (open site/index.html)
    python scripts/docs.py -o /tmp/site

Offline and quick (a few seconds): pdoc renders the reference (Google-style docstrings) into
``reference/``; the guides are rendered with pdoc's Markdown settings into pdoc's own page
frame, so both look alike. Two things are checked, and the build fails on either:

- every link in a guide leads to a page and an anchor that exist;
- inline code in a guide that names the API (``docker.containers.logs``, ``EventsLost``,
  ``ContainerInspect``) is linked to its entry in the reference, and must have one.

pdoc's warnings fail the build too, except for annotations it cannot evaluate (it then shows
them as written).
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

#: The guides in their order in the navigation: file name and label. Every docs/*.md is here.
GUIDES = [
    ("index.md", "Overview"),
    ("getting-started.md", "Getting started"),
    ("containers.md", "Containers"),
    ("images.md", "Images"),
    ("exec-attach.md", "Exec and attach"),
    ("networks-volumes.md", "Networks and volumes"),
    ("plugins.md", "Plugins"),
    ("swarm.md", "Swarm: nodes and the swarm itself"),
    ("events.md", "Events"),
    ("errors.md", "Errors"),
    ("web-apps.md", "In web apps: FastAPI and aiohttp"),
    ("security.md", "Security"),
    ("engines.md", "Engines and Podman"),
    ("remote-hosts.md", "Remote hosts: ssh, TLS, contexts"),
    ("fleets.md", "Fleets: many engines as one"),
    ("testing.md", "Testing with the pytest plugin"),
    ("migration.md", "Migrating from aiodocker and docker-py"),
    ("architecture.md", "Architecture (for maintainers)"),
]

#: The modules of the API reference.
MODULES = [
    "aiodockersock",
    "aiodockersock.containers",
    "aiodockersock.images",
    "aiodockersock.execs",
    "aiodockersock.networks",
    "aiodockersock.volumes",
    "aiodockersock.plugins",
    "aiodockersock.swarm",
    "aiodockersock.nodes",
    "aiodockersock.events",
    "aiodockersock.system",
    "aiodockersock.services",
    "aiodockersock.tasks",
    "aiodockersock.secrets",
    "aiodockersock.configs",
    "aiodockersock.models",
    "aiodockersock.pytest_plugin",
    "aiodockersock.integrations.fastapi",
    "aiodockersock.integrations.aiohttp",
]

#: ``docker.<area>`` → the module and class that document it.
AREAS = {
    "containers": ("aiodockersock.containers", "Containers"),
    "images": ("aiodockersock.images", "Images"),
    "execs": ("aiodockersock.execs", "Execs"),
    "networks": ("aiodockersock.networks", "Networks"),
    "volumes": ("aiodockersock.volumes", "Volumes"),
    "plugins": ("aiodockersock.plugins", "Plugins"),
    "swarm": ("aiodockersock.swarm", "Swarm"),
    "nodes": ("aiodockersock.nodes", "Nodes"),
    "events": ("aiodockersock.events", "Events"),
    "system": ("aiodockersock.system", "System"),
    "services": ("aiodockersock.services", "Services"),
    "tasks": ("aiodockersock.tasks", "Tasks"),
    "secrets": ("aiodockersock.secrets", "Secrets"),
    "configs": ("aiodockersock.configs", "Configs"),
}

TOLERATED_WARNING = "Error parsing type annotation"


class DocsError(Exception):
    """The documentation does not build cleanly; the message lists every problem."""


def page_of(module: str) -> str:
    """The reference page of a module, relative to the site root."""
    return "reference/" + module.replace(".", "/") + ".html"


def build(out: Path, docs: Path = DOCS) -> list[str]:
    """Build the site into ``out`` (emptied first) from the guides in ``docs``. Returns the
    tolerated pdoc warnings.

    Raises:
        DocsError: a broken link, an API name the reference lacks, a guide missing from the
            navigation, or a pdoc warning.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # document this checkout, whatever is installed
    import pdoc
    import pdoc.render
    import pdoc.render_helpers

    import aiodockersock

    problems: list[str] = []
    on_disk = sorted(p.name for p in docs.glob("*.md"))
    listed = sorted(name for name, _ in GUIDES)
    if on_disk != listed:
        problems.append(f"docs/*.md {on_disk} and GUIDES in scripts/docs.py {listed} differ")

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    pdoc.render.configure(
        docformat="google",
        show_source=False,
        search=True,
        template_directory=docs / "_templates",
        footer_text=f"aiodockersock {aiodockersock.__version__}",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.pdoc(*MODULES, output_directory=out / "reference")
    _polish_reference(out / "reference")
    tolerated = sorted({str(w.message) for w in caught if TOLERATED_WARNING in str(w.message)})
    problems += sorted(
        f"pdoc: {w.message}" for w in caught if TOLERATED_WARNING not in str(w.message)
    )

    anchors = {
        str(path.relative_to(out)): set(re.findall(r'\bid="([^"]+)"', path.read_text()))
        for path in out.rglob("*.html")
    }
    names = _api_names(anchors)
    template = pdoc.render.env.get_template("guide.html.jinja2")
    pages: dict[str, str] = {}
    for name, _label in GUIDES:
        source = docs / name
        if not source.exists():
            continue
        text = source.read_text()
        rendered = pdoc.render_helpers.to_html(text)
        toc = getattr(rendered, "toc_html", None)
        body = _link_md(str(rendered))
        body = _autolink(body, names, anchors, name, problems,
                         last_column_only=name == "migration.md")
        title = re.search(r"^# (.+)$", text, re.MULTILINE)
        page = name[:-3] + ".html"
        pages[page] = template.render(
            title=title.group(1) if title else name,
            body=body,
            toc=_link_md(toc) if toc else None,
            guides=[(n[:-3] + ".html", label) for n, label in GUIDES],
            current=page,
            version=aiodockersock.__version__,
        )
    for page, content in pages.items():
        (out / page).write_text(content)
        anchors[page] = set(re.findall(r'\bid="([^"]+)"', content))
    for page, content in pages.items():
        problems += _broken_links(page, content, anchors)
    if problems:
        raise DocsError("the docs do not build cleanly:\n  " + "\n  ".join(problems))
    return tolerated


def _polish_reference(reference: Path) -> None:
    """Two reST habits of the docstrings that pdoc leaves visible: ``:class:`~a.b.C``` (shown
    as ``C``, as Sphinx does) and the ``::`` that introduces a code block (shown as ``:``)."""
    for page in reference.rglob("*.html"):
        text = page.read_text()
        text = re.sub(r'<code>~(<a href="[^"]*">)(?:[\w]+\.)+(\w+)</a></code>',
                      r"<code>\1\2</a></code>", text)
        text = re.sub(r"<code>~(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)</code>", r"<code>\1</code>", text)
        text = text.replace("::</p>", ":</p>")
        page.write_text(text)


def _api_names(anchors: dict[str, set[str]]) -> dict[str, str]:
    """Public names → their reference entry (``page#anchor``): the package's ``__all__`` and the
    models'."""
    import aiodockersock
    import aiodockersock.models

    names: dict[str, str] = {}
    for module, exported in (
        ("aiodockersock.models", aiodockersock.models.__all__),
        ("aiodockersock", aiodockersock.__all__),
    ):
        page = page_of(module)
        for name in exported:
            if name in anchors.get(page, ()):
                names[name] = f"{page}#{name}"
    return names


def _link_md(content: str) -> str:
    """Links between guides are written to the .md files (so they work on GitHub too)."""
    return re.sub(r'href="([\w-]+)\.md(#[^"]*)?"', r'href="\1.html\2"', content)


_CODE = re.compile(r"<code>([^<]+)</code>")
_PRE = re.compile(r"(<pre.*?</pre>|<a\b.*?</a>)", re.DOTALL)
_TABLE = re.compile(r"(<table>.*?</table>)", re.DOTALL)
_ROW = re.compile(r"<tr>.*?</tr>", re.DOTALL)
_CELL = re.compile(r"<td\b.*?</td>", re.DOTALL)
_CALL = re.compile(r"^(?:await |async for \w+ in |async with )?docker\.(\w+)(?:\.(\w+))?\b")


def _autolink(
    body: str, names: dict[str, str], anchors: dict[str, set[str]], guide: str,
    problems: list[str], *, last_column_only: bool = False,
) -> str:
    """Link inline code naming the API to the reference; an unknown ``docker.x.y`` is a
    problem (a guide describing a method that does not exist). ``last_column_only``: only the
    last cell of each table row (the migration table, whose other columns are other libraries'
    calls)."""

    def target(code: str) -> str | None:
        text = html.unescape(code).strip()
        call = _CALL.match(text)
        if call:
            area, member = call.groups()
            if area in AREAS:
                module, cls = AREAS[area]
                if member is not None:
                    anchor = f"{cls}.{member}"
                elif f"{cls}.__call__" in anchors.get(page_of(module), ()):
                    anchor = f"{cls}.__call__"  # docker.events(...)
                else:
                    anchor = cls
            elif member is None:
                module, anchor = "aiodockersock", f"Docker.{area}"
            else:
                problems.append(f"{guide}: {text!r}: docker.{area} is not an area")
                return None
            if anchor not in anchors.get(page_of(module), ()):
                problems.append(f"{guide}: {text!r} is not in the API reference")
                return None
            return f"{page_of(module)}#{anchor}"
        bare = re.fullmatch(r"(?:aiodockersock\.(?:models\.)?)?(\w+)(?:\(\))?", text)
        if bare and bare.group(1) in names:
            return names[bare.group(1)]
        return None

    def link(match: re.Match[str]) -> str:
        href = target(match.group(1))
        return match.group(0) if href is None else f'<a href="{href}">{match.group(0)}</a>'

    def linked(part: str) -> str:
        pieces = _PRE.split(part)
        return "".join(p if i % 2 else _CODE.sub(link, p) for i, p in enumerate(pieces))

    def row(match: re.Match[str]) -> str:
        cells = _CELL.findall(match.group(0))
        if not cells:
            return match.group(0)
        head, _, tail = match.group(0).rpartition(cells[-1])
        return head + linked(cells[-1]) + tail

    parts = _TABLE.split(body)
    return "".join(
        _ROW.sub(row, part) if i % 2 and last_column_only else linked(part)
        for i, part in enumerate(parts)
    )


def _broken_links(page: str, content: str, anchors: dict[str, set[str]]) -> list[str]:
    broken = []
    for href in re.findall(r'\bhref="([^"]+)"', content):
        href = html.unescape(href)
        if re.match(r"^[a-z][a-z0-9+.-]*:", href) or href.startswith("//"):
            continue  # http(s), mailto: not checked offline
        path, _, anchor = href.partition("#")
        if path.endswith(".css") or path.endswith(".js"):
            continue
        target = str((Path(page).parent / path).as_posix()) if path else page
        target = str(Path(target).as_posix())
        if target not in anchors:
            broken.append(f"{page}: link to a missing page: {href}")
        elif anchor and anchor not in anchors[target]:
            broken.append(f"{page}: link to a missing anchor: {href}")
    return broken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "site",
                        help="the output directory (emptied first; default: site/)")
    args = parser.parse_args(argv)
    try:
        tolerated = build(args.out)
    except ImportError as exc:
        if exc.name not in ("pdoc", "markdown2"):
            raise
        print(f"error: {exc}; install the docs extra: pip install -e '.[docs]'", file=sys.stderr)
        return 2
    except DocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for message in tolerated:
        print(f"note: {message}", file=sys.stderr)
    print(f"built {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
