"""The pages a member reaches only through a flow (before sign-in, a code, a step of a
form, a confirmation), at 390 px in both text sizes with the checks of the walk in
test_design.py: screenshot, axe, no sideways scroll, no split number, 禁則, one link
per card, the intended default button.

Each text size drives every flow on a server of its own (a fresh database, and the
login code asked of a new browser), so a flow's step is there whatever other
journeys did before; FLOW_STEPS lists the pages reached this way, and a page the
app adds must be walked, reached here, or named a non-page in test_design.py.
"""
from __future__ import annotations

import re
import time

import pytest
from tests.e2e.conftest import VIEWPORTS, Visit, e2e_server
from tests.e2e.test_design import page_problems, phone_visit, shared_descriptions
from tests.e2e.test_shop_voices import start_regular_course

# The endpoints each size's flows show, and the flow that shows them.
FLOW_STEPS = {
    "core.index": "before sign-in", "auth.signup": "signup", "auth.signup_code": "signup",
    "auth.signup_credentials": "signup", "auth.password_reset": "password reset",
    "auth.password_reset_code": "password reset", "auth.password_reset_new": "password reset",
    "auth.login": "sign-in", "auth.login_code": "sign-in", "auth.logout": "signup",
    "profile.reauth": "phone change", "account.reauth_code": "phone change", "profile.phone_verify": "phone change",
    "profile.bank_account_confirm": "signup", "profile.email_confirm": "email change",
    "enrollment.declaration": "enrolment", "enrollment.stopped": "enrolment", "enrollment.matters": "enrolment",
    "enrollment.payment": "enrolment", "enrollment.confirm": "enrolment", "enrollment.done": "enrolment",
    "voices.thanks": "a voice", "help.inquiry": "an inquiry", "documents.letter": "a letter",
    "shop.order_cancel": "an unpaid kit order", "shop.subscription": "the regular course",
    "shop.subscription_skip": "the regular course", "shop.subscription_cancel": "the regular course",
    "shop.receipt": "the regular course",
}
# Steps that need Stripe (localstripe): left out, with the reason, when it could not start.
SHOP_STEPS = {e for e in FLOW_STEPS if e.startswith("shop.")}
DEMO_PHONE = "12340001"  # how the outbox addresses the demo member's phone (+8190…)


class FlowWalk:
    """A phone browser on its own server: each step is checked and its endpoint noted."""

    def __init__(self, visit: Visit, url_map, large: bool) -> None:
        self.visit, self.page, self.large = visit, visit.page, large
        self.adapter = url_map.bind("localhost")
        self.reached: set[str] = set()
        self.problems: list[str] = []
        self.descriptions: dict[str, set[str]] = {}

    def step(self, label: str, exclude: list[str] | None = None) -> None:
        self.visit.errors.clear()
        self.visit.check(label, exclude)  # screenshot + axe
        path = "/" + self.page.url.split("//", 1)[1].split("/", 1)[1].split("?")[0].split("#")[0]
        endpoint = self.adapter.match(path, method="GET")[0]
        self.reached.add(endpoint)
        self.problems += [f"{path}: console: {e}" for e in self.visit.errors]
        self.problems += page_problems(self.page, f"{path} ({label})", self.descriptions)
        if self.large and not self.page.locator("html.text-large").count():
            self.problems.append(f"{path}: 文字サイズ 大 not applied")

    def submit(self, name: str | None = None) -> None:
        """Press a form's button (by its name, or the main form's primary one) and wait for the next page."""
        button = (self.page.get_by_role("button", name=name, exact=True) if name
                  else self.page.locator("main form button[type=submit].btn-primary").first)
        with self.page.expect_navigation():
            button.click()

    def send_code(self, name: str) -> None:
        """Ask for a code; one code a minute per phone, so wait as a member told to wait would."""
        for _ in range(3):
            self.submit(name)
            wait = re.search(r"あと(\d+)秒お待ちください", self.page.locator("main").inner_text())
            if not wait:
                return
            time.sleep(int(wait.group(1)) + 1)
        raise AssertionError("no code could be sent")

    def code(self, to_suffix: str) -> None:
        self.page.locator("input[name=code]").fill(self.visit.latest_code(to_suffix))
        self.submit()


@pytest.fixture(scope="module")
def url_map():
    from portal import create_app

    return create_app({"PORTAL_ENV": "test", "PORTAL_DATABASE_URL": "sqlite://"}).url_map


def _identity_then_code(walk: FlowWalk, path: str, name: str, number: str, birth: tuple[str, str, str],
                        phone: str) -> None:
    """Signup and password reset: the identity form, then the code sent to the phone, answered."""
    page = walk.page
    page.goto(walk.visit.base + path)
    walk.step(name)
    page.get_by_label("組合員番号または証書番号").fill(number)
    for label, value in zip(("年", "月", "日"), birth):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("ご登録の電話番号").fill(phone)
    walk.submit()
    walk.step(f"{name}-code")
    walk.code(phone.replace("-", "")[-8:])


def _before_sign_in(walk: FlowWalk) -> None:
    page = walk.page
    walk.visit.page.goto(walk.visit.base + "/")
    walk.step("index")
    _identity_then_code(walk, "/signup", "signup", "1000000002", ("1975", "10", "10"), "090-1234-0002")
    walk.step("signup-credentials")
    page.locator("#password").fill("Hikari-sakura-2026!")
    page.locator("#password_confirm").fill("Hikari-sakura-2026!")
    walk.submit()
    assert page.url.endswith("/mypage"), page.url
    # The new member changes his debit account (the demo household has one such change open already).
    page.goto(walk.visit.base + "/profile/bank-account")
    if "/profile/reauth" in page.url:
        page.get_by_label("パスワード").fill("Hikari-sakura-2026!")
        walk.submit("確認する")
    for label, value in {"金融機関コード（4桁）": "0001", "支店コード（3桁）": "001", "口座番号（7桁以内）": "２４６８１３５",
                         "口座名義（カナ）": "さとう じろう"}.items():
        page.get_by_label(label).fill(value)
    walk.submit("この口座に変更を申し込む")
    walk.step("bank-confirm")
    page.goto(walk.visit.base + "/logout")
    walk.step("logout")
    walk.submit("ログアウトする")
    _identity_then_code(walk, "/password/reset", "reset", "1000000001", ("1966", "12", "15"), "090-1234-0001")
    walk.step("reset-new")
    page.goto(walk.visit.base + "/login")
    walk.step("login")
    page.get_by_label("ログインID").fill("demo")
    page.get_by_label("パスワード").fill("Demo-pass-2026")
    walk.submit("ログイン")
    walk.step("login-code")  # a new browser: the code to the registered phone
    walk.code(DEMO_PHONE)
    assert page.url.endswith("/mypage"), page.url


def _profile_changes(walk: FlowWalk) -> None:
    page, base = walk.page, walk.visit.base
    page.goto(base + "/profile/reauth?for=phone")  # a sign-in a moment ago counts: asked for here
    walk.step("reauth")
    walk.send_code("認証コードを送る")
    walk.step("reauth-code")
    walk.code(DEMO_PHONE)
    assert page.url.split("?")[0].endswith("/profile/phone"), page.url
    page.get_by_label("新しい電話番号").fill("090-9876-0001")
    walk.submit()
    walk.step("phone-verify")
    page.goto(base + "/profile/email")
    page.get_by_label("新しいメールアドレス").fill("taro.new@example.jp")
    walk.submit()
    link = next(re.search(r"https?://\S+/profile/email/confirm/[^\s）)」]+", m["body"]).group(0)
                for m in walk.visit.outbox() if m["to"] == "taro.new@example.jp")
    page.goto(base + "/profile/email/confirm/" + link.rsplit("/", 1)[1])
    walk.step("email-confirm")


def _enrolment(walk: FlowWalk) -> None:
    page, base = walk.page, walk.visit.base
    for answer in ("yes", "no"):  # a "yes" stops the online application; then one made to the end
        page.goto(base + "/enroll")
        page.locator("input[name=plan]").first.check()
        walk.submit("次へ（告知）")
        walk.step("declaration")
        radios = page.locator("input[type=radio][value=no]").all()
        for radio in radios:
            radio.check()
        if answer == "yes":
            page.locator("input[type=radio][value=yes]").first.check()
        walk.submit("次へ（重要事項）")
        if answer == "yes":
            walk.step("stopped")
    walk.step("matters")
    page.get_by_label(re.compile("内容を確認しました")).check()
    walk.submit("次へ（お支払い）")
    walk.step("payment")
    page.get_by_label(re.compile("^口座振替")).check()
    walk.submit("次へ（確認）")
    walk.step("confirm")
    walk.submit("申し込む")
    walk.step("done")


def _voice_inquiry_and_letter(walk: FlowWalk) -> None:
    page, base = walk.page, walk.visit.base
    page.goto(base + "/voices/new")
    page.get_by_label("意見・要望").check()
    page.get_by_label("内容の分類").select_option("web")
    page.locator("#body").fill("文字サイズを大きくしても読みやすく、手続きが電話より早く済みました。")
    walk.submit("送信する")
    walk.step("voice-thanks")
    page.goto(base + "/help/inquiries/new")
    page.get_by_label("お問い合わせの種類").select_option("contract")
    page.get_by_label("件名").fill("受取人の確認")
    page.get_by_label("お問い合わせ内容").fill("死亡共済金の受取人が誰になっているか知りたいです。")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    walk.step("inquiry")
    page.goto(base + "/documents")
    with page.expect_navigation():
        page.locator("main a[href^='/documents/letters/']").first.click()
    walk.step("letter")


def _shop(walk: FlowWalk) -> None:
    page, base = walk.page, walk.visit.base
    page.goto(base + "/shop/CANCER-M")
    page.locator("#person_id").select_option(label="山田 太郎（本人）")
    walk.submit("お支払いへ進む")
    page.locator("#card-element input[placeholder=number]").wait_for()
    with page.expect_navigation():
        page.get_by_role("link", name="このご注文を取り消す").click()
    walk.step("order-cancel")
    start_regular_course(page, base, "山田 太郎（本人）")
    walk.step("course", exclude=["#card-element"])
    course = page.url
    with page.expect_navigation():
        page.get_by_role("link", name="次回のお届けをスキップする").click()
    walk.step("course-skip")
    page.goto(course)
    with page.expect_navigation():
        page.get_by_role("link", name="定期コースを解約する").click()
    walk.step("course-cancel")
    page.goto(base + "/shop/orders")
    with page.expect_navigation():
        page.locator("main a[href$='/receipt']").first.click()
    walk.step("receipt")


@pytest.mark.parametrize("size", ["normal", "large"])
def test_every_flow_step_at_390_px(browser, url_map, localstripe, tmp_path, size):
    """Each flow driven to each of its steps with the walk's checks; every step in FLOW_STEPS reached."""
    with e2e_server(tmp_path / "flows.db", f"e2e-flows-{size}.log", stripe=localstripe,
                    new_device_code=True) as base:
        visit = phone_visit(browser, base, size, f"flows-{size}")
        page = visit.page
        walk = FlowWalk(visit, url_map, large=size == "large")
        _before_sign_in(walk)
        _enrolment(walk)
        _voice_inquiry_and_letter(walk)
        expected = set(FLOW_STEPS)
        if localstripe is None:
            print("port 8420 is taken: the shop's steps are not walked in this run")
            expected -= SHOP_STEPS
        else:
            _shop(walk)
        _profile_changes(walk)  # last: the step-up code waits for the sign-in code's minute to pass
        page.context.close()
    assert walk.reached >= expected, f"flow steps not reached: {sorted(expected - walk.reached)}"
    shared = shared_descriptions(walk.descriptions)
    assert not shared, f"pages with different titles share one description: {shared}"
    assert not walk.problems, "\n".join(walk.problems)


STAFF_ACCOUNTS = ("support@example.jp", "cs@example.jp", "marketing@example.jp", "admin@example.jp",
                  "office@example.jp", "claims@example.jp")


def test_staff_desks_at_390_px(browser, tmp_path):
    """Each role's menu on a phone: every desk it lists opens, is marked current, passes axe
    and fits 390 px (clerks use tablets and phones less, but nothing may overflow)."""
    from portal.seed.household import STAFF_PASSWORD, STAFF_TOTP_SECRET
    from portal.staff.accounts import totp_for

    problems, desks = [], set()
    with e2e_server(tmp_path / "staff.db", "e2e-staff-desks.log") as base:
        for email in STAFF_ACCOUNTS:
            context = browser.new_context(viewport=VIEWPORTS["phone"], locale="ja-JP", timezone_id="Asia/Tokyo")
            page = context.new_page()
            visit = Visit(page, base, f"staff-{email.split('@')[0]}")
            visit.goto("/staff/login")
            page.get_by_label("メールアドレス").fill(email)
            page.get_by_label("パスワード").fill(STAFF_PASSWORD)
            with page.expect_navigation():
                page.locator("main form button[type=submit]").click()
            page.get_by_label("確認コード（6桁）").fill(totp_for(STAFF_TOTP_SECRET).now())
            with page.expect_navigation():
                page.locator("main form button[type=submit]").click()
            assert "/staff/login" not in page.url, email  # each account signs in once: its code is unused
            menu = page.locator("nav[aria-label='スタッフメニュー'] a")
            links = [href for href in menu.evaluate_all("links => links.map(a => a.getAttribute('href'))")
                     if href != "/staff/logout"]
            for href in links:
                response = visit.goto(href)  # screenshot + axe
                if response.status != 200:
                    problems.append(f"{email} {href}: {response.status}")
                current = page.locator("nav[aria-label='スタッフメニュー'] a[aria-current=page]")
                if current.count() != 1 or current.get_attribute("href") != href:
                    problems.append(f"{email} {href}: the menu does not mark it as the current page")
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > 391:
                    problems.append(f"{email} {href}: horizontal scroll ({width}px wide)")
                desks.add(href)
            context.close()
    assert {"/staff/members", "/staff/work", "/staff/claims", "/staff/voices", "/staff/audit"} <= desks, desks
    assert not problems, "\n".join(problems)
