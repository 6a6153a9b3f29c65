"""E-mail: `outbox` (default) records in dev_outbox; `aws` sends through SES."""
from __future__ import annotations

from typing import Any, Protocol

from portal.gateways import GatewayError
from portal.gateways.sms import _record


class MailGateway(Protocol):
    def send_mail(self, to: str, subject: str, body: str) -> None: ...


class OutboxMailGateway:
    def send_mail(self, to: str, subject: str, body: str) -> None:
        _record("mail", to, body, subject=subject)


def build(config: dict[str, Any]) -> MailGateway:
    backend = config["MAIL_BACKEND"]
    if backend == "outbox":
        return OutboxMailGateway()
    if backend == "aws":
        from portal.gateways.aws_mail import AwsMailGateway

        return AwsMailGateway(region=config["AWS_REGION"], endpoint_url=config["AWS_ENDPOINT_URL"],
                              sender=config["MAIL_FROM"])
    raise GatewayError(detail=f"unknown PORTAL_MAIL_BACKEND {backend!r}")
