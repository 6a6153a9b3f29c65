"""Profile changes that cannot be undone, in the browser: the debit account with its
confirmation page, and the 住まいる共済 move with a moving date.

The demo member in one browser and an office session in another (the demo
household's open debit-account change is finished first: one change at a time).
"""
from __future__ import annotations

from datetime import timedelta

from portal.clock import today
from tests.e2e.conftest import VIEWPORTS
from tests.e2e.test_office import _action, _first_open, _open_work, _staff_login, _submit, _text, member  # noqa: F401


def _step_up(member) -> None:
    page = member.page
    if "/profile/reauth" in page.url:
        page.get_by_label("パスワード").fill("Demo-pass-2026")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").first.click()


def test_bank_account_change_is_confirmed_and_can_be_corrected(visit, member):
    _staff_login(visit)
    waiting = _first_open(visit, "bank_account_change")
    if waiting:
        _open_work(visit, waiting)
        with visit.page.expect_navigation():
            _action(visit.page, "accept").click()
    m = member.page
    member.goto("/profile/bank-account")
    _step_up(member)
    number = "２４６８１３５" if visit.page.viewport_size == VIEWPORTS["phone"] else "１３５７９２４"
    typed = {"金融機関コード（4桁）": "0001", "支店コード（3桁）": "001", "口座番号（7桁以内）": number,
             "口座名義（カナ）": "やまだ たろう"}
    for label, value in typed.items():
        m.get_by_label(label).fill(value)
    with m.expect_navigation():
        _submit(m).click()
    member.check("bank-confirm")
    shown = _text(m)
    plain = number.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    assert "みずほ銀行" in shown and "東京営業部" in shown and "ﾔﾏﾀﾞ ﾀﾛｳ" in shown
    assert f"***{plain[-4:]}" in shown and plain not in m.content()
    # 修正する: back to the form with everything typed, the account number too.
    with m.expect_navigation():
        m.get_by_role("link", name="修正する").click()
    member.check("bank-correct")
    assert m.get_by_label("口座番号（7桁以内）").input_value() == plain
    assert m.get_by_label("口座名義（カナ）").input_value() == "やまだ たろう"
    m.get_by_label("口座名義（カナ）").fill("ヤマダ タロウ")
    with m.expect_navigation():
        _submit(m).click()
    with m.expect_navigation():
        m.get_by_role("button", name="この内容で申し込む").click()
    member.check("bank-received")
    assert "振替口座の変更を受け付けました" in _text(m) and "受付済" in _text(m)


def _fill_moving_date(page, day) -> None:
    wide = str.maketrans("0123456789", "０１２３４５６７８９")  # typed as many people type: full-width
    for part in ("year", "month", "day"):
        page.locator(f"#moved_on-{part}").fill(str(getattr(day, part)).translate(wide))


def test_the_property_moves_on_the_moving_date_given(member):
    """A date to come is shown as the day the property moves; corrected to today, it moves at once
    (so the property stays at the member's home for the next run)."""
    m = member.page
    phone = m.viewport_size == VIEWPORTS["phone"]
    member.goto("/profile/address")
    m.get_by_label("郵便番号").fill("5300001" if phone else "1510053")
    m.get_by_label("町名・番地").fill("梅田1-1-1" if phone else "代々木5-5-5")
    m.locator("input[name=property_moved][value=yes]").check()
    later = today() + timedelta(days=20)
    _fill_moving_date(m, later)
    m.locator("input[name=structure][value=mansion]").check()
    member.check("move-form")
    with m.expect_navigation():
        m.locator("button.btn-primary[value=confirm]").click()
    member.check("move-confirm-later")
    shown = _text(m)
    assert f"{later.year}年{later.month}月{later.day}日" in shown and "この日に所在地と構造が変わります" in shown
    assert "マンション" in shown
    with m.expect_navigation():
        m.locator("button[value=edit]").click()
    member.check("move-corrected")
    assert m.locator("#moved_on-day").input_value() == str(later.day)  # kept
    assert m.locator("input[name=structure][value=mansion]").is_checked()
    _fill_moving_date(m, today())
    with m.expect_navigation():
        m.locator("button.btn-primary[value=confirm]").click()
    assert "所在地と構造をすぐに変更します" in _text(m)
    with m.expect_navigation():
        m.locator("button.btn-primary[value=save]").click()
    member.check("move-saved")
    assert "住まいる共済の対象物件の所在地と建物の構造も変更しました" in _text(m)
    member.goto("/contracts/100000000105")
    assert "マンション" in _text(m)
