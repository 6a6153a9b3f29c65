"""Every contract change from the member's request to done, in the browser.

A member asks (phone and desktop), an office staff member finishes it in
/staff/work, and the member sees 完了 on /requests and the result on the
contract page. The money the member confirmed is read off both pages and must
be the same yen.

These journeys end contracts and membership, so they run against a server of
their own (the demo data plus one member per viewport), not the shared one.
"""
from __future__ import annotations

import calendar
import os
import subprocess
import sys
from datetime import date
from io import BytesIO

import pytest

from portal.clock import today as tokyo_today
from tests.e2e.conftest import ROOT, VIEWPORTS, Visit, e2e_server
from tests.e2e.test_office import _action, _open_work, _staff_login, _text

PASSWORD = "Change-pass-2026"
# Per viewport: login id, member no, contract numbers (総合保障 monthly, マイカー yearly, the online 医療保障).
MEMBERS = {
    "phone": ("change-phone", "1000000051", "500000000001", "500000000002", "500000000003"),
    "desktop": ("change-desktop", "1000000052", "500000000011", "500000000012", "500000000013"),
}
YEARLY_PREMIUM_YEN = 36_500
FIRST_PREMIUM_YEN = 2_300  # the 医療保障 enrolment's first premium, paid by 払込票


def _seed(db_path: str) -> None:
    """The demo data, then per viewport a member with a monthly 総合保障, a yearly
    マイカー starting on the 1st of this month, and a 医療保障 for the spouse
    enrolled online today (approved, first premium paid)."""
    os.environ["PORTAL_ENV"] = "test"
    os.environ["PORTAL_DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("PORTAL_SECRET_KEY", "e2e-secret-key")
    from portal import create_app
    from portal.auth.passwords import hash_password
    from portal.contracts.models import PremiumPayment
    from portal.enrollment import services as enrollment
    from portal.extensions import db
    from portal.members.models import InsuredPerson, Member
    from portal.models import metadata
    from portal.seed import add_contract, ensure_products, seed_demo

    app = create_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        metadata.create_all(db.engine)
        seed_demo(db.session)
        session = db.session
        products = ensure_products(session)
        on = tokyo_today()
        for login_id, member_no, sogo_no, mycar_no, iryo_no in MEMBERS.values():
            member = Member(member_no=member_no, name="変更 一美", name_kana="ヘンコウ カズミ",
                            birth_date=date(1980, 6, 1), sex="female", postal_code="1000001", prefecture="東京都",
                            city="千代田区", street="千代田1-1", phone="0901234" + member_no[-4:], email=None,
                            status="active", shares=12, login_id=login_id, password_hash=hash_password(PASSWORD))
            session.add(member)
            session.flush()
            me = InsuredPerson(member_id=member.id, relation="self", name=member.name, name_kana=member.name_kana,
                               birth_date=member.birth_date, sex="female")
            spouse = InsuredPerson(member_id=member.id, relation="spouse", name="変更 二郎",
                                   name_kana="ヘンコウ ジロウ", birth_date=date(1979, 2, 2), sex="male")
            session.add_all([me, spouse])
            session.flush()
            add_contract(session, member, products["KOKUMIN_SOGO"], me, sogo_no, date(2020, 4, 1), 1_800)
            add_contract(session, member, products["MYCAR"], me, mycar_no, on.replace(day=1), YEARLY_PREMIUM_YEN)
            option = next(o for o in enrollment.plan_options(session, member, on)
                          if o.product_code == "KOKUMIN_IRYO" and o.insured.id == spouse.id)
            request = enrollment.submit(session, member, option.key, idempotency_key=f"seed:{login_id}",
                                        on=on, payment_method="transfer")
            contract = enrollment.approve(session, request, on=on)
            contract.contract_no = iryo_no
            session.add(PremiumPayment(contract_id=contract.id, period=contract.start_date,
                                       amount_yen=FIRST_PREMIUM_YEN, paid_on=on, status="paid"))
        db.commit()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, chromium_path):
    db_path = tmp_path_factory.mktemp("e2e-changes") / "portal.db"
    subprocess.run([sys.executable, "-c", f"from tests.e2e.test_contract_changes import _seed; _seed({str(db_path)!r})"],
                   cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True, timeout=120)
    with e2e_server(db_path, "e2e-changes-server.log") as base:
        yield base


def _viewport(visit: Visit) -> str:
    return "phone" if visit.page.viewport_size == VIEWPORTS["phone"] else "desktop"


@pytest.fixture
def member(visit, browser):
    """The viewport's member in a browser of their own, beside the office's."""
    context = browser.new_context(viewport=visit.page.viewport_size, locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.set_default_timeout(15_000)
    other = Visit(page, visit.base, visit.name + "-member")
    other.login(MEMBERS[_viewport(visit)][0], PASSWORD)
    yield other
    context.close()


def _send(member: Visit, value: str = "save") -> str:
    """Press the form's button with `value`; on "save" returns the receipt number of the new request."""
    with member.page.expect_navigation():
        member.page.locator(f"main button[value={value}]").click()
    member.check(value)
    if value != "save":
        return ""
    assert "/requests/R" in member.page.url, _text(member.page)
    return member.page.url.rsplit("/", 1)[-1]


def _finish(visit: Visit, receipt: str, label: str) -> dict[str, str]:
    """The office opens the request, reads its money, and completes it; returns what it read."""
    _open_work(visit, receipt)
    visit.check(label)
    page = visit.page
    money = {sel: page.locator(f"#{sel}").inner_text().strip()
             for sel in ("office-refund", "office-last-debit") if page.locator(f"#{sel}").count()}
    with page.expect_navigation():
        _action(page, "complete").click()
    visit.check(label + "-done")
    assert "完了にしました" in _text(page)
    return money


def _done(member: Visit, receipt: str, *says: str) -> None:
    member.goto("/requests")
    row = member.page.locator("li.request", has=member.page.locator(f"text={receipt}"))
    assert "完了" in row.inner_text(), row.inner_text()
    member.goto(f"/requests/{receipt}")
    for text in says:
        assert text in _text(member.page), (receipt, text)


def _photo() -> bytes:
    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (640, 400), (230, 230, 240)).save(out, "JPEG")
    return out.getvalue()


def test_every_contract_change_from_request_to_done(visit, member):
    login_id, _, sogo, mycar, iryo = MEMBERS[_viewport(visit)]
    m = member.page
    _staff_login(visit)

    # 受取人: the insured person's consent step, then the office; the contract page names her.
    member.goto(f"/contracts/{sogo}")
    assert "指定なし" in m.locator("#beneficiary").inner_text()
    with m.expect_navigation():
        m.locator("main a[href$='/beneficiary']").click()
    member.check("beneficiary")
    m.get_by_label("お名前").fill("変更 花")
    m.get_by_label("フリガナ").fill("へんこう はな")  # hiragana is turned into katakana
    m.get_by_label("続柄").select_option("child")
    _send(member, "consent")
    m.get_by_label("被共済者本人として、この受取人の指定に同意します").check()
    m.get_by_label("被共済者ご本人のお名前").fill("変更　一美")  # a full-width space is the same name
    receipt = _send(member)
    _finish(visit, receipt, "beneficiary-office")
    _done(member, receipt, "変更 花さまに変更しました")
    member.goto(f"/contracts/{sogo}")
    assert m.locator("#beneficiary").inner_text().startswith("変更 花さま（子）")

    # 指定代理請求人.
    member.goto("/changes/proxy-claimant")
    m.get_by_label("お名前").fill("変更 三郎")
    m.get_by_label("フリガナ").fill("ヘンコウ サブロウ")
    m.get_by_label("続柄").select_option("sibling")
    m.get_by_label("生年月日").fill("1984-03-03")
    m.get_by_label("電話番号").fill("０９０－５５５５－１２３４")  # full-width digits work
    _send(member, "confirm")
    receipt = _send(member)
    _finish(visit, receipt, "proxy-office")
    _done(member, receipt)
    member.goto(f"/contracts/{sogo}")
    assert m.locator("#proxy-claimant").inner_text() == "変更 三郎さま（兄弟姉妹）"

    # 氏名変更 with a photo of a document; the office sees the photo before changing the record.
    member.goto("/changes/name")
    m.locator("#new_name").fill("改姓 一美")
    m.locator("#new_name_kana").fill("カイセイ カズミ")
    m.get_by_label("変更の理由").select_option("marriage")
    m.locator("input[type=file]").set_input_files(
        files=[{"name": "koseki.jpg", "mimeType": "image/jpeg", "buffer": _photo()}])
    _send(member, "confirm")
    receipt = _send(member)
    _finish(visit, receipt, "name-office")
    _done(member, receipt, "「改姓 一美」に変更しました")
    member.goto(f"/contracts/{sogo}")
    assert "改姓 一美さま" in _text(m)

    # クーリング・オフ of today's online enrolment: the full refund, the same yen on both sides.
    member.goto(f"/contracts/{iryo}")
    member.goto("/changes/cooling-off")
    m.locator("input[name=application]").first.check()
    _send(member, "confirm")
    shown = m.locator("#refund").inner_text().strip()
    assert shown == f"{FIRST_PREMIUM_YEN:,}円"
    receipt = _send(member)
    office = _finish(visit, receipt, "cooling-off-office")
    assert office["office-refund"] == shown
    _done(member, receipt, f"{FIRST_PREMIUM_YEN:,}円を全額ご返金")
    assert member.page.goto(member.base + f"/contracts/{iryo}").status == 404
    member.goto("/contracts")
    assert iryo[-4:] not in _text(m)

    # 解約 of the yearly contract at the end of this month: 11 whole months come back,
    # 36,500 × 11 ÷ 12 = 33,458.33… → 33,458円, on the member's page and in the office.
    on = tokyo_today()
    month_end = on.replace(day=calendar.monthrange(on.year, on.month)[1])
    member.goto(f"/contracts/{mycar}")
    with m.expect_navigation():
        m.locator("main a[href$='/cancel']").click()
    member.check("cancel-yearly")
    m.get_by_label("解約日").fill(month_end.isoformat())
    _send(member, "confirm")
    shown = m.locator("#refund").inner_text().strip()
    assert shown == f"{YEARLY_PREMIUM_YEN * 11 // 12:,}円" == "33,458円"
    receipt = _send(member)
    office = _finish(visit, receipt, "cancel-yearly-office")
    assert office["office-refund"] == shown
    _done(member, receipt, "解約返戻金 33,458円")
    member.goto(f"/contracts/{mycar}")
    assert m.locator("#last-covered-day").inner_text() == f"{month_end.year}年{month_end.month}月{month_end.day}日"

    # 解約 of the monthly contract: the last debit shown is the one the office settles.
    member.goto(f"/contracts/{sogo}/cancel")
    _send(member, "confirm")
    last_debit = m.locator("#last-debit").inner_text()
    cover_ends = m.locator("#cover-ends").inner_text()
    receipt = _send(member)
    office = _finish(visit, receipt, "cancel-monthly-office")
    if "ありません" in last_debit:
        assert "office-last-debit" not in office
    else:
        assert last_debit.endswith(office["office-last-debit"]) and office["office-last-debit"] == "1,800円"
    _done(member, receipt, "保障は")
    member.goto(f"/contracts/{sogo}")
    assert m.locator("#last-covered-day").inner_text() == cover_ends

    # 脱退, now that no contract is in force: 12口 × 100円, the refund date shown before confirming.
    member.goto("/changes/withdrawal")
    _send(member, "confirm")
    shown = m.locator("#refund").inner_text().strip()
    assert shown == "1,200円"
    refund_on = m.locator("#refund-on").inner_text().strip()
    receipt = _send(member)
    office = _finish(visit, receipt, "withdrawal-office")
    assert office["office-refund"] == shown
    _done(member, receipt, "1,200円")
    assert refund_on in _text(m)
