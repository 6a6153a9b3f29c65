"""One-time purchases against localstripe: order first, then the PaymentIntent; pay,
decline and retry, double click, outage, household rules, acting staff, IDOR, receipts."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from portal.procedures.models import ProcedureRequest
from portal.shop import services
from portal.shop.models import ShopOrder
from tests.shop.stripe_fixtures import DECLINED_AT_CHARGE, GOOD_CARD

TOKEN = "tok-" + "a" * 28


def _orders(db_session) -> list[ShopOrder]:
    db_session.expire_all()
    return list(db_session.scalars(select(ShopOrder).order_by(ShopOrder.id)))


def _order(shopper, sku="KC-SINGLE", person=None, token=TOKEN, **extra):
    person = person or shopper.me
    return shopper.post(f"/shop/{sku}/order", data={"person_id": person.id, "token": token, **extra})


def _intents_for(stripe_api, order_no: str) -> list:
    return [pi for pi in stripe_api.v1.payment_intents.list(params={"limit": 100}).data
            if pi.to_dict().get("metadata", {}).get("order_no") == order_no]


def test_order_creates_row_then_payment_intent_for_the_tax_included_amount(shopper, stripe_app, db_session,
                                                                           stripe_api):
    response = _order(shopper)
    [order] = _orders(db_session)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/shop/orders/{order.order_no}")
    assert (order.status, order.unit_price_yen, order.tax_yen, order.total_yen) == ("awaiting_payment", 6080, 608, 6688)
    assert order.recipient_name == shopper.me.name
    intent = stripe_api.v1.payment_intents.retrieve(order.payment_intent_id)
    assert (intent.amount, intent.currency, intent.metadata["order_no"]) == (6688, "jpy", order.order_no)
    procedure = db_session.get(ProcedureRequest, order.procedure_id)
    assert (procedure.kind, procedure.status) == ("shop_order", "awaiting_payment")
    page = shopper.get(f"/shop/orders/{order.order_no}").text
    assert "支払待ち" in page and "6,688円（税込）" in page and 'id="card-element"' in page
    assert "/js.stripe.com/v3/" in page


def test_double_click_makes_one_order_and_one_payment_intent(shopper, stripe_app, db_session, stripe_api):
    first = _order(shopper)
    second = _order(shopper)
    orders = _orders(db_session)
    assert len(orders) == 1
    assert first.headers["Location"] == second.headers["Location"]
    assert len(_intents_for(stripe_api, orders[0].order_no)) == 1
    assert db_session.scalar(select(func.count()).select_from(ProcedureRequest)
                             .where(ProcedureRequest.kind == "shop_order")) == 1


def test_paying_with_a_good_card_marks_the_order_paid(shopper, stripe_app, db_session, card, stripe_api):
    _order(shopper)
    [order] = _orders(db_session)
    response = shopper.post(f"/shop/orders/{order.order_no}/pay", data={"payment_method_id": card(GOOD_CARD)})
    assert response.status_code == 302
    [order] = _orders(db_session)
    assert order.status == "paid" and order.paid_at is not None and order.last_error is None
    assert stripe_api.v1.payment_intents.retrieve(order.payment_intent_id).status == "succeeded"
    procedure = db_session.get(ProcedureRequest, order.procedure_id)
    assert procedure.status == "paid"
    page = shopper.get(f"/shop/orders/{order.order_no}").text
    assert "支払済" in page and "領収書" in page
    # paying again (a resent form) changes nothing and charges nothing
    shopper.post(f"/shop/orders/{order.order_no}/pay", data={"payment_method_id": card(GOOD_CARD)})
    assert len(_intents_for(stripe_api, order.order_no)) == 1
    assert [e.status for e in db_session.get(ProcedureRequest, order.procedure_id).events].count("paid") == 1


def test_declined_card_shows_the_reason_and_the_order_stays_open_to_retry(shopper, stripe_app, db_session, card):
    _order(shopper)
    [order] = _orders(db_session)
    response = shopper.post(f"/shop/orders/{order.order_no}/pay",
                            data={"payment_method_id": card(DECLINED_AT_CHARGE)}, follow_redirects=True)
    assert "カードが承認されませんでした" in response.text
    [order] = _orders(db_session)
    assert order.status == "awaiting_payment" and "承認されません" in order.last_error
    first_intent = order.payment_intent_id
    shopper.post(f"/shop/orders/{order.order_no}/pay", data={"payment_method_id": card(GOOD_CARD)})
    [order] = _orders(db_session)
    assert order.status == "paid" and order.payment_attempt == 2 and order.payment_intent_id != first_intent


def test_stripe_outage_keeps_the_order_and_says_so(shopper, stripe_down, db_session):
    response = _order(shopper)
    [order] = _orders(db_session)
    assert response.status_code == 302
    assert order.status == "awaiting_payment" and order.payment_intent_id is None
    assert "決済サービスに接続できませんでした" in order.last_error
    page = shopper.get(f"/shop/orders/{order.order_no}").text
    assert "ご注文は保存されています" in page
    setup = shopper.post(f"/shop/orders/{order.order_no}/card-setup")
    assert setup.status_code == 503 and "接続できませんでした" in setup.json["error"]


def test_payment_after_the_outage_creates_the_intent_then(shopper, app, db_session, localstripe_url, card,
                                                          stripe_down):
    _order(shopper)
    [order] = _orders(db_session)
    from tests.shop.stripe_fixtures import _configure, SECRET_KEY, WEBHOOK_SECRET
    _configure(app, STRIPE_SECRET_KEY=SECRET_KEY, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
               STRIPE_API_BASE=localstripe_url)
    shopper.post(f"/shop/orders/{order.order_no}/pay", data={"payment_method_id": card(GOOD_CARD)})
    [order] = _orders(db_session)
    assert order.status == "paid" and order.payment_intent_id


def test_without_stripe_an_order_is_kept_with_a_clear_notice(shopper, no_stripe, db_session):
    _order(shopper)
    [order] = _orders(db_session)
    assert "現在オンライン決済をご利用いただけません" in order.last_error
    assert "現在オンライン決済をご利用いただけません" in shopper.get(f"/shop/orders/{order.order_no}").text


def test_household_member_can_be_the_recipient(shopper, stripe_app, db_session):
    _order(shopper, "ABC", person=shopper.spouse)
    [order] = _orders(db_session)
    assert order.insured_person_id == shopper.spouse.id and order.total_yen == 4950


def test_someone_outside_the_household_cannot_be_the_recipient(shopper, stripe_app, db_session, make_member):
    other = make_member(household=True)
    response = _order(shopper, "ABC", person=other.insured_persons[1])
    assert response.status_code == 422 and "ご家族の中から選んでください" in response.text
    assert _orders(db_session) == []


def test_sex_specific_kit_is_only_for_that_sex(shopper, stripe_app, db_session):
    response = _order(shopper, "CANCER-M", person=shopper.spouse, confirm_mismatch="y")
    assert response.status_code == 422 and "男性の方向けの検査です" in response.text
    assert _orders(db_session) == []
    assert _order(shopper, "CANCER-F", person=shopper.spouse, token="tok-" + "b" * 28).status_code == 302
    assert _order(shopper, "CANCER-M", person=shopper.me, token="tok-" + "c" * 28).status_code == 302
    assert [o.sku for o in _orders(db_session)] == ["CANCER-F", "CANCER-M"]


def test_purchase_refused_while_staff_acts_for_the_member(staff_client, make_member, db_session, stripe_app):
    member = make_member(household=True)
    support = staff_client("support")
    started = support.post(f"/staff/members/{member.id}/act",
                           data={"reason_code": "phone_inquiry", "reason_text": "健康チェックのご相談"})
    assert started.status_code == 302
    response = support.post("/shop/ABC/order", data={"person_id": member.insured_persons[0].id, "token": TOKEN},
                            follow_redirects=True)
    assert "代理操作中は購入できません" in response.text
    assert _orders(db_session) == []


def test_another_members_order_is_404_everywhere(shopper, stripe_app, db_session, client, auth, make_member, card):
    _order(shopper)
    [order] = _orders(db_session)
    shopper.post(f"/shop/orders/{order.order_no}/pay", data={"payment_method_id": card(GOOD_CARD)})
    other = make_member()
    auth.logout()
    auth.login_member(other)
    for path in ("", "/receipt", "/receipt.pdf"):
        assert client.get(f"/shop/orders/{order.order_no}{path}").status_code == 404, path
    for path in ("/pay", "/card-setup", "/refresh"):
        assert client.post(f"/shop/orders/{order.order_no}{path}",
                           data={"payment_method_id": "pm_x"}).status_code == 404, path
    assert order.order_no not in client.get("/shop/orders").text


def test_orders_page_and_receipt_page_and_pdf(shopper, stripe_app, db_session, card):
    from pypdf import PdfReader

    _order(shopper)
    [order] = _orders(db_session)
    assert shopper.get(f"/shop/orders/{order.order_no}/receipt").status_code == 404  # not paid yet
    shopper.post(f"/shop/orders/{order.order_no}/pay", data={"payment_method_id": card(GOOD_CARD)})
    listing = shopper.get("/shop/orders").text
    assert order.order_no in listing and "6,688円" in listing and "支払済" in listing
    receipt = shopper.get(f"/shop/orders/{order.order_no}/receipt").text
    assert "領収書" in receipt and "6,688円（税込）" in receipt and "608円" in receipt
    assert shopper.member.name in receipt
    pdf = shopper.get(f"/shop/orders/{order.order_no}/receipt.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert b"HeiseiKakuGo-W5" in pdf.data
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "6,688" in text and order.order_no in text


def test_shipping_moves_paid_to_shipped(shopper, stripe_app, db_session, card, ctx):
    _order(shopper)
    [order] = _orders(db_session)
    shopper.post(f"/shop/orders/{order.order_no}/pay", data={"payment_method_id": card(GOOD_CARD)})
    [order] = _orders(db_session)
    services.mark_shipped(db_session, order)
    assert order.status == "shipped" and db_session.get(ProcedureRequest, order.procedure_id).status == "shipped"
