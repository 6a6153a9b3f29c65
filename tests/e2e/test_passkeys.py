"""Passkeys in Chromium with its virtual authenticator (CDP WebAuthn domain): a
platform authenticator (internal transport) with resident keys and user
verification, as on a phone with fingerprint or face unlock.

WebAuthn needs a secure context, and http://127.0.0.1 is not one: these journeys
use http://localhost, which the server's relying party is configured for.
"""
from __future__ import annotations

import re

import pytest

# Buttons are found by their text: the <wbr> that portal.jp.typeset puts between
# phrases changes what Playwright takes as a button's accessible name.


@pytest.fixture
def passkey_visit(visit):
    visit.base = visit.base.replace("127.0.0.1", "localhost")
    cdp = visit.page.context.new_cdp_session(visit.page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    visit.cdp, visit.authenticator_id = cdp, added["authenticatorId"]
    return visit


def _log_out(visit) -> None:
    visit.goto("/logout")
    visit.page.locator("button", has_text="ログアウトする").click()
    visit.page.wait_for_url(re.compile(r"/login$"))


def test_register_sign_in_and_remove_a_passkey(passkey_visit):
    visit, page = passkey_visit, passkey_visit.page
    visit.login()
    assert page.url.endswith("/mypage")

    visit.goto("/account/security")
    name = "わたしのスマホ"
    page.get_by_label("パスキーの名前").fill(name)
    page.locator("button", has_text="この端末でパスキーを登録する").click()
    page.wait_for_selector(f"text=パスキー「{name}」を登録しました")
    visit.check("security-with-passkey")
    credentials = visit.cdp.send("WebAuthn.getCredentials", {"authenticatorId": visit.authenticator_id})
    assert len(credentials["credentials"]) == 1 and credentials["credentials"][0]["isResidentCredential"]

    # Conditional UI: the login page asks at once, the (virtual) authenticator offers
    # its passkey in the autofill, and the member is in without typing anything.
    # Logging out lands on /login, whose autofill request signs in: loading /login
    # once more would race that page's sign-in and strand the second page.
    _log_out(visit)
    page.wait_for_url(re.compile(r"/mypage$"))  # no password typed, no code asked
    visit.check("mypage-after-passkey-autofill")

    # A browser without conditional UI: the button.
    page.add_init_script("PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);")
    _log_out(visit)
    visit.goto("/login")
    page.locator("button", has_text="パスキーを使う").click()
    page.wait_for_url(re.compile(r"/mypage$"))

    # Signed in with the passkey just now: removal needs no further step-up.
    visit.goto("/account/security")
    page.get_by_role("button", name=f"パスキー「{name}」を削除").click()
    page.wait_for_selector(f"text=パスキー「{name}」を削除しました")

    _log_out(visit)
    visit.goto("/login")
    page.locator("button", has_text="パスキーを使う").click()
    error = page.locator("#passkey-login-error")
    error.wait_for(state="visible")
    assert "パスキーを確認できませんでした" in error.inner_text()
    assert page.url.endswith("/login")
    visit.check("login-removed-passkey")


def test_step_up_page_offers_a_passkey(passkey_visit):
    visit, page = passkey_visit, passkey_visit.page
    visit.login()
    visit.goto("/account/security")
    page.locator("button", has_text="この端末でパスキーを登録する").click()
    page.wait_for_selector("text=を登録しました")
    visit.goto("/profile/reauth?for=phone")
    page.locator("button", has_text="パスキー（指紋・顔認証など）で確認する").click()
    page.wait_for_url(re.compile(r"/profile/phone$"))
    visit.check("phone-after-passkey-step-up")


def test_staff_use_a_passkey_instead_of_the_totp_code(passkey_visit):
    import time

    from portal.staff.accounts import totp_for
    visit, page = passkey_visit, passkey_visit.page
    email = "office@example.jp" if visit.name.endswith("phone") else "marketing@example.jp"

    def password_step():
        visit.goto("/staff/login")
        page.get_by_label("メールアドレス").fill(email)
        page.get_by_label("パスワード").fill("Staff-pass-2026")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/staff/login/totp$"))

    password_step()
    for _ in range(2):  # a code already used in this 30-second step is refused: wait for the next
        page.get_by_label("確認コード（6桁）").fill(totp_for("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").now())
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        if "/staff/login" not in page.url:
            break
        time.sleep(31)
    visit.goto("/staff/passkeys")
    page.locator("button", has_text="この端末でパスキーを登録する").click()
    page.wait_for_selector("text=を登録しました")
    visit.check("staff-passkeys")

    visit.goto("/staff/logout")
    page.locator("button", has_text="ログアウトする").click()
    page.wait_for_url(re.compile(r".*/staff/login"))
    password_step()
    page.locator("button", has_text="パスキーで確認する").click()
    page.wait_for_url(re.compile(r".*/staff$"))
    visit.check("staff-console-after-passkey")
