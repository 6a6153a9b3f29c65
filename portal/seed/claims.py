"""Demo claims for member 1000000001 and the demo claims staff.

A paid claim (with its sent payment run), a claim waiting for documents, and a
typhoon damage report with a proposed assessor visit. Rows are made directly
(no audit rows: seeding is not anybody's action), each found again by its
procedure's idempotency key so seed-demo stays idempotent.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.claims.estimate import Event, estimate
from portal.claims.models import AssessorVisit, Claim, ClaimLine, PaymentRun, PaymentRunItem
from portal.claims.services import contracts_of_person, debit_payee, _apply_payee, _lines_from
from portal.clock import today, utcnow
from portal.contracts.models import Contract
from portal.jp.dates import TOKYO, add_business_days
from portal.members.models import Member
from portal.procedures import services as procedures
from portal.seed.household import ensure_staff
from portal.seed.office_work import start_once
from portal.staff.models import StaffUser
from portal.jp.text import honorific

CLAIMS_STAFF = (("claims@example.jp", "claims", "中村（共済金担当）"), ("claims2@example.jp", "claims", "木村（共済金担当）"))
KEY = "demo:claims:"


def seed_claims_staff(session: Session) -> bool:
    return ensure_staff(session, CLAIMS_STAFF)


def _medical(session: Session, member: Member, key: str, relation: str, event: Event, values: dict,
             statuses: list[tuple[str, str | None]]) -> Claim | None:
    person = next(p for p in member.insured_persons if p.relation == relation)
    request = start_once(session, member, "claim", f"{honorific(person.name)} {values.pop('summary')}", KEY + key)
    if request is None:
        return None
    result = estimate(person, contracts_of_person(session, member, person.id), event, today=today())
    claim = Claim(procedure_id=request.id, member_id=member.id, kind="claim", insured_person_id=person.id,
                  cause=event.cause, first_day=event.first_day, estimated_yen=result.total_yen,
                  needs_certificate=result.needs_certificate, **values)
    claim.procedure = request
    _apply_payee(claim, debit_payee(session, member))
    claim.lines = _lines_from(result)
    session.add(claim)
    session.flush()
    for status, note in statuses:
        procedures.change_status(session, request, status, note, notify=False)
    return claim


def seed_claims_demo(session: Session, member: Member) -> int:
    """A paid claim, one waiting for documents and a damage report for 山田 太郎."""
    added = 0
    day = today()
    officer = session.scalar(select(StaffUser).where(StaffUser.email == CLAIMS_STAFF[0][0]))

    # Paid: 花子's hospital stay with an operation, 5 days × 10,000 + 60,000.
    start = day - timedelta(days=70)
    paid = _medical(session, member, "paid", "spouse",
                    Event(cause="illness", first_day=start, hospital_from=start, hospital_to=start + timedelta(days=4),
                          surgery_date=start + timedelta(days=1)),
                    {"summary": "入院・手術（病気）", "benefits": "hospital,surgery", "hospital_from": start,
                     "hospital_to": start + timedelta(days=4), "surgery_date": start + timedelta(days=1),
                     "surgery_name": "腹腔鏡下虫垂切除術", "hospital_name": "代々木中央病院"},
                    [("checking_documents", "書類を確認しています")])
    if paid is not None:
        paid.documents_complete_on = start + timedelta(days=12)
        due = add_business_days(paid.documents_complete_on, 5)
        procedures.change_status(session, paid.procedure, "under_review",
                                 f"書類がそろいました。{due.year}年{due.month}月{due.day}日までにお支払いの予定です",
                                 notify=False)
        paid.first_approver_id = officer.id if officer else None
        paid.approved_yen = paid.total_yen
        procedures.change_status(session, paid.procedure, "awaiting_payment",
                                 f"お支払い額 {paid.approved_yen:,}円。お振込みの手続きをしています", notify=False)
        paid_on = add_business_days(paid.documents_complete_on, 3)
        run = PaymentRun(transfer_date=paid_on, status="sent", total_count=1, total_yen=paid.approved_yen,
                         created_by_staff_id=paid.first_approver_id, sent_at=utcnow())
        run.items = [PaymentRunItem(claim_id=paid.id, amount_yen=paid.approved_yen)]
        session.add(run)
        paid.paid_on = paid_on
        procedures.change_status(session, paid.procedure, "paid",
                                 f"{paid.approved_yen:,}円を{paid_on.year}年{paid_on.month}月{paid_on.day}日に"
                                 "お振り込みしました", notify=False)
        added += 1

    # Waiting for documents: 一郎's fracture and outpatient visits (こども保障).
    hurt = day - timedelta(days=20)
    visits = (hurt, hurt + timedelta(days=7), hurt + timedelta(days=14))
    waiting = _medical(session, member, "documents", "child",
                       Event(cause="accident", first_day=hurt, outpatient_dates=visits, fracture=True),
                       {"summary": "骨折・通院（不慮の事故）", "benefits": "outpatient,fracture",
                        "outpatient_dates": ",".join(d.isoformat() for d in visits),
                        "hospital_name": "渋谷こどもクリニック"},
                       [("checking_documents", "書類を確認しています")])
    if waiting is not None:
        message = "骨折がわかる診療明細書（または診断書）の写真をお送りください。"
        waiting.documents_message = message
        procedures.change_status(session, waiting.procedure, "awaiting_documents", message, notify=False)
        added += 1

    # A typhoon damage report with a proposed assessor visit (a demo voice complains of the wait).
    if procedures.find_by_key(session, KEY + "typhoon") is None:
        contract = session.scalar(select(Contract).where(Contract.contract_no == "100000000105"))
        if contract is not None:
            storm = day - timedelta(days=10)
            request = procedures.start(session, member, "damage_report",
                                       f"風災・台風による損害（{storm.year}年{storm.month}月{storm.day}日）"
                                       f"{contract.property_address}", idempotency_key=KEY + "typhoon",
                                       notify=False)
            claim = Claim(procedure_id=request.id, member_id=member.id, kind="damage_report", first_day=storm,
                          contract_id=contract.id, damage_cause="storm", insured_person_id=contract.insured_person_id,
                          description="台風で屋根瓦が飛び、2階の天井から雨漏りしています。")
            claim.procedure = request
            _apply_payee(claim, debit_payee(session, member))
            limit = next((c.amount_yen for c in contract.coverages if c.kind == "natural_disaster"), 0)
            claim.lines = [ClaimLine(contract_id=contract.id, kind="natural_disaster", limit_yen=limit,
                                     note="立会い調査のうえ損害額を査定します")]
            slot = datetime.combine(add_business_days(day, 3), time(10, 0), tzinfo=TOKYO)
            claim.visits = [AssessorVisit(starts_at=slot, proposed_by_staff_id=officer.id if officer else None)]
            session.add(claim)
            session.flush()
            procedures.change_status(session, request, "visit_proposed",
                                     f"立会い調査日のご提案：{slot.month}月{slot.day}日 10時00分。"
                                     "マイページでご都合をお知らせください", notify=False)
            added += 1
    session.flush()
    return added
