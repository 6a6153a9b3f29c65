"""The estimate of a claim: pure rules over an event and the contracts (the co-op's benefit rules).

Amounts come from each contract's coverage rows at the insured person's age on
the event's first day (portal.contracts.services.coverage_for_age), whatever
their age on later days of the stay. No database access here: the services load
the contracts and the staff desk shows this same estimate prefilled.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from portal.contracts.models import Contract
from portal.contracts.services import by_kind, coverage_for_age, insured_age
from portal.members.models import InsuredPerson
from portal.jp.text import honorific

MAX_HOSPITAL_DAYS = 180   # a stay
MAX_OUTPATIENT_DAYS = 90  # an event
CLAIM_YEARS = 3           # from the day after the event ends
CERTIFICATE_ABOVE_YEN = 100_000  # receipts suffice up to this expected payment
KODOMO = "kokumin_kodomo"
HOSPITAL_KIND = {"traffic": "hospital_traffic", "accident": "hospital_accident", "illness": "hospital_illness"}


@dataclass(frozen=True)
class Event:
    """What happened to one insured person: one cause, one first day."""

    cause: str
    first_day: date
    hospital_from: date | None = None
    hospital_to: date | None = None
    outpatient_dates: tuple[date, ...] = ()
    surgery_date: date | None = None
    is_surgery_in_hospital: bool = True
    fracture: bool = False
    advanced_care_fee_yen: int | None = None

    @property
    def last_day(self) -> date:
        """The day the event ends (discharge, last visit, operation)."""
        days = [self.first_day, *self.outpatient_dates]
        days += [d for d in (self.hospital_to, self.surgery_date) if d is not None]
        return max(days)

    @property
    def benefits(self) -> list[str]:
        wanted = []
        if self.hospital_from is not None:
            wanted.append("hospital")
        if self.surgery_date is not None:
            wanted.append("surgery")
        if self.outpatient_dates:
            wanted.append("outpatient")
        if self.fracture:
            wanted.append("fracture")
        if self.advanced_care_fee_yen:
            wanted.append("advanced_care")
        return wanted


@dataclass(frozen=True)
class EstimateLine:
    contract: Contract
    kind: str                # a portal.claims.models.LINE_KINDS value
    unit_yen: int            # daily amount, or the fixed sum
    days: int | None         # counted days after limits (None for fixed sums)
    amount_yen: int
    limit_yen: int | None = None
    note: str = ""


@dataclass
class Estimate:
    age: int | None
    deadline: date
    lines: list[EstimateLine] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why something is not payable

    @property
    def total_yen(self) -> int:
        return sum(line.amount_yen for line in self.lines)

    @property
    def is_payable(self) -> bool:
        return self.total_yen > 0

    @property
    def needs_certificate(self) -> bool:
        return self.total_yen > CERTIFICATE_ABOVE_YEN


def claim_deadline(last_day: date) -> date:
    """The last day a claim may be made: 3 years counted from the day after the event
    ends, so the same calendar date 3 years later (29 Feb → 28 Feb)."""
    try:
        return last_day.replace(year=last_day.year + CLAIM_YEARS)
    except ValueError:
        return date(last_day.year + CLAIM_YEARS, 2, 28)


def stay_days(start: date, end: date) -> int:
    """Admission and discharge day both count."""
    return (end - start).days + 1


def estimate(person: InsuredPerson, contracts: Iterable[Contract], event: Event, *, today: date) -> Estimate:
    """Per contract and benefit: days × daily amount at the age band of the first day,
    limits applied; or the reasons nothing is payable."""
    age = insured_age(person, event.first_day)
    result = Estimate(age=age, deadline=claim_deadline(event.last_day))
    if today > result.deadline:
        result.reasons.append(f"請求期限（{_jp(result.deadline)}）を過ぎているため、お支払いの対象になりません。")
        return result
    in_force = [c for c in contracts if c.insured_person_id == person.id and c.is_in_force_on(event.first_day)]
    if not in_force:
        result.reasons.append(f"{_jp(event.first_day)}に{honorific(person.name)}が被共済者の有効なご契約がありません。")
        return result
    for benefit in event.benefits:
        found = False
        for contract in in_force:
            cover = by_kind(coverage_for_age(contract, age))
            for line in _lines(contract, cover, benefit, event):
                result.lines.append(line)
                found = True
        if not found:
            result.reasons.append(_not_covered(benefit, event))
    return result


def _lines(contract: Contract, cover: dict, benefit: str, event: Event) -> list[EstimateLine]:
    is_kodomo = contract.product.kind == KODOMO
    injury = event.cause != "illness"
    if benefit == "hospital":
        assert event.hospital_from is not None and event.hospital_to is not None
        counted = stay_days(event.hospital_from, event.hospital_to)
        days = min(counted, MAX_HOSPITAL_DAYS)
        note = f"1回の入院{MAX_HOSPITAL_DAYS}日限度（入院{counted}日）" if counted > days else ""
        lines = []
        for kind, line_kind in ((HOSPITAL_KIND[event.cause], "hospital"), ("support_per_day", "support")):
            amount = cover.get(kind)
            if amount is not None and amount.amount_yen:
                lines.append(EstimateLine(contract, line_kind, amount.amount_yen, days, amount.amount_yen * days,
                                          note=note))
        return lines
    if benefit == "outpatient":
        amount = cover.get("outpatient")
        if amount is None or not amount.amount_yen or (is_kodomo and not injury):
            return []
        counted = len(set(event.outpatient_dates))
        days = min(counted, MAX_OUTPATIENT_DAYS)
        note = f"1回の事故・病気につき{MAX_OUTPATIENT_DAYS}日限度（通院{counted}日）" if counted > days else ""
        return [EstimateLine(contract, "outpatient", amount.amount_yen, days, amount.amount_yen * days, note=note)]
    if benefit == "surgery":
        amount = cover.get("surgery")
        if amount is None or not amount.amount_yen:
            return []
        sum_yen = amount.amount_yen
        note = ""
        if is_kodomo and not event.is_surgery_in_hospital:
            sum_yen //= 2  # こども: 5万 in hospital, 2.5万 outpatient
            note = "外来の手術"
        return [EstimateLine(contract, "surgery", sum_yen, None, sum_yen, note=note)]
    if benefit == "fracture":
        amount = cover.get("fracture")
        if amount is None or not amount.amount_yen or not injury:
            return []
        return [EstimateLine(contract, "fracture", amount.amount_yen, None, amount.amount_yen)]
    if benefit == "advanced_care":
        amount = cover.get("advanced_care")
        if amount is None or not amount.amount_yen or not event.advanced_care_fee_yen:
            return []
        paid = min(event.advanced_care_fee_yen, amount.amount_yen)
        note = "技術料（保障額が上限）" if paid < event.advanced_care_fee_yen else "技術料"
        return [EstimateLine(contract, "advanced_care", event.advanced_care_fee_yen, None, paid,
                             limit_yen=amount.amount_yen, note=note)]
    raise ValueError(benefit)


def _not_covered(benefit: str, event: Event) -> str:
    from portal.claims.models import BENEFIT_LABELS

    label = BENEFIT_LABELS[benefit]
    if benefit in ("outpatient", "fracture") and event.cause == "illness":
        return f"{label}は、ご契約の内容により病気の場合は対象になりません。"
    return f"{label}の保障があるご契約がないため、{label}はお支払いの対象になりません。"


def _jp(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"

