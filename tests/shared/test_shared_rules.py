"""The one-owner rules: user ids, service errors on forms, pages, CSV cells,
and the single "can this number get an SMS" decision."""
from __future__ import annotations

import csv
import io

import pytest
from wtforms import Form, StringField

from portal.audit import reports
from portal.audit.models import AuditLog
from portal.csvexport import csv_safe, csv_text
from portal.jp.phone import can_receive_sms, mask_phone
from portal.messaging.preferences import channel_for, check_choices
from portal.pagination import Page, page_count
from portal.service_errors import ServiceError, show_on_form
from portal.users import parse_user_id


@pytest.mark.parametrize("raw, expected", [
    ("member:12", ("member", 12)), ("staff:3", ("staff", 3)), ("staff:", None), ("admin:1", None),
    ("member:1:2", None), ("member:-1", None), ("", None), (None, None), ("member:１２", None),
])
def test_parse_user_id(raw, expected):
    assert parse_user_id(raw) == expected


class _Form(Form):
    name = StringField()
    email = StringField()


def test_show_on_form_puts_the_message_next_to_its_field():
    form = _Form()
    assert show_on_form(form, ServiceError("メールアドレスの形式が正しくありません", "email"))
    assert form.email.errors == ["メールアドレスの形式が正しくありません"] and not form.name.errors


def test_show_on_form_default_rename_and_whole_form():
    form = _Form()
    assert show_on_form(form, ServiceError("全体の誤り"), default="name")
    assert form.name.errors == ["全体の誤り"]
    assert show_on_form(form, ServiceError("役割を選んでください", "roles"), rename={"roles": "email"})
    assert form.email.errors == ["役割を選んでください"]
    assert not show_on_form(form, ServiceError("フォーム全体へ"))  # the caller flashes it
    assert not show_on_form(form, ServiceError("知らない欄", "nothing"))


def test_feature_errors_share_the_base():
    from portal.profile.services import ProfileError
    from portal.shop.services import ShopError
    from portal.staff.accounts import StaffError

    assert issubclass(ShopError, ServiceError) and issubclass(StaffError, ServiceError)
    several = ProfileError("最初の誤り", errors={"name": "最初の誤り", "email": "二つ目"})
    form = _Form()
    assert show_on_form(form, several)
    assert (form.name.errors, form.email.errors) == (["最初の誤り"], ["二つ目"])


def test_page_arithmetic():
    assert page_count(0, 20) == 1 and page_count(41, 20) == 3
    page = Page(items=[1, 2], total=41, page=3, per_page=20)
    assert (page.pages, page.has_prev, page.has_next, page.offset) == (3, True, False, 40)
    assert not Page(total=0).has_next


@pytest.mark.parametrize("value", ["=1+1", "＝1+1", "＋81", "－2", "＠SUM(A1)", "\n=x"])
def test_csv_safe_guards_half_and_full_width_formulas(value):
    assert csv_safe(value) == "'" + value


def test_csv_text_has_bom_and_crlf():
    assert csv_text([["a", 1], ["=b", None]]) == "\ufeffa,1\r\n'=b,\r\n"


def test_audit_export_guards_full_width_formulas(db_session):
    db_session.add(AuditLog(actor_type="system", action="＝HYPERLINK(\"http://x\")", target_id="＋1"))
    db_session.flush()
    body = reports.audit_csv(db_session, reports.AuditFilter())
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[1][7] == "'＝HYPERLINK(\"http://x\")" and rows[1][9] == "'＋1"


@pytest.mark.parametrize("phone, sms", [
    ("09012340002", True), ("08012345678", True), ("07012345678", True), ("06012345678", True),
    ("0312345678", False), ("05012345678", False),
    # starts like a mobile number but is a 0800 free-dial number: the old prefix list said "mobile"
    ("08000000001", False),
    ("", False), (None, False), ("abc", False),
])
def test_one_rule_for_sms(phone, sms):
    assert can_receive_sms(phone) is sms


def test_notices_and_settings_follow_the_sms_rule(db_session, make_member):
    free_dial = make_member(phone="08000000001", email="hanako@example.jp")
    assert channel_for(free_dial, "procedure") == "mail"
    assert channel_for(free_dial, "security") == "mail"
    assert check_choices(free_dial, {"marketing": "post", "procedure": "sms", "certificate": "post"}) == {
        "procedure": "ご登録の電話番号は携帯電話ではないため、SMSは選べません"}
    mobile = make_member(phone="09012340002")
    assert channel_for(mobile, "procedure") == "sms"


def test_mask_phone_never_shows_more_than_four_digits():
    assert mask_phone("09012340002") == "090-****-0002"
    assert mask_phone("0312345678") == "03-****-5678"
    assert mask_phone("12345678") == "****5678"  # not a valid number: still masked
    assert mask_phone(None) == "" and mask_phone("") == ""
