"""Fixtures for the account security centre: a software authenticator and helpers
that drive the JSON passkey endpoints like static/js/passkeys.js does."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.account.authenticator import SoftAuthenticator


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    """Matches the test app's relying party (the development defaults)."""
    return SoftAuthenticator(rp_id="localhost", origin="http://localhost:5000")


def register_passkey(client, authenticator: SoftAuthenticator, name: str = "わたしのiPhone"):
    options = client.post("/account/passkeys/options")
    assert options.status_code == 200, options.text
    return client.post("/account/passkeys", json={"credential": authenticator.create(options.get_json()),
                                                   "name": name})


def sign_in_with_passkey(client, authenticator: SoftAuthenticator, **get_kw):
    options = client.post("/login/passkey/options")
    assert options.status_code == 200, options.text
    return client.post("/login/passkey", json={"credential": authenticator.get(options.get_json(), **get_kw)})


def code_sent_to(db_session, national: str) -> str:
    from portal.gateways.models import DevOutboxEntry

    db_session.expire_all()
    entry = db_session.scalars(select(DevOutboxEntry).where(DevOutboxEntry.recipient == "+81" + national[1:])
                               .order_by(DevOutboxEntry.id.desc())).first()
    assert entry is not None, f"nothing sent to {national}"
    # A voice call reads the digits one by one: join them (the "5分" of the validity aside).
    return "".join(re.findall(r"[0-9]", entry.body.replace("5分", "")))[:6]
