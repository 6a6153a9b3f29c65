"""A hospital + surgery claim on a phone: estimate first, two photos, five screens; the claims
desk approves and pays it in a transfer file; the member sees お支払い済み."""
from __future__ import annotations

import re
import time
from datetime import timedelta
from io import BytesIO

from PIL import Image

from tests.e2e.conftest import VIEWPORTS, Visit


def _photo(color) -> dict:
    out = BytesIO()
    Image.new("RGB", (800, 600), color).save(out, "JPEG")
    return {"name": "receipt.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


def _type_date(page, name: str, day, *, full_width: bool = False) -> None:
    """Into the 年・月・日 boxes, as a phone keyboard in Japanese mode may type them."""
    wide = str.maketrans("0123456789", "０１２３４５６７８９")
    for part in ("year", "month", "day"):
        text = str(getattr(day, part))
        page.locator(f"#{name}-{part}").fill(text.translate(wide) if full_width else text)


def _staff_sign_in(visit: Visit, email: str) -> None:
    from portal.staff.accounts import totp_for

    page = visit.page
    visit.goto("/staff/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill("Staff-pass-2026")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/staff/login/totp$"))
    for _ in range(2):
        page.get_by_label("確認コード（6桁）").fill(totp_for("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").now())
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        if "/staff/login" not in page.url:
            return
        time.sleep(31)  # this step's code was used already: wait for the next one
    raise AssertionError("staff sign-in failed")


def test_hospital_and_surgery_claim_to_paid(visit, browser, request):
    from portal.clock import today

    page = visit.page
    visit.login()
    visit.goto("/claims")
    page.locator('main a[href="/claims/new"]').first.click()
    screens = 1
    visit.check("claim-1-what")
    page.locator("input[name=person_id]").nth(1).check()
    page.locator("input[name=benefits][value=hospital]").check()
    page.locator("input[name=benefits][value=surgery]").check()
    page.locator("input[name=cause][value=illness]").check()
    page.locator("main form button[type=submit]").click()
    screens += 1
    visit.check("claim-2-dates")
    start = today() - timedelta(days=10)
    _type_date(page, "hospital_from", start)
    _type_date(page, "hospital_to", start + timedelta(days=4))
    _type_date(page, "surgery_date", start + timedelta(days=1), full_width=True)
    page.locator("#surgery_name").fill("腹腔鏡下虫垂切除術")
    page.locator("#hospital_name").fill("代々木中央病院")
    with page.expect_navigation():
        page.locator("#hospital_name").press("Enter")  # Enter goes on, not to 「通院日を追加」
    screens += 1
    visit.check("claim-3-estimate")
    assert page.locator("#estimate-title").bounding_box()["y"] < page.locator("#files").bounding_box()["y"]
    assert page.locator("#estimate-total").inner_text() == "110,000円"
    page.locator("#files").set_input_files([_photo((200, 180, 160)), _photo((160, 180, 200))])
    page.locator("main form button[type=submit]").click()
    screens += 1
    visit.check("claim-4-confirm")
    assert "2点" in page.locator("main").inner_text()
    page.locator("main form button[type=submit]").click()
    screens += 1
    page.wait_for_url(re.compile(r".*/claims/R[0-9A-Z-]+\?sent=1$"))
    visit.check("claim-5-received")
    assert screens <= 5
    receipt_no = re.search(r"/claims/(R[0-9A-Z-]+)", page.url).group(1)
    assert "受付" in page.locator("#claim-status").inner_text()

    # The claims desk, in a browser of its own (one officer per viewport, so no TOTP code is used twice).
    context = browser.new_context(viewport=VIEWPORTS[request.node.callspec.params["visit"]], locale="ja-JP",
                                  timezone_id="Asia/Tokyo")
    staff = Visit(context.new_page(), visit.base, visit.name + "-staff")
    staff.page.set_default_timeout(15_000)
    email = "claims@example.jp" if request.node.callspec.params["visit"] == "phone" else "claims2@example.jp"
    _staff_sign_in(staff, email)
    staff.goto("/staff/claims")
    staff.page.locator(f'a[href$="/staff/claims/{receipt_no}"]').click()
    staff.check("desk-claim")
    assert staff.page.locator(".claim-files img").count() == 2
    with staff.page.expect_navigation():
        staff.page.locator('form[action$="/complete"] button').click()
    with staff.page.expect_navigation():
        staff.page.locator('form[action$="/approve"] button').click()
    staff.check("desk-approved")
    staff.goto("/staff/claims/runs")
    staff.page.locator("main form button[type=submit]").click()
    staff.page.wait_for_url(re.compile(r".*/staff/claims/runs/\d+$"))
    staff.check("desk-run")
    assert staff.page.locator("#run-total").inner_text() == "110,000円"
    with staff.page.expect_navigation():
        staff.page.locator('form[action$="/sent"] button').click()
    context.close()

    visit.goto(f"/claims/{receipt_no}")
    assert "お支払い済み" in page.locator("#claim-status").inner_text()
    assert page.locator("#paid-amount").inner_text() == "110,000円"
    visit.check("claim-paid")


def test_outpatient_days_as_rows_with_one_more_added(visit):
    """Outpatient visits are typed a day a row; 「通院日を追加」 brings a row with the 年 and 月 of
    the last one, and what was typed stays."""
    from portal.clock import today

    page = visit.page
    visit.login()
    visit.goto("/claims/new")
    page.locator("input[name=person_id]").nth(1).check()
    page.locator("input[name=benefits][value=outpatient]").check()
    page.locator("input[name=cause][value=illness]").check()
    page.locator("main form button.btn-primary").click()
    first = today() - timedelta(days=20)
    _type_date(page, "outpatient_dates-0", first)
    _type_date(page, "outpatient_dates-1", first + timedelta(days=7), full_width=True)
    page.locator("#hospital_name").fill("代々木クリニック")
    with page.expect_navigation():
        page.locator("button[name=add_day]").click()
    assert page.locator("#outpatient_dates-3-year").input_value() == str(first.year)
    assert page.locator("#outpatient_dates-1-day").input_value() == str((first + timedelta(days=7)).day)
    assert page.locator("#hospital_name").input_value() == "代々木クリニック"
    visit.check("claim-outpatient-rows")
    with page.expect_navigation():
        page.locator("#hospital_name").press("Enter")
    visit.check("claim-outpatient-estimate")
    assert "2日 ×" in page.locator("main").inner_text()
