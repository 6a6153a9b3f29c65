"""Contract changes a member asks for online.

Each request is a procedure (kind cancellation, cooling_off, withdrawal,
beneficiary_change, proxy_claimant or name_change) whose detail holds exactly
the figures the member confirmed; the back office finishes it with the
`complete_*` functions, which apply those same figures, so the money the member
saw before confirming is the money the office settles.
"""
from __future__ import annotations

import calendar
import secrets
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from io import BytesIO
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import audit
from portal.changes.models import (BENEFICIARY_RELATIONS, PROXY_RELATIONS, BeneficiaryDesignation,
                                   ProxyClaimant)
from portal.contracts.models import Contract, PremiumPayment
from portal.enrollment.models import Application
from portal.jp.dates import business_day_on_or_after, debit_date, fiscal_year, fiscal_year_range
from portal.jp.text import normalize, normalize_furigana
from portal.members.models import Member
from portal.procedures import services as procedures
from portal.procedures.models import ProcedureRequest
from portal.service_errors import ServiceError

DEBIT_DATA_DAY = 10      # debit data for the month's 27th goes to the banks on the 10th
COOLING_OFF_DAYS = 8     # counted from the day the enrolment was received, that day included
SHARE_UNIT_YEN = 100     # 出資金 1口
DEATH_BENEFIT_KINDS = ("kokumin_sogo", "kokumin_iryo")
DEFAULT_BENEFICIARY_ORDER = "配偶者、子、父母、孫、祖父母、兄弟姉妹"
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_PIXELS = 40_000_000
DOCUMENT_KEY_PREFIX = "private/procedures/name-change/"  # the office console serves private/procedures files


class ChangeError(ServiceError):
    """A rule said no (a Japanese message, and the field it belongs to)."""


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _previous_month(d: date) -> tuple[int, int]:
    return (d.year - 1, 12) if d.month == 1 else (d.year, d.month - 1)


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return date(d.year + years, 3, 1)


def _open_request(session: Session, member_id: int, kind: str, contract_no: str | None = None,
                  ) -> ProcedureRequest | None:
    rows = session.scalars(select(ProcedureRequest).where(
        ProcedureRequest.member_id == member_id, ProcedureRequest.kind == kind,
        ProcedureRequest.is_open))
    for row in rows:
        if contract_no is None or procedures.detail_of(row).get("contract_no") == contract_no:
            return row
    return None


def _check_no_open(session: Session, member_id: int, kind: str, contract_no: str | None = None) -> None:
    existing = _open_request(session, member_id, kind, contract_no)
    if existing is not None:
        raise ChangeError(f"このお手続きはすでに受け付けています（受付番号 {existing.receipt_no}）。"
                          "「手続き状況」でご確認ください。")


def _replayed(session: Session, member: Member, idempotency_key: str | None) -> ProcedureRequest | None:
    """The request a double click or a resent form already created, if any."""
    existing = procedures.find_by_key(session, idempotency_key)
    if existing is not None and existing.member_id != member.id:
        raise ChangeError("この申込はすでに処理されています。")
    return existing


def _received(session: Session, request: ProcedureRequest, action: str, target_type: str,
              target_id: Any) -> ProcedureRequest:
    """The audit row of a request the member has just made (a replayed form writes none)."""
    audit.record(action, target_type=target_type, target_id=target_id, detail={"receipt_no": request.receipt_no},
                 member_id=request.member_id, session=session)
    return request


def _request_for_member(session: Session, request: ProcedureRequest, kind: str) -> Member:
    if request.kind != kind:
        raise ChangeError("手続きの種類が違います。")
    if request.status not in ("received", "reviewing", "checking_documents"):
        raise ChangeError("この手続きはすでに完了しているか、取り下げられています。")
    member = session.get(Member, request.member_id)
    assert member is not None
    return member


# ----------------------------------------------------------------- 解約

@dataclass(frozen=True)
class CancellationQuote:
    """What a cancellation settles, shown before confirming and applied by the office."""

    contract_no: str
    premium_period: str
    cover_ends_on: date          # the last day of cover
    last_debit_on: date | None   # the last premium still collected (monthly)
    last_debit_yen: int
    months_refunded: int
    refund_yen: int

    def as_detail(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> CancellationQuote:
        values = {k: detail[k] for k in cls.__dataclass_fields__}
        for k in ("cover_ends_on", "last_debit_on"):
            values[k] = date.fromisoformat(values[k]) if values[k] else None
        return cls(**values)


def contract_year_end(contract: Contract, on: date) -> date:
    """The last day of the contract year running on `on` (yearly contracts renew
    on the start date's anniversary)."""
    years = max(0, on.year - contract.start_date.year)
    anniversary = _add_years(contract.start_date, years)
    while anniversary <= on:
        years += 1
        anniversary = _add_years(contract.start_date, years)
    return anniversary - timedelta(days=1)


def _same_day_months_later(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def whole_months_between(first_day: date, last_day: date) -> int:
    """How many whole months fit from `first_day` to `last_day`, both included
    (16 Dec → 31 Mar: 3; 1 Jan → 31 Mar: 3)."""
    months = 0
    while _same_day_months_later(first_day, months + 1) - timedelta(days=1) <= last_day:
        months += 1
    return months


def can_cancel(contract: Contract, on: date) -> bool:
    return contract.status not in ("ended", "lapsed") and (contract.end_date is None or on < contract.end_date)


def cancellation_quote(contract: Contract, on: date, requested_end: date | None = None) -> CancellationQuote:
    """The cancellation of `contract` asked for on `on` (Tokyo date).

    Monthly: up to the 10th this month's debit data has not gone to the bank, so
    cover ends today and no debit is taken this month; from the 11th the debit of
    the 27th is already on its way, so cover runs to the end of this month and
    that debit is the last. Nothing is refunded.
    Yearly: cover ends on the chosen date (today at the earliest, the end of the
    contract year at the latest) and the whole months left of the contract year
    are refunded: months × yearly premium ÷ 12, rounded down.
    """
    if not can_cancel(contract, on):
        raise ChangeError("このご契約はすでに終了しています。")
    if contract.premium_period == "monthly":
        if on.day <= DEBIT_DATA_DAY:
            ends, last_debit = on, debit_date(*_previous_month(on))
        else:
            ends, last_debit = _month_end(on), debit_date(on.year, on.month)
        if last_debit < contract.start_date:
            last_debit = None
        return CancellationQuote(contract.contract_no, "monthly", ends, last_debit,
                                 contract.premium_yen if last_debit else 0, 0, 0)
    year_end = contract_year_end(contract, on)
    ends = requested_end or on
    if ends < on:
        raise ChangeError("解約日は今日以降の日付を選んでください。", "end_date")
    if ends > year_end:
        raise ChangeError(f"解約日は今の契約年度の終わり（{year_end.year}年{year_end.month}月{year_end.day}日）"
                          "までの日付を選んでください。", "end_date")
    months = whole_months_between(ends + timedelta(days=1), year_end)
    return CancellationQuote(contract.contract_no, "yearly", ends, None, 0, months,
                             months * contract.premium_yen // 12)


def request_cancellation(session: Session, member: Member, contract: Contract, on: date, *,
                         requested_end: date | None, reason: str, idempotency_key: str | None,
                         staff_id: int | None = None) -> ProcedureRequest:
    existing = _replayed(session, member, idempotency_key)
    if existing is not None:
        return existing
    _check_no_open(session, member.id, "cancellation", contract.contract_no)
    quote = cancellation_quote(contract, on, requested_end)
    reason = normalize(reason)[:200]
    summary = f"{contract.product.name}（証書番号 {contract.masked_no}）の解約"
    request = procedures.start(session, member, "cancellation", summary, effective_date=quote.cover_ends_on,
                               detail={**quote.as_detail(), "reason": reason, "requested_on": on.isoformat()},
                               idempotency_key=idempotency_key, staff_id=staff_id)
    return _received(session, request, "contract.cancellation_requested", "contract", contract.contract_no)


def settlement(request: ProcedureRequest) -> CancellationQuote:
    """The figures the back office settles: the ones the member confirmed."""
    return CancellationQuote.from_detail(procedures.detail_of(request))


def complete_cancellation(session: Session, request: ProcedureRequest) -> CancellationQuote:
    member = _request_for_member(session, request, "cancellation")
    quote = settlement(request)
    contract = session.scalar(select(Contract).where(Contract.contract_no == quote.contract_no,
                                                     Contract.member_id == member.id))
    if contract is None:
        raise ChangeError("ご契約が見つかりません。")
    contract.status = "ended"
    contract.end_date = quote.cover_ends_on + timedelta(days=1)  # end_date is the first day without cover
    money = (f"解約返戻金 {quote.refund_yen:,}円をご登録の口座へお振り込みします。" if quote.refund_yen
             else "返金はありません。")
    procedures.change_status(session, request, "completed",
                             f"保障は{quote.cover_ends_on.year}年{quote.cover_ends_on.month}月"
                             f"{quote.cover_ends_on.day}日までです。{money}")
    return quote


# ----------------------------------------------------------------- cooling-off

@dataclass(frozen=True)
class CoolingOffQuote:
    application_id: int
    received_on: date
    last_day: date
    refund_yen: int
    contract_no: str | None


def cooling_off_applications(session: Session, member: Member, on: date) -> list[tuple[Application, date]]:
    """The member's online enrolments still within the cooling-off period, with its last day."""
    from portal.clock import to_tokyo

    rows = session.execute(
        select(Application, ProcedureRequest)
        .join(ProcedureRequest, ProcedureRequest.id == Application.procedure_request_id)
        .where(Application.member_id == member.id, Application.status != "withdrawn")
        .order_by(Application.id.desc())
    ).all()
    found = []
    for application, request in rows:
        received = to_tokyo(request.created_at).date()
        last_day = received + timedelta(days=COOLING_OFF_DAYS - 1)
        if on <= last_day and application.status != "declined":
            found.append((application, last_day))
    return found


def cooling_off_quote(session: Session, member: Member, application_id: int, on: date) -> CoolingOffQuote:
    from portal.clock import to_tokyo

    for application, last_day in cooling_off_applications(session, member, on):
        if application.id == application_id:
            request = session.get(ProcedureRequest, application.procedure_request_id)
            assert request is not None
            paid = 0
            contract_no = None
            if application.contract_id:
                contract = session.get(Contract, application.contract_id)
                assert contract is not None
                contract_no = contract.contract_no
                paid = sum(session.scalars(select(PremiumPayment.amount_yen).where(
                    PremiumPayment.contract_id == contract.id, PremiumPayment.status == "paid")))
            return CoolingOffQuote(application.id, to_tokyo(request.created_at).date(), last_day, paid,
                                   contract_no)
    raise ChangeError("クーリング・オフの期間（お申込みの受付日から8日間）を過ぎているか、"
                      "対象のお申込みが見つかりません。", "application")


def request_cooling_off(session: Session, member: Member, application_id: int, on: date, *,
                        idempotency_key: str | None, staff_id: int | None = None) -> ProcedureRequest:
    existing = _replayed(session, member, idempotency_key)
    if existing is not None:
        return existing
    quote = cooling_off_quote(session, member, application_id, on)
    for row in session.scalars(select(ProcedureRequest).where(
            ProcedureRequest.member_id == member.id, ProcedureRequest.kind == "cooling_off",
            ProcedureRequest.is_open)):
        if procedures.detail_of(row).get("application_id") == application_id:
            raise ChangeError(f"このお申込みのクーリング・オフはすでに受け付けています（受付番号 {row.receipt_no}）。")
    application = session.get(Application, application_id)
    assert application is not None
    request = procedures.start(
        session, member, "cooling_off", f"こくみん共済のお申込み（{application.product_code}）のクーリング・オフ",
        detail={"application_id": application_id, "refund_yen": quote.refund_yen,
                "received_on": quote.received_on.isoformat(), "contract_no": quote.contract_no},
        idempotency_key=idempotency_key, staff_id=staff_id)
    return _received(session, request, "enrollment.cooling_off_requested", "application", application_id)


def complete_cooling_off(session: Session, request: ProcedureRequest) -> int:
    """Withdraw the application, remove its contract, and settle the full refund; returns it."""
    member = _request_for_member(session, request, "cooling_off")
    detail = procedures.detail_of(request)
    application = session.get(Application, detail["application_id"])
    if application is None or application.member_id != member.id:
        raise ChangeError("お申込みが見つかりません。")
    if application.contract_id:
        contract = session.get(Contract, application.contract_id)
        application.contract_id = None
        session.flush()
        if contract is not None:
            session.delete(contract)  # no contract remains (its payments go with it)
    application.status = "withdrawn"
    refund = int(detail["refund_yen"])
    procedures.change_status(session, request, "completed",
                             f"お申込みを取り消しました。お支払いいただいた掛金 {refund:,}円を全額ご返金します。"
                             if refund else "お申込みを取り消しました。掛金のお引き落としはありません。")
    return refund


# ----------------------------------------------------------------- 脱退

@dataclass(frozen=True)
class WithdrawalQuote:
    shares: int
    refund_yen: int
    business_year_ends_on: date
    refund_on: date


def contracts_in_force(session: Session, member: Member, on: date) -> list[Contract]:
    rows = session.scalars(select(Contract).where(Contract.member_id == member.id,
                                                  Contract.status.in_(("in_force", "pending"))))
    return [c for c in rows if c.is_in_force_on(on) or c.start_date > on]


def withdrawal_quote(session: Session, member: Member, on: date) -> WithdrawalQuote:
    """出資金 comes back by transfer once the business year (to 31 May) has closed:
    at the end of June, after the general meeting approves the accounts."""
    if contracts_in_force(session, member, on):
        raise ChangeError("有効なご契約があるため脱退できません。先にご契約の解約をお手続きください。")
    _, year_end = fiscal_year_range(fiscal_year(on))
    return WithdrawalQuote(member.shares, member.shares * SHARE_UNIT_YEN, year_end,
                           business_day_on_or_after(date(year_end.year, 6, 30)))


def request_withdrawal(session: Session, member: Member, on: date, *, idempotency_key: str | None,
                       staff_id: int | None = None) -> ProcedureRequest:
    existing = _replayed(session, member, idempotency_key)
    if existing is not None:
        return existing
    _check_no_open(session, member.id, "withdrawal")
    quote = withdrawal_quote(session, member, on)
    request = procedures.start(
        session, member, "withdrawal", f"脱退（出資金 {quote.shares}口）", effective_date=quote.business_year_ends_on,
        detail={"shares": quote.shares, "refund_yen": quote.refund_yen,
                "business_year_ends_on": quote.business_year_ends_on.isoformat(),
                "refund_on": quote.refund_on.isoformat()},
        idempotency_key=idempotency_key, staff_id=staff_id)
    return _received(session, request, "member.withdrawal_requested", "member", member.member_no)


def complete_withdrawal(session: Session, request: ProcedureRequest, on: date) -> int:
    member = _request_for_member(session, request, "withdrawal")
    if contracts_in_force(session, member, on):
        raise ChangeError("有効なご契約が残っているため、脱退を完了できません。")
    detail = procedures.detail_of(request)
    member.status = "withdrawn"
    refund_on = date.fromisoformat(detail["refund_on"])
    procedures.change_status(session, request, "completed",
                             f"出資金 {int(detail['refund_yen']):,}円は"
                             f"{refund_on.year}年{refund_on.month}月{refund_on.day}日にご登録の口座へお振り込みします。")
    return int(detail["refund_yen"])


# ----------------------------------------------------------------- 受取人

def has_death_benefit(contract: Contract) -> bool:
    return contract.product.kind in DEATH_BENEFIT_KINDS


def current_beneficiary(session: Session, contract: Contract) -> BeneficiaryDesignation | None:
    return session.scalar(select(BeneficiaryDesignation).where(
        BeneficiaryDesignation.contract_id == contract.id, BeneficiaryDesignation.status == "active"))


def pending_beneficiary(session: Session, contract: Contract) -> BeneficiaryDesignation | None:
    return session.scalar(select(BeneficiaryDesignation).where(
        BeneficiaryDesignation.contract_id == contract.id, BeneficiaryDesignation.status == "pending"))


@dataclass(frozen=True)
class PersonInput:
    name: str
    name_kana: str
    relation: str


def clean_person(data: PersonInput, relations: dict[str, str]) -> PersonInput:
    name = " ".join(normalize(data.name).split())
    if not name:
        raise ChangeError("お名前を入力してください。", "name")
    if len(name) > 60:
        raise ChangeError("お名前は60文字以内で入力してください。", "name")
    try:
        kana = normalize_furigana(data.name_kana)
    except ValueError as error:
        raise ChangeError(str(error), "name_kana") from error
    if not kana:
        raise ChangeError("フリガナを入力してください。", "name_kana")
    if data.relation not in relations:
        raise ChangeError("続柄を選んでください。", "relation")
    return PersonInput(name, kana[:120], data.relation)


def check_beneficiary(session: Session, contract: Contract, data: PersonInput) -> PersonInput:
    if not has_death_benefit(contract):
        raise ChangeError("このご契約には死亡共済金がありません。")
    if not can_cancel(contract, contract.start_date) or contract.status != "in_force":
        raise ChangeError("有効なご契約のみ受取人を変更できます。")
    return clean_person(data, BENEFICIARY_RELATIONS)


def request_beneficiary_change(session: Session, member: Member, contract: Contract, data: PersonInput, *,
                               consent_name: str, consented: bool, idempotency_key: str | None,
                               staff_id: int | None = None) -> ProcedureRequest:
    """A named beneficiary needs the insured person's consent: their name, typed
    as on the contract, and the consent box ticked."""
    existing = _replayed(session, member, idempotency_key)
    if existing is not None:
        return existing
    person = check_beneficiary(session, contract, data)
    insured = contract.insured_person
    if not consented:
        raise ChangeError("被共済者ご本人の同意が必要です。", "consent")
    typed = "".join(normalize(consent_name).split())
    if typed != "".join(normalize(insured.name).split()):
        raise ChangeError(f"被共済者（{insured.name}さま）ご本人が、ご自身のお名前を入力してください。", "consent_name")
    if pending_beneficiary(session, contract) is not None:
        raise ChangeError("このご契約の受取人変更はすでに受け付けています。「手続き状況」でご確認ください。")
    request = procedures.start(
        session, member, "beneficiary_change",
        f"{contract.product.name}（証書番号 {contract.masked_no}）の死亡共済金受取人を{person.name}さまに変更",
        detail={"contract_no": contract.contract_no, "relation": person.relation},
        idempotency_key=idempotency_key, staff_id=staff_id)
    session.add(BeneficiaryDesignation(contract_id=contract.id, procedure_request_id=request.id,
                                       name=person.name, name_kana=person.name_kana,
                                       relation=person.relation, consent_name=typed))
    session.flush()
    return _received(session, request, "contract.beneficiary_change_requested", "contract", contract.contract_no)


def complete_beneficiary_change(session: Session, request: ProcedureRequest) -> BeneficiaryDesignation:
    _request_for_member(session, request, "beneficiary_change")
    designation = session.scalar(select(BeneficiaryDesignation).where(
        BeneficiaryDesignation.procedure_request_id == request.id))
    assert designation is not None
    for old in session.scalars(select(BeneficiaryDesignation).where(
            BeneficiaryDesignation.contract_id == designation.contract_id,
            BeneficiaryDesignation.status == "active")):
        old.status = "replaced"
    session.flush()
    designation.status = "active"
    procedures.change_status(session, request, "completed",
                             f"死亡共済金の受取人を{designation.name}さまに変更しました。")
    return designation


# ----------------------------------------------------------------- 指定代理請求人

def current_proxy(session: Session, member: Member) -> ProxyClaimant | None:
    return current_proxy_of(session, member.id)


def current_proxy_of(session: Session, member_id: int) -> ProxyClaimant | None:
    return session.scalar(select(ProxyClaimant).where(ProxyClaimant.member_id == member_id,
                                                      ProxyClaimant.status == "active"))


def request_proxy_claimant(session: Session, member: Member, data: PersonInput, *, birth_date: date | None,
                           phone: str, lives_with_member: bool, on: date, idempotency_key: str | None,
                           staff_id: int | None = None) -> ProcedureRequest:
    from portal.jp import JpValueError
    from portal.jp.phone import parse_phone

    existing = _replayed(session, member, idempotency_key)
    if existing is not None:
        return existing
    person = clean_person(data, PROXY_RELATIONS)
    if person.relation == "relative3" and not lives_with_member:
        raise ChangeError("3親等内の親族の方は、同居しているか生計を一にしている場合に限り指定できます。",
                          "lives_with_member")
    if birth_date is None or birth_date >= on:
        raise ChangeError("生年月日を正しく入力してください。", "birth_date")
    if _add_years(birth_date, 18) > on:
        raise ChangeError("指定代理請求人は18歳以上の方を指定してください。", "birth_date")
    try:
        parsed = parse_phone(phone)
    except JpValueError as error:
        raise ChangeError(str(error), "phone") from error
    _check_no_open(session, member.id, "proxy_claimant")
    request = procedures.start(session, member, "proxy_claimant",
                               f"指定代理請求人に{person.name}さま（{PROXY_RELATIONS[person.relation]}）を指定",
                               detail={"relation": person.relation},
                               idempotency_key=idempotency_key, staff_id=staff_id)
    session.add(ProxyClaimant(member_id=member.id, procedure_request_id=request.id, name=person.name,
                              name_kana=person.name_kana, relation=person.relation, birth_date=birth_date,
                              phone=parsed.national))
    session.flush()
    return _received(session, request, "member.proxy_claimant_requested", "member", member.member_no)


def complete_proxy_claimant(session: Session, request: ProcedureRequest) -> ProxyClaimant:
    _request_for_member(session, request, "proxy_claimant")
    proxy = session.scalar(select(ProxyClaimant).where(ProxyClaimant.procedure_request_id == request.id))
    assert proxy is not None
    for old in session.scalars(select(ProxyClaimant).where(ProxyClaimant.member_id == proxy.member_id,
                                                           ProxyClaimant.status == "active")):
        old.status = "replaced"
    session.flush()
    proxy.status = "active"
    procedures.change_status(session, request, "completed", f"指定代理請求人を{proxy.name}さまに指定しました。")
    return proxy


# ----------------------------------------------------------------- 氏名変更

NAME_CHANGE_REASONS = {"marriage": "婚姻", "divorce": "離婚", "adoption": "養子縁組", "other": "その他"}
_NOT_A_DOCUMENT = "書類の写真（JPEG・PNG）またはPDFを選んでください。"


def process_document(data: bytes) -> tuple[bytes, str, str]:
    """Check an identity document by its content; re-encode photos so EXIF (GPS)
    and anything appended to the file are gone. (data, content_type, extension)"""
    if not data:
        raise ChangeError("ファイルが空です。", "document")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ChangeError("ファイルは10MB以下にしてください。", "document")
    if data.startswith(b"%PDF-"):
        return data, "application/pdf", "pdf"
    try:
        with Image.open(BytesIO(data)) as probe:
            image_format = probe.format
            if probe.width * probe.height > MAX_DOCUMENT_PIXELS:
                raise ChangeError("画像の縦横のピクセル数が大きすぎます。", "document")
            probe.verify()
        if image_format not in ("JPEG", "PNG"):
            raise ChangeError(_NOT_A_DOCUMENT, "document")
        with Image.open(BytesIO(data)) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except ChangeError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ChangeError(_NOT_A_DOCUMENT, "document") from error
    image.info = {}
    out = BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue(), "image/jpeg", "jpg"


def store_document(data: bytes) -> tuple[str, str]:
    """Check, re-encode and keep a document in private storage; (key, content_type)."""
    from portal.gateways import GatewayError
    from portal.gateways.storage import storage

    clean, content_type, extension = process_document(data)
    key = f"{DOCUMENT_KEY_PREFIX}{secrets.token_hex(16)}.{extension}"
    try:
        storage().save(key, clean, content_type)
    except GatewayError as error:
        raise ChangeError(error.message, "document") from error
    return key, content_type


def check_new_name(member: Member, new_name: str, new_name_kana: str, reason: str) -> PersonInput:
    person = clean_person(PersonInput(new_name, new_name_kana, "self"), {"self": ""})
    if reason not in NAME_CHANGE_REASONS:
        raise ChangeError("変更の理由を選んでください。", "reason")
    if person.name == member.name and person.name_kana == member.name_kana:
        raise ChangeError("今のお名前と同じです。新しいお名前を入力してください。", "new_name")
    return person


def request_name_change(session: Session, member: Member, *, new_name: str, new_name_kana: str, reason: str,
                        document_key: str | None, content_type: str | None, idempotency_key: str | None,
                        staff_id: int | None = None) -> ProcedureRequest:
    existing = _replayed(session, member, idempotency_key)
    if existing is not None:
        return existing
    person = check_new_name(member, new_name, new_name_kana, reason)
    if not document_key or not document_key.startswith(DOCUMENT_KEY_PREFIX):
        raise ChangeError("新しいお名前が確認できる書類を選んでください。", "document")
    _check_no_open(session, member.id, "name_change")
    request = procedures.start(
        session, member, "name_change", f"氏名変更（{NAME_CHANGE_REASONS[reason]}）", status="checking_documents",
        detail={"new_name": person.name, "new_name_kana": person.name_kana, "reason": reason,
                "file": {"key": document_key, "content_type": content_type}},
        idempotency_key=idempotency_key, staff_id=staff_id)
    return _received(session, request, "member.name_change_requested", "member", member.member_no)


def name_change_document(request: ProcedureRequest) -> tuple[bytes, str]:
    from portal.gateways.storage import storage

    file = procedures.detail_of(request).get("file") or {}
    if request.kind != "name_change" or not file.get("key"):
        raise ChangeError("書類が見つかりません。")
    return storage().open(file["key"]), file["content_type"]


def complete_name_change(session: Session, request: ProcedureRequest) -> Member:
    """Staff have checked the document: the member's name (and their own insured
    record) changes now."""
    member = _request_for_member(session, request, "name_change")
    detail = procedures.detail_of(request)
    old_name = member.name
    member.name, member.name_kana = detail["new_name"], detail["new_name_kana"]
    for person in member.insured_persons:
        if person.relation == "self":
            person.name, person.name_kana = member.name, member.name_kana
    procedures.change_status(session, request, "completed",
                             f"お名前を「{old_name}」から「{member.name}」に変更しました。")
    return member
