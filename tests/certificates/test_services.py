"""The certificate window, the lines and their amounts, mailing and PDF issue (services)."""
from __future__ import annotations

import io
import json
from datetime import date, datetime

import pypdf
import pytest
import time_machine
from sqlalchemy import func, select

from portal.certificates import services
from portal.certificates.models import CertificateIssue
from portal.contracts.models import Contract, PremiumPayment
from portal.clock import TOKYO
from portal.gateways.storage import LocalStorage
from portal.procedures.models import ProcedureRequest
from portal.seed import seed_demo


# ------------------------------------------------------------------ the window

@pytest.mark.parametrize("day, year, opens, closes", [
    (date(2026, 9, 30), None, date(2026, 10, 1), date(2027, 3, 31)),
    (date(2026, 10, 1), 2026, date(2026, 10, 1), date(2027, 3, 31)),
    (date(2026, 12, 31), 2026, date(2026, 10, 1), date(2027, 3, 31)),
    (date(2027, 1, 1), 2026, date(2026, 10, 1), date(2027, 3, 31)),
    (date(2027, 2, 10), 2026, date(2026, 10, 1), date(2027, 3, 31)),
    (date(2027, 3, 31), 2026, date(2026, 10, 1), date(2027, 3, 31)),
    (date(2027, 4, 1), None, date(2027, 10, 1), date(2028, 3, 31)),
    (date(2026, 7, 1), None, date(2026, 10, 1), date(2027, 3, 31)),
    (date(2028, 2, 29), 2027, date(2027, 10, 1), date(2028, 3, 31)),   # leap day: still open for 2027
    (date(2028, 3, 31), 2027, date(2027, 10, 1), date(2028, 3, 31)),
    (date(2028, 4, 1), None, date(2028, 10, 1), date(2029, 3, 31)),
])
def test_window_on(day, year, opens, closes):
    window = services.window_on(day)
    assert (window.year, window.opens_on, window.closes_on) == (year, opens, closes)
    assert window.is_open is (year is not None)


def test_dashboard_notice_only_while_open(db_session, make_member):
    member = make_member()
    assert services.dashboard_notices(db_session, member, date(2026, 9, 30)) == []
    assert services.dashboard_notices(db_session, member, date(2026, 10, 1)) == [{
        "text": "掛金証明書の再発行を受け付けています（3月31日まで）", "url": "/certificates", "level": "info"}]
    assert services.dashboard_notices(db_session, member, date(2027, 3, 31))[0]["url"] == "/certificates"
    assert services.dashboard_notices(db_session, member, date(2027, 4, 1)) == []


# ------------------------------------------------------------------ the demo household

NOV_10 = datetime(2026, 11, 10, 10, 0, tzinfo=TOKYO)


@pytest.fixture
def demo_nov(db_session):
    """The demo household seeded on 10 Nov 2026: debits of Nov 2025 – Oct 2026 on record."""
    with time_machine.travel(NOV_10, tick=False):
        seed_demo(db_session)
    from portal.members.models import Member
    return db_session.scalar(select(Member).where(Member.member_no == "1000000001"))


# Hand-computed for 10 Nov 2026: Jan–Oct 2026 debited (10 months), Nov and Dec
# still to come (27 Nov Fri, 27 Dec Sun → 28 Dec Mon); 住まいる's yearly September
# debit: earthquake part 190円 × 300口 = 57,000円 (fire 21,000円 does not count).
DEMO_NOV_10 = [
    ("100000000101", "こくみん共済 総合保障タイプ", "山田 太郎", "一般生命保険料（新制度）", 18_000, 21_600),
    ("100000000102", "こくみん共済 医療保障タイプ", "山田 花子", "介護医療保険料（新制度）", 23_000, 27_600),
    ("100000000103", "こくみん共済 こども保障タイプ", "山田 一郎", "一般生命保険料（新制度）", 12_000, 14_400),
    ("100000000104", "こくみん共済 こども保障タイプ", "山田 さくら", "一般生命保険料（新制度）", 12_000, 14_400),
    ("100000000105", "住まいる共済（火災共済＋自然災害共済）", "山田 太郎", "地震保険料", 57_000, 57_000),
    ("100000000107", "ねんきん共済", "山田 太郎", "個人年金保険料（新制度）", 100_000, 120_000),
]


def test_demo_household_lines_on_a_fixed_day(db_session, demo_nov):
    result = services.summary(db_session, demo_nov.id, date(2026, 11, 10))
    assert result.window.year == 2026
    got = [(l.contract_no, l.product_name, l.insured_name, l.category_label, l.certified_yen, l.expected_yen)
           for l in result.lines]
    assert got == DEMO_NOV_10  # マイカー共済 (100000000106) is not there
    assert result.certified_total_yen == 222_000
    assert result.expected_total_yen == 255_000
    # 一般生命 21,600 + 14,400 + 14,400 = 50,400 → 50,400/4 + 20,000 = 32,600;
    # 介護医療 27,600 → 27,600/2 + 10,000 = 23,800; 個人年金 120,000 → 40,000; 地震 57,000 → 50,000
    assert result.estimate.by_category == {"general_life": 32_600, "medical_care": 23_800, "pension": 40_000,
                                           "earthquake": 50_000}
    assert result.estimate.life_total == 96_400
    assert [(t.category, t.expected_yen) for t in result.totals] == [
        ("general_life", 50_400), ("medical_care", 27_600), ("pension", 120_000), ("earthquake", 57_000)]


def test_after_the_year_end_expected_equals_paid(db_session):
    # Seeded on 10 Feb 2027: debits Feb 2026 – Jan 2027 on record; 2026 has Feb–Dec (11 months).
    with time_machine.travel(datetime(2027, 2, 10, 9, 0, tzinfo=TOKYO), tick=False):
        seed_demo(db_session)
    from portal.members.models import Member
    taro = db_session.scalar(select(Member).where(Member.member_no == "1000000001"))
    result = services.summary(db_session, taro.id, date(2027, 2, 10))
    assert result.window.year == 2026
    by_no = {l.contract_no: (l.certified_yen, l.expected_yen) for l in result.lines}
    assert by_no["100000000101"] == (19_800, 19_800)   # the January 2027 debit belongs to 2027
    assert by_no["100000000107"] == (110_000, 110_000)
    assert by_no["100000000105"] == (57_000, 57_000)
    assert "100000000106" not in by_no


def test_outside_the_window_there_are_no_lines(db_session, demo_nov):
    result = services.summary(db_session, demo_nov.id, date(2026, 9, 30))
    assert result.window.year is None and result.lines == []


# ------------------------------------------------------------------ amounts from payment records

def _pay(db_session, contract, period: date, paid_on: date | None, status: str = "paid", amount: int | None = None):
    amount = contract.deductible_premium_yen if amount is None else amount
    db_session.add(PremiumPayment(contract_id=contract.id, period=period, amount_yen=contract.premium_yen,
                                  deductible_yen=amount, paid_on=paid_on, status=status))
    db_session.flush()


def test_issue_on_the_debit_day_counts_it_once(db_session, make_member, make_contract):
    member = make_member()
    contract = make_contract(member, "KOKUMIN_IRYO", start=date(2020, 4, 1), premium_yen=2_300)
    for month in range(1, 10):
        _pay(db_session, contract, date(2026, month, 1), date(2026, month, 27))
    # 27 Oct 2026 (Tue) is October's debit day; not yet on record → still expected
    [line] = services.certificate_lines(db_session, member.id, 2026, date(2026, 10, 27))
    assert (line.certified_yen, line.expected_yen) == (9 * 2_300, 12 * 2_300)
    # once on record it is paid, and not expected a second time
    _pay(db_session, contract, date(2026, 10, 1), date(2026, 10, 27))
    [line] = services.certificate_lines(db_session, member.id, 2026, date(2026, 10, 27))
    assert (line.certified_yen, line.expected_yen) == (10 * 2_300, 12 * 2_300)
    # the next day October is history: an unpaid month is not expected any more
    [line] = services.certificate_lines(db_session, member.id, 2026, date(2026, 10, 28))
    assert (line.certified_yen, line.expected_yen) == (10 * 2_300, 12 * 2_300)


def test_unpaid_months_are_neither_paid_nor_expected(db_session, make_member, make_contract):
    member = make_member()
    contract = make_contract(member, "KOKUMIN_SOGO", start=date(2020, 4, 1), premium_yen=1_800)
    for month in range(1, 11):
        if month == 5:
            _pay(db_session, contract, date(2026, 5, 1), None, status="unpaid")
        else:
            _pay(db_session, contract, date(2026, month, 1), date(2026, month, 27))
    [line] = services.certificate_lines(db_session, member.id, 2026, date(2026, 11, 10))
    assert (line.certified_yen, line.expected_yen) == (9 * 1_800, 11 * 1_800)


def test_new_contract_expects_only_from_its_start(db_session, make_member, make_contract):
    member = make_member()
    make_contract(member, "NENKIN", start=date(2026, 11, 1), premium_yen=10_000)
    [line] = services.certificate_lines(db_session, member.id, 2026, date(2026, 10, 5))
    assert (line.certified_yen, line.expected_yen) == (0, 20_000)  # November and December


def test_yearly_contracts_expect_their_month_only_while_to_come(db_session, make_member, make_contract):
    member = make_member()
    from portal.contracts.catalogue import sumairu_premiums
    total, quake = sumairu_premiums("steel", 100)           # 4,000 + 12,500
    december = make_contract(member, "SUMAIRU", start=date(2019, 12, 1), premium_yen=total, units=100,
                             deductible_yen=quake, coverage_kwargs={"building_units": 100})
    october = make_contract(member, "SUMAIRU", start=date(2019, 10, 1), premium_yen=total, units=100,
                            deductible_yen=quake, coverage_kwargs={"building_units": 100})
    mycar = make_contract(member, "MYCAR", start=date(2019, 12, 1), premium_yen=60_000, deductible_yen=0)
    _pay(db_session, mycar, date(2026, 1, 1), date(2026, 1, 27))
    lines = services.certificate_lines(db_session, member.id, 2026, date(2026, 11, 10))
    # December's yearly debit is to come; October's was not paid and has passed; マイカー never counts
    assert [(l.contract_no, l.certified_yen, l.expected_yen, l.category) for l in lines] == [
        (december.contract_no, 0, 12_500, "earthquake")]
    _pay(db_session, october, date(2026, 10, 1), date(2026, 10, 27))
    lines = services.certificate_lines(db_session, member.id, 2026, date(2026, 11, 10))
    assert {l.contract_no: (l.certified_yen, l.expected_yen) for l in lines} == {
        december.contract_no: (0, 12_500), october.contract_no: (12_500, 12_500)}


def test_old_system_products_are_labelled_and_estimated_as_old(db_session, make_member, make_contract):
    member = make_member()
    contract = make_contract(member, "NENKIN", start=date(2010, 1, 1), premium_yen=10_000)
    contract.product.deduction_system = "old"   # rolled back with the test
    for month in range(1, 11):
        _pay(db_session, contract, date(2026, month, 1), date(2026, month, 27))
    result = services.summary(db_session, member.id, date(2026, 11, 10))
    assert result.lines[0].category_label == "個人年金保険料（旧制度）"
    assert result.estimate.by_category == {"pension": 50_000}   # 120,000 > 100,000 → old cap 50,000


# ------------------------------------------------------------------ mailing: one open request per year

def test_one_open_mailing_request_per_year(db_session, demo_nov):
    day = date(2026, 11, 10)
    with time_machine.travel(NOV_10, tick=False):
        first = services.request_mail(db_session, demo_nov, day, idempotency_key="cert_mail:aaaaaaaaaaaaaaaaaaaa")
        assert first.kind == "certificate_mail" and first.status == "received"
        assert json.loads(first.detail)["year"] == 2026
        # the same form again → the same request
        again = services.request_mail(db_session, demo_nov, day, idempotency_key="cert_mail:aaaaaaaaaaaaaaaaaaaa")
        assert again.id == first.id
        with pytest.raises(services.CertificateError) as refused:
            services.request_mail(db_session, demo_nov, day, idempotency_key="cert_mail:bbbbbbbbbbbbbbbbbbbb")
        assert first.receipt_no in refused.value.message
        # once shipped, another one may be asked for
        from portal.procedures.services import change_status
        change_status(db_session, first, "shipped")
        second = services.request_mail(db_session, demo_nov, day, idempotency_key="cert_mail:cccccccccccccccccccc")
    assert second.id != first.id
    count = db_session.scalar(select(func.count()).select_from(ProcedureRequest)
                              .where(ProcedureRequest.member_id == demo_nov.id,
                                     ProcedureRequest.kind == "certificate_mail"))
    assert count == 2


def test_requests_refused_outside_the_window_and_without_lines(db_session, demo_nov, make_member, tmp_path):
    with pytest.raises(services.CertificateError, match="受付期間外"):
        services.request_mail(db_session, demo_nov, date(2026, 9, 30))
    with pytest.raises(services.CertificateError, match="受付期間外"):
        services.issue_pdf(db_session, demo_nov, date(2027, 4, 1), LocalStorage(tmp_path))
    nobody = make_member()
    with pytest.raises(services.CertificateError, match="対象となるご契約がない"):
        services.request_mail(db_session, nobody, date(2026, 11, 10))


# ------------------------------------------------------------------ PDF

def test_issue_pdf_stores_a_certificate_with_every_line(db_session, demo_nov, tmp_path):
    store = LocalStorage(tmp_path)
    day = date(2026, 11, 10)
    with time_machine.travel(NOV_10, tick=False):
        issue = services.issue_pdf(db_session, demo_nov, day, store, idempotency_key="cert_pdf:k" * 2,
                                   staff_id=None)
        again = services.issue_pdf(db_session, demo_nov, day, store, idempotency_key="cert_pdf:k" * 2)
    assert again.id == issue.id
    assert issue.year == 2026 and issue.issued_on == day
    assert (issue.certified_total_yen, issue.expected_total_yen) == (222_000, 255_000)
    request = db_session.get(ProcedureRequest, issue.request_id)
    assert (request.kind, request.status) == ("certificate_pdf", "completed")
    assert issue.verification_no in request.summary
    text = pypdf.PdfReader(io.BytesIO(store.open(issue.storage_key))).pages[0].extract_text()
    for needle in ("みらい共済生活協同組合", "山田 太郎", "1000000001", "共済掛金証明書（2026年分）",
                   "2026年11月10日", issue.verification_no, "222,000円", "255,000円"):
        assert needle in text, needle
    for contract_no, _product, _insured, category, certified, expected in DEMO_NOV_10:
        assert contract_no in text
        assert f"{certified:,}円" in text and f"{expected:,}円" in text
    assert "100000000106" not in text  # マイカー共済


def test_issue_of_member_hides_other_members_issues(db_session, demo_nov, make_member, tmp_path):
    with time_machine.travel(NOV_10, tick=False):
        issue = services.issue_pdf(db_session, demo_nov, date(2026, 11, 10), LocalStorage(tmp_path))
    other = make_member()
    assert services.issue_of_member(db_session, demo_nov.id, issue.id).id == issue.id
    assert services.issue_of_member(db_session, other.id, issue.id) is None
    assert services.issue_of_member(db_session, demo_nov.id, issue.id + 1000) is None
    assert db_session.scalar(select(func.count()).select_from(CertificateIssue)) >= 1


def test_the_same_figures_are_served_from_storage_not_rendered_again(db_session, demo_nov, tmp_path, monkeypatch):
    from portal.certificates import pdf

    renders = []
    real = pdf.render_certificate
    monkeypatch.setattr(pdf, "render_certificate", lambda **kw: renders.append(1) or real(**kw))
    store = LocalStorage(tmp_path)
    with time_machine.travel(NOV_10, tick=False):
        first = services.issue_pdf(db_session, demo_nov, date(2026, 11, 10), store, idempotency_key="cert_pdf:a")
        second = services.issue_pdf(db_session, demo_nov, date(2026, 11, 10), store, idempotency_key="cert_pdf:b")
        third = services.issue_pdf(db_session, demo_nov, date(2026, 11, 10), store)
    assert first.id == second.id == third.id and len(renders) == 1
    assert db_session.scalar(select(func.count()).select_from(ProcedureRequest)
                             .where(ProcedureRequest.kind == "certificate_pdf")) == 1
    # A payment recorded since changes the figures: a new certificate is made.
    contract = db_session.scalar(select(Contract).where(Contract.member_id == demo_nov.id,
                                                        Contract.premium_period == "monthly"))
    db_session.add(PremiumPayment(contract_id=contract.id, period=date(2026, 11, 1), amount_yen=contract.premium_yen,
                                  deductible_yen=contract.deductible_premium_yen, paid_on=date(2026, 11, 10),
                                  status="paid"))
    db_session.flush()
    with time_machine.travel(NOV_10, tick=False):
        fourth = services.issue_pdf(db_session, demo_nov, date(2026, 11, 10), store)
    assert fourth.id != first.id and len(renders) == 2
