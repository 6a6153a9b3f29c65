"""Self-service journeys in the browser: an inquiry answered by cs staff and read
in the portal (with its notice), and the contract-change pages up to their
confirmation (screenshots + axe on every page, phone and desktop)."""
from __future__ import annotations

import re
import time


def _text(page) -> str:
    """The page's HTML without the line-break hints the typesetter adds between phrases."""
    return page.content().replace("<wbr>", "").replace("\u200b", "")


def _staff_login(visit, page, email: str) -> None:
    from portal.staff.accounts import totp_for

    page.goto(visit.base + "/staff/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill("Staff-pass-2026")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/staff/login/totp$"))
    for _ in range(2):  # a code is good once: the other viewport may have used this step's
        page.get_by_label("確認コード（6桁）").fill(totp_for("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").now())
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        if "/staff/login" not in page.url:
            return
        time.sleep(31)
    raise AssertionError("staff sign-in failed")


def test_an_inquiry_answered_in_the_portal(visit, browser, request):
    page = visit.page
    subject = f"受取人の確認 {request.node.callspec.id}"
    visit.login()
    visit.goto("/help")
    page.get_by_label("よくある質問を検索").fill("解約")
    page.locator("main form[role=search] button[type=submit]").click()
    visit.check("help-search")
    assert "解約したいときは" in _text(page)
    visit.goto("/help/inquiries/new")
    page.get_by_label("お問い合わせの種類").select_option("contract")
    page.get_by_label("件名").fill(subject)
    page.get_by_label("お問い合わせ内容").fill("死亡共済金の受取人が誰になっているか知りたいです。")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/help/inquiries/R.*"))
    visit.check("inquiry-sent")
    thread_url = page.url
    assert "までにご回答します" in _text(page)

    staff = browser.new_context(viewport=page.viewport_size, locale="ja-JP", timezone_id="Asia/Tokyo")
    cs = staff.new_page()
    _staff_login(visit, cs, "cs@example.jp")
    cs.goto(visit.base + "/staff/help/inquiries")
    cs.screenshot(path=str(visit.screenshot("member-waiting").parent / f"{visit.name}-staff-inquiries.png"),
                  full_page=True)
    cs.locator("main table a", has_text=request.node.callspec.id).click()
    cs.get_by_label("メッセージ").fill("受取人はご契約の詳細画面の「死亡共済金の受取人」でご確認いただけます。")
    with cs.expect_navigation():
        cs.locator("main form button[type=submit]").click()
    assert "回答を送りました" in _text(cs)
    staff.close()

    page.goto(thread_url)
    visit.check("inquiry-answered")
    assert "担当者から回答がありました" in _text(page)
    assert "ご契約の詳細画面の「死亡共済金の受取人」" in _text(page)
    # By the member's chosen channel (the demo member: SMS or mail); only he writes inquiries here.
    notices = [m for m in visit.outbox() if m["to"] in ("+819012340001", "demo@example.jp")
               and "お問い合わせ" in (m.get("subject") or "") + m["body"] and "回答しました" in m["body"]]
    assert notices, "no reply notice to the member"
    visit.goto("/documents")
    assert "【回答】お問い合わせ" in _text(page)


def test_contract_change_pages_up_to_the_confirmation(visit):
    page = visit.page
    visit.login()
    visit.goto("/contracts/100000000101")
    page.locator("main a[href$='/cancel']").click()
    visit.check("cancel")
    page.locator("main button[value=confirm]").click()
    visit.check("cancel-confirm")
    assert "最後のお引き落とし" in _text(page) and "解約を申し込む" in _text(page)
    visit.goto("/contracts/100000000101/beneficiary")
    assert "共済規約の順位" in _text(page)
    page.get_by_label("お名前").fill("山田 花子")
    page.get_by_label("フリガナ").fill("やまだ はなこ")
    page.get_by_label("続柄").select_option("spouse")
    page.locator("main button[value=consent]").click()
    visit.check("beneficiary-consent")
    for path in ("/changes/withdrawal", "/changes/proxy-claimant", "/changes/name", "/changes/cooling-off",
                 "/documents"):
        assert visit.goto(path).status == 200, path
    response = page.request.get(visit.base + "/documents/products/kokumin_sogo/terms.pdf")
    assert response.status == 200 and response.body().startswith(b"%PDF-")
