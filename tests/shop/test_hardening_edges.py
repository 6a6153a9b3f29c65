"""Smaller hardening rules of the shop: the regular course cannot be skipped or
cancelled by staff acting as the member; a signed webhook for an object nobody
knows is acknowledged (200) and recorded, so Stripe does not retry for days; a
signature dated too far in the future is refused."""
from __future__ import annotations

import time

from sqlalchemy import select

from portal.auth.models import AuthSession
from portal.clock import to_tokyo, utcnow
from portal.shop.models import ShopSubscription, StripeEvent
from tests.conftest import sign_in_staff_directly
from tests.shop.test_subscriptions import _course, _start


def test_staff_acting_as_the_member_cannot_skip_or_cancel_the_course(shopper, stripe_app, app, db_session, card,
                                                                       make_staff):
    course, _ = _start(shopper, db_session, card)
    before = (course.next_charge_at, course.cancel_at_period_end, course.skipped_charge_at)
    staff = make_staff("support")
    acting = app.test_client()
    sign_in_staff_directly(acting, db_session, staff)
    row = db_session.scalars(select(AuthSession).where(AuthSession.staff_id == staff.id)).one()
    row.acting_member_id, row.acting_started_at, row.acting_reason = shopper.member.id, utcnow(), "電話でのご依頼"
    db_session.flush()
    assert acting.get(f"/shop/subscriptions/{course.id}").status_code == 200  # looking is allowed
    for action in ("skip", "cancel"):
        response = acting.post(f"/shop/subscriptions/{course.id}/{action}",
                               data={"charge_on": to_tokyo(course.next_charge_at).date().isoformat()},
                               follow_redirects=True)
        assert "代理操作中は定期コースの変更ができません" in response.text, action
        confirm = acting.get(f"/shop/subscriptions/{course.id}/{action}", follow_redirects=True)
        assert "代理操作中は定期コースの変更ができません" in confirm.text, action
    after = _course(db_session)
    assert (after.next_charge_at, after.cancel_at_period_end, after.skipped_charge_at) == before


def _recorded(db_session, event_id: str) -> StripeEvent | None:
    db_session.expire_all()
    return db_session.scalar(select(StripeEvent).where(StripeEvent.event_id == event_id))


def test_an_invoice_of_an_unknown_course_is_acknowledged_and_recorded(stripe_app, post_event, db_session):
    response = post_event("evt_unknown_invoice", "invoice.paid",
                          {"id": "in_nobody_knows", "object": "invoice", "subscription": "sub_nobody_knows"})
    assert response.status_code == 200 and response.json["outcome"] == "unknown_subscription"
    assert _recorded(db_session, "evt_unknown_invoice").outcome == "unknown_subscription"
    assert db_session.scalar(select(ShopSubscription)) is None


def test_an_object_stripe_does_not_know_is_acknowledged_and_recorded(stripe_app, post_event, db_session):
    """An invoice without a subscription of ours named, which localstripe answers with 404."""
    response = post_event("evt_missing_invoice", "invoice.payment_failed",
                          {"id": "in_missing_at_stripe", "object": "invoice"})
    assert response.status_code == 200 and response.json["outcome"] == "not_found_at_stripe"
    assert _recorded(db_session, "evt_missing_invoice").outcome == "not_found_at_stripe"
    # The same event again is a duplicate, not another try.
    again = post_event("evt_missing_invoice", "invoice.payment_failed",
                       {"id": "in_missing_at_stripe", "object": "invoice"})
    assert again.status_code == 200 and again.json["outcome"] == "duplicate"


def test_an_invoice_event_without_an_id_is_no_500(stripe_app, post_event, db_session):
    response = post_event("evt_no_id", "invoice.paid", {"object": "invoice"})
    assert response.status_code == 200 and _recorded(db_session, "evt_no_id") is not None


def test_a_signature_dated_in_the_future_is_refused(stripe_app, post_event, db_session):
    obj = {"id": "pi_future", "object": "payment_intent"}
    assert post_event("evt_future", "payment_intent.succeeded", obj,
                      timestamp=int(time.time()) + 3600).status_code == 400
    assert _recorded(db_session, "evt_future") is None
    # A clock a little ahead of ours is fine.
    assert post_event("evt_near_future", "payment_intent.succeeded", obj,
                      timestamp=int(time.time()) + 60).status_code == 200
