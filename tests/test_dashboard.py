"""The live dashboard example (examples/dashboard/) in a real headless browser.

Debian's chromium, driven by Playwright for Python with ``executable_path`` (nothing downloads
a browser): the page loads, a container started by the test appears as a running row, its Stop
button stops it and the row turns to exited — all through the event stream. The screenshot is
saved to ``tests/artifacts/dashboard.png``.

It runs against one engine only (the newest of the run): the page and the integration layer
behave the same on every engine, and per-engine behaviour of the SSE route is covered by
test_integrations.py; a browser costs seconds of startup per run.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from aiodockersock import Docker, NotFound

from .conftest import (
    IN_CI,
    PODMAN,
    TEST_IMAGE,
    TEST_LABEL,
    ContainerFactory,
    EngineHandle,
    EnginePool,
    engine_labels,
)

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = ROOT / "tests" / "artifacts" / "dashboard.png"
INSTALL = "apt-get install -y chromium && pip install playwright"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _unavailable(why: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and the browser test cannot run: {why}", pytrace=False)
    pytest.skip(f"{why}; install with: {INSTALL}")


def _chromium() -> str:
    chosen = os.environ.get("AIODOCKERSOCK_CHROMIUM")  # a browser binary of your choice
    path = chosen or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None or not os.access(path, os.X_OK):
        _unavailable(f"no chromium at {chosen}" if chosen else "Debian's chromium is not installed")
    assert path is not None
    return path


def _load_dashboard() -> ModuleType:
    path = ROOT / "examples" / "dashboard" / "app.py"
    spec = importlib.util.spec_from_file_location("aiodockersock_dashboard_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_dashboard_lists_and_controls_containers_live(engine_pool: EnginePool) -> None:
    try:
        from playwright.async_api import async_playwright, expect
    except ImportError:
        _unavailable("Playwright for Python is not installed")
    pytest.importorskip("fastapi")
    from .test_integrations import serve_uvicorn

    chromium = _chromium()
    label = [label for label in engine_labels() if label != PODMAN][-1]
    engine = engine_pool.get(label)
    dashboard = _load_dashboard()
    app = dashboard.create_app(engine.host, heartbeat=1.0)
    suffix = secrets.token_hex(3)
    names = {"web": f"ads-dash-web-{suffix}", "worker": f"ads-dash-worker-{suffix}"}
    ids: dict[str, str] = {}
    page_errors: list[str] = []
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        ARTIFACT.unlink()

    async with Docker(engine.host) as docker:
        try:
            async with serve_uvicorn(app) as base, async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=chromium, headless=True,
                                                   args=CHROMIUM_FLAGS)
                try:
                    page = await browser.new_page(viewport={"width": 1000, "height": 520})
                    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
                    await page.goto(base + "/")
                    # subscribed to the event stream and listed
                    await expect(page.locator("#live")).to_have_text("live", timeout=10_000)

                    for role, name in names.items():  # created and started by the test
                        created = await docker.containers.create({
                            "Image": TEST_IMAGE, "Cmd": ["sleep", "300"],
                            "Labels": {TEST_LABEL: "1"}, "StopTimeout": 1,
                            "HostConfig": {"NetworkMode": "none"},
                        }, name=name)
                        assert created.id is not None
                        ids[role] = created.id
                        await docker.containers.start(created.id)

                    worker = page.locator(f'tr[data-name="{names["worker"]}"]')
                    web = page.locator(f'tr[data-name="{names["web"]}"]')
                    for row in (worker, web):  # rows appear without a reload
                        await expect(row.locator("td.state")).to_have_text("running",
                                                                           timeout=10_000)
                        await expect(row.locator("td.image")).to_have_text(TEST_IMAGE)
                        await expect(row.locator("td.status")).to_contain_text("Up")
                    await expect(worker.locator("button.start")).to_be_disabled()

                    await worker.locator("button.stop").click()
                    await expect(worker.locator("td.state")).to_have_text("exited",
                                                                          timeout=15_000)
                    await expect(worker.locator("td.status")).to_contain_text("Exited")
                    await expect(worker.locator("button.start")).to_be_enabled()
                    await expect(web.locator("td.state")).to_have_text("running")
                    await expect(page.locator("#error")).to_have_text("")
                    await page.screenshot(path=str(ARTIFACT), full_page=True)
                finally:
                    await browser.close()
            # the click really stopped it
            assert not (await docker.containers.inspect(ids["worker"])).state.running
        finally:
            for cid in ids.values():
                with contextlib.suppress(NotFound):
                    await docker.containers.remove(cid, force=True)

    assert not page_errors, page_errors
    assert ARTIFACT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------------------------
# safe by default: loopback only, no DNS rebinding, no cross-site requests (no browser needed)
# ---------------------------------------------------------------------------------------------


def test_dashboard_binds_loopback_by_default() -> None:
    dashboard = _load_dashboard()
    assert dashboard.parse_args([]).host == "127.0.0.1"
    with pytest.raises(SystemExit):  # another address: refused without --allowed-host
        dashboard.parse_args(["--host", "0.0.0.0"])
    args = dashboard.parse_args(["--host", "0.0.0.0", "--allowed-host", "dash.internal"])
    assert args.allowed_host == ["dash.internal"]


async def test_dashboard_refuses_a_cross_origin_stop(
    engine: EngineHandle, docker: Docker, make_container: ContainerFactory
) -> None:
    pytest.importorskip("fastapi")
    import httpx

    from .test_integrations import serve_uvicorn

    app = _load_dashboard().create_app(engine.host, heartbeat=1.0)
    cid = await make_container()
    await docker.containers.start(cid)
    async with serve_uvicorn(app) as base, httpx.AsyncClient(base_url=base, trust_env=False,
                                                            timeout=10) as client:
        stop = f"/api/containers/{cid}/stop"
        # what a hidden form on another site sends (a "simple" request: no preflight)
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        for headers in ({"Origin": "http://evil.example", **form},
                        {"Origin": "null", **form},
                        {"Sec-Fetch-Site": "cross-site", **form}):
            refused = await client.post(stop, headers=headers, content=b"x=1")
            assert refused.status_code == 403, (headers, refused.text)
            assert "another" in refused.text or "origin" in refused.text
        assert (await docker.containers.inspect(cid)).state.running
        # the page itself (same origin) may
        allowed = await client.post(stop, headers={"Origin": base,
                                                   "Sec-Fetch-Site": "same-origin"})
        assert allowed.status_code == 200 and allowed.json() == {"id": cid, "changed": True}
    assert not (await docker.containers.inspect(cid)).state.running


async def test_dashboard_refuses_a_foreign_host(engine: EngineHandle) -> None:
    pytest.importorskip("fastapi")
    import httpx

    from .test_integrations import serve_uvicorn

    app = _load_dashboard().create_app(engine.host, heartbeat=1.0)
    async with serve_uvicorn(app) as base, httpx.AsyncClient(base_url=base, trust_env=False,
                                                            timeout=10) as client:
        port = base.rsplit(":", 1)[1]
        for path in ("/api/containers", "/api/events", "/"):
            # a rebound name: the browser sends the attacker's domain as Host
            refused = await client.get(path, headers={"Host": f"rebind.evil.example:{port}"})
            assert refused.status_code == 400 and "Host" in refused.text, path
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", "localhost"):
            assert (await client.get("/api/containers",
                                     headers={"Host": host})).status_code == 200
