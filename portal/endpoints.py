"""Which endpoints anyone may open, and which belong to the staff console.

Read by the sign-in rule (portal.security) and by staff acting as a member
(portal.staff.impersonation), so both always agree.
"""
from __future__ import annotations

PUBLIC_ENDPOINTS = {
    "static", "core.healthz", "core.readyz", "core.metrics", "core.index", "core.text_size", "core.favicon",
    "auth.login", "auth.logout", "auth.signup", "auth.signup_code", "auth.signup_credentials",
    "auth.login_code", "auth.password_reset", "auth.password_reset_code", "auth.password_reset_new",
    "auth.resend_code", "auth.switch_channel",
    "account.login_options", "account.login_passkey",
    "staff.login", "staff.login_totp", "staff.login_passkey_options", "staff.login_passkey",
    "tips.index", "tips.show", "tips.image",
    "voices.new", "voices.thanks",
    "shop.index", "shop.show", "shop.webhook",
    "dev.outbox", "dev.outbox_json", "dev.styleguide",
    "profile.email_confirm",
}


def is_public(endpoint: str | None) -> bool:
    return endpoint is None or endpoint in PUBLIC_ENDPOINTS


def is_staff_endpoint(endpoint: str | None) -> bool:
    """The staff blueprint ("staff.") and each feature's staff pages ("staff_<feature>.")."""
    return bool(endpoint) and (endpoint.startswith("staff.") or endpoint.startswith("staff_"))
