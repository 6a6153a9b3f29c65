"""E-mail through AWS SES (`send_email`), the production mail backend.

Timeouts are short (connect 2 s, read 5 s, at most 2 attempts) so
a slow provider fails the request quickly with a message the member can read
instead of hanging it; queued notices are retried later by `deliver-outbox`.
"""
from __future__ import annotations

import logging

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from portal.gateways import GatewayError

log = logging.getLogger(__name__)

CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 2, "mode": "standard"})
MAIL_FAILED = "メールを送信できませんでした。しばらくしてからもう一度お試しください。"


class AwsMailGateway:
    def __init__(self, *, region: str, sender: str, endpoint_url: str | None = None) -> None:
        self.sender = sender
        self.client = boto3.client("ses", region_name=region, endpoint_url=endpoint_url, config=CLIENT_CONFIG)

    def send_mail(self, to: str, subject: str, body: str) -> None:
        try:
            self.client.send_email(
                Source=self.sender,
                Destination={"ToAddresses": [to]},
                Message={
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
                },
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            log.warning("SES send_email failed: %s", code)
            raise GatewayError(MAIL_FAILED, detail=f"SES {code}") from error
        except BotoCoreError as error:  # timeouts, connection refused, no credentials
            log.warning("SES send_email failed: %s", type(error).__name__)
            raise GatewayError(MAIL_FAILED, detail=f"SES {type(error).__name__}") from error
