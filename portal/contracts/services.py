"""Contracts and what each insured person is covered for.

Cover is always computed from a contract's Coverage rows for the insured
person's age on the day shown (Asia/Tokyo), never from stored totals. Contracts
not in force that day (lapsed, ended, not yet started) are listed apart and
never counted. Every query here is bounded: the household is read in one
statement whatever the number of contracts.
"""
from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from flask import abort
from sqlalchemy import String, and_, bindparam, case, cast, func, literal_column, select
from sqlalchemy.orm import Session, contains_eager, joinedload, raiseload, selectinload

from portal.contracts.catalogue import AGE_MAX
from portal.contracts.models import (CONTRACT_STATUS_LABELS, COVERAGE_KINDS, COVERAGE_LABELS, Contract, Coverage,
                                     PremiumPayment, Product)
from portal.db import in_constants
from portal.jp.dates import add_months, age_on, format_date_jp
from portal.members.models import InsuredPerson, Member

# The two figures a household card shows: 死亡（病気） and 入院日額（病気）.
HEADLINE_DEATH = "death_illness"
HEADLINE_HOSPITAL = "hospital_illness"

# /coverage groups its lines under these headings, in this order.
COVERAGE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("死亡・重度障害", ("death_traffic", "death_accident", "death_illness")),
    ("入院", ("hospital_traffic", "hospital_accident", "hospital_illness", "support_per_day")),
    ("通院・手術など", ("outpatient", "surgery", "advanced_care", "fracture")),
    ("住まい", ("fire_building", "fire_goods", "natural_disaster")),
    ("自動車", ("bodily_injury_liability", "property_damage_liability", "personal_injury", "vehicle")),
    ("年金", ("pension_yearly",)),
)
PER_DAY_KINDS = frozenset({"hospital_traffic", "hospital_accident", "hospital_illness", "support_per_day",
                           "outpatient"})
assert {k for _, kinds in COVERAGE_GROUPS for k in kinds} == set(COVERAGE_KINDS)


# ----------------------------------------------------------------- results

class CoverKind:
    """What the kind of a cover says: its Japanese label, and whether it is paid per day."""

    kind: str

    @property
    def label(self) -> str:
        return COVERAGE_LABELS[self.kind]

    @property
    def is_per_day(self) -> bool:
        return self.kind in PER_DAY_KINDS


@dataclass(frozen=True)
class CoverAmount(CoverKind):
    """One coverage kind of one contract for one age, e.g. 死亡（病気） 400万円."""

    kind: str
    amount_yen: int
    is_unlimited: bool = False


@dataclass(frozen=True)
class NextBand:
    """When a contract's cover next changes with age: at `age`, to `amounts`
    (empty when the cover ends at that age)."""

    age: int
    on: date
    amounts: tuple[CoverAmount, ...]

    @property
    def ends(self) -> bool:
        return not self.amounts


@dataclass
class CoverLine(CoverKind):
    """One kind of cover of one insured person, summed over their contracts in force."""

    kind: str
    amount_yen: int = 0
    is_unlimited: bool = False
    parts: list[tuple[Contract, CoverAmount]] = field(default_factory=list)


@dataclass
class PersonSummary:
    person: InsuredPerson
    age: int | None
    in_force: list[Contract] = field(default_factory=list)
    not_in_force: list[Contract] = field(default_factory=list)
    lines: dict[str, CoverLine] = field(default_factory=dict)
    next_bands: list[tuple[Contract, NextBand]] = field(default_factory=list)

    @property
    def contracts(self) -> list[Contract]:
        return self.in_force + self.not_in_force

    @property
    def monthly_premium_yen(self) -> int:
        return sum(c.premium_yen for c in self.in_force if c.premium_period == "monthly")

    @property
    def yearly_premium_yen(self) -> int:
        return sum(c.premium_yen for c in self.in_force if c.premium_period == "yearly")

    def line(self, kind: str) -> CoverLine | None:
        return self.lines.get(kind)

    @property
    def next_change(self) -> tuple[Contract, NextBand] | None:
        """The first coming change of cover with age among the contracts in force
        (a 59-year-old sees what changes at 60), or None."""
        return min(self.next_bands, key=lambda found: found[1].on) if self.next_bands else None

    @property
    def grouped_lines(self) -> list[tuple[str, list[CoverLine]]]:
        groups = []
        for title, kinds in COVERAGE_GROUPS:
            lines = [self.lines[k] for k in kinds if k in self.lines]
            if lines:
                groups.append((title, lines))
        return groups


@dataclass
class Household:
    member: Member
    on: date
    people: list[PersonSummary]

    @property
    def contracts(self) -> list[Contract]:
        return [c for p in self.people for c in p.contracts]

    @property
    def in_force(self) -> list[Contract]:
        return [c for p in self.people for c in p.in_force]

    @property
    def not_in_force(self) -> list[Contract]:
        return [c for p in self.people for c in p.not_in_force]

    @property
    def monthly_premium_yen(self) -> int:
        return sum(p.monthly_premium_yen for p in self.people)

    @property
    def yearly_premium_yen(self) -> int:
        return sum(p.yearly_premium_yen for p in self.people)


# ----------------------------------------------------------------- age bands

def insured_age(person: InsuredPerson, on: date) -> int | None:
    """Age on `on` (Tokyo calendar date); None before the person was born."""
    return None if on < person.birth_date else age_on(person.birth_date, on)


def coverage_for_age(contract: Contract, age: int | None) -> list[CoverAmount]:
    """The contract's cover for an insured person of `age`, one entry per kind,
    in catalogue order (rows of the same kind and band are added up)."""
    return _amounts_for_age(contract.coverages, age)


def next_band(contract: Contract, person: InsuredPerson, age: int | None) -> NextBand | None:
    """The next age at which this contract's cover changes, and the cover from then.

    None when the cover does not change with age any more (住まいる, マイカー, or
    the last band running to the end of the table).
    """
    return _next_band_of_rows(contract.coverages, person, age)


def _next_band_of_rows(rows, person: InsuredPerson, age: int | None) -> NextBand | None:
    """next_band over coverage rows (Coverage objects or the household's plain rows)."""
    if age is None or not rows:
        return None
    starts = sorted({row.age_from for row in rows if row.age_from > age})
    last_age = max(row.age_to for row in rows)
    if starts:
        change_age = starts[0]
    elif last_age < AGE_MAX and last_age >= age:
        change_age = last_age + 1  # the cover ends when the insured turns this age
    else:
        return None
    return NextBand(age=change_age, on=birthday_at(person.birth_date, change_age),
                    amounts=tuple(_amounts_for_age(rows, change_age)))


def birthday_at(birth: date, age: int) -> date:
    """The day someone born on `birth` turns `age` (29 Feb → 1 Mar in common years,
    the rule portal.jp.dates.age_on uses)."""
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:
        return date(birth.year + age, 3, 1)


# ----------------------------------------------------------------- loading

class _CoverRow(NamedTuple):
    kind: str
    amount_yen: int
    is_unlimited: bool
    age_from: int
    age_to: int


def _amounts_for_age(rows, age: int | None) -> list[CoverAmount]:
    """Cover for `age` from coverage rows (Coverage objects or plain rows with the
    same fields), one entry per kind in catalogue order, same kind and band added up."""
    if age is None:
        return []
    amounts: dict[str, list[int | bool]] = {}
    for row in rows:
        if row.age_from <= age <= row.age_to:
            total = amounts.setdefault(row.kind, [0, False])
            total[0] += row.amount_yen
            total[1] = total[1] or row.is_unlimited
    return [CoverAmount(kind, int(v[0]), bool(v[1]))
            for kind, v in sorted(amounts.items(), key=lambda kv: _KIND_ORDER[kv[0]])]


_KIND_ORDER = {k: i for i, k in enumerate(COVERAGE_KINDS)}


@functools.lru_cache(maxsize=16)
def _household_statement(kinds: tuple[str, ...] | None):
    """The household statement for one choice of coverage kinds, built once.

    Every /mypage, /coverage and /contracts runs it: a prebuilt statement with the
    member as a bound parameter skips building the select and generating its cache
    key (SQLAlchemy memoises the key on the statement object) on each request.
    One row per insured person and contract: the contract's coverage rows come as
    one text column ("kind:amount:unlimited:age_from:age_to" joined by ";", from a
    subquery per contract on the coverages' contract index), not as Coverage
    objects and not as one joined row each. Nothing here changes them, and turning
    ~40 joined rows per household into objects was most of the cost of /coverage.
    Contract.coverages is refused (raiseload) so that nothing reads the table a
    second time by accident.
    """
    member_id = bindparam("member_id")
    if kinds == ():
        cover = literal_column("NULL", String)
    else:
        one_row = (Coverage.kind + ":" + cast(Coverage.amount_yen, String) + ":"
                   + case((Coverage.is_unlimited, "1"), else_="0") + ":"
                   + cast(Coverage.age_from, String) + ":" + cast(Coverage.age_to, String))
        rows_of_contract = select(func.aggregate_strings(one_row, ";")).where(Coverage.contract_id == Contract.id)
        if kinds is not None:
            rows_of_contract = rows_of_contract.where(in_constants(Coverage.kind, kinds))
        cover = rows_of_contract.scalar_subquery()
    return (
        select(InsuredPerson, Contract, cover.label("cover"))
        .outerjoin(Contract, and_(Contract.insured_person_id == InsuredPerson.id,
                                  Contract.member_id == member_id))
        .outerjoin(Product, Product.id == Contract.product_id)
        .where(InsuredPerson.member_id == member_id)
        .options(contains_eager(Contract.product), raiseload(Contract.coverages))
        .order_by(InsuredPerson.id, Contract.start_date, Contract.id)
    )


def _cover_rows(cover: str | None) -> list[_CoverRow]:
    rows = []
    for one in cover.split(";") if cover else ():
        kind, amount_yen, is_unlimited, age_from, age_to = one.split(":")
        rows.append(_CoverRow(kind, int(amount_yen), is_unlimited == "1", int(age_from), int(age_to)))
    return rows


def _household_rows(session: Session, member: Member, kinds: Collection[str] | None = None,
                    ) -> list[tuple[InsuredPerson, Contract | None, list[_CoverRow]]]:
    """Every insured person of the household with each of their contracts and the
    contract's coverage rows.

    ONE statement for 1 or 500 contracts: persons outer-joined to their contracts,
    each contract's product and its coverage rows (a subquery per contract). A
    second statement for the coverages would cost a round trip on every /mypage
    and /coverage.

    With `kinds`, only coverage rows of those kinds are read (the home page needs
    two; /contracts none).
    """
    stmt = _household_statement(None if kinds is None else tuple(sorted(kinds)))
    return [(person, contract, _cover_rows(cover))
            for person, contract, cover in session.execute(stmt, {"member_id": member.id})]


def household_summary(session: Session, member: Member, on: date, *,
                      kinds: Collection[str] | None = None) -> Household:
    """The household on `on`: per insured person their age, contracts in force
    and not, premiums, and the sum of each kind of cover for their age that day
    (only of `kinds` when given, none when `kinds` is empty: see _household_rows)."""
    people: dict[int, PersonSummary] = {}
    for person, contract, cover_rows in _household_rows(session, member, kinds):
        summary = people.get(person.id)
        if summary is None:
            summary = people[person.id] = PersonSummary(person=person, age=insured_age(person, on))
        if contract is None:
            continue
        if contract.is_in_force_on(on):
            summary.in_force.append(contract)
            for amount in _amounts_for_age(cover_rows, summary.age):
                line = summary.lines.setdefault(amount.kind, CoverLine(amount.kind))
                line.amount_yen += amount.amount_yen
                line.is_unlimited = line.is_unlimited or amount.is_unlimited
                line.parts.append((contract, amount))
            band = _next_band_of_rows(cover_rows, person, summary.age)
            if band is not None:
                summary.next_bands.append((contract, band))
        else:
            summary.not_in_force.append(contract)
    for summary in people.values():
        summary.lines = dict(sorted(summary.lines.items(), key=lambda kv: _KIND_ORDER[kv[0]]))
    return Household(member=member, on=on, people=list(people.values()))


def coverage_totals(session: Session, member: Member, on: date) -> dict[int, dict[str, CoverLine]]:
    """{insured_person_id: {kind: CoverLine}} for the contracts in force on `on`."""
    return {p.person.id: p.lines for p in household_summary(session, member, on).people}


def get_contract_or_404(session: Session, member: Member, contract_no: str) -> Contract:
    """The member's contract with this number, or 404 (never 403: another
    member's number must look exactly like a number that does not exist)."""
    contract = session.scalar(
        select(Contract)
        .where(Contract.contract_no == contract_no.strip(), Contract.member_id == member.id)
        .options(joinedload(Contract.product), joinedload(Contract.insured_person),
                 joinedload(Contract.debit_account), selectinload(Contract.coverages),
                 selectinload(Contract.premium_changes))
    )
    if contract is None:
        abort(404)
    return contract


def recent_payments(session: Session, contract: Contract, on: date, months: int = 12) -> list[PremiumPayment]:
    """Payments for the last `months` months up to `on`, newest first."""
    since = add_months(on.replace(day=1), -months)
    rows = session.scalars(
        select(PremiumPayment)
        .where(PremiumPayment.contract_id == contract.id, PremiumPayment.period >= since,
               PremiumPayment.period <= on)
        .order_by(PremiumPayment.period.desc())
    ).all()
    return list(rows[:months])


@dataclass(frozen=True)
class PremiumStep:
    effective_from: date
    premium_yen: int
    reason: str
    change_yen: int | None  # against the previous amount; None for the first


def premium_history(contract: Contract) -> list[PremiumStep]:
    """Each premium the contract has had, newest first, with the reason and the change."""
    steps: list[PremiumStep] = []
    previous: int | None = None
    for change in sorted(contract.premium_changes, key=lambda c: (c.effective_from, c.id or 0)):
        steps.append(PremiumStep(change.effective_from, change.premium_yen, change.reason,
                                 None if previous is None else change.premium_yen - previous))
        previous = change.premium_yen
    return steps[::-1]


@dataclass(frozen=True)
class ProcedureLink:
    url: str
    label: str
    note: str = ""


def procedures_for(contract: Contract) -> list[ProcedureLink]:
    """The member's own procedures that apply to this contract."""
    links: list[ProcedureLink] = []
    if contract.product.kind.startswith("kokumin"):
        links.append(ProcedureLink(f"/claims/new?person={contract.insured_person_id}", "共済金を請求する", "入院・手術・通院などをオンラインで請求できます。"))
    elif contract.product.kind == "sumairu":
        links.append(ProcedureLink("/claims/damage/new", "建物・家財の損害を報告する",
                                   "火災・台風などの損害をご報告ください。立会い調査の日程をご提案します。"))
    links += [ProcedureLink("/profile/bank-account", "掛金の振替口座を変更する",
                           "口座振替のご契約の引落口座を変更します。")]
    if contract.product.kind == "sumairu":
        links.append(ProcedureLink("/profile/address", "住所・保険の対象の所在地を変更する",
                                   "お引越しのときは、ご住所と一緒にこのご契約の所在地も変更できます。"))
    else:
        links.append(ProcedureLink("/profile/address", "住所を変更する"))
    if contract.product.deduction_category != "none":
        links.append(ProcedureLink("/certificates", "共済掛金証明書を再発行する",
                                   f"このご契約の掛金は「{contract.product.deduction_label}」の控除の対象です。"))
    if contract.product.kind.startswith("kokumin"):
        links.append(ProcedureLink("/enroll", "こくみん共済に新しく加入する"))
    if contract.product.kind in ("kokumin_sogo", "kokumin_iryo"):
        links.append(ProcedureLink(f"/contracts/{contract.contract_no}/beneficiary", "死亡共済金の受取人を確認・変更する",
                                   "指定がなければ共済規約の順位でお受け取りいただきます。"))
    if contract.status not in ("ended", "lapsed"):
        links.append(ProcedureLink(f"/contracts/{contract.contract_no}/cancel", "このご契約を解約する",
                                   "保障の終わる日と最後のお引き落とし・返金額を確認してからお申し込みいただけます。"))
    links.append(ProcedureLink("/changes/proxy-claimant", "指定代理請求人を指定する"))
    links.append(ProcedureLink("/documents", "共済規約・重要事項説明書を見る"))
    links.append(ProcedureLink("/requests", "手続き状況を確認する"))
    links.append(ProcedureLink("/voices/new", "ご意見・ご要望を送る"))
    return links


def contract_state(contract: Contract, on: date) -> tuple[str, str]:
    """(code, label) of a contract on a day: 有効, 開始前, 失効, 満了・解約.

    The stored status says lapsed/ended; a contract stored as in force but starting
    later (enrolment approved for next month) is 開始前 until its start date.
    """
    if contract.is_in_force_on(on):
        return "in_force", CONTRACT_STATUS_LABELS["in_force"]
    if contract.status in ("lapsed", "ended"):
        return contract.status, CONTRACT_STATUS_LABELS[contract.status]
    if on < contract.start_date:
        return "pending", f"{CONTRACT_STATUS_LABELS['pending']}（{format_date_jp(contract.start_date)}から）"
    return "ended", CONTRACT_STATUS_LABELS["ended"]


def by_kind(amounts: list[CoverAmount]) -> dict[str, CoverAmount]:
    return {a.kind: a for a in amounts}


__all__ = [
    "CoverAmount", "CoverLine", "Household", "NextBand", "PersonSummary", "PremiumStep", "ProcedureLink",
    "birthday_at", "by_kind", "contract_state", "coverage_for_age", "coverage_totals", "get_contract_or_404", "household_summary",
    "insured_age", "next_band", "premium_history", "procedures_for", "recent_payments",
]
