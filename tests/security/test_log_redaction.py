"""Nothing secret reaches a log line, whoever writes it: the portal, SQLAlchemy's
error with its "[parameters: …]" and traceback, Werkzeug's access log with a
URL-encoded number, a library's own logger."""
from __future__ import annotations

import io
import logging
import threading
import urllib.request
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from portal.auth.codes import code_for, send_code
from portal.auth.models import CodeChallenge
from portal.logredact import install_record_factory, redact
from tests.auth.leakguard import FULL_PHONE

PHONE = "09012345678"


@contextmanager
def captured(logger_name: str | None = None):
    """A real handler with a real formatter (tracebacks included), as production logs."""
    install_record_factory()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger(logger_name)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


@pytest.mark.parametrize("line", [
    "to 090-1234-5678", "to +819012345678", "tel 09012345678", "to 090 1234 5678",
    '"GET /signup?phone=%2B81%2090-1234-5678 HTTP/1.1" 200',
    '"GET /signup?phone=090%2D1234%2D5678 HTTP/1.1" 200',
    '"POST /x?tel=%2B819012345678 HTTP/1.1" 302',
    "phone=090+1234+5678&x=1",
])
def test_every_spelling_of_a_phone_number_keeps_only_its_last_four_digits(line):
    out = redact(line)
    assert "5678" in out and "1234" not in out and not FULL_PHONE.search(out), out


@pytest.mark.parametrize("line,secret", [
    ("[parameters: {'secret': 'K5XW6ZDFON2GK3TUMFZWS3DF', 'phone': '***-5678'}]", "K5XW6ZDFON2GK3TUMFZWS3DF"),
    ("[parameters: ('signup', 'sms', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 0)]", "JBSWY3DPEHPK3PXP"),
    ("login_id=demo&password=Kotoba-no-mori-77", "Kotoba-no-mori-77"),
    ('{"token_hash": "9f2c1e7ab0"}', "9f2c1e7ab0"),
    ("totp code=482915", "482915"),
    ("認証コード482915です", "482915"),
    ("認証コードは、4、8、2、9、1、5、です。", "4、8、2、9、1、5"),
])
def test_keys_passwords_and_tokens_are_masked(line, secret):
    assert secret not in redact(line)


def test_ordinary_lines_are_left_alone():
    line = "GET /mypage 200 in 23 ms; contract 3 of 2026-05-31; Retry-After 60"
    assert redact(line) == line


# --- real code paths ---------------------------------------------------------------------------
def test_an_sql_error_with_a_phone_and_a_code_seed_is_logged_redacted(app, make_app, db_session):
    """SQLAlchemy prints the failing statement's parameters in the exception; the 500
    handler logs it with its traceback. Runs on SQLite and on PostgreSQL."""
    app = make_app()
    seed = "K5XW6ZDFON2GK3TUMFZWS3DFK5XW6ZDF"

    @app.post("/_failing_insert", endpoint="_failing_insert")
    def failing_insert():  # a route of this test's app only: a NOT NULL column left empty
        from portal.extensions import db
        db.session.add(CodeChallenge(purpose="signup", channel="sms", phone=PHONE, secret=seed, status="active",
                                     wrong_attempts=0, is_decoy=False, expires_at=None))
        db.session.flush()
        return "unreachable"

    from portal.endpoints import PUBLIC_ENDPOINTS
    PUBLIC_ENDPOINTS.add("_failing_insert")
    try:
        with captured() as stream:
            response = app.test_client().post("/_failing_insert")
    finally:
        PUBLIC_ENDPOINTS.discard("_failing_insert")
    assert response.status_code == 500
    text = stream.getvalue()
    assert "unhandled error" in text and "Traceback" in text and "IntegrityError" in text
    assert "parameters" in text, "the SQL parameters are in the log, redacted"
    assert PHONE not in text and not FULL_PHONE.search(text), text
    assert seed not in text and "***-5678" in text


def test_the_access_log_of_a_real_server_masks_url_encoded_numbers(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with captured("werkzeug") as stream:
            url = f"http://127.0.0.1:{server.port}/no-such-page?phone=%2B81%2090-1234-5678&tel=09012345678"
            try:
                urllib.request.urlopen(url, timeout=5)
            except urllib.error.HTTPError as error:
                assert error.code == 404
    finally:
        server.shutdown()
        thread.join(5)
    text = stream.getvalue()
    assert "/no-such-page" in text and "404" in text, text
    assert "1234" not in text and PHONE not in text, text


def test_a_librarys_own_logger_is_redacted_too():
    with captured("botocore.endpoint") as stream:
        logging.getLogger("botocore.endpoint").info("Sending http request: {'body': b'PhoneNumber=%2B819012345678'}")
    assert "9012345678" not in stream.getvalue() and "5678" in stream.getvalue()


def test_the_stored_seed_alone_does_not_give_the_code(app, db_session):
    """The challenge row (what an SQL error could print) holds a seed; the code needs the app's key too."""
    import re

    import pyotp

    from portal.extensions import db
    from portal.gateways.models import DevOutboxEntry
    with app.test_request_context():
        challenge = send_code(db.session, purpose="login", phone=PHONE, channel="sms", member_id=None, ip=None)
        entry = db.session.scalars(select(DevOutboxEntry).order_by(DevOutboxEntry.id.desc())).first()
        sent = re.search(r"(\d{6})", entry.body).group(1)  # what the phone shows
        assert sent == code_for(challenge.secret)
    assert pyotp.HOTP(challenge.secret, digits=6).at(0) != sent
