"""A moto server on 127.0.0.1 for the aws SMS backend (started once per session),
and the log guard of tests/auth for the SMS gateway tests."""
from __future__ import annotations

import logging

import pytest

from tests.auth.leakguard import LeakGuard
from tests.support.net import free_port, moto_server


def closed_port() -> int:
    """A loopback port nobody listens on: connecting is refused at once."""
    return free_port()


@pytest.fixture(scope="session")
def moto_server_url():
    """One moto server for every AWS gateway test (SNS, SES, S3); tests use their own names."""
    with moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def sms_moto_server(moto_server_url):
    return moto_server_url


@pytest.fixture
def aws_credentials(monkeypatch):
    """Fake credentials (moto accepts any); without them boto3 would look for real ones."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def aws_env(monkeypatch, aws_credentials, sms_moto_server):
    """Fake credentials and PORTAL_AWS_ENDPOINT_URL pointing at moto."""
    monkeypatch.setenv("PORTAL_AWS_ENDPOINT_URL", sms_moto_server)
    return sms_moto_server


@pytest.fixture
def sms_leak_guard(caplog):
    caplog.set_level(logging.DEBUG, logger="portal")
    guard = LeakGuard()
    yield guard
    guard.check(caplog.records)
