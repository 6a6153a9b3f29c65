"""The regular course against localstripe: customer, saved card, 6-monthly subscription,
skip and cancel at period end."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.audit.models import AuditLog
from portal.clock import to_tokyo
from portal.jp.dates import add_months, format_date_jp

from portal.procedures.models import ProcedureRequest
from portal.shop.models import ShopCustomer, ShopOrder, ShopSubscription
from tests.shop.stripe_fixtures import DECLINED_AT_SETUP, GOOD_CARD

TOKEN = "sub-" + "a" * 28


def _course(db_session) -> ShopSubscription:
    db_session.expire_all()
    [course] = db_session.scalars(select(ShopSubscription))
    return course


def _subscribe(shopper, person=None, token=TOKEN):
    return shopper.post("/shop/KC-REGULAR/order", data={"person_id": (person or shopper.me).id, "token": token})


def _start(shopper, db_session, card, number=GOOD_CARD):
    _subscribe(shopper)
    course = _course(db_session)
    response = shopper.post(f"/shop/subscriptions/{course.id}/start", data={"payment_method_id": card(number)},
                            follow_redirects=True)
    return _course(db_session), response


def test_subscribing_records_the_course_once_then_asks_for_a_card(shopper, stripe_app, db_session):
    first = _subscribe(shopper)
    _subscribe(shopper)  # double click
    course = _course(db_session)
    assert first.headers["Location"].endswith(f"/shop/subscriptions/{course.id}")
    assert (course.status, course.total_yen, course.unit_price_yen) == ("pending", 5060, 4600)
    page = shopper.get(f"/shop/subscriptions/{course.id}").text
    assert "カード登録待ち" in page and 'id="card-element"' in page
    setup = shopper.post(f"/shop/subscriptions/{course.id}/card-setup")
    assert setup.status_code == 200 and setup.json["client_secret"].startswith("seti_")
    assert db_session.scalar(select(ShopCustomer.stripe_customer_id)).startswith("cus_")


def test_starting_the_course_saves_the_card_and_bills_every_six_months(shopper, stripe_app, db_session, card,
                                                                        stripe_api):
    course, response = _start(shopper, db_session, card)
    assert "定期コースのお申し込みが完了しました" in response.text
    assert course.status == "active" and course.card_last4 == "4242"
    stripe_sub = stripe_api.v1.subscriptions.retrieve(course.stripe_subscription_id).to_dict()
    plan = stripe_sub["items"]["data"][0]["plan"]
    assert (plan["amount"], plan["currency"], plan["interval"], plan["interval_count"]) == (5060, "jpy", "month", 6)
    customer = stripe_api.v1.customers.retrieve(stripe_sub["customer"]).to_dict()
    assert customer["invoice_settings"]["default_payment_method"] == course.stripe_payment_method_id
    # next charge six months after the start (localstripe's one-month period is corrected by the gateway)
    months = (course.next_charge_at.year - course.current_period_start.year) * 12 + \
        course.next_charge_at.month - course.current_period_start.month
    assert months == 6
    # the first paid invoice is the first delivery, 支払済
    [delivery] = db_session.scalars(select(ShopOrder).where(ShopOrder.subscription_id == course.id))
    assert (delivery.status, delivery.total_yen, delivery.stripe_invoice_id) == ("paid", 5060,
                                                                                   stripe_sub["latest_invoice"])
    assert db_session.get(ProcedureRequest, course.procedure_id).status == "active"
    page = shopper.get(f"/shop/subscriptions/{course.id}").text
    assert "次回ご請求日" in page and "次回お届け予定" in page and "継続中" in page
    listing = shopper.get("/shop/orders").text
    assert "定期お届け" in listing and "次回ご請求日" in listing


def test_a_card_declined_when_saved_keeps_the_course_waiting(shopper, stripe_app, db_session, card):
    course, response = _start(shopper, db_session, card, DECLINED_AT_SETUP)
    assert "カードが承認されませんでした" in response.text
    assert course.status == "pending" and course.stripe_subscription_id is None
    shopper.post(f"/shop/subscriptions/{course.id}/start", data={"payment_method_id": card(GOOD_CARD)})
    assert _course(db_session).status == "active"


def _audits(db_session, action: str) -> int:
    return db_session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == action))


def _notes(db_session, course) -> list[str]:
    db_session.expire_all()
    return [e.note for e in db_session.get(ProcedureRequest, course.procedure_id).events]


def test_skip_shows_what_is_skipped_before_it_is_done(shopper, stripe_app, db_session, card, stripe_api):
    course, _ = _start(shopper, db_session, card)
    before = course.next_charge_at
    charge_on = to_tokyo(before).date()
    page = shopper.get(f"/shop/subscriptions/{course.id}").text
    assert f'href="/shop/subscriptions/{course.id}/skip"' in page  # a link to the confirmation, not a button
    confirm = shopper.get(f"/shop/subscriptions/{course.id}/skip")
    assert confirm.status_code == 200 and "取り消せません" in confirm.text
    assert f"{format_date_jp(charge_on + timedelta(days=7))}ごろのお届け" in confirm.text
    assert f"{format_date_jp(charge_on)}ご請求分" in confirm.text and "5,060円" in confirm.text
    next_on = to_tokyo(add_months(before, 6)).date()
    assert f"{format_date_jp(next_on)} 5,060円" in confirm.text
    assert f'value="{charge_on.isoformat()}"' in confirm.text
    assert _course(db_session).skipped_charge_at is None  # looking changed nothing

    response = shopper.post(f"/shop/subscriptions/{course.id}/skip", data={"charge_on": charge_on.isoformat()},
                            follow_redirects=True)
    assert "次回のお届けをスキップしました" in response.text
    course = _course(db_session)
    assert course.skipped_charge_at == before and to_tokyo(course.next_charge_at).date() == next_on
    assert stripe_api.v1.subscriptions.retrieve(course.stripe_subscription_id).trial_end == \
        int(course.next_charge_at.timestamp())
    again = shopper.post(f"/shop/subscriptions/{course.id}/skip", data={"charge_on": charge_on.isoformat()},
                         follow_redirects=True)  # the same confirmation sent twice
    assert "次回のお届けをスキップしました" in again.text and "できる状態ではありません" not in again.text
    assert _course(db_session).next_charge_at == course.next_charge_at
    assert _audits(db_session, "shop.subscription_skip") == 1
    assert sum("スキップしました" in n for n in _notes(db_session, course)) == 1
    assert f"{format_date_jp(charge_on)}ご請求分のお届けをスキップしました" in _notes(db_session, course)[-1]
    # the following delivery cannot be skipped until the skipped date has passed
    later = shopper.get(f"/shop/subscriptions/{course.id}/skip", follow_redirects=True).text
    assert "すでにスキップしています" in later


def test_a_skip_confirmed_for_another_date_is_refused(shopper, stripe_app, db_session, card):
    course, _ = _start(shopper, db_session, card)
    stale = (to_tokyo(course.next_charge_at).date() - timedelta(days=1)).isoformat()
    response = shopper.post(f"/shop/subscriptions/{course.id}/skip", data={"charge_on": stale},
                            follow_redirects=True)
    assert "次回のご請求日が変わっています" in response.text
    assert _course(db_session).skipped_charge_at is None
    missing = shopper.post(f"/shop/subscriptions/{course.id}/skip", data={}, follow_redirects=True)
    assert "もう一度お手続きください" in missing.text and _course(db_session).skipped_charge_at is None


def test_cancel_shows_what_ends_before_it_is_done_and_happens_once(shopper, stripe_app, db_session, card,
                                                                     stripe_api):
    course, _ = _start(shopper, db_session, card)
    end = course.next_charge_at
    [delivery] = db_session.scalars(select(ShopOrder).where(ShopOrder.subscription_id == course.id))
    confirm = shopper.get(f"/shop/subscriptions/{course.id}/cancel")
    assert confirm.status_code == 200 and "取り消せません" in confirm.text
    assert format_date_jp(to_tokyo(end).date()) in confirm.text
    assert delivery.order_no in confirm.text and "解約しても発送します" in confirm.text
    assert re.search(r'id="still-due">\s*ありません', confirm.text)
    assert not _course(db_session).cancel_at_period_end  # looking changed nothing

    response = shopper.post(f"/shop/subscriptions/{course.id}/cancel", follow_redirects=True)
    assert "解約を受け付けました" in response.text and "解約予定" in response.text
    course = _course(db_session)
    assert course.cancel_at_period_end and course.ends_at == end and course.status == "active"
    assert stripe_api.v1.subscriptions.retrieve(course.stripe_subscription_id).cancel_at_period_end is True
    again = shopper.post(f"/shop/subscriptions/{course.id}/cancel", follow_redirects=True)  # a double submit
    assert "解約を受け付けました" in again.text
    assert _audits(db_session, "shop.subscription_cancel") == 1
    assert sum("解約を受け付けました" in n for n in _notes(db_session, course)) == 1
    assert "解約の手続きができる状態ではありません" in shopper.get(f"/shop/subscriptions/{course.id}/cancel",
                                                        follow_redirects=True).text
    assert "スキップできる状態ではありません" in shopper.get(f"/shop/subscriptions/{course.id}/skip",
                                                        follow_redirects=True).text


def test_cancel_of_an_unpaid_period_says_what_is_still_due(shopper, stripe_app, db_session, card):
    course, _ = _start(shopper, db_session, card)
    course.status = "past_due"
    db_session.flush()
    confirm = shopper.get(f"/shop/subscriptions/{course.id}/cancel").text
    assert re.search(r'id="still-due">\s*5,060円（税込）', confirm)


def test_another_members_course_is_404(shopper, stripe_app, db_session, client, auth, make_member):
    _subscribe(shopper)
    course = _course(db_session)
    auth.logout()
    auth.login_member(make_member())
    assert client.get(f"/shop/subscriptions/{course.id}").status_code == 404
    for action in ("skip", "cancel", "start", "card-setup"):
        assert client.post(f"/shop/subscriptions/{course.id}/{action}",
                           data={"payment_method_id": "pm_x"}).status_code == 404, action
    for action in ("skip", "cancel"):
        assert client.get(f"/shop/subscriptions/{course.id}/{action}").status_code == 404, action
