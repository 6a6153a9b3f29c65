"""The SES mail backend against a moto server on loopback (no real AWS)."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest

from portal.gateways import GatewayError
from tests.support.net import free_port as _free_port
from portal.gateways import mail as mail_module
from portal.gateways.aws_mail import CLIENT_CONFIG, AwsMailGateway

REGION = "ap-northeast-1"
SENDER = "mypage@example.jp"


@pytest.fixture
def moto_url(moto_server_url):
    return moto_server_url


@pytest.fixture
def aws_env(aws_credentials):
    """moto accepts any credentials; the conftest sets fake ones."""


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
