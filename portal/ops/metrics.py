"""Prometheus metrics (prometheus-client), served at /metrics.

Counters and histograms live in each worker; under gunicorn, with
PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py does), /metrics adds up every
worker's files. Gauges about the data (outbox, open procedures) are read from
the database at scrape time, so they are the same whichever worker answers.

/metrics is guarded: the client address must be in METRICS_ALLOW (addresses or
networks, loopback by default), or the request must carry
`Authorization: Bearer <METRICS_TOKEN>`.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import time
from datetime import datetime
from datetime import time as dtime

from flask import Flask, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)

REQUEST_SECONDS = Histogram(
    "portal_request_duration_seconds", "Time to answer a request, per endpoint", ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0), registry=REGISTRY)
RESPONSES = Counter("portal_responses_total", "Responses per endpoint and status code",
                    ["endpoint", "method", "status"], registry=REGISTRY)
CODES_SENT = Counter("portal_codes_sent_total", "One-time codes handed to the provider, per channel",
                     ["channel"], registry=REGISTRY)
CODES_FAILED = Counter("portal_codes_failed_total", "One-time codes the provider refused or timed out on, "
                       "per channel", ["channel"], registry=REGISTRY)
WEBHOOK_LAG = Histogram("portal_webhook_lag_seconds", "From the provider creating an event to its handling",
                        ["source"], buckets=(1, 5, 15, 60, 300, 900, 3600, 21600, 86400), registry=REGISTRY)

# Business days after which an open procedure counts as overdue, unless a kind
# has its own service level (the work queue's table, when it exists).
DEFAULT_SERVICE_DAYS = 5


def code_sent(channel: str) -> None:
    CODES_SENT.labels(channel).inc()


def code_failed(channel: str) -> None:
    CODES_FAILED.labels(channel).inc()


def webhook_lag(source: str, created_epoch: float | int | None) -> None:
    if created_epoch:
        WEBHOOK_LAG.labels(source).observe(max(0.0, time.time() - float(created_epoch)))


def init_app(app: Flask) -> None:
    @app.after_request
    def observe(response):
        started = g.get("request_started")
        endpoint = request.endpoint or "unmatched"  # never the raw path: unbounded labels
        if started is not None and endpoint != "static":
            REQUEST_SECONDS.labels(endpoint, request.method).observe(time.perf_counter() - started)
        RESPONSES.labels(endpoint, request.method, str(response.status_code)).inc()
        return response


def allowed() -> bool:
    """The scraper's address is allowed, or it shows the token."""
    config = current_app.config
    token = config.get("METRICS_TOKEN")
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    for entry in config.get("METRICS_ALLOW", ()):
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


class _DataCollector:
    """Gauges read from the database on each scrape, in the scraping request's session."""

    def __init__(self, session) -> None:
        self.session = session

    def collect(self):
        from sqlalchemy import case, func, select

        from portal.clock import TOKYO, today, utcnow
        from portal.jp.dates import add_business_days
        from portal.messaging.models import OutboxMessage
        from portal.procedures.models import ProcedureRequest

        depth, oldest = self.session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "queued")).one()
        yield GaugeMetricFamily("portal_outbox_depth", "Notices queued and not yet sent", value=depth or 0)
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily("portal_outbox_oldest_age_seconds", "Age of the oldest queued notice",
                                value=max(0.0, age))

        # Received before the start of the business day DEFAULT_SERVICE_DAYS back ⇒ overdue.
        cutoff = datetime.combine(add_business_days(today(), -DEFAULT_SERVICE_DAYS), dtime.min, tzinfo=TOKYO)
        rows = self.session.execute(
            select(ProcedureRequest.kind, func.count(),
                   func.sum(case((ProcedureRequest.created_at < cutoff, 1), else_=0)))
            .where(ProcedureRequest.is_open).group_by(ProcedureRequest.kind)).all()
        open_family = GaugeMetricFamily("portal_procedures_open", "Procedures not finished, per kind",
                                        labels=["kind"])
        overdue_family = GaugeMetricFamily(
            "portal_procedures_overdue",
            f"Open procedures received more than {DEFAULT_SERVICE_DAYS} business days ago, per kind",
            labels=["kind"])
        for kind, count, overdue in rows:
            open_family.add_metric([kind], count)
            overdue_family.add_metric([kind], overdue or 0)
        yield open_family
        yield overdue_family


def render(session) -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(_DataCollector(session))
    return generate_latest(registry)


class _Forward:
    """This worker's own metrics (no multiprocess directory: one process)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self):
        return self.registry.collect()
