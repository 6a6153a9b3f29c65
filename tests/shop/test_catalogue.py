"""Prices (税込 first, tax rounded down), member vs non-member, the payments notice."""
from __future__ import annotations

import pytest

from portal.shop import catalogue


@pytest.mark.parametrize("sku, member_excl, member_label, list_label, saving", [
    ("KC-SINGLE", 6_080, "6,688円（税込）", "8,360円（税込）", 1_672),
    ("KC-REGULAR", 4_600, "5,060円（税込）", "8,360円（税込）", 3_300),
    ("CANCER-M", 5_500, "6,050円（税込）", "12,100円（税込）", 6_050),
    ("CANCER-F", 5_500, "6,050円（税込）", "12,100円（税込）", 6_050),
    ("ABC", 4_500, "4,950円（税込）", "9,900円（税込）", 4_950),
])
def test_every_offer_is_priced_tax_included(sku, member_excl, member_label, list_label, saving):
    offer = catalogue.get(sku)
    assert offer.member_price_yen == member_excl
    assert offer.member_price_label == member_label
    assert offer.list_price_label == list_label
    assert offer.saving_incl_yen == saving
    assert offer.member_price_incl_yen == member_excl + member_excl * 10 // 100


def test_five_offers_with_maker_and_what_they_detect():
    assert [o.sku for o in catalogue.OFFERS] == ["KC-REGULAR", "KC-SINGLE", "CANCER-M", "CANCER-F", "ABC"]
    assert {o.maker for o in catalogue.OFFERS} == {"大正製薬", "リージャー"}
    assert all(o.detects for o in catalogue.OFFERS)
    assert [o.sku for o in catalogue.OFFERS if o.is_subscription] == ["KC-REGULAR"]
    assert {o.sku: o.sex for o in catalogue.OFFERS if o.sex} == {"CANCER-M": "male", "CANCER-F": "female"}


def test_anonymous_visitor_sees_list_prices_and_cannot_buy(client, no_stripe):
    page = client.get("/shop").text
    assert "8,360円（税込）" in page and "一般価格" in page
    assert "6,688円" not in page and "組合員価格</span>" not in page
    detail = client.get("/shop/KC-SINGLE").text
    assert "8,360円（税込）" in detail and "6,688円" not in detail
    assert 'action="/shop/KC-SINGLE/order"' not in detail
    response = client.post("/shop/KC-SINGLE/order", data={"person_id": 1, "token": "x" * 20})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_member_sees_member_price_list_price_and_saving(member_client, no_stripe):
    page = member_client.get("/shop").text
    assert "6,688円（税込）" in page and "5,060円（税込）" in page and "4,950円（税込）" in page
    assert "<s>8,360円（税込）</s>" in page
    assert "1,672円お得" in page
    detail = member_client.get("/shop/CANCER-F").text
    assert "6,050円（税込）" in detail and "リージャー" in detail and 'action="/shop/CANCER-F/order"' in detail


def test_suspended_member_gets_list_prices_and_is_refused(client, auth, make_member, db_session, no_stripe):
    member = make_member()
    auth.login_member(member)
    member.status = "suspended"
    db_session.flush()
    page = client.get("/shop").text
    assert "6,688円" not in page and "8,360円（税込）" in page
    response = client.post("/shop/KC-SINGLE/order", data={"person_id": member.insured_persons[0].id,
                                                          "token": "t" * 24})
    assert response.status_code in (302, 422)
    from sqlalchemy import func, select

    from portal.shop.models import ShopOrder
    assert db_session.scalar(select(func.count()).select_from(ShopOrder)) == 0


def test_unknown_sku_is_404(client):
    assert client.get("/shop/NOPE").status_code == 404


def test_without_stripe_the_shop_says_payments_are_unavailable(member_client, no_stripe):
    page = member_client.get("/shop").text
    assert "現在オンライン決済をご利用いただけません" in page
    assert member_client.get("/shop/KC-REGULAR").status_code == 200
