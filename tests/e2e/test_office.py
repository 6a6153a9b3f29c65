"""The office finishes members' procedures in the browser, and the member sees each step.

One staff session (office@example.jp) and one member session (demo) side by side,
against the live server seeded with the demo data. The phone viewport runs first
and takes the demo household's procedures through; the desktop run repeats what
can be repeated (a new bank change, a new move, the CSV sent again).
"""
from __future__ import annotations

import re
import time

import pytest

from portal.clock import today as tokyo_today
from tests.e2e.conftest import VIEWPORTS, Visit


def _staff_login(visit: Visit, email: str = "office@example.jp") -> None:
    from portal.staff.accounts import totp_for

    page = visit.page
    visit.goto("/staff/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill("Staff-pass-2026")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/staff/login/totp$"))
    for _attempt in range(2):
        page.get_by_label("確認コード（6桁）").fill(totp_for("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").now())
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        if "/staff/login" not in page.url:
            return
        time.sleep(31)  # this step's code was used by the other viewport's sign-in
    raise AssertionError("office sign-in failed")


@pytest.fixture
def member(visit, browser):
    """The demo member in a browser of their own, the same size as the staff one."""
    size = visit.page.viewport_size
    context = browser.new_context(viewport=size, locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.set_default_timeout(15_000)
    other = Visit(page, visit.base, visit.name + "-member")
    other.login()
    yield other
    context.close()


def _text(page) -> str:
    """What the page says (typesetting puts <wbr> between phrases, so not its HTML)."""
    return page.locator("body").inner_text()


def _button(page, label: str):
    return page.locator(f"main button:text-is('{label}')")


def _submit(page):
    """The main form's submit button (long labels carry <wbr>, so not found by text)."""
    return page.locator("main form button[type=submit]").last


def _action(page, name: str):
    return page.locator(f"form[action$='/act/{name}'] button[type=submit]")


def _open_work(visit: Visit, receipt_no: str) -> None:
    visit.goto(f"/staff/work?q={receipt_no}")
    with visit.page.expect_navigation():
        visit.page.locator("table.work-table a", has_text=receipt_no).click()
    if _button(visit.page, "担当する").count():
        with visit.page.expect_navigation():
            _button(visit.page, "担当する").click()
    assert "あなたが担当しています" in _text(visit.page)


def _first_open(visit: Visit, kind: str) -> str | None:
    visit.goto(f"/staff/work?kind={kind}")
    links = visit.page.locator("table.work-table a")
    return links.first.inner_text() if links.count() else None


def _receipt_on(page) -> str:
    match = re.search(r"R\d{4}-[0-9A-Z]{8}", _text(page))
    assert match, "no receipt number on the page"
    return match.group(0)


def _requests_show(member: Visit, receipt_no: str, text: str) -> None:
    member.goto(f"/requests/{receipt_no}")
    assert text in _text(member.page), (receipt_no, text)


def test_bank_account_change_accepted_in_the_console(visit, member):
    page = visit.page
    _staff_login(visit)
    visit.check("office-home")
    # An earlier change still open (the demo's) is finished first: one change at a time.
    waiting = _first_open(visit, "bank_account_change")
    if waiting:
        _open_work(visit, waiting)
        with page.expect_navigation():
            _action(page, "accept").click()
    # The member asks for a new account…
    m = member.page
    member.goto("/profile/bank-account")
    if "/profile/reauth" in m.url:
        m.get_by_label("パスワード").fill("Demo-pass-2026")
        with m.expect_navigation():
            _button(m, "確認する").click()
    number = "1112223" if visit.page.viewport_size == VIEWPORTS["phone"] else "3334445"
    m.get_by_label("金融機関コード（4桁）").fill("0005")
    m.get_by_label("支店コード（3桁）").fill("001")
    m.get_by_label("口座番号（7桁以内）").fill(number)
    m.get_by_label("口座名義（カナ）").fill("ヤマダ タロウ")
    with m.expect_navigation():
        _submit(m).click()
    assert f"***{number[-4:]}" in _text(m) and number not in _text(m)  # the confirmation page
    with m.expect_navigation():
        _submit(m).click()
    member.check("bank-requested")
    receipt = _receipt_on(m)
    # …the office sees it, a return needs a reason, then it is accepted…
    _open_work(visit, receipt)
    visit.check("bank-detail")
    assert f"***{number[-4:]}" in _text(page)
    with page.expect_navigation():
        _action(page, "return").click()
    assert "理由を入力してください" in _text(page)
    with page.expect_navigation():
        _action(page, "accept").click()
    visit.check("bank-accepted")
    assert "承認しました" in _text(page)
    # …and the member sees 完了 with the first debit from the new account.
    _requests_show(member, receipt, "完了")
    assert "口座振替から新しい口座" in _text(member.page)
    visit.goto("/staff/work/dashboard")
    assert "処理日数（中央値）" in _text(page) and "振替口座変更" in _text(page)


def test_certificates_shipped_by_the_vendor_csv(visit, member, tmp_path):
    page = visit.page
    _staff_login(visit)
    visit.goto("/staff/work/certificates/import")
    today = tokyo_today().isoformat()
    bad = tmp_path / "bad.csv"
    bad.write_text(f"証書番号,発送日,お問い合わせ番号\n100000000106,{today},123456789012\n999999999999,{today},1\n",
                   encoding="utf-8")
    page.locator("input[type=file]").set_input_files(str(bad))
    with page.expect_navigation():
        _button(page, "取り込む").click()
    visit.check("csv-refused")
    assert "どの証書も更新していません" in _text(page) and "この証書番号の契約はありません" in _text(page)
    good = tmp_path / "good.csv"
    good.write_text(f"100000000106,{today},123456789012\n", encoding="utf-8")
    page.locator("input[type=file]").set_input_files(str(good))
    with page.expect_navigation():
        _button(page, "取り込む").click()
    visit.check("csv-applied")
    assert "取り込みました" in _text(page)
    member.goto("/contracts/100000000106")
    content = _text(member.page)
    assert "発送済み" in content and "123456789012" in content and "お届け予定" in content
    member.goto("/requests")
    assert "共済契約証書の発行" in _text(member.page)


def test_rerating_after_a_move(visit, member):
    page = visit.page
    _staff_login(visit)
    phone = visit.page.viewport_size == VIEWPORTS["phone"]
    m = member.page
    member.goto("/profile/address")
    m.get_by_label("郵便番号").fill("1600023" if phone else "1510053")
    m.get_by_label("町名・番地").fill("西新宿2-8-1" if phone else "代々木3-3-3")
    m.get_by_label("建物名・部屋番号").fill("")
    def answer_the_move():
        m.locator("input[name=property_moved][value=yes]").check()
        moved_on = tokyo_today()  # moved today: the property moves at once
        for part in ("year", "month", "day"):
            m.locator(f"#moved_on-{part}").fill(str(getattr(moved_on, part)))
        m.locator("input[name=structure][value=wooden]").check()

    answer_the_move()
    with m.expect_navigation():
        m.locator("button.btn-primary[value=confirm]").click()
    if not m.locator("button.btn-primary[value=save]").count():
        answer_the_move()
        with m.expect_navigation():
            m.locator("button.btn-primary[value=confirm]").click()
    member.check("move-confirm")
    with m.expect_navigation():
        m.locator("button.btn-primary[value=save]").click()
    member.goto("/requests")
    link = m.locator("a", has_text="住まいる共済 掛金改定").first
    assert link.count(), "the move queued no re-rating"
    receipt = link.get_attribute("href").rsplit("/", 1)[-1]
    _open_work(visit, receipt)
    visit.check("rerating-detail")
    page.locator(f"input[name='rerate-structure'][value='{'steel' if phone else 'mansion'}']").check()
    with page.expect_navigation():
        _action(page, "rerate").click()
    visit.check("rerated")
    assert "掛金を改定しました" in _text(page)
    _requests_show(member, receipt, "完了")
    member.goto("/contracts/100000000105")
    assert "住所変更に伴う掛金改定" in _text(member.page)


def test_enrolment_declined_then_approved(visit, member):
    page = visit.page
    _staff_login(visit)
    waiting = _first_open(visit, "enrollment")
    m = member.page
    if waiting is None and not _plan_offered(member):
        # The other viewport took the household's last plan through: its result stays visible.
        member.goto("/requests")
        assert "成立" in _text(m) and "不成立" in _text(m)
        return
    if waiting:
        _open_work(visit, waiting)
        visit.check("application")
        assert "告知（健康状態）" in _text(page)
        page.locator("textarea[name='decline-reason']").fill("ご提出の書類を確認できませんでした。お手数ですが、もう一度お申し込みください。")
        with page.expect_navigation():
            _action(page, "decline").click()
        _requests_show(member, waiting, "不成立")
        assert "ご提出の書類を確認できませんでした" in _text(m)
    # The member applies again (the spouse's plan), paying by 払込票.
    member.goto("/enroll")
    m.locator("input[name=plan]").first.check()
    _submit(m).click()
    for radio in m.locator("input[type=radio][value=no]").all():
        radio.check()
    _submit(m).click()
    m.locator("input[name=confirmed]").check()
    _submit(m).click()
    m.locator("input[name=method][value=transfer]").check()
    _submit(m).click()
    with m.expect_navigation():
        _submit(m).click()
    receipt = _receipt_on(m)
    _open_work(visit, receipt)
    with page.expect_navigation():
        _action(page, "approve").click()
    visit.check("approved")
    assert "成立しました" in _text(page)
    _requests_show(member, receipt, "成立")
    member.goto("/requests")
    assert "共済契約証書の発行" in _text(m)


def _plan_offered(member: Visit) -> bool:
    member.goto("/enroll")
    return member.page.locator("input[name=plan]").count() > 0
