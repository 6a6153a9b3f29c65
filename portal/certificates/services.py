"""Premium certificate (共済掛金証明書) reissue: the window, the figures, the two ways out.

Certificate year Y can be requested from 1 October Y to 31 March Y+1 (Tokyo).
Each line comes from the payment records:

* 証明額: deductible amounts of payments paid from 1 January Y up to the issue day
  (never past 31 December Y);
* 申告予定額: that, plus what is still to be paid by 31 December Y — monthly
  contracts: each remaining month whose debit day (27th or the next business
  day) is on or after the issue day and still within Y, at the current
  premium; yearly contracts: the yearly payment when its month is still to come.

Only the deductible part counts: Contract.deductible_premium_yen and
PremiumPayment.deductible_yen (the earthquake part for 住まいる共済).
"""
from __future__ import annotations

import json
import logging
import secrets
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from portal import audit
from portal.certificates import deduction
from portal.certificates.models import CertificateIssue
from portal.contracts.models import DEDUCTION_LABELS, Contract, PremiumPayment, Product
from portal.jp.dates import (
    certificate_window,
    certificate_year_open_on,
    debit_date,
    format_date_jp,
    format_month_day_jp,
    next_certificate_window_opens,
)
from portal.members.models import Member
from portal.procedures import services as procedures
from portal.procedures.models import ProcedureRequest
from portal.service_errors import ServiceError

log = logging.getLogger(__name__)

CO_OP_NAME = "みらい共済生活協同組合"
SYSTEM_LABELS = {"new": "新制度", "old": "旧制度"}
EXPECTING_STATUSES = ("in_force", "pending")


class CertificateError(ServiceError):
    """A rule said no (a Japanese message, and the field it belongs to)."""


# ------------------------------------------------------------------ the window

@dataclass(frozen=True)
class Window:
    """Where `day` stands: the open certificate year (or None) and the dates to show."""

    day: date
    year: int | None
    opens_on: date
    closes_on: date

    @property
    def is_open(self) -> bool:
        return self.year is not None


def window_on(day: date) -> Window:
    year = certificate_year_open_on(day)
    if year is not None:
        opens_on, closes_on = certificate_window(year)
        return Window(day, year, opens_on, closes_on)
    opens_on = next_certificate_window_opens(day)
    _, closes_on = certificate_window(opens_on.year)
    return Window(day, None, opens_on, closes_on)


# ------------------------------------------------------------------ the figures

@dataclass(frozen=True)
class CertificateLine:
    contract_no: str
    product_name: str
    insured_name: str
    category: str
    system: str
    certified_yen: int
    expected_yen: int

    @property
    def category_label(self) -> str:
        label = DEDUCTION_LABELS[self.category]
        if self.category == "earthquake":
            return label
        return f"{label}（{SYSTEM_LABELS[self.system]}）"


@dataclass(frozen=True)
class CategoryTotal:
    category: str
    system: str
    certified_yen: int
    expected_yen: int
    deduction_yen: int | None = None  # per category (new and old together)

    @property
    def label(self) -> str:
        return CertificateLine("", "", "", self.category, self.system, 0, 0).category_label


@dataclass(frozen=True)
class Summary:
    window: Window
    lines: list[CertificateLine] = field(default_factory=list)
    totals: list[CategoryTotal] = field(default_factory=list)
    estimate: deduction.Estimate = field(default_factory=deduction.Estimate)

    @property
    def certified_total_yen(self) -> int:
        return sum(line.certified_yen for line in self.lines)

    @property
    def expected_total_yen(self) -> int:
        return sum(line.expected_yen for line in self.lines)


def _expected_periods(contract: Contract, year: int, issue_day: date, paid_periods: set[date]) -> list[date]:
    """Periods of `year` still to be debited on or after `issue_day` (and within the year)."""
    if contract.status not in EXPECTING_STATUSES:
        return []
    months = range(1, 13) if contract.premium_period == "monthly" else (contract.start_date.month,)
    first_period = contract.start_date.replace(day=1)
    periods = []
    for month in months:
        period = date(year, month, 1)
        if period in paid_periods or period < first_period:
            continue
        if contract.end_date is not None and period >= contract.end_date:
            continue
        debit = debit_date(year, month)
        if issue_day <= debit <= date(year, 12, 31):
            periods.append(period)
    return periods


def certificate_lines(session: Session, member_id: int, year: int, issue_day: date) -> list[CertificateLine]:
    """One line per contract with a deduction category, with premiums in `year`."""
    jan1, dec31 = date(year, 1, 1), date(year, 12, 31)
    certified_until = min(issue_day, dec31)
    contracts = list(session.scalars(
        select(Contract).join(Product)
        .options(joinedload(Contract.product), joinedload(Contract.insured_person))
        .where(Contract.member_id == member_id, Product.deduction_category != "none",
               Contract.start_date <= dec31,
               or_(Contract.end_date.is_(None), Contract.end_date > jan1))
        .order_by(Contract.contract_no)
    ))
    if not contracts:
        return []
    payments: dict[int, list[PremiumPayment]] = {c.id: [] for c in contracts}
    for payment in session.scalars(
        select(PremiumPayment).where(
            PremiumPayment.contract_id.in_(payments), PremiumPayment.status == "paid",
            or_(PremiumPayment.paid_on.between(jan1, dec31), PremiumPayment.period.between(jan1, dec31)))
    ):
        payments[payment.contract_id].append(payment)

    lines = []
    for contract in contracts:
        own = payments[contract.id]
        paid_in_year = [p for p in own if p.paid_on is not None and jan1 <= p.paid_on <= dec31]
        certified = sum(p.deductible_yen for p in paid_in_year if p.paid_on <= certified_until)
        # Recorded in advance (paid after the issue day) still belongs to the year's total.
        recorded_later = sum(p.deductible_yen for p in paid_in_year if p.paid_on > certified_until)
        paid_periods = {p.period for p in own}
        remaining = len(_expected_periods(contract, year, issue_day, paid_periods)) \
            * contract.deductible_premium_yen
        expected = certified + recorded_later + remaining
        if expected == 0:
            continue
        lines.append(CertificateLine(
            contract_no=contract.contract_no, product_name=contract.product.name,
            insured_name=contract.insured_person.name, category=contract.product.deduction_category,
            system=contract.product.deduction_system, certified_yen=certified, expected_yen=expected,
        ))
    return lines


def _totals(lines: list[CertificateLine]) -> tuple[list[CategoryTotal], deduction.Estimate]:
    sums: dict[tuple[str, str], list[int]] = {}
    for line in lines:
        key = (line.category, line.system)
        entry = sums.setdefault(key, [0, 0])
        entry[0] += line.certified_yen
        entry[1] += line.expected_yen
    estimate = deduction.estimate({key: values[1] for key, values in sums.items()})
    order = {c: i for i, c in enumerate(deduction.LIFE_CATEGORIES + ("earthquake",))}
    totals = [
        CategoryTotal(category, system, certified, expected, estimate.by_category.get(category))
        for (category, system), (certified, expected) in sorted(sums.items(), key=lambda kv: (order[kv[0][0]], kv[0][1]))
    ]
    return totals, estimate


def summary(session: Session, member_id: int, day: date) -> Summary:
    """Everything the /certificates page shows on `day`."""
    window = window_on(day)
    if window.year is None:
        return Summary(window)
    lines = certificate_lines(session, member_id, window.year, day)
    totals, estimate = _totals(lines)
    return Summary(window, lines, totals, estimate)


def _open_summary(session: Session, member_id: int, day: date) -> Summary:
    result = summary(session, member_id, day)
    if result.window.year is None:
        raise CertificateError(
            f"掛金証明書の再発行は受付期間外です。{format_date_jp(result.window.opens_on)}から受け付けます。")
    if not result.lines:
        raise CertificateError(f"{result.window.year}年分の控除の対象となるご契約がないため、証明書は発行されません。")
    return result


# ------------------------------------------------------------------ mailing

def open_mail_request(session: Session, member_id: int, year: int) -> ProcedureRequest | None:
    """The member's open mailing request for certificate year `year`, if any."""
    rows = session.scalars(
        select(ProcedureRequest).where(ProcedureRequest.member_id == member_id,
                                       ProcedureRequest.kind == "certificate_mail",
                                       ProcedureRequest.is_open)
        .order_by(ProcedureRequest.id)
    )
    for row in rows:
        if procedures.detail_of(row).get("year") == year:
            return row
    return None


def _lock_member(session: Session, member_id: int) -> None:
    """Serialise one member's certificate requests (PostgreSQL row lock; SQLite locks the file)."""
    session.execute(select(Member.id).where(Member.id == member_id).with_for_update())


def request_mail(session: Session, member: Member, day: date, *, idempotency_key: str | None = None,
                 staff_id: int | None = None) -> ProcedureRequest:
    """Ask for the year's certificate by post to the address on file: one open request per year."""
    existing = procedures.find_by_key(session, idempotency_key)
    if existing is not None:
        return procedures.start(session, member, existing.kind, existing.summary, idempotency_key=idempotency_key)
    result = _open_summary(session, member.id, day)
    year = result.window.year
    _lock_member(session, member.id)
    first = open_mail_request(session, member.id, year)
    if first is not None:
        raise CertificateError(
            f"{year}年分の郵送のお申し込みはすでに受け付けています（受付番号 {first.receipt_no}）。"
            "お届けまでしばらくお待ちください。")
    address = f"〒{member.postal_code[:3]}-{member.postal_code[3:]} {member.address}"
    request = procedures.start(
        session, member, "certificate_mail",
        f"{year}年分 共済掛金証明書をご登録の住所へ郵送します（{len(result.lines)}件）。",
        detail={"year": year, "contracts": [line.contract_no for line in result.lines],
                "certified_total_yen": result.certified_total_yen,
                "expected_total_yen": result.expected_total_yen, "address": address},
        idempotency_key=idempotency_key, staff_id=staff_id,
    )
    audit.record("certificate.mail_requested", target_type="procedure_request", target_id=request.id,
                 detail={"year": year, "receipt_no": request.receipt_no}, session=session)
    return request


# ------------------------------------------------------------------ PDF

VERIFICATION_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_verification_no(session: Session, year: int) -> str:
    """e.g. C26-7KQ3-ZP8M: unguessable, unique, easy to read out on the phone."""
    while True:
        body = "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(8))
        number = f"C{year % 100:02d}-{body[:4]}-{body[4:]}"
        if session.scalar(select(CertificateIssue.id).where(CertificateIssue.verification_no == number)) is None:
            return number


def issue_pdf(session: Session, member: Member, day: date, store: Any, *, idempotency_key: str | None = None,
              staff_id: int | None = None) -> CertificateIssue:
    """The year's certificate as a PDF, stored and recorded (a completed request); the
    member's last one of the year when its figures have not changed since."""
    from portal.certificates.pdf import render_certificate

    existing = procedures.find_by_key(session, idempotency_key)
    if existing is not None:
        procedures.start(session, member, existing.kind, existing.summary, idempotency_key=idempotency_key)
        issue = session.scalar(select(CertificateIssue).where(CertificateIssue.request_id == existing.id))
        if issue is not None:
            return issue
        raise CertificateError("この申込はすでに処理されています。")
    result = _open_summary(session, member.id, day)
    year = result.window.year
    assert year is not None
    lines_json = json.dumps([asdict(line) for line in result.lines], ensure_ascii=False)
    # Certificate season: every member downloads, many more than once. A PDF whose
    # figures are still the same is served again from storage instead of being
    # rendered anew; a payment since then changes the lines and makes a new one.
    latest = session.scalar(
        select(CertificateIssue).where(CertificateIssue.member_id == member.id, CertificateIssue.year == year)
        .order_by(CertificateIssue.id.desc()).limit(1))
    if latest is not None and latest.lines_json == lines_json and (
            latest.certified_total_yen, latest.expected_total_yen) == (result.certified_total_yen,
                                                                        result.expected_total_yen):
        _audit_issue(session, latest)
        return latest
    verification_no = new_verification_no(session, year)
    request = procedures.start(
        session, member, "certificate_pdf",
        f"{year}年分 共済掛金証明書（PDF）を発行しました。確認番号 {verification_no}",
        status="completed", detail={"year": year, "verification_no": verification_no},
        idempotency_key=idempotency_key, staff_id=staff_id,
    )
    pdf = render_certificate(co_op_name=CO_OP_NAME, member=member, year=year, lines=result.lines,
                             issued_on=day, verification_no=verification_no)
    key = f"certificates/{member.id}/{year}/{verification_no}.pdf"
    store.save(key, pdf, "application/pdf")
    issue = CertificateIssue(
        member_id=member.id, request_id=request.id, year=year, issued_on=day, verification_no=verification_no,
        storage_key=key, certified_total_yen=result.certified_total_yen,
        expected_total_yen=result.expected_total_yen, lines_json=lines_json, made_by_staff_id=staff_id,
    )
    session.add(issue)
    session.flush()
    _audit_issue(session, issue)
    return issue


def ensure_stored(member: Member, issue: CertificateIssue, store: Any) -> None:
    """The issue's PDF is in storage: made again from its record when the file is
    missing (storage lost, or restored from an older backup than the database).
    The record is what was certified: the same lines, date and verification
    number; the name and address are the member's as they are now."""
    from portal.certificates.pdf import render_certificate

    if store.exists(issue.storage_key):
        return
    log.warning("certificate issue %s: stored PDF missing, made again from its record", issue.id)
    lines = [CertificateLine(**line) for line in json.loads(issue.lines_json)]
    pdf = render_certificate(co_op_name=CO_OP_NAME, member=member, year=issue.year, lines=lines,
                             issued_on=issue.issued_on, verification_no=issue.verification_no)
    store.save(issue.storage_key, pdf, "application/pdf")


def _audit_issue(session: Session, issue: CertificateIssue) -> None:
    audit.record("certificate.pdf_issued", target_type="certificate_issue", target_id=issue.id,
                 detail={"year": issue.year, "verification_no": issue.verification_no}, session=session)


def issue_of_member(session: Session, member_id: int, issue_id: int) -> CertificateIssue | None:
    """The issue if it belongs to this member; None otherwise (the view answers 404)."""
    issue = session.get(CertificateIssue, issue_id)
    return issue if issue is not None and issue.member_id == member_id else None


def issue_for_request(session: Session, member_id: int, request_id: int) -> CertificateIssue | None:
    issue = session.scalar(select(CertificateIssue).where(CertificateIssue.request_id == request_id))
    return issue if issue is not None and issue.member_id == member_id else None


def issues_for(session: Session, member_id: int, year: int) -> list[CertificateIssue]:
    return list(session.scalars(
        select(CertificateIssue).where(CertificateIssue.member_id == member_id, CertificateIssue.year == year)
        .order_by(CertificateIssue.id.desc())
    ))


# ------------------------------------------------------------------ My Page

def dashboard_notices(session: Session, member: Member, today: date) -> list[dict[str, str]]:
    """Notices for the My Page home: the reissue window while it is open."""
    window = window_on(today)
    if not window.is_open:
        return []
    return [{
        "text": f"掛金証明書の再発行を受け付けています（{format_month_day_jp(window.closes_on)}まで）",
        "url": "/certificates",
        "level": "info",
    }]


def mark_mailed(session: Session, request: ProcedureRequest) -> ProcedureRequest:
    """The office posted the certificate: the member sees 発送済 with the date."""
    if request.kind != "certificate_mail" or request.status not in ("received", "reviewing"):
        raise CertificateError(f"この申込はすでに「{request.status_label}」です。")
    year = procedures.detail_of(request).get("year")
    return procedures.change_status(
        session, request, "shipped",
        f"{year}年分の共済掛金証明書を郵送しました。2営業日ほどでお届けします。年末調整・確定申告にお使いください。")
