"""The pages every visitor and member sees first, on phone and desktop."""
from __future__ import annotations


def test_front_page_and_login(visit):
    visit.goto("/")
    assert visit.page.locator("h1").inner_text() == "マイページ"
    visit.goto("/login")
    with visit.page.expect_navigation():
        visit.page.get_by_role("button", name="ログイン", exact=True).click()
    assert "ログインIDを入力してください" in visit.page.content()
    visit.check("login-errors")


def test_member_signs_in_and_sees_requests(visit):
    visit.login()
    assert visit.page.url.endswith("/mypage")
    visit.check("mypage")
    visit.goto("/requests")
    assert "手続き状況" in visit.page.content()


def test_large_text_setting_is_remembered(large_text):
    visit = large_text
    visit.goto("/login")
    assert "text-large" in (visit.page.locator("html").get_attribute("class") or "")
    font = visit.page.evaluate("getComputedStyle(document.body).fontSize")
    assert float(font.rstrip("px")) >= 20


def test_error_page(visit):
    response = visit.goto("/no-such-page")
    assert response.status == 404
    assert "ページが見つかりません" in visit.page.content()


def test_layout_fits_a_phone(visit):
    visit.login()
    width = visit.page.evaluate("document.documentElement.scrollWidth")
    assert width <= visit.page.viewport_size["width"] + 1, "horizontal scrolling on the page"
