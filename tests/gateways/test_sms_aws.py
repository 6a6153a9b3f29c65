"""The `aws` SMS backend: SNS publish against a moto server on 127.0.0.1, the voice
call validated by botocore's Stubber against the real API model, and the failure
paths (provider error, connection refused, read timeout)."""
from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request

import pytest
from botocore.stub import Stubber

from portal.gateways import GatewayError
from portal.gateways.aws_sms import AwsSmsGateway, client_config, to_ssml
from portal.gateways.sms import build
from tests.gateways.conftest import closed_port

CODE_TEXT = "【みらい共済生協】マイページ新規登録の認証コード：482915\n有効期限は5分です。"


def _published(moto_url: str) -> list[dict]:
    data = json.load(urllib.request.urlopen(moto_url + "/moto-api/data.json", timeout=5))
    return data["sns"]["SMS"]


def _gateway(aws_env: str | None = None, **kwargs) -> AwsSmsGateway:
    import os
    return build({"SMS_BACKEND": "aws", "AWS_REGION": "ap-northeast-1",
                  "AWS_ENDPOINT_URL": aws_env or os.environ.get("PORTAL_AWS_ENDPOINT_URL"),
                  "AWS_VOICE_ORIGINATION": "+815012345678", **kwargs})


def test_sms_is_published_to_sns_and_read_back_from_moto(aws_env, sms_leak_guard):
    sms_leak_guard.add("482915", "+819012340002")
    gateway = _gateway()
    assert isinstance(gateway, AwsSmsGateway)
    gateway.send_sms("+819012340002", CODE_TEXT)
    sent = [m for m in _published(aws_env) if m["phone_number"] == "+819012340002"]
    assert sent and sent[-1]["message"] == CODE_TEXT


def test_client_settings_are_the_documented_ones(aws_env):
    gateway = _gateway()
    for client in (gateway.sns, gateway.voice):
        config = client.meta.config
        assert (config.connect_timeout, config.read_timeout) == (2, 5)
        assert config.retries == {"total_max_attempts": 2, "mode": "standard"}
        assert client.meta.endpoint_url == aws_env


def test_provider_error_becomes_a_japanese_gateway_error(aws_env, sms_leak_guard):
    gateway = _gateway()
    with pytest.raises(GatewayError) as error:
        gateway.send_sms("+81-not-a-number", CODE_TEXT)  # moto refuses it like SNS: InvalidParameter
    assert error.value.message.startswith("SMSを送信できませんでした")
    assert "InvalidParameter" in str(error.value)


def test_voice_call_request_matches_the_real_api_model(monkeypatch, sms_leak_guard):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    sms_leak_guard.add("+819012340002")
    # Stubber: End User Messaging voice is not in moto; the stub checks our parameters
    # against botocore's service model and answers with a modelled response.
    gateway = AwsSmsGateway(region="ap-northeast-1", origination_identity="+815012345678")
    text = "みらい共済生協です。認証コードは、4、8、2、9、1、5、です。"
    with Stubber(gateway.voice) as stub:
        stub.add_response("send_voice_message", {"MessageId": "voice-1"}, expected_params={
            "DestinationPhoneNumber": "+819012340002", "OriginationIdentity": "+815012345678",
            "MessageBody": to_ssml(text), "MessageBodyTextType": "SSML", "VoiceId": "MIZUKI", "TimeToLive": 300,
        })
        gateway.send_voice("+819012340002", text)
        stub.assert_no_pending_responses()
    ssml = to_ssml(text)
    assert ssml.startswith('<speak><prosody rate="slow">') and ssml.count('<break time="400ms"/>') == 7


def test_voice_provider_error(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    gateway = AwsSmsGateway(region="ap-northeast-1", origination_identity="+815012345678")
    with Stubber(gateway.voice) as stub:
        stub.add_client_error("send_voice_message", service_error_code="ServiceQuotaExceededException",
                              http_status_code=402)
        with pytest.raises(GatewayError) as error:
            gateway.send_voice("+819012340002", "テスト")
    assert error.value.message.startswith("音声通話を発信できませんでした")


def test_connection_refused_is_a_gateway_error(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    gateway = AwsSmsGateway(region="ap-northeast-1", endpoint_url=f"http://127.0.0.1:{closed_port()}")
    started = time.monotonic()
    with pytest.raises(GatewayError) as error:
        gateway.send_sms("+819012340002", "x")
    assert "SMSを送信できませんでした" in error.value.message
    assert "EndpointConnectionError" in str(error.value)
    assert time.monotonic() - started < 10


class SilentServer:
    """Accepts connections on 127.0.0.1 and never answers: a provider that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def test_read_timeout_with_two_attempts_is_a_gateway_error(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = SilentServer()
    try:
        # Same settings as production except a 0.5 s read timeout, to keep the suite fast.
        gateway = AwsSmsGateway(region="ap-northeast-1", endpoint_url=f"http://127.0.0.1:{server.port}",
                                config=client_config(read_timeout=0.5))
        started = time.monotonic()
        with pytest.raises(GatewayError) as error:
            gateway.send_sms("+819012340002", "x")
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert "ReadTimeoutError" in str(error.value)
    assert server.accepted == 2  # at most 2 attempts
    assert elapsed < 5
