"""Stripe fixtures for the shop and the payments gateway tests: a real localstripe server on loopback for the whole session,
the app pointed at it, Stripe-style webhook signatures, cards made server-side.

localstripe has no browser here, so a test makes the PaymentMethod that
Stripe.js would have made in the browser, straight from a test card number
(tests may import stripe; the portal itself only does so in gateways/payments.py).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.net import free_port as _free_port
import stripe
from flask import g

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
WEBHOOK_SECRET = "whsec_test_portal_shop"
SECRET_KEY = "sk_test_portal_shop"
STRIPE_KEYS = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE")
GOOD_CARD = "4242424242424242"
DECLINED_AT_CHARGE = "4000000000000341"  # localstripe declines this one when charged
DECLINED_AT_SETUP = "4000000000000002"  # localstripe declines this one when saved (attach / SetupIntent)


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path_factory.mktemp("localstripe") / "localstripe.log").open("wb")
    process = subprocess.Popen([str(VENV_BIN / "localstripe"), "--port", str(port), "--from-scratch"],
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            request = urllib.request.Request(f"{url}/v1/customers", headers={"Authorization": f"Bearer {SECRET_KEY}"})
            urllib.request.urlopen(request, timeout=1).read()
            break
        except urllib.error.HTTPError:
            break  # it answers
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("localstripe did not start")
            time.sleep(0.2)
    yield url
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def stripe_api(localstripe_url) -> stripe.StripeClient:
    """Direct access to localstripe, for what the browser or Stripe itself would do."""
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe_url}, max_network_retries=0)


def _configure(app, **values: Any) -> dict[str, Any]:
    saved = {key: app.config.get(key) for key in STRIPE_KEYS}
    app.config.update(values)
    app.extensions.pop("payments_gateway", None)
    return saved


@pytest.fixture
def stripe_app(app, localstripe_url):
    saved = _configure(app, STRIPE_SECRET_KEY=SECRET_KEY, STRIPE_PUBLISHABLE_KEY="pk_test_portal_shop",
                       STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_API_BASE=localstripe_url)
    yield app
    _configure(app, **saved)


@pytest.fixture
def stripe_down(app):
    """The provider cannot be reached: nothing listens on this loopback port."""
    saved = _configure(app, STRIPE_SECRET_KEY=SECRET_KEY, STRIPE_PUBLISHABLE_KEY="pk_test_portal_shop",
                       STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_API_BASE=f"http://127.0.0.1:{_free_port()}")
    yield app
    _configure(app, **saved)


@pytest.fixture
def no_stripe(app):
    saved = _configure(app, STRIPE_SECRET_KEY=None, STRIPE_PUBLISHABLE_KEY=None, STRIPE_WEBHOOK_SECRET=None,
                       STRIPE_API_BASE=None)
    yield app
    _configure(app, **saved)


@pytest.fixture
def ctx(app, db_session):
    """A request context whose db.session is the test's session (for calling services directly)."""
    with app.test_request_context():
        g.db_session = db_session
        yield db_session
        g.pop("db_session", None)


@pytest.fixture
def card(stripe_api):
    """card(number) → the id of a PaymentMethod, as Stripe.js would have created it."""
    def make(number: str = GOOD_CARD) -> str:
        return stripe_api.v1.payment_methods.create(params={
            "type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}}).id
    return make


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header, computed the way Stripe does: HMAC-SHA256 of "t.payload"."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_payload(event_id: str, event_type: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": event_type, "created": int(time.time()),
                       "data": {"object": obj}}).encode()


@pytest.fixture
def post_event(client):
    """post_event(id, type, object, **sign_kwargs) → the webhook's response."""
    def post(event_id: str, event_type: str, obj: dict[str, Any], *, signature: str | None = None,
             **sign_kwargs: Any):
        payload = event_payload(event_id, event_type, obj)
        header = signature if signature is not None else sign(payload, **sign_kwargs)
        return client.post("/stripe/webhook", data=payload, content_type="application/json",
                           headers={"Stripe-Signature": header})
    return post


@pytest.fixture
def shopper(member_client):
    """A signed-in member with a household (self: male, spouse: female)."""
    member = member_client.member
    people = {p.relation: p for p in member.insured_persons}
    member_client.me = people["self"]
    member_client.spouse = people["spouse"]
    return member_client
