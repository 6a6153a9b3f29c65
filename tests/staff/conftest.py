"""Fixtures for the staff console tests."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.auth.models import AuthSession

REASON = {"reason_code": "phone_inquiry", "reason_text": "住所変更の操作方法のお問い合わせ"}


def auth_row(db_session, client) -> AuthSession:
    """The AuthSession behind a test client's cookie (re-read from the database)."""
    import hashlib

    with client.session_transaction() as s:
        token = s.get("sid")
    assert token, "client has no session id"
    db_session.expire_all()
    return db_session.scalar(select(AuthSession).where(
        AuthSession.token_hash == hashlib.sha256(token.encode()).hexdigest()))


def sid_of(client) -> str | None:
    with client.session_transaction() as s:
        return s.get("sid")


@pytest.fixture
def support(staff_client):
    return staff_client("support")


@pytest.fixture
def act(db_session):
    """act(client, member) → starts acting through the real form; returns the response."""
    def start(client, member, **data):
        response = client.post(f"/staff/members/{member.id}/act", data={**REASON, **data})
        return response

    return start
