"""A matching and a non-matching signup take the same time with a real provider:
the aws SMS backend publishing to a moto server on 127.0.0.1 (SNS takes tens of
milliseconds there, as it does for real). The figures are printed; the check is a
generous one on medians, because the machine is shared."""
from __future__ import annotations

import os
import statistics
import time

import pytest

from portal.auth.codes import send_pace
from tests.auth.conftest import identity
from tests.support.net import moto_server

ROUNDS = 24


@pytest.fixture(scope="module")
def moto_url():
    with moto_server() as url:
        yield url


@pytest.fixture
def aws_app(make_app, moto_url, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # moto accepts any
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    send_pace.clear()  # this worker has timed no send yet
    yield make_app(SMS_BACKEND="aws", AWS_ENDPOINT_URL=moto_url, AWS_VOICE_ORIGINATION="+815012345678")
    send_pace.clear()


def _timed_post(app, data: dict, n: int) -> float:
    client = app.test_client()
    started = time.perf_counter()
    response = client.post("/signup", data=data, environ_base={"REMOTE_ADDR": f"198.51.100.{n % 250 + 1}"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 302 and response.headers["Location"] == "/signup/code"
    return elapsed


def test_matching_and_non_matching_signups_take_the_same_time(aws_app, newcomer, moto_url, capsys):
    members = [newcomer() for _ in range(ROUNDS + 3)]
    for n, member in enumerate(members[:3]):  # warm up boto3 and the connection
        _timed_post(aws_app, identity(member), n)
    real, decoy = [], []
    for n, member in enumerate(members[3:]):
        wrong = {**identity(member), "identifier": f"19999{n:05d}"}  # nobody has this number
        # Alternate the order so that drift on the machine hits both alike.
        pair = [("real", identity(member)), ("decoy", wrong)]
        for label, data in (pair if n % 2 else reversed(pair)):
            (real if label == "real" else decoy).append(_timed_post(aws_app, data, 2 * n + 10 + len(real)))
    real_ms, decoy_ms = statistics.median(real) * 1000, statistics.median(decoy) * 1000
    sends = send_pace.draw("sms", 0.0) * 1000
    with capsys.disabled():
        print(f"\n  signup step 1 with the aws backend on moto, {ROUNDS} each: median matching {real_ms:.1f} ms, "
              f"non-matching {decoy_ms:.1f} ms, difference {real_ms - decoy_ms:+.1f} ms "
              f"(one SNS publish ≈ {sends:.0f} ms)")
    # Without the pacing a decoy is one provider call faster (≈ 30–60 ms on moto here).
    limit = float(os.environ.get("TIMING_LIMIT_MS", "20"))
    assert abs(real_ms - decoy_ms) < limit, (real_ms, decoy_ms)
