"""The SES mail backend against a moto server on loopback (no real AWS)."""
from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from portal.gateways import GatewayError
from portal.gateways import mail as mail_module
from portal.gateways.aws_mail import CLIENT_CONFIG, AwsMailGateway

MOTO_SERVER = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "moto_server"
REGION = "ap-northeast-1"
SENDER = "mypage@example.jp"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_url():
    port = _free_port()
    process = subprocess.Popen([str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("moto_server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def aws_env(monkeypatch):
    # moto accepts any credentials; without them boto3 would look for real ones.
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def _sent_messages(url: str) -> list[dict]:
    with urllib.request.urlopen(url + "/moto-api/data.json", timeout=5) as response:
        data = json.load(response)
    return data.get("ses", {}).get("Message", [])


def test_build_picks_ses_for_the_aws_backend(aws_env, moto_url):
    gateway = mail_module.build({"MAIL_BACKEND": "aws", "AWS_REGION": REGION, "AWS_ENDPOINT_URL": moto_url,
                                 "MAIL_FROM": SENDER})
    assert isinstance(gateway, AwsMailGateway)
    assert isinstance(mail_module.build({"MAIL_BACKEND": "outbox"}), mail_module.OutboxMailGateway)
    with pytest.raises(GatewayError):
        mail_module.build({"MAIL_BACKEND": "pigeon"})


def test_timeouts_and_attempts_are_bounded():
    assert CLIENT_CONFIG.connect_timeout == 2 and CLIENT_CONFIG.read_timeout == 5
    assert CLIENT_CONFIG.retries["total_max_attempts"] == 2  # the first try and one retry


def test_send_mail_through_ses(aws_env, moto_url):
    gateway = AwsMailGateway(region=REGION, endpoint_url=moto_url, sender=SENDER)
    gateway.client.verify_email_identity(EmailAddress=SENDER)
    gateway.send_mail("taro@example.jp", "【マイページ】確認", "山田様\nリンクを開いてください。")
    messages = [m for m in _sent_messages(moto_url) if "taro@example.jp" in json.dumps(m, ensure_ascii=False)]
    assert len(messages) == 1
    text = json.dumps(messages[0], ensure_ascii=False)
    assert "【マイページ】確認" in text and "リンクを開いてください" in text and SENDER in text


def test_unverified_sender_is_a_gateway_error(aws_env, moto_url):
    gateway = AwsMailGateway(region=REGION, endpoint_url=moto_url, sender="nobody@unverified.example")
    with pytest.raises(GatewayError) as caught:
        gateway.send_mail("taro@example.jp", "件名", "本文")
    assert "メールを送信できませんでした" in caught.value.message


def test_unreachable_provider_is_a_gateway_error(aws_env):
    port = _free_port()  # nothing listens there
    gateway = AwsMailGateway(region=REGION, endpoint_url=f"http://127.0.0.1:{port}", sender=SENDER)
    started = time.monotonic()
    with pytest.raises(GatewayError):
        gateway.send_mail("taro@example.jp", "件名", "本文")
    assert time.monotonic() - started < 15
