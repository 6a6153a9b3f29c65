"""SMS and automated voice calls.

`outbox` (default) records each message in dev_outbox instead of sending it;
`aws` sends SMS through SNS `publish` and voice through End User Messaging
(`pinpoint-sms-voice-v2` `send_voice_message`).
"""
from __future__ import annotations

from typing import Any, Protocol

from portal.gateways import GatewayError


class SmsGateway(Protocol):
    def send_sms(self, to_e164: str, body: str) -> None: ...

    def send_voice(self, to_e164: str, text: str) -> None: ...


class OutboxSmsGateway:
    """Writes what would have been sent; visible at /dev/outbox in development."""

    def send_sms(self, to_e164: str, body: str) -> None:
        _record("sms", to_e164, body)

    def send_voice(self, to_e164: str, text: str) -> None:
        _record("voice", to_e164, text)


def _record(channel: str, to: str, body: str, subject: str | None = None) -> None:
    from portal.extensions import db
    from portal.gateways.models import DevOutboxEntry

    db.session.add(DevOutboxEntry(channel=channel, recipient=to, body=body, subject=subject))
    db.session.flush()


def build(config: dict[str, Any]) -> SmsGateway:
    backend = config["SMS_BACKEND"]
    if backend == "outbox":
        return OutboxSmsGateway()
    if backend == "aws":
        from portal.gateways.aws_sms import AwsSmsGateway

        return AwsSmsGateway(region=config["AWS_REGION"], endpoint_url=config["AWS_ENDPOINT_URL"],
                             origination_identity=config.get("AWS_VOICE_ORIGINATION"))
    raise GatewayError(detail=f"unknown PORTAL_SMS_BACKEND {backend!r}")
