"""Browser suite: Debian's Chromium driven by Playwright against a real server.

Every test runs at 390×844 (phone) and 1280×800. Screenshots of every page go to
tests/artifacts/screenshots; axe-core runs on every page and fails the test on a
serious or critical violation. Without Chromium the suite skips with a reason,
unless PORTAL_E2E=required (CI), where it fails.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.net import free_port as _free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REQUIRED = os.environ.get("PORTAL_E2E") == "required"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        if REQUIRED:
            pytest.fail("PORTAL_E2E=required but no Chromium at /usr/bin/chromium (apt-get install chromium)")
        pytest.skip("no Chromium found (apt-get install chromium fonts-noto-cjk to run the browser suite)")
    return CHROMIUM


STRIPE_PORT = 8420  # the port the portal's CSP allows for localstripe's Stripe.js


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    """localstripe on 127.0.0.1:8420 for the shop scenario; None when the port is taken."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", STRIPE_PORT)) == 0:
            yield None
            return
    log = open(ARTIFACTS.parent / "localstripe.log", "wb")
    process = subprocess.Popen([str(Path(sys.executable).parent / "localstripe"), "--port", str(STRIPE_PORT),
                                "--from-scratch"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{STRIPE_PORT}"
    wait_for(url + "/js.stripe.com/v3/", process)
    yield url
    process.terminate()
    process.wait(timeout=10)


@contextlib.contextmanager
def e2e_server(db_path: Path, log_name: str = "e2e-server.log", stripe: str | None = None,
               new_device_code: bool = False) -> Iterator[str]:
    """serve.py on a free port with the SQLite database at `db_path`; yields its base URL.
    `new_device_code`: a browser signing in for the first time gets the login code page."""
    port = _free_port()
    ARTIFACTS.parent.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS.parent / log_name, "wb")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if stripe:
        env.update(PORTAL_STRIPE_API_BASE=stripe, PORTAL_STRIPE_SECRET_KEY="sk_test_e2e",
                   PORTAL_STRIPE_PUBLISHABLE_KEY="pk_test_e2e", PORTAL_STRIPE_WEBHOOK_SECRET="whsec_e2e")
    for name in ("PORTAL_DATABASE_URL", "PORTAL_REDIS_URL", "PORTAL_SMS_BACKEND", "PORTAL_MAIL_BACKEND"):
        env.pop(name, None)
    # Passkeys need a secure context and refuse IP addresses: their journeys use http://localhost.
    env.update(PORTAL_WEBAUTHN_RP_ID="localhost", PORTAL_WEBAUTHN_ORIGIN=f"http://localhost:{port}")
    env["PORTAL_E2E_NEW_DEVICE_CODE"] = "1" if new_device_code else "0"
    process = subprocess.Popen([sys.executable, str(Path(__file__).parent / "serve.py"), str(port), str(db_path)],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # a loaded 2-core machine imports the app slowly
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"the e2e server exited; see {log_name}")
            time.sleep(0.3)
    else:
        process.kill()
        raise RuntimeError("the e2e server did not start in 180 s")
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, chromium_path, localstripe):
    with e2e_server(tmp_path_factory.mktemp("e2e") / "portal.db", stripe=localstripe) as base:
        yield base


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS)
        yield browser
        browser.close()


class Visit:
    """A page plus the checks every page gets: screenshot and axe."""

    def __init__(self, page, base: str, name: str) -> None:
        self.page = page
        self.base = base
        self.name = name
        self.shots = 0

    def goto(self, path: str):
        response = self.page.goto(self.base + path)
        self.check()
        return response

    def check(self, label: str | None = None, exclude: list[str] | None = None) -> None:
        self.page.wait_for_load_state("load")
        self.screenshot(label)
        self.assert_accessible(exclude)

    def screenshot(self, label: str | None = None) -> Path:
        self.shots += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", label or self.page.url.split("//", 1)[-1].split("/", 1)[-1] or "home")
        path = ARTIFACTS / f"{self.name}-{self.shots:02d}-{slug[:60]}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_accessible(self, exclude: list[str] | None = None) -> None:
        """`exclude`: selectors of markup that is not ours (localstripe's stand-in card fields)."""
        from axe_playwright_python.sync_playwright import Axe

        context = {"exclude": [[sel] for sel in exclude]} if exclude else None
        results = Axe().run(self.page, context=context)
        bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
        assert not bad, f"axe on {self.page.url}: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} → {[n['target'] for n in v['nodes']][:3]}" for v in bad)

    def outbox(self) -> list[dict]:
        with urllib.request.urlopen(self.base + "/dev/outbox.json", timeout=5) as response:
            return json.loads(response.read())

    def latest_code(self, to_suffix: str) -> str:
        for message in self.outbox():
            if message["to"].endswith(to_suffix):
                match = re.search(r"(\d{6})", message["body"])
                if match:
                    return match.group(1)
        raise AssertionError(f"no code sent to …{to_suffix}")

    def login(self, login_id: str = "demo", password: str = "Demo-pass-2026") -> None:
        self.goto("/login")
        self.page.get_by_label("ログインID").fill(login_id)
        self.page.get_by_label("パスワード").fill(password)
        # Wait for the sign-in's own navigation: a page loaded before the response
        # carries the signed-out session, and its Set-Cookie could overwrite the new one.
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="ログイン", exact=True).click()
        self.page.wait_for_load_state("load")
        if self.page.url.split("?", 1)[0].endswith("/login/code"):
            # An earlier journey may have ended this browser's remembered devices
            # (security centre): answer the new-device code like a member would.
            code_input = self.page.locator("input[name=code]")
            code_input.fill(self.latest_code("12340001" if login_id == "demo" else ""))
            with self.page.expect_navigation():
                code_input.locator("xpath=ancestor::form").locator("button[type=submit]").click()
            self.page.wait_for_load_state("load")
        assert "/login" not in self.page.url, f"sign-in did not finish: {self.page.url}"


@pytest.fixture(params=list(VIEWPORTS))
def visit(request, browser, live_server):
    context = browser.new_context(viewport=VIEWPORTS[request.param], locale="ja-JP",
                                  timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.set_default_timeout(15_000)
    name = f"{request.node.originalname}-{request.param}"
    yield Visit(page, live_server, name)
    context.close()


@pytest.fixture
def large_text(visit):
    """The same page with 文字サイズ 大 (axe must pass there too)."""
    visit.page.context.add_cookies([{"name": "textsize", "value": "large", "url": visit.base}])
    return visit
