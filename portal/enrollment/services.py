"""Online enrolment: which plans a member can take, the application, staff decision.

Eligibility is judged by age on the start date, which is the 1st of the month
after approval; while the application waits, the 1st of next month is the
estimate shown and checked.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.clock import today, utcnow
from portal.contracts.catalogue import MONTHLY_PREMIUM_YEN, PRODUCTS, coverage_rows
from portal.contracts.models import Contract, Coverage, PremiumChange, Product
from portal.contracts.shipping import start_certificate
from portal.enrollment.models import PAYMENT_METHODS, PENDING_STATUSES, Application, OnlineRouteDeclined
from portal.jp.dates import add_months, age_on, format_date_jp
from portal.members.models import DebitAccount, InsuredPerson, Member
from portal.procedures import services as procedures
from portal.procedures.models import ProcedureRequest
from portal.service_errors import ServiceError

ONLINE_PRODUCTS = ("KOKUMIN_SOGO", "KOKUMIN_IRYO", "KOKUMIN_KODOMO")
UNITS = {"KOKUMIN_SOGO": 2, "KOKUMIN_IRYO": 2, "KOKUMIN_KODOMO": 1}
MAIN_COVER = {
    "KOKUMIN_SOGO": "死亡（交通事故）1,200万円・（不慮の事故）800万円・（病気）400万円、入院日額 5,000円／3,000円／1,500円",
    "KOKUMIN_IRYO": "入院日額 10,000円（180日まで）、手術 6万円、通院日額 2,000円、先進医療 1,000万円まで",
    "KOKUMIN_KODOMO": "入院日額 5,000円＋入院サポート 5,000円、骨折 5万円、手術 5万円、通院日額 2,000円、こども相談室",
}
# 告知: any 'yes' stops the online route (the co-op then takes the application in person).
DECLARATION_QUESTIONS = (
    "現在、入院中ですか。または入院・手術をすすめられていますか。",
    "過去2年以内に、病気やけがで入院したこと、または手術を受けたことがありますか。",
    "過去3か月以内に、医師の診察・検査・治療・投薬を受けたことがありますか（健康診断・かぜ等の軽い症状を除く）。",
    "現在、妊娠していますか。",
)
# Question numbers asked only about a female insured person (the pregnancy question).
FEMALE_ONLY_QUESTIONS = frozenset({4})


def declaration_questions_for(insured: InsuredPerson) -> list[int]:
    """The numbers of the declaration questions to ask about this insured person."""
    return [n for n in range(1, len(DECLARATION_QUESTIONS) + 1)
            if n not in FEMALE_ONLY_QUESTIONS or insured.sex == "female"]


class EnrollmentError(ServiceError):
    """A rule said no (a Japanese message, and the field it belongs to)."""


@dataclass(frozen=True)
class PlanOption:
    product_code: str
    name: str
    insured: InsuredPerson
    monthly_premium_yen: int
    units: int
    main_cover: str
    start_date: date
    age_at_start: int
    reason: str | None  # why it cannot be taken, or None

    @property
    def key(self) -> str:
        return f"{self.product_code}:{self.insured.id}"

    @property
    def available(self) -> bool:
        return self.reason is None


def expected_start_date(on: date) -> date:
    """The 1st of the month after `on` (approval on `on` starts cover then)."""
    return add_months(on.replace(day=1), 1)


def _spec(code: str):
    return next(p for p in PRODUCTS if p.code == code)


def plan_options(session: Session, member: Member, on: date | None = None) -> list[PlanOption]:
    """Every online plan for every person it may be for, with the reason when it can't be taken."""
    on = on or today()
    start = expected_start_date(on)
    insured = list(session.scalars(select(InsuredPerson).where(InsuredPerson.member_id == member.id)
                                   .order_by(InsuredPerson.id)))
    held = {(c.insured_person_id, c.product.code) for c in session.scalars(
        select(Contract).join(Product).where(Contract.member_id == member.id,
                                             Contract.status.in_(("in_force", "pending"))))}
    pending = {(a.insured_person_id, a.product_code) for a in session.scalars(
        select(Application).where(Application.member_id == member.id, Application.status.in_(PENDING_STATUSES)))}
    options = []
    for code in ONLINE_PRODUCTS:
        spec = _spec(code)
        relations = ("child",) if code == "KOKUMIN_KODOMO" else ("self", "spouse")
        people = [p for p in insured if p.relation in relations]
        for person in people:
            age = age_on(person.birth_date, start)
            reason = None
            if age < spec.min_entry_age or age > spec.max_entry_age:
                reason = (f"お申し込みいただける年齢は{spec.min_entry_age}歳から{spec.max_entry_age}歳までです"
                          f"（保障開始日{start.month}月1日時点で{age}歳）。")
            elif (person.id, code) in held:
                reason = "同じタイプのご契約をすでにお持ちです（口数の上限）。"
            elif (person.id, code) in pending:
                reason = "同じプランのお申し込みを現在審査中です。"
            elif member.status != "active":
                reason = "現在お申し込みいただけません。サービスセンターへお問い合わせください。"
            options.append(PlanOption(code, spec.name, person, MONTHLY_PREMIUM_YEN[code], UNITS[code],
                                      MAIN_COVER[code], start, age, reason))
    return options


def find_option(session: Session, member: Member, key: str | None, on: date | None = None) -> PlanOption:
    for option in plan_options(session, member, on):
        if option.key == key:
            if not option.available:
                raise EnrollmentError(option.reason or "", field="plan")
            return option
    raise EnrollmentError("プランを選んでください。", field="plan")


def record_declined_online(session: Session, member: Member, product_code: str) -> None:
    session.add(OnlineRouteDeclined(member_id=member.id, product_code=product_code))
    session.flush()


def current_debit_account(session: Session, member: Member) -> DebitAccount | None:
    return session.scalar(select(DebitAccount).where(DebitAccount.member_id == member.id,
                                                     DebitAccount.is_current.is_(True))
                          .order_by(DebitAccount.id.desc()))


def pending_debit_account(session: Session, member: Member) -> DebitAccount | None:
    """The account of a bank-account change still in progress: the new plan can use it
    (accepting the change moves every debit contract to it anyway)."""
    request = session.scalar(select(ProcedureRequest).where(
        ProcedureRequest.member_id == member.id, ProcedureRequest.kind == "bank_account_change",
        ProcedureRequest.status.in_(("received", "reviewing"))).order_by(ProcedureRequest.id.desc()).limit(1))
    if request is None:
        return None
    account = session.get(DebitAccount, procedures.detail_of(request).get("debit_account_id"))
    return account if account is not None and account.member_id == member.id else None


def debit_account_for(session: Session, member: Member) -> DebitAccount | None:
    return current_debit_account(session, member) or pending_debit_account(session, member)


def payment_choices(session: Session, member: Member) -> list[tuple[str, str]]:
    """口座振替 when an account is on file or being registered; 払込票 always."""
    choices = []
    account = current_debit_account(session, member)
    pending = None if account else pending_debit_account(session, member)
    if account is not None:
        choices.append(("debit", f"口座振替（{account.masked}）"))
    elif pending is not None:
        choices.append(("debit", f"口座振替（お手続き中の新しい口座 {pending.masked}）"))
    choices.append(("transfer", "払込票（コンビニ・郵便局でお支払い。毎月ご自宅へお送りします）"))
    return choices


def submitted(session: Session, member: Member, idempotency_key: str | None) -> ProcedureRequest | None:
    """The member's application already sent with this form token (a resent confirmation)."""
    existing = procedures.find_by_key(session, idempotency_key)
    if existing is not None and existing.member_id == member.id and existing.kind == "enrollment":
        return existing
    return None


def submit(session: Session, member: Member, key: str, *, idempotency_key: str,
           on: date | None = None, payment_method: str = "debit",
           answers: dict[str, str] | None = None) -> ProcedureRequest:
    """Store the application as a procedure with its acknowledgement notice.

    The same form token returns the first application (double submit); the same
    plan while one is pending is refused.
    """
    existing = submitted(session, member, idempotency_key)
    if existing is not None:
        return existing
    option = find_option(session, member, key, on)
    if payment_method not in PAYMENT_METHODS:
        raise EnrollmentError("掛金のお支払い方法を選んでください。", field="payment")
    account = debit_account_for(session, member) if payment_method == "debit" else None
    if payment_method == "debit" and account is None:
        raise EnrollmentError("掛金の振替口座が登録されていません。振替口座を登録するか、払込票をお選びください。",
                              field="payment")
    if answers is not None and set(answers) != {f"q{n}" for n in declaration_questions_for(option.insured)}:
        raise EnrollmentError("告知のすべての質問にお答えください。", field="declaration")
    request = procedures.start(
        session, member, "enrollment",
        f"{option.name}（被共済者 {option.insured.name}さま、月掛金 {option.monthly_premium_yen:,}円）",
        effective_date=option.start_date, idempotency_key=idempotency_key,
        detail={"product_code": option.product_code, "insured_person_id": option.insured.id})
    try:
        with session.begin_nested():
            session.add(Application(member_id=member.id, procedure_request_id=request.id,
                                    insured_person_id=option.insured.id, product_code=option.product_code,
                                    units=option.units, monthly_premium_yen=option.monthly_premium_yen,
                                    debit_account_id=account.id if account else None,
                                    payment_method=payment_method,
                                    declaration=json.dumps(answers) if answers is not None else None))
    except IntegrityError:
        raise EnrollmentError("同じプランのお申し込みを現在審査中です。", field="plan") from None
    audit.record("enrollment.submit", target_type="procedure", target_id=request.receipt_no,
                 detail={"product": option.product_code}, session=session)
    return request


def application_for(session: Session, request: ProcedureRequest) -> Application:
    application = session.scalar(select(Application).where(Application.procedure_request_id == request.id))
    if application is None:
        raise EnrollmentError("申込が見つかりません。")
    return application


def pending_applications(session: Session) -> list[tuple[Application, ProcedureRequest, Member]]:
    rows = session.execute(
        select(Application, ProcedureRequest, Member)
        .join(ProcedureRequest, ProcedureRequest.id == Application.procedure_request_id)
        .join(Member, Member.id == Application.member_id)
        .where(Application.status.in_(PENDING_STATUSES)).order_by(Application.created_at))
    return [tuple(r) for r in rows]  # type: ignore[misc]


def find_request(session: Session, receipt_no: str) -> ProcedureRequest:
    request = session.scalar(select(ProcedureRequest).where(ProcedureRequest.receipt_no == receipt_no,
                                                            ProcedureRequest.kind == "enrollment"))
    if request is None:
        raise EnrollmentError(f"受付番号 {receipt_no} の加入申込はありません。")
    return request


def start_review(session: Session, request: ProcedureRequest, staff_id: int | None = None) -> Application:
    application = application_for(session, request)
    if application.status != "received":
        raise EnrollmentError("この申込はすでに審査中か、審査が終わっています。")
    application.status = "under_review"
    procedures.change_status(session, request, "under_review")
    return application


def _new_contract_no(session: Session) -> str:
    while True:
        number = "3" + "".join(secrets.choice("0123456789") for _ in range(11))
        if session.scalar(select(Contract.id).where(Contract.contract_no == number)) is None:
            return number


def approve(session: Session, request: ProcedureRequest, staff_id: int | None = None,
            on: date | None = None) -> Contract:
    """Approval makes the contract: start on the 1st of next month, premium and coverages."""
    application = application_for(session, request)
    if application.status not in PENDING_STATUSES:
        raise EnrollmentError("この申込はすでに審査が終わっています。")
    on = on or today()
    start = expected_start_date(on)
    member = session.get(Member, application.member_id)
    assert member is not None
    spec = _spec(application.product_code)
    age = age_on(application.insured_person.birth_date, start)
    if not spec.min_entry_age <= age <= spec.max_entry_age:
        raise EnrollmentError(f"保障開始日（{start:%Y-%m-%d}）時点の年齢が{age}歳のため成立できません。不成立としてください。")
    product = session.scalar(select(Product).where(Product.code == application.product_code))
    if product is None:
        raise EnrollmentError(f"商品 {application.product_code} が商品マスタにありません。管理者に連絡してください。")
    contract = Contract(
        contract_no=_new_contract_no(session), member_id=member.id, product_id=product.id,
        insured_person_id=application.insured_person_id, units=application.units, start_date=start,
        status="in_force" if start <= on else "pending", premium_yen=application.monthly_premium_yen,
        deductible_premium_yen=application.monthly_premium_yen, premium_period="monthly",
        payment_method=application.payment_method,
        debit_account_id=application.debit_account_id if application.payment_method == "debit" else None,
        certificate_status="preparing",
    )
    contract.coverages = [Coverage(kind=k, amount_yen=a, is_unlimited=u, age_from=lo, age_to=hi)
                          for k, a, u, lo, hi in coverage_rows(product.code, units=application.units)]
    contract.premium_changes = [PremiumChange(effective_from=start, premium_yen=application.monthly_premium_yen,
                                              reason="ご加入")]
    session.add(contract)
    session.flush()
    contract.member = member
    start_certificate(session, contract, reason="ご加入")
    application.status = "approved"
    application.start_date = start
    application.contract_id = contract.id
    application.decided_by_staff_id = staff_id
    application.decided_at = utcnow()
    request.effective_date = start
    procedures.change_status(session, request, "approved",
                             f"ご契約が成立しました。証書番号 {contract.contract_no}、保障開始日 {format_date_jp(start)}。"
                             "共済契約証書を郵送します。")
    return contract


def decline(session: Session, request: ProcedureRequest, reason: str, staff_id: int | None = None) -> Application:
    reason = reason.strip()
    if not reason:
        raise EnrollmentError("不成立の理由を入力してください。", field="reason")
    application = application_for(session, request)
    if application.status not in PENDING_STATUSES:
        raise EnrollmentError("この申込はすでに審査が終わっています。")
    application.status = "declined"
    application.decline_reason = reason[:300]
    application.decided_by_staff_id = staff_id
    application.decided_at = utcnow()
    procedures.change_status(session, request, "declined", f"理由：{reason[:300]}")
    return application


def declaration_answers(application: Application) -> list[tuple[str, str]]:
    """(question, answer label) pairs; 要配慮個人情報, so callers audit the viewing."""
    answers = json.loads(application.declaration) if application.declaration else {}
    labels = {"no": "いいえ", "yes": "はい"}
    asked = declaration_questions_for(application.insured_person)
    return [(DECLARATION_QUESTIONS[n - 1], labels.get(answers.get(f"q{n}"), "（記録なし）")) for n in asked]


def application_for_office(session: Session, request: ProcedureRequest) -> dict:
    """The application in full for the office, the health declaration included
    (the viewing is written to the audit log)."""
    from portal import audit

    application = application_for(session, request)
    member = session.get(Member, application.member_id)
    account = session.get(DebitAccount, application.debit_account_id) if application.debit_account_id else None
    audit.record("enrollment.declaration_view", target_type="procedure", target_id=request.receipt_no,
                 member_id=application.member_id)
    return {"application": application, "member": member, "insured": application.insured_person,
            "product": _spec(application.product_code), "account": account,
            "answers": declaration_answers(application),
            "age_at_start": age_on(application.insured_person.birth_date, expected_start_date(today()))}
