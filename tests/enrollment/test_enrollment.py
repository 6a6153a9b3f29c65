"""Online enrolment: eligibility, the step flow, double submit, staff decision."""
from __future__ import annotations

import json

from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from portal.clock import TOKYO
from portal.contracts.models import Contract
from portal.enrollment import services
from portal.enrollment.models import Application, OnlineRouteDeclined
from portal.members.models import DebitAccount, InsuredPerson
from portal.messaging.models import OutboxMessage
from portal.procedures.models import ProcedureRequest

NO_ANSWERS = {"q1": "no", "q2": "no", "q3": "no", "q4": "no"}


def _with_account(db_session, member):
    from portal.seed import ensure_products
    ensure_products(db_session)
    db_session.add(DebitAccount(member_id=member.id, bank_code="0001", bank_name="みずほ銀行", branch_code="001",
                                branch_name="東京営業部", account_type=1, account_number="7654321",
                                holder_name="ｼｹﾝ ﾀﾛｳ"))
    db_session.flush()
    return member


def _option(db_session, member, code, on):
    return next(o for o in services.plan_options(db_session, member, on) if o.product_code == code)


@pytest.mark.parametrize("birth,on,available", [
    # The 18th birthday must fall on or before the start date (the 1st of next month).
    (date(2008, 12, 1), date(2026, 11, 27), True),     # 18 on 2026-12-01, the start date
    (date(2008, 12, 2), date(2026, 11, 27), False),    # 17 on the start date
    (date(1961, 12, 2), date(2026, 11, 27), True),     # still 64 on 2026-12-01
    (date(1961, 12, 1), date(2026, 11, 27), False),    # turns 65 on the start date
    (date(1961, 12, 1), date(2026, 10, 31), True),     # a month earlier the start date is 11-01: 64
])
def test_age_at_the_start_date_decides(db_session, make_member, birth, on, available):
    member = make_member(birth_date=birth)
    assert _option(db_session, member, "KOKUMIN_SOGO", on).available is available


def test_december_application_starts_in_january():
    assert services.expected_start_date(date(2026, 12, 15)) == date(2027, 1, 1)
    assert services.expected_start_date(date(2026, 1, 31)) == date(2026, 2, 1)


def test_kodomo_only_for_children_and_under_18(db_session, make_member):
    member = make_member(birth_date=date(1985, 1, 1))
    db_session.add_all([
        InsuredPerson(member_id=member.id, relation="child", name="試験 小", name_kana="シケン ショウ",
                      birth_date=date(2020, 1, 1), sex="female"),
        InsuredPerson(member_id=member.id, relation="child", name="試験 大", name_kana="シケン ダイ",
                      birth_date=date(2008, 6, 1), sex="male"),
    ])
    db_session.flush()
    kodomo = [o for o in services.plan_options(db_session, member, date(2026, 11, 27))
              if o.product_code == "KOKUMIN_KODOMO"]
    assert sorted((o.insured.name, o.available) for o in kodomo) == [("試験 大", False), ("試験 小", True)]


def test_holding_the_same_type_is_a_reason(db_session, make_member, make_contract):
    member = make_member()
    make_contract(member, "KOKUMIN_IRYO")
    option = _option(db_session, member, "KOKUMIN_IRYO", date(2026, 11, 27))
    assert not option.available and "すでにお持ち" in option.reason


def _walk_to_confirm(client, key):
    assert client.post("/enroll", data={"plan": key}).status_code == 302
    assert client.post("/enroll/declaration", data=NO_ANSWERS).headers["Location"].endswith("/enroll/matters")
    assert client.post("/enroll/matters", data={"confirmed": "y"}).headers["Location"].endswith("/enroll/payment")
    assert client.post("/enroll/payment", data={"method": "debit"}).headers["Location"].endswith("/enroll/confirm")
    page = client.get("/enroll/confirm")
    assert page.status_code == 200
    from tests.conftest import CSRF_RE
    import re
    return re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page.text).group(1)


def test_the_whole_flow_double_submit_and_acknowledgement(member_client, db_session):
    # Real time here: a session cookie signed "in the future" of a frozen clock is refused.
    from portal.clock import today
    member = _with_account(db_session, member_client.member)
    key = _option(db_session, member, "KOKUMIN_IRYO", None).key
    token = _walk_to_confirm(member_client, key)
    first = member_client.post("/enroll/confirm", data={"idempotency_key": token})
    assert first.status_code == 302 and "/enroll/done/" in first.headers["Location"]
    # The same form sent again (double click) creates nothing new.
    resent = member_client.post("/enroll/confirm", data={"idempotency_key": token})
    assert resent.status_code == 302
    again = member_client.post("/enroll", data={"plan": key})  # the plan is now pending
    assert again.status_code == 200 and "審査中" in again.text
    db_session.expire_all()
    requests = db_session.scalars(select(ProcedureRequest).where(ProcedureRequest.member_id == member.id,
                                                                 ProcedureRequest.kind == "enrollment")).all()
    assert len(requests) == 1 and requests[0].status == "received"
    assert requests[0].effective_date == services.expected_start_date(today())
    done = member_client.get(first.headers["Location"])
    assert requests[0].receipt_no in done.text
    notice = db_session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member.id)).all()
    assert any(requests[0].receipt_no in m.body for m in notice)
    assert requests[0].receipt_no in member_client.get("/requests").text


def test_resending_the_same_token_creates_one_application(member_client, db_session):
    member = _with_account(db_session, member_client.member)
    key = _option(db_session, member, "KOKUMIN_SOGO", None).key
    request = services.submit(db_session, member, key, idempotency_key="same-token")
    again = services.submit(db_session, member, key, idempotency_key="same-token")
    assert again.id == request.id
    assert db_session.scalar(select(func.count()).select_from(Application)) == 1


def test_the_same_plan_cannot_be_pending_twice(db_session, make_member):
    member = _with_account(db_session, make_member())
    key = _option(db_session, member, "KOKUMIN_SOGO", None).key
    services.submit(db_session, member, key, idempotency_key="t1")
    with pytest.raises(services.EnrollmentError, match="審査中"):
        services.submit(db_session, member, key, idempotency_key="t2")


def test_a_yes_in_the_declaration_stops_and_keeps_no_answers(member_client, db_session):
    member = _with_account(db_session, member_client.member)
    key = _option(db_session, member, "KOKUMIN_SOGO", None).key
    member_client.post("/enroll", data={"plan": key})
    response = member_client.post("/enroll/declaration", data={**NO_ANSWERS, "q2": "yes"})
    assert response.headers["Location"].endswith("/enroll/stopped")
    page = member_client.get("/enroll/stopped")
    assert "共済ショップ" in page.text and "0120" in page.text
    rows = db_session.scalars(select(OnlineRouteDeclined)).all()
    assert [(r.member_id, r.product_code) for r in rows] == [(member.id, "KOKUMIN_SOGO")]
    with member_client.session_transaction() as s:
        assert "enroll" not in s  # nothing of the answers stays in the session either
    assert db_session.scalar(select(func.count()).select_from(Application)) == 0


def test_pregnancy_is_asked_only_about_a_female_insured_person(member_client, db_session):
    member = _with_account(db_session, member_client.member)  # a male member
    member_client.post("/enroll", data={"plan": _option(db_session, member, "KOKUMIN_SOGO", None).key})
    page = member_client.get("/enroll/declaration").text
    assert "質問3" in page and "妊娠" not in page
    answers = {k: v for k, v in NO_ANSWERS.items() if k != "q4"}
    assert member_client.post("/enroll/declaration", data=answers).headers["Location"].endswith("/enroll/matters")
    girl = InsuredPerson(member_id=member.id, relation="child", name="試験 はな", name_kana="シケン ハナ",
                         birth_date=date(2012, 6, 1), sex="female")
    db_session.add(girl)
    db_session.flush()
    key = next(o.key for o in services.plan_options(db_session, member) if o.insured.id == girl.id)
    member_client.post("/enroll", data={"plan": key})
    assert "妊娠" in member_client.get("/enroll/declaration").text


def test_the_declaration_page_says_truly_what_is_kept(member_client, db_session):
    """The answers are stored with an application; only a 'yes' leaves nothing behind."""
    member = _with_account(db_session, member_client.member)
    plans = member_client.get("/enroll").text
    assert "保障内容は組合員価格" not in plans and "表示の掛金は月額です" in plans
    member_client.post("/enroll", data={"plan": _option(db_session, member, "KOKUMIN_SOGO", None).key})
    page = member_client.get("/enroll/declaration").text
    assert "回答内容は保存しません" not in page
    assert "ご回答はお申し込みとともに保存し" in page


def test_unanswered_declaration_and_missing_consent_are_explained(member_client, db_session):
    member = _with_account(db_session, member_client.member)
    key = _option(db_session, member, "KOKUMIN_SOGO", None).key
    member_client.post("/enroll", data={"plan": key})
    page = member_client.post("/enroll/declaration", data={"q1": "no"})
    assert page.status_code == 200 and "「はい」か「いいえ」を選んでください" in page.text
    member_client.post("/enroll/declaration", data=NO_ANSWERS)
    page = member_client.post("/enroll/matters", data={})
    assert "チェックを入れてください" in page.text
    # Skipping ahead is not possible.
    assert member_client.get("/enroll/confirm").headers["Location"].endswith("/enroll")


def test_back_keeps_answers(member_client, db_session):
    member = _with_account(db_session, member_client.member)
    key = _option(db_session, member, "KOKUMIN_SOGO", None).key
    member_client.post("/enroll", data={"plan": key})
    member_client.post("/enroll/declaration", data=NO_ANSWERS)
    page = member_client.get("/enroll")
    assert f'value="{key}" checked' in page.text
    page = member_client.get("/enroll/declaration")
    import re
    assert len(re.findall(r'<input checked[^>]*value="no"', page.text)) == 3  # no pregnancy question for a man


@time_machine.travel(datetime(2026, 11, 27, 10, tzinfo=TOKYO), tick=False)
def test_approval_creates_the_contract_and_notifies(db_session, make_member):
    member = _with_account(db_session, make_member(birth_date=date(1990, 2, 2)))
    key = _option(db_session, member, "KOKUMIN_SOGO", None).key
    request = services.submit(db_session, member, key, idempotency_key="k")
    services.start_review(db_session, request)
    contract = services.approve(db_session, request)
    assert contract.start_date == date(2026, 12, 1) and contract.status == "pending"
    assert contract.premium_yen == 1_800 and contract.units == 2
    kinds = {(c.kind, c.age_from): c.amount_yen for c in contract.coverages}
    assert kinds[("death_traffic", 0)] == 12_000_000 and kinds[("death_illness", 60)] == 3_000_000
    assert request.status == "approved" and request.effective_date == date(2026, 12, 1)
    bodies = [m.body for m in db_session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member.id))]
    assert any("成立" in b and contract.contract_no in b for b in bodies)
    with pytest.raises(services.EnrollmentError):
        services.approve(db_session, request)


def test_decline_needs_a_reason_and_notifies_it(db_session, make_member):
    member = _with_account(db_session, make_member())
    key = _option(db_session, member, "KOKUMIN_IRYO", None).key
    request = services.submit(db_session, member, key, idempotency_key="k2")
    with pytest.raises(services.EnrollmentError, match="理由"):
        services.decline(db_session, request, "  ")
    services.decline(db_session, request, "ご契約中の保障と重複するため")
    assert request.status == "declined"
    bodies = [m.body for m in db_session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member.id))]
    assert any("重複するため" in b for b in bodies)
    # Declined: the member may apply again.
    assert _option(db_session, member, "KOKUMIN_IRYO", None).available


def test_no_debit_account_offers_the_payment_slip_and_finishes(member_client, db_session):
    """The dead end is gone: without an account the member pays by 払込票 and can finish."""
    member = member_client.member
    key = _option(db_session, member, "KOKUMIN_SOGO", None).key
    member_client.post("/enroll", data={"plan": key})
    member_client.post("/enroll/declaration", data=NO_ANSWERS)
    member_client.post("/enroll/matters", data={"confirmed": "y"})
    page = member_client.get("/enroll/payment")
    assert "払込票" in page.text and 'value="debit"' not in page.text
    refused = member_client.post("/enroll/payment", data={"method": "debit"})
    assert refused.status_code == 200 and "error" in refused.text
    assert member_client.post("/enroll/payment", data={"method": "transfer"}).status_code == 302
    confirm = member_client.get("/enroll/confirm")
    assert "払込票" in confirm.text
    import re
    token = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', confirm.text).group(1)
    assert member_client.post("/enroll/confirm", data={"idempotency_key": token}).status_code == 302
    application = db_session.scalar(select(Application).where(Application.member_id == member.id))
    assert application.payment_method == "transfer" and application.debit_account_id is None
    assert json.loads(application.declaration) == {"q1": "no", "q2": "no", "q3": "no"}  # a man: no q4


def test_a_pending_account_change_is_enough_to_enrol(db_session, make_member, app):
    from portal.profile.services import BankAccountInput, request_bank_change

    member = make_member()
    with app.test_request_context():
        change = request_bank_change(db_session, member, BankAccountInput(
            bank_code="0005", branch_code="001", account_type="1", account_number="7654321",
            holder_name="シケン タロウ"), idempotency_key="acct")
    choices = dict(services.payment_choices(db_session, member))
    assert "お手続き中" in choices["debit"]
    key = _option(db_session, member, "KOKUMIN_SOGO", None).key
    request = services.submit(db_session, member, key, idempotency_key="k-pending", payment_method="debit")
    application = services.application_for(db_session, request)
    assert application.debit_account_id == procedures_detail(change)["debit_account_id"]


def test_the_spouse_can_be_offered_a_plan(db_session, make_member):
    member = make_member(household=True)
    options = services.plan_options(db_session, member, date(2026, 11, 27))
    spouse = [o for o in options if o.insured.relation == "spouse"]
    assert {o.product_code for o in spouse} == {"KOKUMIN_SOGO", "KOKUMIN_IRYO"}
    assert all(o.available for o in spouse)


def test_the_old_admin_page_is_gone_and_the_cli_uses_the_same_services(app, db_session, make_member,
                                                                        staff_client):
    member = _with_account(db_session, make_member())
    key = _option(db_session, member, "KOKUMIN_SOGO", None).key
    request = services.submit(db_session, member, key, idempotency_key="k3")
    assert staff_client("admin").get("/staff/enrollments").status_code == 404
    result = app.test_cli_runner().invoke(args=["decide-enrollment", request.receipt_no, "--approve"])
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Contract)
                             .where(Contract.member_id == member.id)) == 1
    result = app.test_cli_runner().invoke(args=["decide-enrollment", request.receipt_no, "--approve"])
    assert result.exit_code == 1 and "審査が終わっています" in result.output
    result = app.test_cli_runner().invoke(args=["decide-enrollment", "R0000-NOPE", "--decline", "--reason", "x"])
    assert result.exit_code == 1


def test_another_members_receipt_is_404(member_client, db_session, make_member):
    other = _with_account(db_session, make_member())
    key = _option(db_session, other, "KOKUMIN_SOGO", None).key
    request = services.submit(db_session, other, key, idempotency_key="k4")
    assert member_client.get(f"/enroll/done/{request.receipt_no}").status_code == 404


def procedures_detail(request):
    from portal.procedures.services import detail_of

    return detail_of(request)
