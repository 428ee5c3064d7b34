"""Every code block of ``README.md`` and ``docs/*.md`` runs, against a real engine: the docs tell
the truth.

Each ```` ```python ```` block is one test case (id ``file:line``), run the way its shape says:

- **a fragment** (``await``, ``async with`` or ``async for`` at the top level, as most are): run
  in this test's event loop, with these names given — ``docker`` (a client of the test engine),
  ``aiodockersock``, ``cid`` (the id of the container ``web``) and placeholders for the reader's
  own code: ``password``, ``token``, ``log``, ``handle(item)``, ``relist()``;
- **a program** (calls ``asyncio.run``): run as ``python -c`` with ``DOCKER_HOST`` set;
- **a test module** (defines ``test_…`` functions or fixtures, docs/testing.md): run by pytest
  with the plugin enabled, configured by the guide's own ``ini`` block; a block of fixtures
  alone is the ``conftest.py`` of a small test that uses ``docker_client``;
- **a module** (definitions only, such as a FastAPI app): executed, must import cleanly; a
  FastAPI ``app`` is then served by ``TestClient`` (its lifespan included), each ``GET`` route
  without parameters asked once, except streams.

What the blocks name exists when they run (the *world*), created for the block that mentions it
and removed afterwards with everything the block created:

- the images ``busybox``, ``busybox:latest``, ``nginx``, ``alpine``, ``postgres:16`` and
  ``app:dev`` (the test image under other names: nothing is pulled from the internet);
- the containers ``web`` (``sh`` reading its open stdin, label ``app=web``, on a network of its
  own), ``db`` (running, with a health check) and ``job`` (exits after a second), each only when
  the block names it in quotes (or ``cid``) and does not create it (``name="web"``); ``web``
  has a log file in ``/var/log/app``;
- the network ``backend`` and the volume ``pgdata`` likewise;
- the registry ``127.0.0.1:5000``: the session's test registry stands in for it (its address is
  put in the block), with ``team/app:1.0`` pushed to it;
- a working directory holding ``config/``, ``site/``, ``app.conf``, ``app/`` (a Dockerfile
  with a ``runtime`` stage), ``files.tar`` and ``rootfs.tar``, and for a block that names it
  ``volume-plugin/`` (a volume-driver plugin's ``config.json`` and ``rootfs/``, built by
  ``tests/plugindir.py``); ``DOCKER_CONFIG`` points to an empty directory;
- for a block that passes ``ssh=``, an ``ssh-agent`` holding one key at ``$SSH_AUTH_SOCK``.

Comments on the line before a block change how it runs:

- ``<!-- runs until cancelled -->``: the block streams forever by design (``async for`` over a
  followed log, the events); it passes when it is still running, without error, after a few
  seconds, and is then cancelled;
- ``<!-- on a swarm manager -->``: ``docker`` is a client of the manager of the session's
  single-node swarm of the engine's version (the ``swarm`` fixture; the others are not in a
  swarm), where ``busybox`` is the test image and ``web`` (when the block names it) a service
  of it with two replicas; the swarm's and the nodes' specs are put back afterwards, and the
  services, secrets and configs the block made are removed;
- ``<!-- on new engines -->``: for a block that creates, joins or leaves a swarm: ``docker``
  is a client of a fresh private engine of that version, and ``tcp://192.168.1.11:2376`` the
  address of a second one when the block names it; ``192.168.1.10`` and ``192.168.1.11`` (the
  two engines' addresses, with ``:2377`` their listen ports) become loopback addresses of
  their own; the engines are stopped afterwards;
- ``<!-- not run: reason -->``: it cannot run here (the reason says why; it is still compiled);
  keep these rare.

The ``ini`` and ``toml`` blocks are parsed, and docs/testing.md's ``ini`` block configures the
pytest run of its test blocks: a value pytest would misread fails there.
"""

from __future__ import annotations

import ast
import asyncio
import configparser
import contextlib
import io
import logging
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import aiodockersock
from aiodockersock import Docker, NotFound, NotSupported

from .conftest import (
    ROOT,
    TEST_IMAGE,
    TEST_LABEL,
    EngineHandle,
    EnginePool,
    RegistryHandle,
    SwarmHandle,
    stop_all,
)
from .engines.swarm import node_address
from .plugindir import NoCompiler, make_plugin_dir
from .sshagent import start_agent

FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
MARKER = re.compile(
    r"<!--\s*(not run|runs until cancelled|on a swarm manager|on new engines)\s*:?\s*(.*?)\s*-->"
)
IMAGES = ["busybox", "busybox:latest", "nginx", "alpine", "postgres:16", "app:dev"]
REGISTRY = "127.0.0.1:5000"
#: Blocks known to be wrong, fixed on another branch (a line of the block → why): expected to
#: fail until then, and to fail this test once they pass (strict), so that the entry goes.
KNOWN_WRONG: dict[str, str] = {}
ENDLESS_FOR = 3.0  # seconds a "runs until cancelled" block must keep running
TIMEOUT = 90.0


@dataclass(frozen=True)
class Block:
    """One fenced code block of a guide."""

    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    marker: str | None  # "not run", "runs until cancelled", "on a swarm manager", "on new engines"
    reason: str

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"

    @property
    def kind(self) -> str:
        """``fragment``, ``program``, ``pytest`` or ``module`` (see the module docstring)."""
        code = compile(self.code, self.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                       dont_inherit=True)
        if code.co_flags & 0x80:  # CO_COROUTINE: top-level await
            return "fragment"
        if "asyncio.run(" in self.code:
            return "program"
        if re.search(r"^(async )?def test_|^@pytest(_asyncio)?\.fixture", self.code, re.M):
            return "pytest"
        return "module"


def blocks(*langs: str) -> list[Block]:
    """The fenced blocks in ``langs`` of every guide, in order."""
    found = []
    for path in FILES:
        text = path.read_text()
        for match in FENCE.finditer(text):
            if match.group(1) not in langs:
                continue
            line = text.count("\n", 0, match.start()) + 1
            before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
            marker = MARKER.fullmatch(before.strip())
            found.append(Block(path, line, match.group(1), match.group(2),
                               marker.group(1) if marker else None,
                               marker.group(2) if marker else ""))
    return found


PYTHON = blocks("python")


def test_the_blocks_are_found() -> None:
    """The extraction sees the blocks (and few are exempt, each with a reason)."""
    assert len(PYTHON) > 30
    assert {b.path.name for b in PYTHON} >= {"README.md", "containers.md", "images.md",
                                               "testing.md", "events.md"}
    exempt = [b for b in PYTHON if b.marker == "not run"]
    assert len(exempt) <= 2 and all(b.reason for b in exempt), exempt
    for block in PYTHON:
        assert block.kind in ("fragment", "program", "pytest", "module")


@pytest.mark.parametrize("block", blocks("ini", "toml"), ids=lambda b: b.id)
def test_config_blocks_parse(block: Block) -> None:
    """An ``ini`` block is what pytest reads: no inline comments (pytest keeps them in the
    value), every value one of the documented options'."""
    if block.lang == "toml":
        tomllib = pytest.importorskip("tomllib")  # Python 3.11+
        tomllib.loads(block.code)
        return
    parser = configparser.ConfigParser(inline_comment_prefixes=None)
    parser.read_string(block.code)
    for section in parser.sections():
        for key, value in parser.items(section):
            assert "#" not in value and ";" not in value, (
                f"{block.id}: {key} = {value!r}: pytest reads an inline comment as part of the "
                "value; put the comment on a line of its own")


# ---------------------------------------------------------------------------------------------
# The world the blocks run in
# ---------------------------------------------------------------------------------------------

_pushed: set[tuple[str, str]] = set()  # (engine, registry) pairs holding team/app:1.0


def _mentions(code: str, name: str) -> bool:
    return f'"{name}"' in code or f"'{name}'" in code


def _creates(code: str, pattern: str) -> bool:
    return re.search(pattern, code) is not None


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if name.startswith("bin/") else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _workdir(path: Path) -> None:
    (path / "config").mkdir()
    (path / "config/app.conf").write_text("level = debug\n")
    (path / "site").mkdir()
    (path / "site/index.html").write_text("<h1>hello</h1>\n")
    (path / "app.conf").write_text("level = info\n")
    (path / "app").mkdir()
    (path / "app/Dockerfile").write_text(
        "FROM busybox AS build\nARG VERSION\nRUN echo \"$VERSION\" > /version\n"
        "FROM busybox AS runtime\nCOPY --from=build /version /version\n"
        'CMD ["cat", "/version"]\n'
    )
    (path / "files.tar").write_bytes(_tar({"hello.txt": b"hello\n"}))
    (path / "rootfs.tar").write_bytes(_tar({"etc/motd": b"welcome\n"}))


@dataclass
class World:
    docker: Docker
    engine: EngineHandle
    cwd: Path
    code: str
    cid: str | None = None


async def _plugins(docker: Docker) -> set[str]:
    try:
        return {p.name for p in await docker.plugins.list() if p.name}
    except NotSupported:  # Podman has no plugins
        return set()


async def _snapshot(docker: Docker) -> dict[str, set[str]]:
    images = await docker.images.list()
    return {
        "containers": {c.id for c in await docker.containers.list(all=True) if c.id},
        "networks": {n.id for n in await docker.networks.list() if n.id},
        "volumes": {v.name for v in await docker.volumes.list()},
        "plugins": await _plugins(docker),
        "tags": {t for i in images for t in (i.repo_tags or []) if not t.startswith("<none>")},
    }


async def _clean(docker: Docker, before: dict[str, set[str]]) -> None:
    """Remove what appeared since ``before``: containers first, then networks, volumes, tags."""
    after = await _snapshot(docker)
    for cid in after["containers"] - before["containers"]:
        with contextlib.suppress(NotFound):
            await docker.containers.remove(cid, force=True, volumes=True)
    for net in after["networks"] - before["networks"]:
        with contextlib.suppress(NotFound):
            await docker.networks.remove(net)
    for vol in after["volumes"] - before["volumes"]:
        with contextlib.suppress(NotFound):
            await docker.volumes.remove(vol, force=True)
    for plugin in after["plugins"] - before["plugins"]:
        with contextlib.suppress(NotFound):
            await docker.plugins.remove(plugin, force=True)
    for tag in after["tags"] - before["tags"]:
        with contextlib.suppress(NotFound):
            await docker.images.remove(tag)


async def _make_world(world: World, request: pytest.FixtureRequest) -> str:
    """Create what the block names (see the module docstring); returns the code to run."""
    docker, code = world.docker, world.code
    for name in IMAGES:
        repo, _, tag = name.partition(":")
        await docker.images.tag(TEST_IMAGE, repo, tag or "latest")
    # a container that uses the test image, so that a block's image prune cannot remove it
    await docker.containers.create({"Image": TEST_IMAGE, "Labels": {TEST_LABEL: "1"},
                                    "HostConfig": {"NetworkMode": "none"}})
    if REGISTRY in code:
        registry: RegistryHandle = request.getfixturevalue("registry")
        code = code.replace(REGISTRY, registry.address)
        key = (world.engine.label, registry.address)
        await docker.images.tag(TEST_IMAGE, f"{registry.address}/team/app", "1.0")
        if key not in _pushed:
            await docker.images.push(f"{registry.address}/team/app:1.0")
            _pushed.add(key)
    if _mentions(code, "volume-plugin"):
        try:  # a description (and so a rootfs) of its own: dockerd stores each rootfs once
            make_plugin_dir(world.cwd / "volume-plugin", f"docs {world.cwd.parent.name}")
        except NoCompiler as exc:
            pytest.skip(str(exc))
    if _mentions(code, "backend") and not _creates(code, r'networks\.create\(\s*"backend"'):
        await docker.networks.create("backend", labels={TEST_LABEL: "1"})
    if _mentions(code, "pgdata") and not _creates(code, r'volumes\.create\(\s*"pgdata"'):
        await docker.volumes.create("pgdata", labels={TEST_LABEL: "1"})
    base = {"Image": "busybox", "Labels": {TEST_LABEL: "1"}, "StopTimeout": 1,
            "HostConfig": {"NetworkMode": "none"}}
    if (_mentions(code, "web") or re.search(r"\bcid\b", code)) and not _creates(
        code, r'name="web"'
    ):
        home = await docker.networks.create("docs-home", labels={TEST_LABEL: "1"})
        created = await docker.containers.create(
            {**base, "Cmd": ["sh", "-c", "mkdir -p /var/log/app && echo started > "
                             "/var/log/app/app.log && exec sh"], "OpenStdin": True,
             "Labels": {TEST_LABEL: "1", "app": "web"},
             "HostConfig": {"NetworkMode": "docs-home"}},
            name="web",
        )
        assert home.id and created.id
        await docker.containers.start("web")
        # its command makes /var/log/app: wait for it (a block may copy into /var at once)
        for _ in range(200):
            with contextlib.suppress(NotFound):
                await docker.containers.stat_path("web", "/var/log/app/app.log")
                break
            await asyncio.sleep(0.05)
        world.cid = created.id
    if _mentions(code, "db") and not _creates(code, r'name="db"'):
        await docker.containers.create(
            {**base, "Cmd": ["sleep", "300"],
             "Healthcheck": {"Test": ["CMD", "true"], "Interval": 10**9, "Retries": 3}},
            name="db",
        )
        await docker.containers.start("db")
    if _mentions(code, "job") and not _creates(code, r'name="job"'):
        await docker.containers.create({**base, "Cmd": ["sleep", "1"]}, name="job")
        await docker.containers.start("job")
    return code


#: The addresses a swarm guide gives its two engines, and the second one's Docker address.
DOC_NODES = ("192.168.1.10", "192.168.1.11")
DOC_OTHER_ENGINE = "tcp://192.168.1.11:2376"


async def _swarm_specs(docker: Docker) -> Callable[[], Any]:
    """Remember the swarm's and its nodes' specs; returns a coroutine function that puts them
    back (a block on the session swarm may change them)."""
    swarm = (await docker.swarm.inspect()).spec
    nodes = {n.id: n.spec for n in await docker.nodes.list() if n.id}

    async def restore() -> None:
        await docker.swarm.update(swarm)
        for node_id, spec in nodes.items():
            await docker.nodes.update(node_id, spec=spec)

    return restore


async def _swarm_snapshot(docker: Docker) -> dict[str, set[str]]:
    return {
        "services": {s.id for s in await docker.services.list() if s.id},
        "secrets": {s.id for s in await docker.secrets.list() if s.id},
        "configs": {c.id for c in await docker.configs.list() if c.id},
    }


async def _swarm_objects(docker: Docker, swarm: SwarmHandle, code: str) -> Callable[[], Any]:
    """On the swarm: ``busybox`` is the test image, and ``web`` a service of it (two replicas)
    when the block names it; returns a coroutine function that removes the services, secrets
    and configs made since."""
    await docker.images.tag(TEST_IMAGE, "busybox", "latest")
    before = await _swarm_snapshot(docker)
    if _mentions(code, "web") and not _creates(code, r'name="web"'):
        await docker.services.create(
            image=swarm.image_id, name="web", replicas=2, labels={TEST_LABEL: "1"},
            command=["sh", "-c", "echo ready; trap 'exit 0' TERM; sleep 600 & wait"],
        )

    async def remove() -> None:
        after = await _swarm_snapshot(docker)
        for service in after["services"] - before["services"]:
            with contextlib.suppress(NotFound):
                await docker.services.remove(service)
        for secret in after["secrets"] - before["secrets"]:
            with contextlib.suppress(NotFound):
                await docker.secrets.remove(secret)
        for config in after["configs"] - before["configs"]:
            with contextlib.suppress(NotFound):
                await docker.configs.remove(config)

    return remove


@pytest.fixture
async def world(
    request: pytest.FixtureRequest, engine: EngineHandle, engine_pool: EnginePool,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Callable[..., Any]]:
    """Sets up the world for a block's code (a coroutine function: code, marker → (World,
    code))."""
    cwd = tmp_path / "work"
    cwd.mkdir()
    _workdir(cwd)
    (tmp_path / "docker-config").mkdir()
    monkeypatch.setenv("DOCKER_HOST", engine.host)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.chdir(cwd)
    async with contextlib.AsyncExitStack() as stack:
        docker = await stack.enter_async_context(Docker(engine.host))
        before = await _snapshot(docker)
        image_id = (await docker.images.inspect(TEST_IMAGE)).id
        assert image_id is not None

        async def make(code: str, marker: str | None = None) -> tuple[World, str]:
            if marker == "on a swarm manager":
                swarm = engine_pool.get_swarm(engine.label)
                manager = await stack.enter_async_context(Docker(swarm.host))
                stack.push_async_callback(await _swarm_specs(manager))
                stack.push_async_callback(await _swarm_objects(manager, swarm, code))
                return World(manager, swarm, cwd, code), code
            if marker == "on new engines":
                count = 2 if DOC_OTHER_ENGINE in code else 1
                fresh = await asyncio.to_thread(
                    lambda: [engine_pool.start_private(engine.label) for _ in range(count)])
                stack.push_async_callback(asyncio.to_thread, stop_all,
                                          [e.managed for e in fresh if e.managed is not None])
                if count == 2:
                    code = code.replace(DOC_OTHER_ENGINE, fresh[1].host)
                for doc_addr in DOC_NODES:
                    addr, listen = node_address()
                    code = code.replace(f"{doc_addr}:2377", listen).replace(doc_addr, addr)
                client = await stack.enter_async_context(Docker(fresh[0].host))
                return World(client, fresh[0], cwd, code), code
            if "ssh=" in code:
                agent = stack.enter_context(start_agent("docs@aiodockersock"))
                monkeypatch.setenv("SSH_AUTH_SOCK", str(agent.socket))
            made = World(docker, engine, cwd, code)
            return made, await _make_world(made, request)

        try:
            yield make
        finally:
            # the world's container keeps the image; Docker 28's image prune untags it though
            if not await docker.images.exists(TEST_IMAGE):
                repo, _, tag = TEST_IMAGE.partition(":")
                await docker.images.tag(image_id, repo, tag)
            await _clean(docker, before)


# ---------------------------------------------------------------------------------------------
# Running a block
# ---------------------------------------------------------------------------------------------


def _given(world: World) -> dict[str, Any]:
    """The names a fragment may use without defining them."""

    async def relist() -> None:
        await world.docker.containers.list(all=True)

    return {
        "__name__": "__docs__",
        "docker": world.docker,
        "aiodockersock": aiodockersock,
        "cid": world.cid,
        "password": "not-a-secret",
        "token": "not-a-token",
        "log": logging.getLogger("docs"),
        "handle": lambda item: None,
        "relist": relist,
    }


async def _run_fragment(block: Block, world: World, code: str) -> None:
    compiled = compile(code, block.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                       dont_inherit=True)
    task = asyncio.ensure_future(eval(compiled, _given(world)))
    if block.marker == "runs until cancelled":
        done, _ = await asyncio.wait({task}, timeout=ENDLESS_FOR)
        if done:
            task.result()  # ended on its own: fine, if without an error
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return
    await asyncio.wait_for(task, TIMEOUT)


async def _subprocess(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "error"}
    return await asyncio.to_thread(
        subprocess.run, argv, cwd=cwd, env=env, capture_output=True, text=True,
        timeout=TIMEOUT, check=False,
    )


def _ini_of(path: Path) -> str:
    """The guide's own pytest configuration: its first ``ini`` block."""
    found = [b for b in blocks("ini") if b.path == path]
    return found[0].code if found else "[pytest]\nasyncio_mode = auto\n"


async def _run_pytest(block: Block, world: World, code: str) -> None:
    project = world.cwd / "project"
    project.mkdir()
    ini = _ini_of(block.path)
    if re.search(r"^(async )?def test_", code, re.M):
        (project / "test_block.py").write_text(code)
    else:  # fixtures alone: a conftest.py, used by a test, with the loop scopes it asks for
        (project / "conftest.py").write_text(code)
        (project / "test_block.py").write_text(
            "async def test_uses_the_fixtures(docker_client):\n"
            "    assert await docker_client.ping()\n"
        )
        ini = re.sub(r"^asyncio_default_\w+_loop_scope\s*=.*\n", "", ini, flags=re.M)
        ini += ("asyncio_default_fixture_loop_scope = session\n"
                "asyncio_default_test_loop_scope = session\n")
    (project / "pytest.ini").write_text(ini)
    done = await _subprocess(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error",
         "--aiodockersock", "--aiodockersock-missing=fail"], project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b[1-9]\d* passed", done.stdout), done.stdout


async def _run_module(block: Block, world: World, code: str) -> None:
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    exec(compile(code, block.id, "exec", dont_inherit=True), namespace)
    app = namespace.get("app")
    if app is None or type(app).__name__ != "FastAPI":
        return
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), \
            httpx.AsyncClient(transport=transport, base_url="http://docs") as client:
        for route in app.routes:
            path = getattr(route, "path", "")
            if ("GET" in getattr(route, "methods", ()) and "{" not in path
                    and "event" not in path
                    and not path.startswith(("/docs", "/openapi", "/redoc"))):
                response = await client.get(path)
                assert response.status_code == 200, (path, response.text)


@pytest.mark.parametrize("block", PYTHON, ids=lambda b: b.id)
async def test_python_block_runs(
    block: Block, world: Callable[..., Any], request: pytest.FixtureRequest
) -> None:
    if block.marker == "not run":
        # it cannot run here (no internet); it must still be valid Python and say why
        assert block.reason, f"{block.id}: a 'not run' block must give its reason"
        compile(block.code, block.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        return
    for line, why in KNOWN_WRONG.items():
        if line in block.code:
            request.applymarker(pytest.mark.xfail(reason=why, strict=True))
    made, code = await world(block.code, block.marker)
    kind = block.kind
    if kind == "fragment":
        await _run_fragment(block, made, code)
    elif kind == "program":
        done = await _subprocess([sys.executable, "-c", code], made.cwd)
        assert done.returncode == 0, done.stderr
    elif kind == "pytest":
        await _run_pytest(block, made, code)
    else:
        await _run_module(block, made, code)
