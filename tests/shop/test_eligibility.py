"""Who a kit is for (the maker's age and sex rule, age on the order date from
portal.clock), the delivery address and the shipping fee on the order page, and
one total on the page, at Stripe and on the receipt."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.clock import TOKYO, today
from portal.jp.dates import format_date_jp
from portal.members.models import InsuredPerson
from portal.shop import catalogue, services
from portal.shop.models import ShopOrder, ShopSubscription
from tests.shop.stripe_fixtures import GOOD_CARD

TOKEN = "elg-" + "a" * 28


@pytest.fixture
def child(shopper, db_session):
    """A son in the household who turned 14 on the 1st of this month."""
    now = today()
    person = InsuredPerson(member_id=shopper.member.id, relation="child", name="試験 一郎",
                           name_kana="シケン イチロウ", birth_date=date(now.year - 14, now.month, 1), sex="male")
    db_session.add(person)
    db_session.flush()
    db_session.expire(shopper.member, ["insured_persons"])
    return person


def _select_options(html: str) -> list[str]:
    select_html = re.search(r'<select[^>]*id="person_id".*?</select>', html, re.S).group(0)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select_html)


@pytest.mark.parametrize("sku, label", [("CANCER-M", "20歳以上の男性の方"), ("CANCER-F", "20歳以上の女性の方"),
                                        ("ABC", "20歳以上の方"), ("KC-SINGLE", "18歳以上の方"),
                                        ("KC-REGULAR", "18歳以上の方")])
def test_every_kit_says_whom_it_is_for(sku, label):
    assert catalogue.get(sku).eligibility_label == label


def test_the_rule_uses_the_age_on_the_order_date(shopper, child, db_session):
    offer = catalogue.get("KC-SINGLE")
    birthday_18 = child.birth_date.replace(year=child.birth_date.year + 18)
    assert services.ineligibility(offer, child, today()) == \
        f"18歳以上の方が対象です（{format_date_jp(today())}時点で14歳）"
    assert services.ineligibility(offer, child, birthday_18) is None  # 18 on his birthday
    assert services.ineligibility(offer, child, birthday_18 - timedelta(days=1)) == \
        f"18歳以上の方が対象です（{format_date_jp(birthday_18 - timedelta(days=1))}時点で17歳）"
    assert services.ineligibility(catalogue.get("CANCER-F"), child, date(2060, 1, 1)) == "女性の方向けの検査です"
    # the server takes the order date from portal.clock
    eve = datetime.combine(birthday_18 - timedelta(days=1), time(23, 59), tzinfo=TOKYO)
    with time_machine.travel(eve, tick=False), pytest.raises(services.ShopError) as refused:
        services.check_recipient(db_session, shopper.member, offer, child.id)
    assert "17歳" in refused.value.message and refused.value.field == "person_id"
    with time_machine.travel(eve + timedelta(minutes=1), tick=False):
        assert services.check_recipient(db_session, shopper.member, offer, child.id) is child


def test_the_order_page_offers_only_the_people_the_kit_is_for(shopper, child, no_stripe):
    page = shopper.get("/shop/CANCER-M").text
    options = _select_options(page)
    assert options == ["選んでください", f"{shopper.me.name}（本人）"]
    unable = re.search(r'id="unable-people".*?</div>', page, re.S).group(0)
    assert f"試験 一郎さま（子）：20歳以上の男性の方が対象です（{format_date_jp(today())}時点で14歳）" in unable
    assert f"{shopper.spouse.name}さま（配偶者）：男性の方向けの検査です" in unable


def test_the_server_refuses_an_ineligible_person_with_a_clear_message(shopper, child, stripe_app, db_session):
    response = shopper.post("/shop/CANCER-M/order", data={"person_id": child.id, "token": TOKEN})
    course = shopper.post("/shop/KC-REGULAR/order", data={"person_id": child.id, "token": "x" + TOKEN})
    assert response.status_code == 422
    assert ("試験 一郎さまは、この検査をお申し込みいただけません。がんリスクチェック 男性用は"
            f"20歳以上の男性の方が対象です（{format_date_jp(today())}時点で14歳）。") in response.text
    assert course.status_code == 422 and "18歳以上の方が対象です" in course.text
    assert db_session.scalars(select(ShopOrder)).all() == []
    assert db_session.scalars(select(ShopSubscription)).all() == []


def test_a_household_with_nobody_eligible_gets_no_form(client, auth, make_member, db_session, no_stripe):
    member = make_member(household=False)  # one man only
    auth.login_member(member)
    page = client.get("/shop/CANCER-F").text
    assert 'id="no-eligible"' in page and 'action="/shop/CANCER-F/order"' not in page
    assert "女性の方向けの検査です" in page


def test_the_order_page_shows_the_delivery_address_and_the_shipping_fee(shopper, no_stripe):
    member = shopper.member
    page = shopper.get("/shop/ABC").text
    summary = re.search(r'<dl class="facts" id="order-summary">.*?</dl>', page, re.S).group(0)
    assert f"〒{member.postal_code[:3]}-{member.postal_code[3:]} {member.address}" in summary
    assert 'href="/profile/address"' in summary
    assert re.search(r"<dt>送料</dt><dd>0円</dd>", summary)
    assert re.search(r'id="order-total">4,950円（税込）', summary)


def test_one_total_on_the_page_at_stripe_and_on_the_receipt(shopper, stripe_app, db_session, card, stripe_api):
    from pypdf import PdfReader

    shown = re.search(r'id="order-total">([\d,]+)円', shopper.get("/shop/CANCER-F").text).group(1)
    shopper.post("/shop/CANCER-F/order", data={"person_id": shopper.spouse.id, "token": TOKEN})
    order = db_session.scalar(select(ShopOrder))
    order_page = shopper.get(f"/shop/orders/{order.order_no}").text
    assert re.search(r'id="order-total">([\d,]+)円', order_page).group(1) == shown == "6,050"
    assert "送料0円" in order_page and 'href="/profile/address"' in order_page
    shopper.post(f"/shop/orders/{order.order_no}/pay", data={"payment_method_id": card(GOOD_CARD)})
    db_session.expire_all()
    order = db_session.get(ShopOrder, order.id)
    assert stripe_api.v1.payment_intents.retrieve(order.payment_intent_id).amount == order.total_yen == 6050
    receipt = shopper.get(f"/shop/orders/{order.order_no}/receipt").text
    assert "6,050円（税込）" in receipt and re.search(r"<dt>送料</dt><dd>0円</dd>", receipt)
    pdf = shopper.get(f"/shop/orders/{order.order_no}/receipt.pdf").data
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "6,050" in text and "送料" in text
