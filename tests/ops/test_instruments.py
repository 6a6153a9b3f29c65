"""Production instruments: request ids (header and audit log), JSON-lines logs with
redaction, /metrics behind its guard, /healthz and /readyz."""
from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.audit.models import AuditLog


def test_every_response_carries_a_request_id_that_the_audit_log_shares(staff_client, db_session):
    support = staff_client("support")
    response = support.get("/staff/members?q=ﾔﾏﾀﾞ")
    assert response.status_code == 200
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 16
    row = db_session.scalars(select(AuditLog).where(AuditLog.action == "staff.member_search")).one()
    assert row.request_id == request_id
    assert support.get("/healthz").headers["X-Request-ID"] != request_id


@pytest.mark.parametrize("incoming, kept", [("nginx-0123456789abcdef", True), ("short", False),
                                            ("bad id with spaces", False), ("x" * 65, False),
                                            ("a\r\nSet-Cookie: x=1", False)])
def test_an_id_from_the_proxy_is_kept_only_when_well_formed(client, incoming, kept):
    try:
        response = client.get("/healthz", headers={"X-Request-ID": incoming})
    except ValueError:  # the test client itself refuses a header with a newline
        assert not kept
        return
    assert (response.headers["X-Request-ID"] == incoming) is kept
    assert "\n" not in response.headers["X-Request-ID"]


@pytest.fixture
def json_log(make_app):
    """An app writing JSON lines; yields (app, stream). The root handler is removed after."""
    app = make_app(LOG_FORMAT="json")
    root = logging.getLogger()
    from portal.ops.logs import JsonFormatter
    handler = next(h for h in root.handlers if isinstance(h.formatter, JsonFormatter))
    stream = io.StringIO()
    handler.setStream(stream)
    try:
        yield app, stream
    finally:
        root.removeHandler(handler)


def test_json_lines_with_request_id_and_redaction(json_log, make_member):
    app, stream = json_log
    client = app.test_client()
    response = client.get("/login?phone=09012345678&next=/mypage")
    assert response.status_code == 200
    with app.test_request_context("/"):
        from flask import g
        g.request_id = "feedfacecafebeef"
        logging.getLogger("portal.test").warning("code 123456 sent to 090-1234-5678")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = next(line for line in lines if line["logger"] == "portal.access")
    assert access["request_id"] == response.headers["X-Request-ID"]
    assert access["status"] == 200 and access["method"] == "GET" and access["endpoint"] == "auth.login"
    assert "09012345678" not in access["path"] and "5678" in access["path"]
    assert isinstance(access["duration_ms"], float) and access["user"] == "anonymous"
    mine = next(line for line in lines if line["logger"] == "portal.test")
    assert mine["request_id"] == "feedfacecafebeef" and mine["level"] == "warning"
    assert "123456" not in mine["message"] and "090-1234-5678" not in mine["message"]


def test_metrics_refused_outside_the_allow_list_without_the_token(make_app):
    app = make_app(METRICS_ALLOW=("10.0.0.0/8",), METRICS_TOKEN="s3cret-token")
    client = app.test_client()
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is not in 10/8 here
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.2.3.4"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    no_token = make_app(METRICS_ALLOW=(), METRICS_TOKEN=None)
    assert no_token.test_client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_behind_a_proxy_use_the_forwarded_address(make_app):
    app = make_app(METRICS_ALLOW=("192.0.2.10",), PROXY_COUNT=1)
    client = app.test_client()
    assert client.get("/metrics", headers={"X-Forwarded-For": "192.0.2.10"}).status_code == 200
    # A client cannot put itself on the list through a header the proxy only appends to.
    assert client.get("/metrics", headers={"X-Forwarded-For": "192.0.2.10, 203.0.113.5"}).status_code == 404


def _metric(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        metric, _, label_text = head.partition("{")
        if metric != name:
            continue
        found = dict(part.split("=", 1) for part in label_text.rstrip("}").split(",") if part)
        if all(found.get(k) == f'"{v}"' for k, v in labels.items()):
            return float(value)
    return None


def test_metrics_count_requests_and_read_the_data(client, db_session, make_member):
    from portal.messaging.models import OutboxMessage
    from portal.procedures import services as procedures

    member = make_member()
    db_session.add(OutboxMessage(member_id=member.id, channel="sms", recipient="+819012345678", body="x",
                                 status="queued", created_at=utcnow() - timedelta(minutes=10)))
    old = procedures.start(db_session, member, "address_change", "住所変更", notify=False)
    old.created_at = utcnow() - timedelta(days=30)
    procedures.start(db_session, member, "address_change", "住所変更", notify=False)
    db_session.flush()
    client.get("/login")
    client.get("/no-such-page")
    text = client.get("/metrics").text
    assert _metric(text, "portal_responses_total", endpoint="auth.login", method="GET", status="200") >= 1
    assert _metric(text, "portal_responses_total", endpoint="unmatched", method="GET", status="404") >= 1
    assert _metric(text, "portal_request_duration_seconds_count", endpoint="auth.login", method="GET") >= 1
    assert _metric(text, "portal_outbox_depth") == 1
    assert 590 <= _metric(text, "portal_outbox_oldest_age_seconds") <= 3600
    assert _metric(text, "portal_procedures_open", kind="address_change") == 2
    assert _metric(text, "portal_procedures_overdue", kind="address_change") == 1
    for name in ("portal_codes_sent_total", "portal_codes_failed_total", "portal_webhook_lag_seconds"):
        assert f"# TYPE {name.removesuffix('_total')}" in text


def test_code_counters_follow_the_gateway(client, make_member, db_session):
    from portal.auth import codes
    from portal.ops import metrics

    before = metrics.CODES_SENT.labels("sms")._value.get()
    member = make_member()
    with client.application.test_request_context("/"):
        codes.send_code(db_session, purpose="login", phone=member.phone, channel="sms", member_id=member.id, ip="127.0.0.1")
    assert metrics.CODES_SENT.labels("sms")._value.get() == before + 1


def test_healthz_and_readyz(client, make_app, tmp_path):
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["database"] == ready.json["storage"] == "ok"
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the storage folder should be")
    broken = make_app(STORAGE_DIR=str(blocked), REDIS_URL="redis://127.0.0.1:1/0")
    answer = broken.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.json == {"status": "error", "database": "ok", "redis": "unreachable", "storage": "unreachable"}
