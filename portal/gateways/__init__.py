"""The outside world. Only modules in this package import boto3 or stripe.

Each gateway has an interface, a real implementation and an outbox/local one,
picked by configuration in `init_app`; all raise `GatewayError`, whose message a
member can read.
"""
from __future__ import annotations

from flask import Flask, current_app


class GatewayError(Exception):
    """A provider failed or timed out. `message` is Japanese, safe to show."""

    def __init__(self, message: str = "ただいま送信できません。しばらくしてからもう一度お試しください。",
                 *, detail: str = "") -> None:
        super().__init__(detail or message)
        self.message = message


def init_app(app: Flask) -> None:
    from portal.gateways import mail, sms

    app.extensions["sms_gateway"] = sms.build(app.config)
    app.extensions["mail_gateway"] = mail.build(app.config)


def sms_gateway():  # -> sms.SmsGateway
    return current_app.extensions["sms_gateway"]


def mail_gateway():  # -> mail.MailGateway
    return current_app.extensions["mail_gateway"]
