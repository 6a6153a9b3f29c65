"""Shop journeys in the browser (phone and desktop, axe on every page): the regular
course's skip and cancel each go through their confirmation page; an unpaid kit
order is cancelled from its page after a confirmation; the order page offers only
the people a kit is for and shows the delivery address and 送料 0円."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

CARD = (("number", "4242424242424242"), ("exp_month", "12"), ("exp_year", "30"), ("cvc", "123"),
        ("postal_code", "15100"))


def _needs_stripe(localstripe) -> None:
    if localstripe is None:
        pytest.skip("port 8420 is taken: localstripe could not be started for the shop scenario")


def _person_for(visit) -> str:
    """Each viewport orders for its own person (the demo household shares one database)."""
    return "山田 太郎（本人）" if visit.name.endswith("phone") else "山田 花子（配偶者）"


def start_regular_course(page, base: str, person: str) -> None:
    """Order the regular course for `person` and pay by card (localstripe): ends on the course's page."""
    page.goto(base + "/shop/KC-REGULAR")
    page.locator("#person_id").select_option(label=person)
    with page.expect_navigation():
        page.get_by_role("button", name="定期コースを申し込む").click()
    page.locator("#card-element input[placeholder=number]").wait_for()
    for field, value in CARD:
        page.locator(f"#card-element input[placeholder={field}]").fill(value)
    with page.expect_navigation():
        page.locator("#pay-button").click()
    expect(page.locator("main")).to_contain_text("継続中", timeout=20_000)


def test_skip_and_cancel_of_the_regular_course_are_confirmed_first(visit, localstripe):
    _needs_stripe(localstripe)
    page = visit.page
    visit.login()
    start_regular_course(page, visit.base, _person_for(visit))
    visit.check("course-active", exclude=["#card-element"])

    with page.expect_navigation():
        page.get_by_role("link", name="次回のお届けをスキップする").click()
    visit.check("skip-confirm")
    expect(page.locator("h1")).to_have_text("次回のお届けのスキップ（確認）")
    expect(page.locator("#skipped-delivery")).to_contain_text("ごろのお届け")
    expect(page.locator("#next-charge")).to_contain_text("5,060円（税込）")
    with page.expect_navigation():
        page.get_by_role("button", name="スキップする").dblclick()  # an impatient double click
    expect(page.locator("main")).to_contain_text("次回のお届けをスキップしました")
    expect(page.locator("main")).not_to_contain_text("できる状態ではありません")
    visit.check("skipped")

    with page.expect_navigation():
        page.get_by_role("link", name="定期コースを解約する").click()
    visit.check("cancel-confirm")
    expect(page.locator("#ends-on")).not_to_be_empty()
    expect(page.locator("#still-due")).to_have_text("ありません")
    with page.expect_navigation():
        page.get_by_role("button", name="解約する").click()
    expect(page.locator("main")).to_contain_text("解約を受け付けました")
    expect(page.locator("main")).to_contain_text("解約予定")
    visit.check("cancelled")


def test_an_unpaid_order_is_cancelled_after_its_confirmation(visit, localstripe):
    _needs_stripe(localstripe)
    page = visit.page
    visit.login()
    visit.goto("/shop/CANCER-M")
    options = page.locator("#person_id option").all_inner_texts()
    assert options == ["選んでください", "山田 太郎（本人）"]  # not the wife, not the 14-year-old son
    expect(page.locator("#unable-people")).to_contain_text("山田 一郎さま（子）：20歳以上の男性の方が対象です")
    expect(page.locator("#order-summary")).to_contain_text("送料0円")
    expect(page.locator("#order-summary")).to_contain_text("ご住所を変更する")
    page.locator("#person_id").select_option(label="山田 太郎（本人）")
    with page.expect_navigation():
        page.get_by_role("button", name="お支払いへ進む").click()
    page.locator("#card-element input[placeholder=number]").wait_for()
    visit.check("order-unpaid", exclude=["#card-element"])
    order_url = page.url

    with page.expect_navigation():
        page.get_by_role("link", name="このご注文を取り消す").click()
    visit.check("order-cancel-confirm")
    expect(page.locator("main")).to_contain_text("6,050円（税込）")
    with page.expect_navigation():
        page.get_by_role("button", name="取り消す").click()
    expect(page.locator("main")).to_contain_text("ご注文を取り消しました")
    expect(page.locator("#order-cancelled")).to_be_visible()
    assert page.locator("#card-element").count() == 0
    visit.check("order-cancelled")
    visit.goto("/shop/orders")
    assert order_url.rsplit("/", 1)[-1] in page.content()
