"""Claims after a typhoon (`make bench`): 200 damage reports, each with a photo of a
few hundred kB, sent at the same instant to one gunicorn (2 workers, PostgreSQL).

Printed: errors, reports per second, median and p95 time per report, and the peak
memory (VmHWM) of each worker. Asserted: 0 errors and every report stored once,
with its photo. BENCH_DAMAGE_DATABASE_URL reuses a seeded database (the demo
member must be in it); otherwise a fresh one with 1,000 bulk members is made.
"""
from __future__ import annotations

import io
import os
import random
import re
import statistics
import threading
import time
from pathlib import Path

import requests
from PIL import Image

from tests.perf import wrk
from tests.perf.conftest import seeded_database, start_gunicorn, stop_gunicorn

REPORTS = int(os.environ.get("BENCH_DAMAGE_REPORTS", "200"))
HIDDEN = re.compile(r'<input[^>]*name="(csrf_token|form_token)"[^>]*value="([^"]+)"')


def photo(seed: int) -> bytes:
    """A noisy 900×700 JPEG: a few hundred kB, like a phone photo scaled down."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (900, 700), bytes(rng.getrandbits(8) for _ in range(900 * 700 * 3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


def worker_peak_rss_kb(master_pid: int) -> list[int]:
    peaks = []
    for task in Path(f"/proc/{master_pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            status = Path(f"/proc/{child}/status").read_text()
            peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)))
    return peaks


def test_damage_reports_with_photos_in_parallel(tmp_path):
    url = os.environ.get("BENCH_DAMAGE_DATABASE_URL") or seeded_database("portal_bench_damage", 1000)
    process, base = start_gunicorn(url, workers=2, extra_env={"PORTAL_TRUST_NEW_DEVICES": "1",
                                                               "PORTAL_STORAGE_DIR": str(tmp_path / "files")})
    try:
        cookie = wrk.sign_in(base, "demo", "Demo-pass-2026")
        headers = {"Cookie": cookie}
        forms = []
        for _ in range(REPORTS):  # one form (and one form token) per report, fetched beforehand
            page = requests.get(base + "/claims/damage/new", headers=headers, timeout=60, allow_redirects=False)
            assert page.status_code == 200, page.status_code
            fields = dict(HIDDEN.findall(page.text))
            contract_no = re.search(r'name="contract_no"[^>]*value="([^"]+)"', page.text).group(1)
            forms.append({**fields, "contract_no": contract_no, "cause": "storm", "day": "2026-09-05",
                          "description": "台風で屋根瓦が飛び、2階の天井から雨漏りしています。"})
        photos = [photo(n) for n in range(8)]
        print(f"\nphoto sizes: {min(map(len, photos)) // 1000}–{max(map(len, photos)) // 1000} kB")
        results: list[tuple[int, float]] = [(0, 0.0)] * REPORTS
        start = threading.Barrier(REPORTS)

        def send(n: int) -> None:
            start.wait()
            began = time.perf_counter()
            try:
                response = requests.post(base + "/claims/damage/new", headers=headers, data=forms[n],
                                         files={"files": (f"photo{n}.jpg", photos[n % len(photos)], "image/jpeg")},
                                         timeout=300, allow_redirects=False)
                status = response.status_code
                ok = status == 302 and "/claims/" in response.headers.get("Location", "") and \
                    "damage/new" not in response.headers.get("Location", "")
                results[n] = (302 if ok else status or 1, time.perf_counter() - began)
            except requests.RequestException:
                results[n] = (-1, time.perf_counter() - began)

        threads = [threading.Thread(target=send, args=(n,)) for n in range(REPORTS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.perf_counter() - started
        peaks = worker_peak_rss_kb(process.pid)
    finally:
        stop_gunicorn(process)
    errors = [status for status, _ in results if status != 302]
    times = sorted(seconds for _, seconds in results)
    stored = list((tmp_path / "files").rglob("*.jpg"))
    print(f"{REPORTS} damage reports with a photo at once, gunicorn 2 workers: {len(errors)} errors, "
          f"{REPORTS / took:.1f} reports/s, median {statistics.median(times) * 1000:.0f} ms, "
          f"p95 {times[int(len(times) * 0.95) - 1] * 1000:.0f} ms, worker peak RSS "
          f"{', '.join(f'{kb / 1024:.0f} MB' for kb in peaks)}; {len(stored)} photos stored")
    assert not errors, errors[:5]
    assert len(stored) == REPORTS
