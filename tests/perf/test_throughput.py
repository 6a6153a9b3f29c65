"""Capacity side by side (`make bench`): wrk against one gunicorn (2 workers,
PostgreSQL, BENCH_MEMBERS_THROUGHPUT bulk members, default 100,000), a signed-in
member's cookie on every request.

/healthz loads the session and the member (no template): the stack's limit. Each
page's throughput is printed as a share of it (target ≥ 0.50). The paths are
measured in turns (BENCH_ROUNDS rounds of BENCH_SLICE seconds each), so a change
in the machine's other load falls on every path alike. Figures are printed, not
asserted: the machine is shared. Asserted: 0 errors and every page answering 200
(not the sign-in redirect) before and after. Then 20 members download their
premium certificate PDF at the same instant, twice: 0 errors asserted.
"""
from __future__ import annotations

import http.cookiejar
import os
import re
import threading
import time
import urllib.parse
import urllib.request

from tests.perf import wrk
from tests.perf.conftest import seeded_database, start_gunicorn, stop_gunicorn

MEMBERS = int(os.environ.get("BENCH_MEMBERS_THROUGHPUT", "100000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SLICE = int(os.environ.get("BENCH_SLICE", "5"))
PATHS = ("/healthz", "/mypage", "/coverage", "/contracts", "/requests")
DOWNLOADERS = 20
PDF_FORM = re.compile(r'<form[^>]*action="/certificates/pdf"[^>]*>(.*?)</form>', re.S)
INPUT = re.compile(r"<input[^>]*>")
ATTR = re.compile(r'(name|value)="([^"]*)"')


def download_certificate(base: str, login_id: str) -> tuple[bool, float, str]:
    """Sign in, ask for the certificate PDF and download it: (ok, seconds, note)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    try:
        # One cookie jar for the whole visit: the CSRF token lives in the session cookie.
        login = opener.open(base + "/login", timeout=60).read().decode()
        opener.open(base + "/login", data=urllib.parse.urlencode({
            "csrf_token": wrk.CSRF.search(login).group(1), "login_id": login_id,
            "password": "Bench-pass-2026"}).encode(), timeout=60).read()
        headers: dict[str, str] = {}
        page = opener.open(urllib.request.Request(base + "/certificates", headers=headers), timeout=60).read().decode()
        form = PDF_FORM.search(page)
        if form is None:
            return False, 0.0, "no PDF form on /certificates (window closed?)"
        fields = {}
        for tag in INPUT.findall(form.group(1)):  # hidden_tag writes name before type and value
            attrs = dict(ATTR.findall(tag))
            if "name" in attrs:
                fields[attrs["name"]] = attrs.get("value", "")
        started = time.perf_counter()
        response = opener.open(urllib.request.Request(base + "/certificates/pdf", headers=headers,
                                                      data=urllib.parse.urlencode(fields).encode()), timeout=120)
        body = response.read()
        took = time.perf_counter() - started
        ok = response.status == 200 and body.startswith(b"%PDF")
        return ok, took, "" if ok else f"{response.status} {response.geturl()}"
    except Exception as error:  # counted as an error of the run
        return False, 0.0, repr(error)


def downloads_at_once(base: str, count: int) -> list[tuple[bool, float, str]]:
    results: list[tuple[bool, float, str]] = [(False, 0.0, "not run")] * count
    start = threading.Barrier(count)

    def one(n: int) -> None:
        start.wait()
        results[n] = download_certificate(base, f"bench{n:03d}")

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_pages_against_healthz_side_by_side():
    # BENCH_THROUGHPUT_DATABASE_URL: a database seeded before (seeded_database's bench users).
    url = os.environ.get("BENCH_THROUGHPUT_DATABASE_URL") or seeded_database("portal_bench_throughput", MEMBERS)
    process, base = start_gunicorn(url, workers=2, extra_env={"PORTAL_TRUST_NEW_DEVICES": "1"})
    load_before = os.getloadavg()[0]
    try:
        cookie = wrk.sign_in(base, "bench000", "Bench-pass-2026")
        for path in PATHS:
            assert wrk.status_of(base + path, cookie) == 200, path
            wrk.run(base, path, cookie, seconds=1)  # warm: templates, statement caches, prepared statements
        totals = {path: [0, 0.0, 0, 0, []] for path in PATHS}
        for _ in range(ROUNDS):
            for path in PATHS:
                result = wrk.run(base, path, cookie, seconds=SLICE)
                total = totals[path]
                total[0] += result.requests
                total[1] += result.seconds
                total[2] += result.errors
                total[3] += result.non_2xx
                total[4].append(result.p50_ms)
        for path in PATHS:
            assert wrk.status_of(base + path, cookie) == 200, f"{path} no longer answers 200 for the member"
        # Certificate season: 20 members ask for their PDF at the same instant, twice
        # (made and stored the first time, served from storage the second).
        first = downloads_at_once(base, DOWNLOADERS)
        repeat = downloads_at_once(base, DOWNLOADERS)
    finally:
        load_after = os.getloadavg()[0]
        stop_gunicorn(process)
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    print(f"\nthroughput {stamp}: gunicorn 2 workers, PostgreSQL, {MEMBERS:,} members, wrk 2 threads 8 connections,"
          f" {ROUNDS} rounds × {SLICE} s per path, member cookie on every request,"
          f" load average {load_before:.1f} before and {load_after:.1f} after")
    print("| path | req/s | share of /healthz | median of round p50s ms | errors |")
    print("|---|---:|---:|---:|---:|")
    limit = totals["/healthz"][0] / totals["/healthz"][1]
    for path in PATHS:
        requests, seconds, errors, non_2xx, p50s = totals[path]
        rps = requests / seconds
        print(f"| {path} | {rps:.0f} | {rps / limit:.2f} | {sorted(p50s)[len(p50s) // 2]:.1f} | {errors + non_2xx} |")
    for name, results in (("first issue", first), ("repeat download", repeat)):
        times = sorted(t for ok, t, _ in results if ok)
        errors = [note for ok, _, note in results if not ok]
        print(f"{DOWNLOADERS} members downloading their certificate at once, {name}: {len(errors)} errors, "
              f"median {times[len(times) // 2] * 1000 if times else 0:.0f} ms, slowest "
              f"{times[-1] * 1000 if times else 0:.0f} ms")
        assert not errors, errors[:3]
    for path in PATHS:
        assert totals[path][2] == 0 and totals[path][3] == 0, f"{path}: errors under load"
