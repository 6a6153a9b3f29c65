"""Role × route matrix over the whole staff URL map (access control).

Every endpoint named staff.* or staff_* (other features' staff blueprints too)
must be listed in EXPECTED_ROLES below: a new staff page that nobody thought
about fails the first test until its roles are written down here.
"""
from __future__ import annotations

import pytest

from portal.staff.models import STAFF_ROLES
from tests.conftest import sign_in_staff_directly

ALL = frozenset(STAFF_ROLES)
SUPPORT = frozenset({"support"})
ADMIN = frozenset({"admin"})
CS = frozenset({"cs"})
EDITORS = frozenset({"marketing", "admin"})
OFFICE = frozenset({"office"})
CLAIMS = frozenset({"claims"})

# Sign-in pages: open to everybody (portal.endpoints.PUBLIC_ENDPOINTS).
PUBLIC = {"staff.login", "staff.login_totp", "staff.login_passkey_options", "staff.login_passkey"}

# endpoint → the roles that may use it. Nothing else may.
EXPECTED_ROLES: dict[str, frozenset[str]] = {
    "staff.home": ALL,
    "staff.logout": ALL,
    "staff.members": SUPPORT,
    "staff.member_detail": SUPPORT,
    "staff.act_start": SUPPORT,
    "staff.act_end": SUPPORT,
    "staff.audit": ADMIN,
    "staff.audit_csv": ADMIN,
    "staff.audit_access": ADMIN,
    "staff.users": ADMIN,
    "staff.user_new": ADMIN,
    "staff.user_disable": ADMIN,
    "staff.user_enable": ADMIN,
    "staff.user_reset_totp": ADMIN,
    # Other features' staff blueprints. A new endpoint there fails
    # test_every_staff_endpoint_is_in_the_table until it is listed here.
    "staff_voices.inbox": CS,
    "staff_voices.register": CS,
    "staff_voices.detail": CS,
    "staff_voices.status": CS,
    "staff_voices.assign": CS,
    "staff_voices.add_note": CS,
    "staff_voices.reply": CS,
    "staff_voices.link_item": CS,
    "staff_voices.items": CS,
    "staff_voices.item": CS,
    "staff_voices.report": CS,
    "staff_voices.chart": CS,
    "staff_voices.report_csv": CS,
    "staff_voices.export_csv": CS,
    "staff_help.inquiries": CS,
    "staff_help.inquiry": CS,
    "staff_help.faq": CS,
    "staff_help.faq_new": CS,
    "staff_help.faq_edit": CS,
    "staff_tips.index": EDITORS,
    "staff_tips.new": EDITORS,
    "staff_tips.edit": EDITORS,
    "staff_tips.status": EDITORS,
    "staff_tips.preview": EDITORS,
    "staff_tips.revision": EDITORS,
    "staff_tips.restore": EDITORS,
    "staff_tips.categories": ADMIN,
    "staff_backoffice.queue": OFFICE,
    "staff_backoffice.detail": OFFICE,
    "staff_backoffice.claim": OFFICE,
    "staff_backoffice.release": OFFICE,
    "staff_backoffice.act": OFFICE,
    "staff_backoffice.intake_file": OFFICE,
    "staff_backoffice.dashboard": OFFICE,
    "staff_backoffice.certificate_import": OFFICE,
    "staff_backoffice.kits_csv": OFFICE,
    "staff_backoffice.phone_intake": frozenset({"support", "office"}),
    "staff_account.passkeys": ALL,
    "staff_account.passkey_options": ALL,
    "staff_account.passkey_register": ALL,
    "staff_account.passkey_delete": ALL,
    "staff_claims.queue": CLAIMS,
    "staff_claims.detail": CLAIMS,
    "staff_claims.file": CLAIMS,
    "staff_claims.act": CLAIMS,
    "staff_claims.runs": CLAIMS,
    "staff_claims.run": CLAIMS,
    "staff_claims.run_file": CLAIMS,
    "staff_claims.run_act": CLAIMS,
    "staff_claims.phone_report": frozenset({"support", "claims"}),
}


def is_staff_endpoint(endpoint: str) -> bool:
    return endpoint.startswith("staff.") or endpoint.startswith("staff_")


def staff_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if is_staff_endpoint(r.endpoint)),
                  key=lambda r: (r.endpoint, r.rule))


def cases(app):
    for rule in staff_rules(app):
        if rule.endpoint in PUBLIC:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def build_url(rule, ids: dict[str, int]) -> str:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg].__class__.__name__
        if converter == "IntegerConverter":
            values[arg] = ids.get(arg, 1)
        elif converter == "AnyConverter":
            values[arg] = sorted(rule._converters[arg].items)[0]
        else:
            values[arg] = "X1"
    return rule.build(values, append_unknown=False)[1]


def test_every_staff_endpoint_is_in_the_table(app):
    found = {r.endpoint for r in staff_rules(app)} - PUBLIC
    missing = found - set(EXPECTED_ROLES)
    stale = set(EXPECTED_ROLES) - found
    assert not missing, f"staff endpoints without expected roles in EXPECTED_ROLES: {sorted(missing)}"
    assert not stale, f"EXPECTED_ROLES lists endpoints that no longer exist: {sorted(stale)}"


def test_every_url_under_staff_is_a_staff_endpoint(app):
    """A /staff/... page in an ordinary blueprint would escape the staff sign-in rule."""
    strays = [(r.rule, r.endpoint) for r in app.url_map.iter_rules()
              if r.rule.startswith("/staff") and not is_staff_endpoint(r.endpoint)]
    assert strays == []


@pytest.fixture
def ids(make_member, make_staff):
    member = make_member()
    other = make_staff("cs")
    return {"member_id": member.id, "staff_id": other.id, "id": 1}


def _sent_to_staff_login(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/staff/login")


def test_anonymous_visitors_are_sent_to_staff_login(app, client, ids):
    checked = 0
    for rule, method in cases(app):
        response = client.open(build_url(rule, ids), method=method)
        assert _sent_to_staff_login(response), (rule.endpoint, method, response.status_code)
        checked += 1
    assert checked >= len(EXPECTED_ROLES)


def test_members_are_sent_to_staff_login(app, member_client, ids):
    for rule, method in cases(app):
        response = member_client.open(build_url(rule, ids), method=method)
        assert _sent_to_staff_login(response), (rule.endpoint, method, response.status_code)
        # …and the member is still signed in as a member afterwards.
    assert member_client.get("/mypage").status_code == 200


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_each_role_gets_exactly_its_routes(app, db_session, make_staff, ids, role):
    staff = make_staff(role)
    allowed_seen, refused_seen = set(), set()
    for rule, method in cases(app):
        client = app.test_client()  # a fresh session each time: logout and the like end it
        sign_in_staff_directly(client, db_session, staff)
        response = client.open(build_url(rule, ids), method=method)
        refused = response.status_code in (401, 403) or (
            _sent_to_staff_login(response) and rule.endpoint != "staff.logout")
        expected_allowed = role in EXPECTED_ROLES.get(rule.endpoint, frozenset())
        assert refused != expected_allowed, (role, rule.endpoint, method, response.status_code,
                                             response.headers.get("Location"))
        if refused:
            assert response.status_code == 403, (role, rule.endpoint, method, response.status_code)
            refused_seen.add(rule.endpoint)
        else:
            allowed_seen.add(rule.endpoint)
    assert allowed_seen == {e for e, roles in EXPECTED_ROLES.items() if role in roles}
    assert "staff.home" in allowed_seen and refused_seen


def test_admin_is_not_implicitly_support(admin_client, ids):
    assert admin_client.get(f"/staff/members/{ids['member_id']}").status_code == 403


def test_several_roles_add_up(staff_client, ids):
    client = staff_client("support", "admin")
    assert client.get("/staff/members").status_code == 200
    assert client.get("/staff/audit").status_code == 200
    assert client.get("/staff/users").status_code == 200


@pytest.fixture
def admin_client(staff_client):
    return staff_client("admin")


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_the_staff_menu_links_only_pages_the_role_opens(app, db_session, make_staff, role):
    import re

    client = app.test_client()
    sign_in_staff_directly(client, db_session, make_staff(role))
    home = client.get("/staff").text
    menu = re.search(r'<nav class="site-nav" aria-label="スタッフメニュー">(.*?)</nav>', home, re.S).group(1)
    links = [href for href in re.findall(r'href="([^"]+)"', menu) if href != "/staff/logout"]
    assert "/staff" in links and len(links) >= 3
    for href in links:
        assert client.get(href).status_code == 200, (role, href)
