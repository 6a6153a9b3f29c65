"""wrk against a running server, with a signed-in member's cookie.

wrk counts a redirect as a success, so every page is checked before and after
the run to answer 200 for this member (not the sign-in redirect).
"""
from __future__ import annotations

import http.cookiejar
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from dataclasses import dataclass

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an answer here, not a hop
        return None


def sign_in(base: str, login_id: str, password: str) -> str:
    """Sign in through the real form; returns the Cookie header for wrk."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=10).read().decode()
    token = CSRF.search(page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "login_id": login_id, "password": password}).encode()
    response = opener.open(base + "/login", data=data, timeout=30)
    if not response.geturl().endswith("/mypage"):
        raise RuntimeError(f"sign-in as {login_id} ended at {response.geturl()}")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def status_of(url: str, cookie: str) -> int:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    try:
        return opener.open(request, timeout=10).status
    except urllib.error.HTTPError as error:
        return error.code


@dataclass
class WrkResult:
    path: str
    requests: int
    seconds: float
    errors: int
    non_2xx: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise RuntimeError(f"unexpected wrk latency {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run(base: str, path: str, cookie: str, *, seconds: int = 10, connections: int = 8,
        threads: int = 2, timeout: int = 10) -> WrkResult:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (make bench-deps)")
    # wrk gives up on an answer after 2 s by default and counts it as an error; on a
    # machine loaded by other work the 8th request queued on 2 workers can wait longer.
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
                          "--timeout", f"{timeout}s",
                          "-H", f"Cookie: {cookie}", base + path],
                         check=True, capture_output=True, text=True).stdout
    requests, took = re.search(r"(\d+) requests in ([\d.]+)(ms|s)", out).group(1, 2)
    unit = re.search(r"\d+ requests in [\d.]+(ms|s)", out).group(1)
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    return WrkResult(path, int(requests), float(took) / (1000 if unit == "ms" else 1), errors, non_2xx, p50, p99)
