"""Profile test fixtures: sign members in directly (the login form, with its
new-device code, is tested by the auth feature)."""
from __future__ import annotations

import hashlib
import secrets

import pytest


def sign_in_member_directly(client, db_session, member):
    from portal.auth.models import AuthSession

    token = secrets.token_urlsafe(32)
    row = AuthSession(token_hash=hashlib.sha256(token.encode()).hexdigest(), member_id=member.id)
    db_session.add(row)
    db_session.flush()
    with client.session_transaction() as s:
        s["sid"] = token
        s["_user_id"] = member.get_id()
        s["_fresh"] = True
    return row


@pytest.fixture
def member_client(app, db_session, make_member):
    """A client signed in as a fresh member (its .member and .auth_session attributes)."""
    client = app.test_client()
    member = make_member(household=True)
    client.auth_session = sign_in_member_directly(client, db_session, member)
    client.member = member
    return client
