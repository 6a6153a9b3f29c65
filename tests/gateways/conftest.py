"""A moto server on 127.0.0.1 for the aws SMS backend (started once per session),
and the log guard of tests/auth for the SMS gateway tests."""
from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.auth.leakguard import LeakGuard


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port() -> int:
    """A loopback port nobody listens on: connecting is refused at once."""
    return free_port()


@pytest.fixture(scope="session")
def sms_moto_server():
    """moto_server from .venv/bin on a free loopback port; yields its URL."""
    port = free_port()
    binary = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/moto-api/data.json", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError("moto_server exited at start")
                time.sleep(0.1)
        else:
            raise RuntimeError("moto_server did not start")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def aws_env(monkeypatch, sms_moto_server):
    """Fake credentials (moto accepts any) and PORTAL_AWS_ENDPOINT_URL pointing at moto."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("PORTAL_AWS_ENDPOINT_URL", sms_moto_server)
    return sms_moto_server


@pytest.fixture
def sms_leak_guard(caplog):
    caplog.set_level(logging.DEBUG, logger="portal")
    guard = LeakGuard()
    yield guard
    guard.check(caplog.records)
