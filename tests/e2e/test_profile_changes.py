"""Profile changes that cannot be undone, in the browser: the debit account with its
confirmation page, and the 住まいる共済 move with a moving date.

The demo member in one browser and an office session in another (the demo
household's open debit-account change is finished first: one change at a time).
"""
from __future__ import annotations

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
