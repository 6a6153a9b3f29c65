"""Lighthouse's accessibility audit of the main member pages, signed in, at its
mobile settings: every page must score 100.

Lighthouse comes from the project's package-lock.json (`make e2e-deps` runs
`npm ci`). It drives its own headless Chromium (CHROME_PATH) and gets the member's
session as a Cookie header (--extra-headers), so it sees the pages a member sees.
The JSON reports go to tests/artifacts/lighthouse/.
"""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from tests.e2e.conftest import REQUIRED, ROOT, VIEWPORTS, Visit

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
REPORTS = ROOT / "tests" / "artifacts" / "lighthouse"

# The pages members use most, and forms of each kind (the address form, the claims wizard).
MAIN_PAGES = ["/mypage", "/contracts", "/coverage", "/certificates", "/requests", "/profile/address",
              "/claims/new", "/account/security"]
LARGE_TEXT_PAGES = ["/mypage", "/profile/address"]


@pytest.fixture(scope="module")
def lighthouse() -> str:
    if not LIGHTHOUSE.exists():
        message = "Lighthouse is not installed: run `make e2e-deps` (npm ci)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    return str(LIGHTHOUSE)


@pytest.fixture(scope="module")
def session_cookie(browser, live_server) -> str:
    context = browser.new_context(viewport=VIEWPORTS["phone"], locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.set_default_timeout(15_000)
    visit = Visit(page, live_server, "lighthouse-sign-in")
    visit.login()
    assert page.url.endswith("/mypage")
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies(live_server) if c["name"] != "textsize")
    context.close()
    return cookies


def audit(lighthouse: str, chromium_path: str, url: str, cookie: str, report: str) -> dict:
    REPORTS.mkdir(parents=True, exist_ok=True)
    output = REPORTS / f"{report}.json"
    command = [lighthouse, url, "--only-categories=accessibility", "--form-factor=mobile",
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage",
               "--extra-headers=" + json.dumps({"Cookie": cookie}), "--output=json",
               f"--output-path={output}", "--quiet"]
    result = subprocess.run(command, env={**os.environ, "CHROME_PATH": chromium_path}, capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, f"lighthouse failed on {url}: {result.stderr[-2000:]}"
    return json.loads(output.read_text(encoding="utf-8"))


def test_lighthouse_accessibility_is_100_on_the_main_member_pages(lighthouse, chromium_path, live_server,
                                                                  session_cookie):
    runs = [(path, "normal") for path in MAIN_PAGES] + [(path, "large") for path in LARGE_TEXT_PAGES]
    problems, timings = [], []
    for path, size in runs:
        cookie = session_cookie + ("; textsize=large" if size == "large" else "")
        started = time.monotonic()
        report = audit(lighthouse, chromium_path, live_server + path, cookie,
                       f"{size}-{path.strip('/').replace('/', '-')}")
        timings.append(f"{path} ({size}) {time.monotonic() - started:.0f}s")
        # Signed in and on the page asked for (not the login page after a redirect).
        assert report["finalDisplayedUrl"] == live_server + path, report["finalDisplayedUrl"]
        assert report["configSettings"]["formFactor"] == "mobile"
        assert report["configSettings"]["screenEmulation"]["mobile"] is True
        score = report["categories"]["accessibility"]["score"]
        if score != 1:
            failing = [f"{key}: {report['audits'][key]['title']}"
                       for key in (ref["id"] for ref in report["categories"]["accessibility"]["auditRefs"])
                       if report["audits"][key].get("score") not in (None, 1)]
            problems.append(f"{path} ({size}): {score} — {failing}")
    print("lighthouse:", ", ".join(timings))
    assert not problems, "\n".join(problems)
