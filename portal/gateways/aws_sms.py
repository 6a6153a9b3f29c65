"""The `aws` SMS backend: SMS through SNS `publish`, voice through AWS End User
Messaging (`pinpoint-sms-voice-v2` `send_voice_message`) with a Japanese voice.

Timeouts are short (connect 2 s, read 5 s) and at most 2 attempts, so a member
waits at most ~15 s before being told to retry or switch channel. Every failure
becomes GatewayError with a Japanese message; the phone number never reaches a log.
"""
from __future__ import annotations

import logging
import os
from typing import Any
from xml.sax.saxutils import escape

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from portal.gateways import GatewayError

log = logging.getLogger(__name__)

SMS_FAILED = ("SMSを送信できませんでした。しばらくしてからもう一度お試しいただくか、"
              "「音声通話で受け取る」をお選びください。")
VOICE_FAILED = ("音声通話を発信できませんでした。しばらくしてからもう一度お試しいただくか、"
                "「SMSで受け取る」をお選びください。")
VOICE_ID = "MIZUKI"  # Japanese (ja-JP) female voice


def client_config(*, connect_timeout: float = 2, read_timeout: float = 5) -> Config:
    # botocore's retries "max_attempts" counts retries only (2 would mean 3 requests);
    # "total_max_attempts" counts the first request too: at most 2 attempts in all.
    return Config(connect_timeout=connect_timeout, read_timeout=read_timeout,
                  retries={"total_max_attempts": 2, "mode": "standard"})


def to_ssml(text: str) -> str:
    """Slow speech; each Japanese comma becomes a clear pause between digits."""
    body = escape(text).replace("、", '<break time="400ms"/>')
    return f'<speak><prosody rate="slow">{body}</prosody></speak>'


class AwsSmsGateway:
    # What a send usually takes, for a decoy answered before this worker has timed a real one
    # (portal.auth.codes paces decoys like real sends).
    typical_send_seconds = 0.1

    def __init__(self, *, region: str, endpoint_url: str | None = None, origination_identity: str | None = None,
                 voice_id: str = VOICE_ID, config: Config | None = None) -> None:
        config = config or client_config()
        options: dict[str, Any] = {"region_name": region, "config": config}
        if endpoint_url:
            options["endpoint_url"] = endpoint_url
        self.sns = boto3.client("sns", **options)
        self.voice = boto3.client("pinpoint-sms-voice-v2", **options)
        self.origination_identity = origination_identity or os.environ.get("PORTAL_AWS_VOICE_ORIGINATION", "")
        self.voice_id = voice_id

    def send_sms(self, to_e164: str, body: str) -> None:
        try:
            self.sns.publish(
                PhoneNumber=to_e164, Message=body,
                MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
            )
        except (ClientError, BotoCoreError) as error:
            log.warning("SNS publish failed: %s", _describe(error))
            raise GatewayError(SMS_FAILED, detail=f"sns publish: {_describe(error)}") from error

    def send_voice(self, to_e164: str, text: str) -> None:
        try:
            self.voice.send_voice_message(
                DestinationPhoneNumber=to_e164, OriginationIdentity=self.origination_identity,
                MessageBody=to_ssml(text), MessageBodyTextType="SSML", VoiceId=self.voice_id,
                TimeToLive=300,
            )
        except (ClientError, BotoCoreError) as error:
            log.warning("send_voice_message failed: %s", _describe(error))
            raise GatewayError(VOICE_FAILED, detail=f"send_voice_message: {_describe(error)}") from error


def _describe(error: Exception) -> str:
    """The error's kind and code, never its request (which holds the number and the code)."""
    if isinstance(error, ClientError):
        return f"ClientError {error.response.get('Error', {}).get('Code', '?')}"
    return type(error).__name__
