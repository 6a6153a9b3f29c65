"""Claims and damage reports: filing, documents, assessment, approval and payment.

Each claim is a procedure too; every status change goes through
portal.procedures.services.change_status, which writes the member-visible event
and queues exactly one notice on the member's chosen channel. Functions take the
session and plain values, flush, and never commit: the request or CLI command
commits once.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from portal import audit
from portal.claims import documents
from portal.claims.estimate import Estimate, Event, estimate
from portal.claims.models import (BENEFITS, CAUSES, DAMAGE_CAUSES, DAMAGE_CAUSE_LABELS, LINE_LABELS, AssessorVisit,
                                  Claim, ClaimFile, ClaimLine, PaymentRun, PaymentRunItem)
from portal.clock import today, utcnow
from portal.contracts.models import Contract
from portal.contracts.services import by_kind, coverage_for_age
from portal.jp import zengin
from portal.jp.dates import TOKYO, add_business_days, is_business_day
from portal.jp.errors import JpValueError
from portal.jp.masking import mask_account
from portal.jp.text import honorific, normalize
from portal.members.models import ACCOUNT_TYPES, DebitAccount, InsuredPerson, Member
from portal.procedures import services as procedures
from portal.procedures.models import ProcedureRequest
from portal.service_errors import ServiceError

PAYMENT_BUSINESS_DAYS = 5
SECOND_OFFICER_FROM_YEN = 300_000
MAX_OUTPATIENT_DATES = 120
MAX_ADVANCED_FEE_YEN = 100_000_000
# Statuses of the procedure, in the order a claim goes through them.
WITHDRAWABLE = ("received", "checking_documents", "awaiting_documents", "reviewing", "visit_proposed",
                "visit_scheduled")
CHECKABLE = ("received", "checking_documents", "reviewing", "visit_scheduled")
MEMBER_STATUS_LABELS = {
    "received": "受付", "checking_documents": "書類確認中", "awaiting_documents": "追加書類のお願い",
    "under_review": "審査中", "awaiting_payment": "お支払い手続き中", "paid": "お支払い済み",
    "not_payable": "お支払いできません", "withdrawn": "取り下げ", "visit_proposed": "立会い調査日のご提案",
    "visit_scheduled": "立会い調査日決定", "reviewing": "日程調整中",
}
# Which cover rows pay for which damage.
DAMAGE_COVER = {"fire": ("fire_building", "fire_goods"), "lightning": ("fire_building", "fire_goods"),
                "theft": ("fire_goods",), "storm": ("natural_disaster",), "flood": ("natural_disaster",),
                "earthquake": ("natural_disaster",), "snow": ("natural_disaster",),
                "other": ("fire_building", "fire_goods")}


class ClaimError(ServiceError):
    """A rule said no; `errors` maps form fields to messages (several at once for
    the dates of an event or the payee account)."""

    def __init__(self, message: str, field: str | None = None, *, errors: dict[str, str] | None = None) -> None:
        super().__init__(message, field)
        self._errors = dict(errors or ({field: message} if field else {}))

    @property
    def errors(self) -> dict[str, str]:
        return self._errors


# ======================================================================= reading

def member_status_label(status: str) -> str:
    return MEMBER_STATUS_LABELS.get(status, status)


def claims_of(session: Session, member: Member) -> list[Claim]:
    return list(session.scalars(
        select(Claim).where(Claim.member_id == member.id)
        .options(joinedload(Claim.procedure), selectinload(Claim.lines))
        .order_by(Claim.created_at.desc(), Claim.id.desc())))


def find_claim(session: Session, receipt_no: str, *, member: Member | None = None) -> Claim | None:
    """The claim with this receipt number (only the member's own when `member` is given)."""
    stmt = (select(Claim).join(Claim.procedure).where(ProcedureRequest.receipt_no == receipt_no.strip())
            .options(joinedload(Claim.procedure), selectinload(Claim.lines), selectinload(Claim.files),
                     selectinload(Claim.visits)))
    if member is not None:
        stmt = stmt.where(Claim.member_id == member.id)
    return session.scalar(stmt)


def people_with_cover(session: Session, member: Member) -> list[InsuredPerson]:
    """Insured persons of the household who have a contract with medical cover."""
    person_ids = set(session.scalars(
        select(Contract.insured_person_id).join(Contract.product)
        .where(Contract.member_id == member.id, Contract.product.has(_medical_products()))))
    return [p for p in member.insured_persons if p.id in person_ids]


def _medical_products():
    from portal.contracts.models import Product
    return Product.kind.in_(("kokumin_sogo", "kokumin_iryo", "kokumin_kodomo"))


def contracts_of_person(session: Session, member: Member, person_id: int) -> list[Contract]:
    return list(session.scalars(
        select(Contract).where(Contract.member_id == member.id, Contract.insured_person_id == person_id)
        .options(joinedload(Contract.product), selectinload(Contract.coverages))
        .order_by(Contract.id)))


def person_of(member: Member, person_id: Any) -> InsuredPerson:
    for person in member.insured_persons:
        if str(person.id) == str(person_id):
            return person
    raise ClaimError("被共済者を選んでください。", "person_id")


def sumairu_contracts(session: Session, member: Member) -> list[Contract]:
    from portal.contracts.models import Product
    return list(session.scalars(
        select(Contract).join(Contract.product)
        .where(Contract.member_id == member.id, Product.kind == "sumairu")
        .options(joinedload(Contract.product), selectinload(Contract.coverages)).order_by(Contract.id)))


def expected_payment_date(claim: Claim) -> date | None:
    """5 business days after the documents are complete (None until they are)."""
    if claim.documents_complete_on is None:
        return None
    return add_business_days(claim.documents_complete_on, PAYMENT_BUSINESS_DAYS)


# ======================================================================= the event

@dataclass(frozen=True)
class EventInput:
    """What the member typed, as strings (NFKC-normalised here)."""

    cause: str | None = None
    benefits: Sequence[str] = ()
    hospital_from: str | None = None
    hospital_to: str | None = None
    outpatient_dates: str | None = None
    surgery_date: str | None = None
    surgery_name: str | None = None
    surgery_in_hospital: str | None = None
    fracture_date: str | None = None
    advanced_care_date: str | None = None
    advanced_care_fee: str | None = None
    hospital_name: str | None = None


def _date(value: str | None, field_name: str, label: str, errors: dict[str, str], *, on: date) -> date | None:
    text = normalize(value or "").replace("/", "-").replace(".", "-").strip()
    if not text:
        errors[field_name] = f"{label}を入力してください。"
        return None
    try:
        parts = [int(p) for p in text.split("-")]
        day = date(parts[0], parts[1], parts[2]) if len(parts) == 3 else None
    except (ValueError, OverflowError):
        day = None
    if day is None:
        errors[field_name] = f"{label}は「2026-11-30」の形で入力してください。"
        return None
    if day > on:
        errors[field_name] = f"{label}に未来の日付は入力できません。"
        return None
    if day.year < 1900:
        errors[field_name] = f"{label}をお確かめください。"
        return None
    return day


def parse_event(raw: EventInput, *, on: date) -> tuple[Event, dict[str, Any]]:
    """(Event, the cleaned values to store) or ClaimError with a message per field."""
    errors: dict[str, str] = {}
    benefits = [b for b in BENEFITS if b in set(raw.benefits)]
    if not benefits:
        errors["benefits"] = "ご請求の内容を1つ以上選んでください。"
    if raw.cause not in CAUSES:
        errors["cause"] = "原因を選んでください。"
    hospital_from = hospital_to = surgery_date = fracture_date = advanced_date = None
    outpatient: list[date] = []
    fee = None
    if "hospital" in benefits:
        hospital_from = _date(raw.hospital_from, "hospital_from", "入院日", errors, on=on)
        hospital_to = _date(raw.hospital_to, "hospital_to", "退院日", errors, on=on)
        if hospital_from and hospital_to and hospital_to < hospital_from:
            errors["hospital_to"] = "退院日は入院日より後の日付を入力してください。"
    if "outpatient" in benefits:
        pieces = [p for p in normalize(raw.outpatient_dates or "").replace("、", ",").replace("\n", ",")
                  .replace(" ", ",").split(",") if p.strip()]
        if not pieces:
            errors["outpatient_dates"] = "通院した日を入力してください。"
        elif len(pieces) > MAX_OUTPATIENT_DATES:
            errors["outpatient_dates"] = f"通院日は{MAX_OUTPATIENT_DATES}日分まで入力できます。"
        else:
            for piece in pieces:
                day = _date(piece, "outpatient_dates", "通院日", errors, on=on)
                if day is None:
                    break
                outpatient.append(day)
    if "surgery" in benefits:
        surgery_date = _date(raw.surgery_date, "surgery_date", "手術日", errors, on=on)
        if not normalize(raw.surgery_name or "").strip():
            errors["surgery_name"] = "手術名を入力してください。"
    if "fracture" in benefits:
        fracture_date = _date(raw.fracture_date, "fracture_date", "骨折した日", errors, on=on)
    if "advanced_care" in benefits:
        advanced_date = _date(raw.advanced_care_date, "advanced_care_date", "先進医療を受けた日", errors, on=on)
        text = normalize(raw.advanced_care_fee or "").replace(",", "").replace("円", "").strip()
        if not text.isdigit() or not 0 < int(text) <= MAX_ADVANCED_FEE_YEN:
            errors["advanced_care_fee"] = "先進医療の技術料を円単位の数字で入力してください（1億円まで）。"
        else:
            fee = int(text)
    hospital_name = normalize(raw.hospital_name or "").strip()
    if not hospital_name:
        errors["hospital_name"] = "病院名を入力してください。"
    elif len(hospital_name) > 100:
        errors["hospital_name"] = "病院名は100文字以内で入力してください。"
    if errors:
        raise ClaimError(next(iter(errors.values())), errors=errors)
    days = [d for d in (hospital_from, surgery_date, fracture_date, advanced_date) if d] + outpatient
    first_day = min(days)
    event = Event(cause=raw.cause or "", first_day=first_day, hospital_from=hospital_from, hospital_to=hospital_to,
                  outpatient_dates=tuple(sorted(set(outpatient))), surgery_date=surgery_date,
                  is_surgery_in_hospital=(raw.surgery_in_hospital != "no"),
                  fracture=fracture_date is not None, advanced_care_fee_yen=fee)
    values = {"benefits": ",".join(benefits), "cause": raw.cause, "first_day": first_day,
              "hospital_from": hospital_from, "hospital_to": hospital_to,
              "outpatient_dates": ",".join(d.isoformat() for d in event.outpatient_dates),
              "surgery_date": surgery_date,
              "surgery_name": normalize(raw.surgery_name or "").strip()[:100] or None,
              "is_surgery_in_hospital": event.is_surgery_in_hospital, "advanced_care_fee_yen": fee,
              "hospital_name": hospital_name}
    return event, values


def estimate_for(session: Session, member: Member, person_id: Any, event: Event, *, on: date) -> Estimate:
    person = person_of(member, person_id)
    return estimate(person, contracts_of_person(session, member, person.id), event, today=on)


# ======================================================================= payee

@dataclass(frozen=True)
class Payee(zengin.Account):
    holder_name: str
    is_debit_account: bool

    @property
    def masked(self) -> str:
        return mask_account(self.bank_name, self.branch_name, ACCOUNT_TYPES[self.account_type], self.account_number)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def debit_payee(session: Session, member: Member) -> Payee | None:
    from portal.profile.services import current_debit_account

    account: DebitAccount | None = current_debit_account(session, member)
    if account is None:
        return None
    return Payee(account.bank_code, account.bank_name, account.branch_code, account.branch_name,
                 account.account_type, account.account_number, account.holder_name, True)


def other_payee(member: Member, raw: Any) -> Payee:
    """Another account in the member's own name: the debit account's bank rules
    (zengin lookup, ゆうちょ 記号・番号), and the holder must be the member."""
    from portal.jp.bank import normalize_holder_name
    from portal.profile.services import ProfileError, validate_bank_account

    try:
        account = validate_bank_account(raw)
    except ProfileError as error:
        raise ClaimError(error.message, errors=error.errors) from None
    try:
        own = normalize_holder_name(member.name_kana)
    except JpValueError:
        own = ""
    if own and account.holder_name.replace(" ", "") != own.replace(" ", ""):
        raise ClaimError("共済金は組合員ご本人名義の口座にお振り込みします。ご本人名義の口座を入力してください。",
                         "holder_name")
    return Payee(account.bank.code, account.bank_label, account.branch.code, account.branch_label,
                 account.account_type, account.account_number, account.holder_name, False)


def _apply_payee(claim: Claim, payee: Payee | None) -> None:
    if payee is None:
        return
    claim.payee_bank_code, claim.payee_bank_name = payee.bank_code, payee.bank_name
    claim.payee_branch_code, claim.payee_branch_name = payee.branch_code, payee.branch_name
    claim.payee_account_type, claim.payee_account_number = payee.account_type, payee.account_number
    claim.payee_holder_name, claim.is_payee_debit_account = payee.holder_name, payee.is_debit_account


# ======================================================================= files

def store_upload(store: Any, member: Member, upload: bytes | IO[bytes]) -> tuple[str, str, int]:
    """Check and store one upload (bytes, or a file read in pieces); (key, content_type,
    size). DocumentError when refused."""
    checked = documents.check_file(upload)
    with checked.file:
        key = documents.new_key(member.id, checked.extension)
        store.save(key, checked.file, checked.content_type)
    return key, checked.content_type, checked.size


def _attach(claim: Claim, member: Member, uploads: Iterable[tuple[str, str, int]], *, by: str = "member") -> int:
    added = 0
    for key, content_type, size in uploads:
        if by == "member" and not documents.key_belongs_to(key, member.id):
            raise ClaimError("ファイルをもう一度選んでください。", "files")
        if len(claim.files) >= documents.MAX_FILES_PER_CLAIM:
            raise ClaimError(f"書類は1件のご請求につき{documents.MAX_FILES_PER_CLAIM}個までです。", "files")
        number = len(claim.files) + 1
        label = f"書類{number}（{'PDF' if content_type == 'application/pdf' else '写真'}）"
        claim.files.append(ClaimFile(storage_key=key, content_type=content_type, size_bytes=size, label=label,
                                     uploaded_by=by))
        added += 1
    return added


# ======================================================================= filing

def _lines_from(estimate_: Estimate) -> list[ClaimLine]:
    return [ClaimLine(contract_id=line.contract.id, kind=line.kind, days=line.days, unit_yen=line.unit_yen,
                      limit_yen=line.limit_yen, estimated_yen=line.amount_yen, note=line.note or None)
            for line in estimate_.lines]


def file_claim(session: Session, member: Member, person_id: Any, raw: EventInput, payee: Payee | None,
               uploads: Sequence[tuple[str, str, int]], *, idempotency_key: str | None,
               staff_id: int | None = None) -> Claim:
    """The claim, its procedure (受付 notice), its lines from the estimate and its files."""
    existing = procedures.find_by_key(session, idempotency_key)
    if existing is not None and existing.member_id == member.id:
        claim = session.scalar(select(Claim).where(Claim.procedure_id == existing.id))
        if claim is not None:
            return claim
    on = today()
    person = person_of(member, person_id)
    event, values = parse_event(raw, on=on)
    result = estimate(person, contracts_of_person(session, member, person.id), event, today=on)
    # Nothing payable is still a claim if the member sends it (they were shown the
    # reasons; staff may know better); it cannot be approved without a line.
    if payee is None:
        raise ClaimError("お振込先の口座を選んでください。", "payee")
    benefits = "・".join(LINE_LABELS[b] for b in values["benefits"].split(","))
    # The amount is not part of the summary: it changes with assessment and payment,
    # and the claim pages show the figure that holds for the claim's status.
    summary = f"{honorific(person.name)} {benefits}（{_jp(event.first_day)}〜）"
    request = procedures.start(session, member, "claim", summary, idempotency_key=idempotency_key,
                               staff_id=staff_id, detail={"insured": person.name, "estimate_yen": result.total_yen})
    claim = Claim(procedure_id=request.id, member_id=member.id, kind="claim", insured_person_id=person.id,
                  estimated_yen=result.total_yen, needs_certificate=result.needs_certificate, **values)
    claim.procedure = request
    _apply_payee(claim, payee)
    claim.lines = _lines_from(result)
    session.add(claim)
    _attach(claim, member, uploads)
    session.flush()
    audit.record("claims.filed", target_type="claim", target_id=request.receipt_no, member_id=member.id,
                 detail={"estimate_yen": result.total_yen, "files": len(uploads),
                         "payee": "debit" if payee.is_debit_account else "other"})
    return claim


def file_damage_report(session: Session, member: Member, contract_no: str | None, cause: str | None,
                       day_text: str | None, description: str | None, uploads: Sequence[tuple[str, str, int]],
                       *, idempotency_key: str | None, staff_id: int | None = None,
                       by: str = "member") -> Claim:
    existing = procedures.find_by_key(session, idempotency_key)
    if existing is not None and existing.member_id == member.id:
        claim = session.scalar(select(Claim).where(Claim.procedure_id == existing.id))
        if claim is not None:
            return claim
    errors: dict[str, str] = {}
    on = today()
    contracts = {c.contract_no: c for c in sumairu_contracts(session, member)}
    contract = contracts.get(normalize(contract_no or "").strip())
    if contract is None:
        errors["contract_no"] = "対象のご契約（住まいる共済）を選んでください。"
    if cause not in DAMAGE_CAUSES:
        errors["cause"] = "損害の原因を選んでください。"
    day = _date(day_text, "day", "損害が起きた日", errors, on=on)
    text = normalize(description or "").strip()
    if not text:
        errors["description"] = "損害の内容を入力してください。"
    elif len(text) > 2000:
        errors["description"] = "損害の内容は2,000文字以内で入力してください。"
    if contract is not None and day is not None and not contract.is_in_force_on(day):
        errors["day"] = f"{_jp(day)}にはこのご契約は有効ではありませんでした。"
    if errors:
        raise ClaimError(next(iter(errors.values())), errors=errors)
    assert contract is not None and day is not None and cause is not None
    summary = f"{DAMAGE_CAUSE_LABELS[cause]}による損害（{_jp(day)}）{contract.property_address or ''}"[:300]
    request = procedures.start(session, member, "damage_report", summary, idempotency_key=idempotency_key,
                               staff_id=staff_id, detail={"contract": contract.masked_no, "cause": cause})
    claim = Claim(procedure_id=request.id, member_id=member.id, kind="damage_report", first_day=day,
                  contract_id=contract.id, damage_cause=cause, description=text,
                  insured_person_id=contract.insured_person_id)
    claim.procedure = request
    _apply_payee(claim, debit_payee(session, member))
    cover = by_kind(coverage_for_age(contract, 0))
    for kind in DAMAGE_COVER[cause]:
        amount = cover.get(kind)
        if amount is not None and amount.amount_yen:
            claim.lines.append(ClaimLine(contract_id=contract.id, kind=kind, unit_yen=0, limit_yen=amount.amount_yen,
                                         estimated_yen=0, note="立会い調査のうえ損害額を査定します"))
    session.add(claim)
    _attach(claim, member, uploads, by=by)
    session.flush()
    audit.record("claims.damage_reported", target_type="claim", target_id=request.receipt_no,
                 member_id=member.id, detail={"cause": cause, "files": len(uploads), "by": by})
    return claim


def request_paper_forms(session: Session, member: Member, person_id: Any, what: str | None, note: str | None, *,
                        idempotency_key: str | None) -> ProcedureRequest:
    """Death and 重度障害 are claimed on paper: the member asks for the forms."""
    existing = procedures.find_by_key(session, idempotency_key)
    if existing is not None and existing.member_id == member.id:
        return existing
    labels = {"death": "死亡", "disability": "重度障害"}
    errors = {}
    try:
        person = person_of(member, person_id)
    except ClaimError as error:
        errors.update(error.errors)
    if what not in labels:
        errors["what"] = "ご請求の内容を選んでください。"
    text = normalize(note or "").strip()
    if len(text) > 500:
        errors["note"] = "連絡事項は500文字以内で入力してください。"
    if errors:
        raise ClaimError(next(iter(errors.values())), errors=errors)
    summary = f"{labels[what or '']}共済金の請求書類（{honorific(person.name)}）をご自宅へ郵送"
    request = procedures.start(session, member, "paper_forms", summary, idempotency_key=idempotency_key,
                               detail={"what": what, "insured": person.name, "note": text})
    audit.record("claims.paper_forms", target_type="procedure", target_id=request.receipt_no,
                 member_id=member.id, detail={"what": what})
    return request


# ======================================================================= member actions

def _lock(session: Session, claim: Claim) -> None:
    """Re-read the claim and its procedure under a row lock (PostgreSQL), so two
    people acting at once act one after the other on fresh values."""
    session.execute(select(ProcedureRequest.id).where(ProcedureRequest.id == claim.procedure_id).with_for_update())
    session.execute(select(Claim.id).where(Claim.id == claim.id).with_for_update())
    session.refresh(claim.procedure)
    session.refresh(claim)


def _move(session: Session, claim: Claim, status: str, note: str | None = None) -> None:
    procedures.change_status(session, claim.procedure, status, note)


def add_files(session: Session, claim: Claim, member: Member, uploads: Sequence[tuple[str, str, int]]) -> int:
    _lock(session, claim)
    if claim.status in ("paid", "not_payable", "withdrawn", "awaiting_payment"):
        raise ClaimError("このご請求には書類を追加できません。", "files")
    if not uploads:
        raise ClaimError("追加する書類を選んでください。", "files")
    added = _attach(claim, member, uploads)
    session.flush()
    if claim.status == "awaiting_documents":
        _move(session, claim, "checking_documents", f"書類を{added}点追加いただきました")
    audit.record("claims.files_added", target_type="claim", target_id=claim.receipt_no, member_id=member.id,
                 detail={"files": added})
    return added


def withdraw(session: Session, claim: Claim) -> None:
    _lock(session, claim)
    if claim.status not in WITHDRAWABLE:
        raise ClaimError("審査が始まったご請求は取り下げできません。お問い合わせください。")
    _move(session, claim, "withdrawn", "ご請求を取り下げました")
    audit.record("claims.withdrawn", target_type="claim", target_id=claim.receipt_no, member_id=claim.member_id)


def answer_visit(session: Session, claim: Claim, accept: bool, note: str | None) -> None:
    _lock(session, claim)
    visit = next((v for v in reversed(claim.visits) if v.status == "proposed"), None)
    if claim.status != "visit_proposed" or visit is None:
        raise ClaimError("お答えいただく調査日のご提案はありません。")
    text = normalize(note or "").strip()
    if len(text) > 300:
        raise ClaimError("ご希望は300文字以内で入力してください。", "note")
    if not accept and not text:
        raise ClaimError("ご都合のよい日時をご記入ください。", "note")
    visit.member_note = text or None
    if accept:
        visit.status = "accepted"
        _move(session, claim, "visit_scheduled", f"立会い調査日：{format_slot(visit.starts_at)}")
    else:
        visit.status = "declined"
        _move(session, claim, "reviewing", "別の日程をご希望です。担当者から改めてご提案します")
    audit.record("claims.visit_answered", target_type="claim", target_id=claim.receipt_no,
                 member_id=claim.member_id, detail={"accepted": accept})


def format_slot(moment: datetime) -> str:
    local = moment.astimezone(TOKYO)
    return f"{local.year}年{local.month}月{local.day}日 {local.hour}時{local.minute:02d}分"


# ======================================================================= staff desk

@dataclass
class QueueRow:
    claim: Claim
    age_days: int
    due: date | None

    @property
    def is_overdue(self) -> bool:
        return self.due is not None and self.due < today() and self.claim.status not in ("paid", "not_payable",
                                                                                        "withdrawn")


QUEUE_FILTERS = {"open": ("received", "checking_documents", "awaiting_documents", "under_review",
                          "awaiting_payment", "visit_proposed", "visit_scheduled", "reviewing"),
                 "review": ("under_review",), "documents": ("received", "checking_documents", "awaiting_documents"),
                 "payment": ("awaiting_payment",), "visits": ("visit_proposed", "visit_scheduled", "reviewing"),
                 "closed": ("paid", "not_payable", "withdrawn")}


def queue(session: Session, *, status: str = "open", kind: str | None = None, overdue: bool = False,
          limit: int = 200) -> list[QueueRow]:
    statuses = QUEUE_FILTERS.get(status, QUEUE_FILTERS["open"])
    stmt = (select(Claim).join(Claim.procedure).where(ProcedureRequest.status.in_(statuses))
            .options(joinedload(Claim.procedure), selectinload(Claim.lines))
            .order_by(Claim.documents_complete_on.is_(None), Claim.documents_complete_on, Claim.created_at)
            .limit(limit))
    if kind in ("claim", "damage_report"):
        stmt = stmt.where(Claim.kind == kind)
    day = today()
    rows = [QueueRow(c, (day - c.created_at.astimezone(TOKYO).date()).days, expected_payment_date(c))
            for c in session.scalars(stmt)]
    return [r for r in rows if r.is_overdue] if overdue else rows


def _need(claim: Claim, statuses: tuple[str, ...], message: str) -> None:
    if claim.status not in statuses:
        raise ClaimError(message)


def _written(value: str | None, field_name: str, missing: str, what: str, limit: int = 400) -> str:
    """A message staff write for the member: required, normalised, at most `limit` characters."""
    text = normalize(value or "").strip()
    if not text:
        raise ClaimError(missing, field_name)
    if len(text) > limit:
        raise ClaimError(f"{what}は{limit}文字以内で入力してください。", field_name)
    return text


def start_checking(session: Session, claim: Claim, staff_id: int) -> None:
    _lock(session, claim)
    _need(claim, ("received",), "このご請求はすでに確認中です。")
    _move(session, claim, "checking_documents", "書類を確認しています")
    audit.record("claims.checking", target_type="claim", target_id=claim.receipt_no, member_id=claim.member_id)


def request_documents(session: Session, claim: Claim, message: str | None, staff_id: int) -> None:
    _lock(session, claim)
    _need(claim, ("received", "checking_documents", "under_review", "visit_scheduled", "reviewing"),
          "このご請求には書類をお願いできません。")
    text = _written(message, "message", "お願いする書類と理由を入力してください。", "メッセージ")
    claim.documents_message = text
    claim.documents_complete_on = None  # the 5 business days start again from the complete set
    claim.first_approver_id = None
    _move(session, claim, "awaiting_documents", text)
    audit.record("claims.documents_requested", target_type="claim", target_id=claim.receipt_no,
                 member_id=claim.member_id, detail={"message": text})


def documents_complete(session: Session, claim: Claim, staff_id: int) -> None:
    _lock(session, claim)
    _need(claim, CHECKABLE, "このご請求は書類確認の段階ではありません。")
    claim.documents_complete_on = today()
    due = expected_payment_date(claim)
    assert due is not None
    _move(session, claim, "under_review", f"書類がそろいました。{_jp(due)}までにお支払いの予定です")
    audit.record("claims.documents_complete", target_type="claim", target_id=claim.receipt_no,
                 member_id=claim.member_id, detail={"due": due.isoformat()})


def assess(session: Session, claim: Claim, amounts: dict[int, tuple[str | None, str | None]], staff_id: int) -> None:
    """Set each line's amount; a change from the estimate needs a reason. Undoes a
    first approval (the second officer must see the final figures)."""
    _lock(session, claim)
    _need(claim, ("under_review",), "審査中のご請求だけ査定できます。")
    errors: dict[str, str] = {}
    changes = []
    for line in claim.lines:
        if line.id not in amounts:
            continue
        raw_amount, raw_reason = amounts[line.id]
        text = normalize(raw_amount or "").replace(",", "").replace("円", "").strip()
        reason = normalize(raw_reason or "").strip()
        if not text.isdigit() or len(text) > 10:
            errors[f"amount_{line.id}"] = "金額を円単位の数字で入力してください。"
            continue
        value = int(text)
        if line.limit_yen is not None and value > line.limit_yen:
            errors[f"amount_{line.id}"] = f"保障額（{line.limit_yen:,}円）を超えています。"
            continue
        if value != line.estimated_yen and not reason:
            errors[f"reason_{line.id}"] = "見込額から変更する理由を入力してください。"
            continue
        if len(reason) > 300:
            errors[f"reason_{line.id}"] = "理由は300文字以内で入力してください。"
            continue
        if value != line.amount_yen or (reason or None) != line.assess_reason:
            changes.append({"line": line.id, "from": line.amount_yen, "to": value, "reason": reason})
        line.assessed_yen = value
        line.assess_reason = reason or None
    if errors:
        raise ClaimError(next(iter(errors.values())), errors=errors)
    if changes:
        claim.first_approver_id = None
    session.flush()
    audit.record("claims.assessed", target_type="claim", target_id=claim.receipt_no, member_id=claim.member_id,
                 detail={"changes": changes, "total_yen": claim.total_yen})


def approve(session: Session, claim: Claim, staff_id: int) -> str:
    """Approve for payment. 300,000円 or more needs a second, different claims officer:
    the first approval is recorded, the second moves the claim to payment."""
    _lock(session, claim)
    _need(claim, ("under_review",), "審査中のご請求だけ承認できます。")
    total = claim.total_yen
    if total <= 0:
        raise ClaimError("お支払い額が0円です。お支払いできない場合は理由を入力して「お支払いできません」を選んでください。")
    if not claim.payee_account_number:
        raise ClaimError("振込先口座が登録されていません。組合員に口座の登録をお願いしてください。")
    if total >= SECOND_OFFICER_FROM_YEN:
        if claim.first_approver_id is None:
            claim.first_approver_id = staff_id
            session.flush()
            audit.record("claims.first_approval", target_type="claim", target_id=claim.receipt_no,
                         member_id=claim.member_id, detail={"total_yen": total})
            return f"{total:,}円は30万円以上のため、別の担当者の承認が必要です。"
        if claim.first_approver_id == staff_id:
            raise ClaimError("30万円以上のお支払いは、1回目とは別の担当者が承認してください。")
        claim.second_approver_id = staff_id
    else:
        claim.first_approver_id = staff_id
    claim.approved_yen = total
    _move(session, claim, "awaiting_payment", f"お支払い額 {total:,}円。お振込みの手続きをしています")
    audit.record("claims.approved", target_type="claim", target_id=claim.receipt_no, member_id=claim.member_id,
                 detail={"total_yen": total, "second_officer": claim.second_approver_id is not None})
    return f"{total:,}円のお支払いを承認しました。"


def decline(session: Session, claim: Claim, reason: str | None, staff_id: int) -> None:
    _lock(session, claim)
    _need(claim, ("received", "checking_documents", "under_review", "awaiting_documents", "reviewing",
                  "visit_scheduled", "visit_proposed"), "このご請求はお支払いできませんに変更できません。")
    text = _written(reason, "reason", "お支払いできない理由を入力してください。", "理由")
    claim.decline_reason = text
    _move(session, claim, "not_payable", text)
    audit.record("claims.declined", target_type="claim", target_id=claim.receipt_no, member_id=claim.member_id,
                 detail={"reason": text})


def propose_visit(session: Session, claim: Claim, when_text: str | None, staff_id: int) -> AssessorVisit:
    _lock(session, claim)
    if claim.kind != "damage_report":
        raise ClaimError("立会い調査は住まいる共済の損害のご報告だけです。")
    _need(claim, ("received", "checking_documents", "reviewing", "visit_proposed"),
          "この段階では調査日を提案できません。")
    text = normalize(when_text or "").replace("T", " ").strip()
    try:
        local = datetime.strptime(text[:16], "%Y-%m-%d %H:%M").replace(tzinfo=TOKYO)
    except ValueError:
        raise ClaimError("調査日時を「2026-12-03 10:00」の形で入力してください。", "starts_at") from None
    if local.date() <= today():
        raise ClaimError("調査日は明日以降の日付を入力してください。", "starts_at")
    for old in claim.visits:
        if old.status == "proposed":
            old.status = "declined"
    visit = AssessorVisit(starts_at=local, proposed_by_staff_id=staff_id)
    claim.visits.append(visit)
    session.flush()
    _move(session, claim, "visit_proposed",
          f"立会い調査日のご提案：{format_slot(local)}。マイページでご都合をお知らせください")
    audit.record("claims.visit_proposed", target_type="claim", target_id=claim.receipt_no,
                 member_id=claim.member_id, detail={"starts_at": local.isoformat()})
    return visit


def find_member_by_no(session: Session, member_no: str | None) -> Member:
    from portal.jp.text import digits_only
    try:
        number = digits_only(member_no)
    except JpValueError:
        number = ""
    member = session.scalar(select(Member).where(Member.member_no == number)) if len(number) == 10 else None
    if member is None:
        raise ClaimError("この組合員番号の組合員は見つかりません。", "member_no")
    return member


# ======================================================================= payment runs

def requester_from(config: dict[str, Any]) -> zengin.Requester:
    """The co-op's paying account (PORTAL_CLAIMS_* settings; demo values by default)."""
    return zengin.Requester(
        code=config.get("CLAIMS_REQUESTER_CODE", "1234567890"),
        name=config.get("CLAIMS_REQUESTER_NAME", "ｾｲｶﾂｷﾖｳﾄﾞｳｸﾐｱｲｷﾖｳｻｲ"),
        bank_code=config.get("CLAIMS_BANK_CODE", "0001"), bank_name=config.get("CLAIMS_BANK_NAME", "ﾐｽﾞﾎ"),
        branch_code=config.get("CLAIMS_BRANCH_CODE", "001"),
        branch_name=config.get("CLAIMS_BRANCH_NAME", "ﾄｳｷﾖｳｴｲｷﾞﾖｳﾌﾞ"),
        account_type=int(config.get("CLAIMS_ACCOUNT_TYPE", 1)),
        account_number=config.get("CLAIMS_ACCOUNT_NUMBER", "0000001"))


def payable_claims(session: Session) -> list[Claim]:
    """Approved and not yet in a run (a cancelled run has given its claims back)."""
    return list(session.scalars(_payable().options(joinedload(Claim.procedure))))


def _payable():
    return (select(Claim).join(Claim.procedure)
            .where(ProcedureRequest.status == "awaiting_payment",
                   ~exists().where(PaymentRunItem.claim_id == Claim.id))
            .order_by(Claim.id))


def _bank_kana(code: str, branch_code: str) -> tuple[str, str]:
    from portal.jp.bank import find_bank, find_branch
    try:
        return find_bank(code).kana, find_branch(code, branch_code).kana
    except JpValueError:
        return "", ""


def create_run(session: Session, transfer_date: date, *, store: Any, requester: zengin.Requester,
               staff_id: int | None) -> PaymentRun:
    """One transfer file for every approved claim not yet in a run.

    Two staff (or the scheduler and a person) starting runs at once: on PostgreSQL
    the claims are taken with FOR UPDATE SKIP LOCKED so each run takes different
    ones; on any database the unique claim per run item refuses the second
    insert, and that run is given up with a message rather than paying twice."""
    if not is_business_day(transfer_date):
        raise ClaimError("振込日は銀行の営業日を指定してください。", "transfer_date")
    if transfer_date < today():
        raise ClaimError("振込日に過去の日付は指定できません。", "transfer_date")
    stmt = _payable()
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Claim, skip_locked=True)
    claims = list(session.scalars(stmt))
    if not claims:
        raise ClaimError("お支払いを待っている承認済みのご請求はありません。")
    run = PaymentRun(transfer_date=transfer_date, created_by_staff_id=staff_id)
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
            for claim in claims:
                session.add(PaymentRunItem(run_id=run.id, claim_id=claim.id, amount_yen=claim.approved_yen or 0))
            session.flush()
    except IntegrityError:
        raise ClaimError("別の担当者が同時に振込データを作成しました。一覧を確認してください。") from None
    transfers = []
    for claim in claims:
        bank_kana, branch_kana = _bank_kana(claim.payee_bank_code or "", claim.payee_branch_code or "")
        transfers.append(zengin.Transfer(
            bank_code=claim.payee_bank_code or "", bank_name=bank_kana, branch_code=claim.payee_branch_code or "",
            branch_name=branch_kana, account_type=claim.payee_account_type or 1,
            account_number=claim.payee_account_number or "", payee_name=claim.payee_holder_name or "",
            amount_yen=claim.approved_yen or 0, customer_code=f"{claim.id:010d}"))
    try:
        data = zengin.write_transfer_file(requester, transfer_date, transfers)
    except JpValueError as error:
        raise ClaimError(f"振込データを作れませんでした：{error}") from None
    run.total_count = len(transfers)
    run.total_yen = sum(t.amount_yen for t in transfers)
    run.storage_key = f"{documents.PRIVATE_PREFIX}/runs/{transfer_date:%Y%m%d}-{run.id}-{secrets.token_hex(8)}.txt"
    store.save(run.storage_key, data, "text/plain; charset=Shift_JIS")
    session.flush()
    audit.record("claims.run_created", target_type="payment_run", target_id=run.id, staff_id=staff_id,
                 detail={"count": run.total_count, "total_yen": run.total_yen, "date": transfer_date.isoformat()})
    return run


def runs(session: Session, limit: int = 50) -> list[PaymentRun]:
    return list(session.scalars(select(PaymentRun).order_by(PaymentRun.id.desc()).limit(limit)))


def get_run(session: Session, run_id: int) -> PaymentRun | None:
    return session.scalar(select(PaymentRun).where(PaymentRun.id == run_id)
                          .options(selectinload(PaymentRun.items).joinedload(PaymentRunItem.claim)
                                   .joinedload(Claim.procedure)))


def mark_run_sent(session: Session, run: PaymentRun, staff_id: int | None) -> int:
    session.execute(select(PaymentRun.id).where(PaymentRun.id == run.id).with_for_update())
    session.refresh(run)
    if run.status != "draft":
        raise ClaimError("この振込データはすでに送信済みか取り消されています。")
    run.status = "sent"
    run.sent_at = utcnow()
    for item in run.items:
        claim = item.claim
        claim.paid_on = run.transfer_date
        _move(session, claim, "paid", f"{item.amount_yen:,}円を{_jp(run.transfer_date)}にお振り込みしました")
    session.flush()
    audit.record("claims.run_sent", target_type="payment_run", target_id=run.id, staff_id=staff_id,
                 detail={"count": run.total_count, "total_yen": run.total_yen})
    return len(run.items)


def cancel_run(session: Session, run: PaymentRun, staff_id: int | None) -> None:
    session.execute(select(PaymentRun.id).where(PaymentRun.id == run.id).with_for_update())
    session.refresh(run)
    if run.status != "draft":
        raise ClaimError("送信済みの振込データは取り消せません。")
    run.status = "cancelled"
    run.items.clear()  # the claims go back to waiting for the next run
    session.flush()
    audit.record("claims.run_cancelled", target_type="payment_run", target_id=run.id, staff_id=staff_id)


def open_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(ProcedureRequest.status, func.count()).join(Claim, Claim.procedure_id ==
                                                                              ProcedureRequest.id)
                           .group_by(ProcedureRequest.status))
    return {status: count for status, count in rows}


def _jp(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# ======================================================================= reading documents

def open_claim_file(session: Session, claim: Claim, file_id: int, store: Any, *,
                    action: str) -> tuple[ClaimFile, bytes] | None:
    """One of the claim's documents and its bytes (None if it is not this claim's);
    every reading is in the audit log, by the member (claims.file_view) or staff."""
    row = next((f for f in claim.files if f.id == file_id), None)
    if row is None:
        return None
    data = store.open(row.storage_key)
    audit.record(action, target_type="claim_file", target_id=row.id, member_id=claim.member_id,
                 detail={"receipt_no": claim.receipt_no}, session=session)
    return row, data


def record_staff_view(session: Session, claim: Claim) -> None:
    """A claims officer opened the claim (medical details): in the audit log."""
    audit.record("claims.staff_view", target_type="claim", target_id=claim.receipt_no, member_id=claim.member_id,
                 session=session)


def open_run_file(session: Session, run: PaymentRun, store: Any) -> bytes:
    """The bank transfer file of a payment run; each download is in the audit log."""
    data = store.open(run.storage_key)
    audit.record("claims.run_downloaded", target_type="payment_run", target_id=run.id, session=session)
    return data

