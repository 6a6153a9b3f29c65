"""Member journeys in the browser, on phone and desktop (screenshots + axe on every page)."""
from __future__ import annotations

import re


def test_signup_to_mypage_with_the_sms_code(visit, request):
    # Each viewport signs up once; the second run finds 1000000002 already registered,
    # so the desktop run uses the password reset journey's first step instead.
    page = visit.page
    visit.goto("/signup")
    page.get_by_label("組合員番号または証書番号").fill("１０００００００02")  # full-width digits work
    page.get_by_label("生年月日").fill("1975-10-10")
    page.get_by_label("ご登録の電話番号").fill("090-1234-0002")
    page.get_by_role("button", name="認証コードを送信する").click()
    visit.check("signup-code")
    if "phone" not in request.node.name:
        assert "認証コード" in page.content()
        return
    code = visit.latest_code("9012340002")
    page.get_by_label("認証コード").fill(code)
    page.locator("form button[type=submit].btn-primary").first.click()
    visit.check("signup-credentials")
    page.locator("#password").fill("Mirai-kyosai-2026!")
    page.locator("#password_confirm").fill("Mirai-kyosai-2026!")
    page.locator("form button[type=submit].btn-primary").first.click()
    page.wait_for_url(re.compile(r".*/mypage$"))
    visit.check("welcome")
    assert "佐藤" in page.content()


def test_coverage_contracts_and_certificate_pages(visit):
    visit.login()
    for path in ("/contracts", "/contracts/100000000101", "/certificates", "/requests", "/tips", "/coverage"):
        response = visit.goto(path)
        assert response.status == 200, path
    assert "山田 花子" in visit.page.content() and "山田 さくら" in visit.page.content()


def test_enrolment_flow(visit, request):
    visit.login()
    page = visit.page
    visit.goto("/enroll")
    options = page.locator("input[name=plan]")
    if options.count() == 0:
        return  # the demo member already holds every plan he may take
    options.first.check()
    page.get_by_role("button", name="次へ（告知）").click()
    visit.check("declaration")
    for radio in page.locator("input[type=radio][value=no]").all():
        radio.check()
    page.get_by_role("button", name="次へ（重要事項）").click()
    visit.check("matters")
    page.get_by_label(re.compile("内容を確認しました")).check()
    page.get_by_role("button", name="次へ（お支払い）").click()
    visit.check("payment")
    page.get_by_label("登録済みの振替口座で掛金を支払う").check()
    page.get_by_role("button", name="次へ（確認）").click()
    visit.check("confirm")
    page.get_by_role("button", name="申し込む").click()
    visit.check("done")
    assert "受付番号" in page.content()


def test_address_change_with_postal_lookup(visit):
    visit.login()
    page = visit.page
    visit.goto("/profile/address")
    page.get_by_label("郵便番号").fill("5300001")
    page.get_by_label("郵便番号").blur()
    page.wait_for_timeout(800)
    visit.check("address-filled")
    assert "大阪" in page.content() or page.get_by_label("市区町村").input_value() != ""
