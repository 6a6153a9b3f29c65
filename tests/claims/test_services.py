"""Approval rules at the 300,000円 line, and one notice per status change."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.claims import services
from portal.claims.models import Claim, ClaimLine
from portal.messaging.models import OutboxMessage


@pytest.fixture
def under_review(app, db_session, make_member, make_contract):
    def factory(amount: int) -> Claim:
        from portal.procedures.services import start

        member = make_member()
        contract = make_contract(member, "KOKUMIN_IRYO")
        procedure = start(db_session, member, "claim", "入院", status="under_review", notify=False)
        claim = Claim(procedure_id=procedure.id, member_id=member.id, kind="claim", first_day=date(2026, 10, 1),
                      estimated_yen=amount, payee_bank_code="0001", payee_bank_name="みずほ銀行",
                      payee_branch_code="001", payee_branch_name="東京営業部", payee_account_type=1,
                      payee_account_number="1234567", payee_holder_name="ｼｹﾝ ﾀﾛｳ")
        claim.procedure = procedure
        claim.lines = [ClaimLine(contract_id=contract.id, kind="advanced_care", unit_yen=amount, estimated_yen=amount)]
        db_session.add(claim)
        db_session.flush()
        return claim
    with app.test_request_context():
        yield factory


def _notices(db_session, claim) -> int:
    return db_session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.member_id == claim.member_id))


def test_below_300000_one_officer_pays(under_review, db_session, make_staff):
    claim = under_review(299_999)
    officer = make_staff("claims")
    services.approve(db_session, claim, officer.id)
    assert claim.status == "awaiting_payment" and claim.approved_yen == 299_999
    assert _notices(db_session, claim) == 1


def test_from_300000_a_second_different_officer(under_review, db_session, make_staff):
    claim = under_review(300_000)
    first, second = make_staff("claims"), make_staff("claims")
    message = services.approve(db_session, claim, first.id)
    assert "別の担当者の承認が必要" in message and claim.status == "under_review"
    assert _notices(db_session, claim) == 0  # no status change, no notice
    with pytest.raises(services.ClaimError, match="1回目とは別の担当者"):
        services.approve(db_session, claim, first.id)
    services.approve(db_session, claim, second.id)
    assert claim.status == "awaiting_payment" and (claim.first_approver_id, claim.second_approver_id) == (
        first.id, second.id)
    assert _notices(db_session, claim) == 1
    with pytest.raises(services.ClaimError):
        services.approve(db_session, claim, second.id)  # a double click changes nothing twice
    assert _notices(db_session, claim) == 1


def test_changing_the_amount_after_a_first_approval_needs_it_again(under_review, db_session, make_staff):
    claim = under_review(400_000)
    first, second = make_staff("claims"), make_staff("claims")
    services.approve(db_session, claim, first.id)
    line = claim.lines[0]
    services.assess(db_session, claim, {line.id: ("350000", "領収書の金額に訂正")}, second.id)
    assert claim.first_approver_id is None
    services.approve(db_session, claim, second.id)
    assert claim.status == "under_review"  # second's approval is now the first one
    services.approve(db_session, claim, first.id)
    assert claim.status == "awaiting_payment" and claim.approved_yen == 350_000


def test_odd_amounts_are_refused_next_to_the_line(under_review, db_session, make_staff):
    claim = under_review(10_000)
    line = claim.lines[0]
    officer = make_staff("claims")
    for raw in ("99999999999999999999", "-5", "１０万"):
        with pytest.raises(services.ClaimError) as error:
            services.assess(db_session, claim, {line.id: (raw, "理由")}, officer.id)
        assert f"amount_{line.id}" in error.value.errors
    services.assess(db_session, claim, {line.id: ("１２，０００円", "技術料の訂正")}, officer.id)
    assert line.assessed_yen == 12_000


def test_decline_needs_a_reason_and_notifies_once(under_review, db_session, make_staff):
    claim = under_review(10_000)
    officer = make_staff("claims")
    with pytest.raises(services.ClaimError):
        services.decline(db_session, claim, "  ", officer.id)
    services.decline(db_session, claim, "保障開始前の入院のため", officer.id)
    assert claim.status == "not_payable" and _notices(db_session, claim) == 1
