"""Each procedure kind from the member's submission to its end in the office."""
from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from portal.backoffice import services, vendor_files
from portal.clock import today
from portal.contracts import rerating, shipping
from portal.contracts.models import Contract, PremiumAdjustment
from portal.enrollment import services as enrollment
from portal.enrollment.models import Application
from portal.members.models import DebitAccount
from portal.procedures.models import ProcedureRequest
from portal.shop.models import ShopOrder
from portal.audit.models import AuditLog
from tests.backoffice.test_queue import audit_count


def _act(db_session, request, staff, action, data=None):
    services.claim(db_session, request, staff)
    return services.act(db_session, request, action, staff, data or {})


@pytest.fixture
def office(make_staff):
    return make_staff("office")


@pytest.fixture
def household(db_session, make_member):
    from portal.seed import ensure_products

    ensure_products(db_session)
    member = make_member(household=True)
    db_session.add(DebitAccount(member_id=member.id, bank_code="0001", bank_name="みずほ銀行", branch_code="001",
                                branch_name="東京営業部", account_type=1, account_number="1234567",
                                holder_name="ｼｹﾝ ﾀﾛｳ", is_current=True))
    db_session.flush()
    return member


# --- 共済契約証書 --------------------------------------------------------------------------

def test_certificate_printed_then_shipped_shows_arrival_and_tracking(db_session, household, make_contract, office):
    contract = make_contract(household)
    request = shipping.start_certificate(db_session, contract, reason="ご契約の更新")
    assert contract.certificate_status == "preparing"
    assert shipping.start_certificate(db_session, contract).id == request.id  # one open per contract
    _act(db_session, request, office, "printed")
    assert request.status == "preparing_shipment"
    with pytest.raises(services.WorkError) as bad:
        services.act(db_session, request, "shipped", office, {"shipped_on": today(), "tracking_no": "あ"})
    assert bad.value.field == "tracking_no"
    services.act(db_session, request, "shipped", office, {"shipped_on": today(), "tracking_no": "１２３４-５６７８-９０１２"})
    assert request.status == "shipped" and contract.certificate_tracking_no == "1234-5678-9012"
    assert contract.certificate_arrival_on == shipping.expected_arrival(today())
    assert "お届け予定" in request.events[-1].note and "1234-5678-9012" in request.events[-1].note


def test_certificate_csv_is_all_or_nothing_with_a_report(db_session, household, make_contract, office):
    first, second = make_contract(household), make_contract(household)
    r1 = shipping.start_certificate(db_session, first)
    r2 = shipping.start_certificate(db_session, second)
    day = today().isoformat()
    bad = (f"証書番号,発送日,お問い合わせ番号\n{first.contract_no},{day},123456789012\n"
           f"999999999999,{day},123456789013\n{second.contract_no},2026-13-01,123456789014\n"
           f"{first.contract_no},{day},123456789015\n").encode("cp932")
    report = vendor_files.import_certificate_shipments(db_session, bad, office)
    assert not report.ok and [p.line_no for p in report.problems] == [3, 4, 5]
    assert "契約はありません" in report.problems[0].message and "YYYY-MM-DD" in report.problems[1].message
    assert "2行目" in report.problems[2].message
    assert r1.status == "received" and first.certificate_status == "preparing"
    good = f"{first.contract_no},{day},123456789012\r\n{second.contract_no},{day},123456789013\r\n".encode()
    report = vendor_files.import_certificate_shipments(db_session, "\ufeff".encode() + good, office)
    assert report.ok and len(report.applied) == 2
    assert r1.status == r2.status == "shipped" and second.certificate_tracking_no == "123456789013"
    again = vendor_files.import_certificate_shipments(db_session, good, office)  # the same file twice
    assert again.ok and not again.applied and len(again.unchanged) == 2
    assert [e.status for e in r1.events].count("shipped") == 1


def test_csv_refuses_a_certificate_someone_else_holds(db_session, household, make_contract, make_staff, office):
    contract = make_contract(household)
    request = shipping.start_certificate(db_session, contract)
    services.claim(db_session, request, make_staff("office"))
    report = vendor_files.import_certificate_shipments(
        db_session, f"{contract.contract_no},{today().isoformat()},123456789012".encode(), office)
    assert not report.ok and "対応中" in report.problems[0].message and request.status == "received"


def test_csv_views_report_bad_lines_and_member_sees_the_shipment(app, db_session, make_member, make_contract,
                                                                staff_client, client, auth):
    member = make_member()
    contract = make_contract(member)
    shipping.start_certificate(db_session, contract)
    office = staff_client("office")
    upload = {"file": (io.BytesIO(f"{contract.contract_no},{today().isoformat()},12\n".encode()), "ship.csv")}
    refused = office.post("/staff/work/certificates/import", data=upload, content_type="multipart/form-data")
    assert refused.status_code == 422 and "どの証書も更新していません" in refused.text and "1</td>" in refused.text
    upload = {"file": (io.BytesIO(f"{contract.contract_no},{today().isoformat()},987654321098\n".encode()),
                       "ship.csv")}
    done = office.post("/staff/work/certificates/import", data=upload, content_type="multipart/form-data")
    assert done.status_code == 200 and "発送済みにした証書 1件" in done.text
    auth.login_member(member)
    page = client.get(f"/contracts/{contract.contract_no}")
    assert "発送済み" in page.text and "987654321098" in page.text and "お届け予定" in page.text
    assert "発送済" in client.get("/requests").text


# --- 住まいる共済 re-rating ------------------------------------------------------------------

def test_moving_the_property_queues_a_rerating_and_the_office_rerates_pro_rata(app, db_session, household,
                                                                               make_contract, office):
    from portal.contracts.catalogue import sumairu_premiums
    from portal.profile.services import AddressInput, PropertyMove, change_address

    total, earthquake = sumairu_premiums("wooden", 300)
    contract = make_contract(household, "SUMAIRU", start=date(2016, 9, 1), premium_yen=total, units=300,
                             deductible_yen=earthquake, property_postal_code=household.postal_code,
                             property_address=household.address, property_structure="wooden",
                             coverage_kwargs={"building_units": 200, "goods_units": 100})
    with time_machine.travel(datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc), tick=False), \
            app.test_request_context():
        change_address(db_session, household, AddressInput("1510053", "東京都", "渋谷区", "代々木2-2-2"),
                       expected_version=household.version, move_property=True, idempotency_key="move-1",
                       property_move=PropertyMove(date(2026, 12, 1), "wooden"))
        request = db_session.scalar(select(ProcedureRequest).where(ProcedureRequest.member_id == household.id,
                                                                   ProcedureRequest.kind == "property_rerating"))
        assert request is not None and request.status == "received"
        assert rerating.current_plan(contract) == "basic"
        # Wooden → steel: 110円 → 165円 per 口... basic: (70+190)=260 → (40+125)=165 per 口 a year.
        _act(db_session, request, office, "rerate", {"structure": "steel", "plan": "basic"})
    assert request.status == "completed"
    assert contract.premium_yen == 165 * 300 and contract.property_structure == "steel"
    history = contract.premium_changes[-1]
    assert history.reason == "住所変更に伴う掛金改定" and history.premium_yen == 49_500
    months = rerating.months_left(contract, request.effective_date)
    adjustment = db_session.scalar(select(PremiumAdjustment).where(PremiumAdjustment.contract_id == contract.id))
    assert adjustment.amount_yen == -((78_000 - 49_500) * months // 12) and adjustment.amount_yen < 0
    assert "返金" in request.events[-1].note
    with pytest.raises(services.WorkError):
        services.act(db_session, request, "rerate", office, {"structure": "steel", "plan": "basic"})
    assert db_session.scalar(select(func.count()).select_from(PremiumAdjustment)) == 1


def test_months_left_and_charges_round_in_the_members_favour(make_member, make_contract, db_session):
    contract = make_contract(make_member(), "SUMAIRU", start=date(2016, 9, 1), premium_yen=100, units=1,
                             coverage_kwargs={"building_units": 1}, property_structure="mansion")
    assert rerating.months_left(contract, date(2026, 12, 1)) == 9
    assert rerating.months_left(contract, date(2026, 9, 1)) == 12
    assert rerating.months_left(contract, date(2027, 8, 15)) == 0
    quote = rerating.quote(contract, "wooden", "basic", date(2026, 12, 1))
    assert quote.adjustment_yen == (260 - 100) * 9 // 12


# --- enrolment -----------------------------------------------------------------------------

def _application(db_session, member, code="KOKUMIN_SOGO", relation="self", key="k"):
    option = next(o for o in enrollment.plan_options(db_session, member)
                  if o.product_code == code and o.insured.relation == relation)
    answers = {f"q{n}": "no" for n in enrollment.declaration_questions_for(option.insured)}
    return enrollment.submit(db_session, member, option.key, idempotency_key=key, answers=answers)


def test_a_man_is_not_asked_the_pregnancy_question_and_his_answers_are_stored(db_session, household):
    request = _application(db_session, household)  # the member himself
    facts = enrollment.application_for_office(db_session, request)
    assert len(facts["answers"]) == 3 and not any("妊娠" in q for q, _a in facts["answers"])
    iryo = next(o for o in enrollment.plan_options(db_session, household)
                if o.product_code == "KOKUMIN_IRYO" and o.insured.relation == "self")
    with pytest.raises(enrollment.EnrollmentError, match="すべての質問"):
        enrollment.submit(db_session, household, iryo.key, idempotency_key="k-missing", answers={"q1": "no"})


def test_enrolment_approved_in_the_queue_makes_the_contract_and_a_certificate_to_ship(db_session, household,
                                                                                        office):
    request = _application(db_session, household, relation="spouse")
    facts = enrollment.application_for_office(db_session, request)
    assert facts["insured"].relation == "spouse" and all(a == "いいえ" for _q, a in facts["answers"])
    assert audit_count(db_session, "enrollment.declaration_view") == 1
    _act(db_session, request, office, "review")
    assert request.status == "under_review"
    message = services.act(db_session, request, "approve", office)
    assert "成立しました" in message and request.status == "approved"
    contract = db_session.scalar(select(Contract).where(Contract.member_id == household.id))
    assert contract.certificate_status == "preparing" and contract.payment_method == "debit"
    certificate = shipping.open_certificate_request(db_session, contract)
    assert certificate is not None and certificate.kind == "contract_certificate"
    with pytest.raises(services.WorkError, match="すでに処理"):
        services.act(db_session, request, "approve", office)
    assert db_session.scalar(select(func.count()).select_from(Contract).where(Contract.member_id == household.id)) == 1


def test_enrolment_declined_with_a_reason(db_session, household, office):
    request = _application(db_session, household)
    with pytest.raises(services.WorkError):
        _act(db_session, request, office, "decline", {"reason": " "})
    services.act(db_session, request, "decline", office, {"reason": "ご加入の年齢を超えています"})
    assert request.status == "declined" and "ご加入の年齢" in request.events[-1].note
    application = db_session.scalar(select(Application).where(Application.procedure_request_id == request.id))
    assert application.status == "declined"


def test_the_declaration_is_shown_only_to_the_office_and_each_view_is_audited(app, db_session, make_member,
                                                                              staff_client):
    member = make_member()
    db_session.add(DebitAccount(member_id=member.id, bank_code="0001", bank_name="みずほ銀行", branch_code="001",
                                branch_name="東京営業部", account_type=1, account_number="1234567",
                                holder_name="ｼｹﾝ ﾀﾛｳ", is_current=True))
    db_session.flush()
    request = _application(db_session, member)
    assert staff_client("support").get(f"/staff/work/{request.receipt_no}").status_code == 403
    assert staff_client("admin").get(f"/staff/work/{request.receipt_no}").status_code == 403
    page = staff_client("office").get(f"/staff/work/{request.receipt_no}")
    assert page.status_code == 200 and "告知（健康状態）" in page.text and "現在、入院中ですか" in page.text
    assert audit_count(db_session, "enrollment.declaration_view") == 1


# --- certificate mailing, kits ---------------------------------------------------------------

def test_certificate_mailing_marked_sent(db_session, make_member, office):
    from portal.procedures import services as procedures

    member = make_member()
    request = procedures.start(db_session, member, "certificate_mail", "2026年分", detail={"year": 2026})
    _act(db_session, request, office, "mailed")
    assert request.status == "shipped" and "2026年分" in request.events[-1].note


def test_kit_orders_csv_and_shipped_with_tracking(app, db_session, make_member, staff_client):
    from portal.procedures import services as procedures

    member = make_member(name="=HYPERLINK(1)")
    request = procedures.start(db_session, member, "shop_order", "健康チェッカー", status="paid", notify=False)
    order = ShopOrder(order_no="S2611-TEST0001", member_id=member.id, procedure_id=request.id,
                      idempotency_key="kit-test", sku="KC-SINGLE", product_name="健康チェッカー",
                      recipient_name=member.name, unit_price_yen=6080, tax_yen=608, total_yen=6688, status="paid",
                      paid_at=datetime.now(timezone.utc) - timedelta(days=1))
    db_session.add(order)
    db_session.flush()
    office = staff_client("office")
    csv_response = office.get("/staff/work/kits.csv")
    text = csv_response.data.decode("utf-8-sig")
    assert csv_response.status_code == 200 and "S2611-TEST0001" in text and "'=HYPERLINK(1)" in text
    office.post(f"/staff/work/{request.receipt_no}/claim")
    office.post(f"/staff/work/{request.receipt_no}/act/shipped", data={"shipped-tracking_no": "4455-6677-8899"})
    db_session.refresh(order)
    assert order.status == "shipped" and order.tracking_no == "4455-6677-8899"
    assert "S2611-TEST0001" not in office.get("/staff/work/kits.csv").data.decode("utf-8-sig")
    assert db_session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "backoffice.shop_order.shipped")) == 1


def test_demo_data_has_open_work_of_every_kind(db_session):
    from portal.seed import seed_demo

    seed_demo(db_session)
    items = services.work_queue(db_session).items
    assert {"bank_account_change", "paper_forms", "inquiry", "certificate_mail", "contract_certificate",
            "property_rerating", "enrollment", "shop_order"} <= {i.request.kind for i in items}
    assert any(i.overdue for i in items)
    assert seed_demo(db_session) is False
    assert len(services.work_queue(db_session).items) == len(items)  # idempotent
    application = db_session.scalar(select(Application))
    assert json.loads(application.declaration)["q1"] == "no"
