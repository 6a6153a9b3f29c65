"""Odd input never gives a 500 (portal.input_filter): a walk over the whole URL map
and every form the portal renders, with NUL and other control characters in each
field and path segment, huge numbers, huge page numbers and CR/LF in `next`.

The walk is driven by the URL map and by the forms in the rendered pages, so
routes and forms added later are covered without listing them here.
"""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from werkzeug.routing.converters import NumberConverter

from portal.staff.models import STAFF_ROLES
from tests.conftest import sign_in_staff_directly
from tests.support.urls import sample_url

CONTROL_VALUES = ["a\x00b", "a\x1b[31mb", "a\x08b", "a\x7fb", "\x85"]
PATH_VALUES = ["a%00b", "a%0D%0AX-Injected:%201", "a%1Bb"]
HUGE = "9" * 40
# Past PostgreSQL's integer and any amount in yen, but short enough to reach the views.
LARGE = "9" * 15
REFUSED = (400, 404, 405, 422)


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def _visitors(app, client, db_session, make_member, make_staff):
    """Anonymous, a signed-in member, and a staff user with every role."""
    member = make_member(household=True)
    signed_in = app.test_client()
    assert signed_in.post("/login", data={"login_id": member.login_id,
                                          "password": member.password_plain}).status_code == 302
    staff = app.test_client()
    sign_in_staff_directly(staff, db_session, make_staff(*STAFF_ROLES))
    return {"anonymous": client, "member": signed_in, "staff": staff}


# --- path segments and query strings ----------------------------------------------------
def _odd_paths(rule):
    """The rule's URL with each variable replaced by odd values (strings) or a huge id (ints)."""
    if not rule.arguments:
        return []
    urls = []
    ints = [a for a in rule.arguments if isinstance(rule._converters[a], NumberConverter)]
    base = sample_url(rule)
    if ints:
        urls.append((sample_url(rule, {a: 1 for a in ints}).replace("/1", "/" + HUGE, 1), 404))
    strings = [a for a in rule.arguments if a not in ints
               and rule._converters[a].__class__.__name__ != "AnyConverter"]  # fixed words only
    for value in PATH_VALUES:
        if strings:
            marker = sample_url(rule, {a: "ZZMARKZZ" for a in strings})
            urls.append((marker.replace("ZZMARKZZ", value), 400))
    return [u for u in urls if u[0] != base]


def test_every_route_refuses_control_characters_and_huge_ids_in_its_path(app, client, db_session, make_member,
                                                                        make_staff):
    visitors = _visitors(app, client, db_session, make_member, make_staff)
    checked = 0
    for rule in _rules(app):
        for url, expected in _odd_paths(rule):
            for who, visitor in visitors.items():
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    response = visitor.open(url, method=method)
                    assert response.status_code < 500, (who, method, url, response.status_code)
                    if expected == 400:
                        assert response.status_code == 400, (who, method, url, response.status_code)
                    else:  # a huge id is no page (or the sign-in redirect for an anonymous visitor)
                        assert response.status_code in (404, 302), (who, method, url, response.status_code)
                    checked += 1
    assert checked > 50


QUERIES = [
    ("page=" + HUGE, (404,)),
    ("page=%EF%BC%99%EF%BC%99", None),  # full-width digits: whatever the page does, never a 500
    ("page=-1", None),
    ("next=%2F%0D%0ASet-Cookie:%20x%3D1", (400,)),
    ("next=/%5Cevil.example", None),
    ("q=%00", (400,)),
    ("q=" + quote("\x1b"), (400,)),
    ("id=" + HUGE + "&member_id=" + HUGE + "&year=" + HUGE + "&month=" + HUGE, (400,)),
    ("id=" + LARGE + "&member_id=" + LARGE + "&year=" + LARGE + "&month=" + LARGE, None),
]


@pytest.mark.parametrize("who", ["anonymous", "member", "staff"])
def test_every_get_route_survives_odd_query_strings(who, app, client, db_session, make_member, make_staff):
    visitor = _visitors(app, client, db_session, make_member, make_staff)[who]
    for rule in _rules(app):
        if "GET" not in rule.methods:
            continue
        url = sample_url(rule)
        for query, expected in QUERIES:
            response = visitor.get(f"{url}?{query}")
            assert response.status_code < 500, (who, url, query, response.status_code)
            if expected and response.status_code != 302:
                assert response.status_code in expected, (who, url, query, response.status_code)
            location = response.headers.get("Location", "")
            assert "\r" not in location and "\n" not in location and "\\" not in location, (url, query, location)
            response.close()  # a streamed export ends its request context here, not in the collector


# --- every form ---------------------------------------------------------------------------
class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {"action": attrs.get("action") or "", "method": (attrs.get("method") or "get").lower(),
                             "fields": {}, "enctype": attrs.get("enctype") or ""}
            self.forms.append(self._current)
        elif tag in ("input", "select", "textarea") and self._current is not None and attrs.get("name"):
            kind = (attrs.get("type") or tag).lower()
            if kind in ("submit", "button", "image", "reset"):
                return
            self._current["fields"][attrs["name"]] = (kind, attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _forms_on(html: str, page_url: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        form["action"] = form["action"] or page_url
    # A form whose only input is a file sends nothing to fill (files are not filled).
    return [f for f in parser.forms if f["action"].startswith("/")
            and {n for n, (kind, _v) in f["fields"].items() if kind != "file"} - {"csrf_token"}]


def _fill(fields: dict, value: str) -> dict:
    data = {}
    for name, (kind, default) in fields.items():
        if name == "csrf_token":
            data[name] = default
        elif kind == "file":
            continue
        else:
            data[name] = value
    return data


def _send(visitor, form: dict, data: dict):
    if form["method"] == "post":
        return visitor.post(form["action"], data=data)
    return visitor.get(urlsplit(form["action"]).path, query_string=data)


@pytest.mark.parametrize("who", ["anonymous", "member", "staff"])
def test_every_form_refuses_control_characters_and_survives_huge_numbers(who, app, client, db_session, make_member,
                                                                         make_staff, demo):
    visitor = _visitors(app, client, db_session, make_member, make_staff)[who]
    known = {"contract_no": "100000000101", "member_id": demo["taro"].id, "id": 1}
    forms: dict[tuple[str, str], dict] = {}
    for rule in _rules(app):
        if "GET" not in rule.methods or "logout" in rule.endpoint:
            continue
        url = sample_url(rule, known)
        response = visitor.get(url)
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        for form in _forms_on(response.text, url):
            if "logout" in form["action"]:
                continue
            forms.setdefault((form["method"], form["action"]), form)
    assert forms, "no forms found"
    for form in forms.values():
        for value in CONTROL_VALUES:
            response = _send(visitor, form, _fill(form["fields"], value))
            assert response.status_code == 400, (who, form["method"], form["action"], repr(value),
                                                 response.status_code)
        response = _send(visitor, form, _fill(form["fields"], HUGE))
        assert response.status_code == 400, (who, form["method"], form["action"], "huge", response.status_code)
    # Large numbers last: they reach the views, which answer with a message, never a 500.
    for form in forms.values():
        response = _send(visitor, form, _fill(form["fields"], LARGE))
        assert response.status_code < 500, (who, form["method"], form["action"], response.status_code)
    if who == "member":
        assert any(action.startswith("/profile") for _, action in forms)
    if who == "staff":
        assert any(action.startswith("/staff") for _, action in forms)


@pytest.mark.parametrize("data,refused", [
    ({"body": "ふつうの文\r\n二行目\tタブ"}, False),  # a text area sends CR/LF and tabs
    ({"body": "ふつうの文\x00"}, True),
    ({"next": "/mypage\r\nX: 1"}, True),  # a single-line value with CR/LF
    ({"name\x00": "x"}, True),
])
def test_the_filter_lets_text_areas_keep_their_lines(app, data, refused):
    from portal.input_filter import odd_input
    with app.test_request_context("/voices/new", method="POST", data=data):
        assert (odd_input() is not None) is refused
