"""Header and navigation, static files, icons, the style guide."""
from __future__ import annotations

import re

from portal.navigation import section_of


def test_member_pages_mark_the_current_tab_and_menu_link(member_client):
    html = member_client.get("/coverage").text
    tabs = re.search(r'<nav class="tabbar" aria-label="主なページ">(.*?)</nav>', html, re.S).group(1)
    assert re.findall(r'<a href="([^"]+)"[^>]*aria-current="page"', tabs) == ["/contracts"]
    for label in ("ホーム", "ご契約・保障", "手続き", "メニュー"):
        assert label in tabs
    menu = re.search(r'<nav class="site-nav site-menu" id="site-menu"(.*?)</nav>', html, re.S).group(1)
    assert re.findall(r'<a href="([^"]+)" aria-current="page"', menu) == ["/coverage"]
    home = member_client.get("/mypage").text
    assert re.findall(r'<a href="([^"]+)"[^>]*aria-current="page"', home)[:2] == ["/mypage", "/mypage"]


def test_one_text_size_control_in_the_header(client):
    html = client.get("/login").text
    assert html.count('name="size"') == 1
    assert 'value="large" aria-pressed="false"' in html
    client.set_cookie("textsize", "large")
    assert 'value="normal" aria-pressed="true"' in client.get("/login").text


def test_sections():
    assert section_of("/contracts/100000000101") == "contracts"
    assert section_of("/coverage") == "contracts"
    assert section_of("/profile/address") == "requests"
    assert section_of("/claims/new") == "claims"
    assert section_of("/tips/x") == "menu"
    assert section_of("/mypage-not") is None


def test_static_files_have_fingerprinted_names_and_a_year_of_cache(client):
    html = client.get("/login").text
    href = re.search(r'href="(/static/[0-9a-f]{10}/css/portal\.css)"', html).group(1)
    response = client.get(href)
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"] and "max-age=31536000" in response.headers["Cache-Control"]
    assert "no-cache" not in response.headers["Cache-Control"]
    stale = client.get("/static/0000000000/css/portal.css")  # an old page's link: today's file, not for a year
    assert stale.status_code == 200 and "immutable" not in stale.headers["Cache-Control"]
    relative = client.get(href.replace("css/portal.css", "img/icons/home.svg"))  # url("../img/…") in the CSS
    assert relative.status_code == 200
    plain = client.get("/static/css/portal.css")
    assert plain.status_code == 200 and "immutable" not in plain.headers["Cache-Control"]


def test_static_url_and_url_for_give_the_same_fingerprinted_name(app):
    from flask import render_template_string, url_for
    with app.test_request_context("/"):
        for filename in ("css/portal.css", "js/portal.js", "img/icon.svg", "no/such/file.css"):
            assert render_template_string("{{ static_url(f) }}", f=filename) == url_for("static", filename=filename)


def test_static_cache_survives_sign_in(member_client):
    html = member_client.get("/mypage").text
    href = re.search(r'src="(/static/[0-9a-f]{10}/js/portal\.js)"', html).group(1)
    assert "immutable" in member_client.get(href).headers["Cache-Control"]


def test_favicon_icons_and_a_description_on_every_page(client):
    assert client.get("/favicon.ico").status_code == 200
    html = client.get("/login").text
    for rel in ('rel="icon"', 'rel="apple-touch-icon"', 'rel="manifest"'):
        assert rel in html
    for href in re.findall(r'<link rel="(?:icon|apple-touch-icon|manifest)" href="([^"]+)"', html):
        assert client.get(href).status_code == 200, href
    descriptions = {re.search(r'<meta name="description" content="([^"]+)"', client.get(p).text).group(1)
                    for p in ("/login", "/signup", "/tips")}
    assert len(descriptions) == 3 and all(d.startswith(("ログイン", "新規登録", "暮らし")) or d for d in descriptions)


def test_styleguide_shows_every_component(client):
    html = client.get("/dev/styleguide").text
    for tone in ("ok", "pending", "shipped", "action", "refused", "neutral"):
        assert f'class="badge badge-{tone}"' in html
    for part in ('class="steps"', "btn btn-primary", "alert alert-success", "card card-link", 'id="birth_date-year"'):
        assert part in html


def test_styleguide_is_not_served_in_production(make_app):
    from portal.dev import views

    app = make_app(PORTAL_ENV="test")
    with app.test_request_context("/dev/styleguide"):
        app.config["PORTAL_ENV"] = "production"
        try:
            views.styleguide()
        except Exception as error:  # werkzeug NotFound
            assert getattr(error, "code", None) == 404
        else:
            raise AssertionError("served in production")


def test_time_datetime_values_have_no_microseconds():
    from datetime import date, datetime, timezone

    from portal.templating import iso_instant

    assert iso_instant(datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=timezone.utc)) == "2026-11-30T10:02:03+09:00"
    assert iso_instant(date(2026, 11, 30)) == "2026-11-30"
    assert iso_instant(None) == ""


def test_time_elements_on_the_tips_pages_are_valid(client, demo):
    html = client.get("/tips").text
    values = re.findall(r'<time datetime="([^"]+)"', html)
    assert values
    for value in values:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2})?", value), value


def test_one_step_indicator_for_every_procedure(member_client):
    """Signup, enrolment, claims and contract changes all draw their steps with the steps() macro."""
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "templates"
    drawn_elsewhere = [str(p.relative_to(templates)) for p in templates.rglob("*.html")
                       if p.name != "_macros.html" and 'aria-current="step"' in p.read_text(encoding="utf-8")]
    assert not drawn_elsewhere, f"step indicators not made by steps(): {drawn_elsewhere}"
    html = member_client.get("/claims/new").text
    steps = re.search(r'<ol class="steps" aria-label="ご請求の手順">(.*?)</ol>', html, re.S).group(1)
    assert steps.count("<li") == 4 and steps.count('aria-current="step"') == 1
    assert re.search(r'aria-current="step">\s*<span class="step-no" aria-hidden="true">1</span>', steps)


def test_step_names_break_between_phrases(make_app):
    from flask import render_template_string

    app = make_app(TYPESET_HTML=True)
    with app.test_request_context("/claims/new"):
        html = render_template_string('{% from "_macros.html" import steps %}{% filter typeset %}'
                                      '{{ steps(["ご請求の内容", "見込額と書類", "確認"], 1) }}{% endfilter %}')
    # not inside 内容 or 書類 (ご請求の内/容 on a phone)
    assert "ご請求の<wbr>内容" in html and "見込額と<wbr>書類" in html


def _staff_menu(client, path: str) -> tuple[list[str], list[str]]:
    """The staff header's links on a page, and the ones marked as the current page."""
    html = client.get(path).text
    menu = re.search(r'<nav class="site-nav" aria-label="スタッフメニュー">(.*?)</nav>', html, re.S).group(1)
    return re.findall(r'<a href="([^"]+)"', menu), re.findall(r'<a href="([^"]+)" aria-current="page"', menu)


def test_staff_menu_marks_the_current_page(staff_client):
    client = staff_client("support", "claims", "cs")
    links, _ = _staff_menu(client, "/staff")
    assert links == ["/staff", "/staff/claims", "/staff/members", "/staff/voices", "/staff/help/inquiries",
                     "/staff/passkeys", "/staff/logout"]
    assert _staff_menu(client, "/staff")[1] == ["/staff"]
    assert _staff_menu(client, "/staff/members")[1] == ["/staff/members"]
    assert _staff_menu(client, "/staff/voices/report")[1] == ["/staff/voices"]
    assert _staff_menu(client, "/staff/claims")[1] == ["/staff/claims"]
    assert _staff_menu(client, "/staff/claims/runs")[1] == ["/staff/claims"]  # the desk's own menu marks its pages within
    claims_nav = re.search(r'aria-label="共済金担当メニュー">(.*?)</nav>', client.get("/staff/claims/runs").text, re.S).group(1)
    assert re.findall(r'<a href="([^"]+)" aria-current="page"', claims_nav) == ["/staff/claims/runs"]


def test_staff_menu_shows_each_roles_desks(staff_client):
    """Each role sees the first page of its own desks, and only those (a link it may not open is a 403)."""
    office = staff_client("office")
    links, current = _staff_menu(office, "/staff/work/dashboard")
    assert links == ["/staff", "/staff/work", "/staff/passkeys", "/staff/logout"] and current == ["/staff/work"]
    links, _ = _staff_menu(staff_client("cs"), "/staff")
    assert links == ["/staff", "/staff/voices", "/staff/help/inquiries", "/staff/passkeys", "/staff/logout"]
    admin = staff_client("admin")
    links, current = _staff_menu(admin, "/staff/users")
    assert links == ["/staff", "/staff/tips", "/staff/audit", "/staff/users", "/staff/passkeys", "/staff/logout"]
    assert current == ["/staff/users"]
    for path in links[:-1]:
        assert admin.get(path).status_code == 200, path


def test_pages_address_a_person_one_way(make_app):
    """さま, through one filter that also keeps the name on one line; 様 only in letters, print and
    addresses (an address block ends "山田 太郎 様" as on an envelope or a receipt)."""
    from pathlib import Path

    from flask import render_template_string

    root = Path(__file__).resolve().parents[2] / "templates"
    written = [f"{path.relative_to(root)}: {m.group(0)}" for path in sorted(root.rglob("*.html"))
               for m in re.finditer(r"\}\}(さま|様)|\}\}\s+さま|['\"](さま|様)", path.read_text(encoding="utf-8"))]
    assert not written, "a name followed by さま/様 in a template: use |honorific\n" + "\n".join(written)
    app = make_app(TYPESET_HTML=True)
    with app.test_request_context("/mypage"):
        html = render_template_string("{{ '山田 太郎'|honorific }}、{{ none|honorific }}")
    assert html == '<span class="nowrap">山田 太郎さま</span>、'


def test_the_audit_trail_names_a_skip_as_the_page_does():
    from pathlib import Path

    from portal.audit.labels import action_label

    page = (Path(__file__).resolve().parents[2] / "templates" / "shop" / "subscription_skip.html").read_text(encoding="utf-8")
    assert "次回のお届けのスキップ" in page and "スキップ" in action_label("shop.subscription_skip")
