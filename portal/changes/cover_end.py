"""Contracts end at the product's cover age: こども保障 at the renewal
following the 18th birthday, 総合保障 and 医療保障 at the renewal following the
85th. The contract page shows the day; a notice goes 60 days before."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from portal.changes.models import CoverEndNotice
from portal.contracts.models import Contract, Product
from portal.contracts.services import birthday_at
from portal.members.models import InsuredPerson, Member
from portal.messaging.services import queue_notice

COVER_END_AGE = {"kokumin_kodomo": 18, "kokumin_sogo": 85, "kokumin_iryo": 85}
NOTICE_DAYS_BEFORE = 60


@dataclass(frozen=True)
class CoverEnd:
    last_day: date      # the last day with cover
    age: int            # the age whose following renewal ends the contract
    offers_adult_plan: bool

    @property
    def first_day_without(self) -> date:
        return self.last_day + timedelta(days=1)


def _anniversary(start: date, year: int) -> date:
    try:
        return start.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


def cover_end(contract: Contract) -> CoverEnd | None:
    """When the contract's cover ends because of the insured person's age, or None."""
    age = COVER_END_AGE.get(contract.product.kind)
    if age is None or contract.status in ("ended", "lapsed"):
        return None
    birthday = birthday_at(contract.insured_person.birth_date, age)
    renewal = _anniversary(contract.start_date, birthday.year)
    if renewal < birthday:
        renewal = _anniversary(contract.start_date, birthday.year + 1)
    return CoverEnd(renewal - timedelta(days=1), age, contract.product.kind == "kokumin_kodomo")


def notice_text(contract: Contract, end: CoverEnd) -> tuple[str, str]:
    person = contract.insured_person
    day = f"{end.last_day.year}年{end.last_day.month}月{end.last_day.day}日"
    body = (f"{person.name}さまの{contract.product.name}（証書番号 {contract.masked_no}）は、"
            f"{end.age}歳を迎えられた後の更新日の前日、{day}で保障期間が満了します。")
    if end.offers_adult_plan:
        body += ("引き続き保障をご希望の場合は、大人向けのこくみん共済（総合保障タイプ・医療保障タイプ）に"
                 "マイページの「加入のお申込み」からお申し込みいただけます。")
    return "【ご案内】保障期間満了のお知らせ", body


def contracts_ending_soon(session: Session, on: date) -> list[tuple[Contract, CoverEnd]]:
    """In-force contracts whose cover ends within NOTICE_DAYS_BEFORE days of `on`
    and that have had no notice yet."""
    found: list[tuple[Contract, CoverEnd]] = []
    for kind, age in COVER_END_AGE.items():
        # the birthday falls between a year before the end and the end itself
        born_after = birthday_at(on - timedelta(days=366 + NOTICE_DAYS_BEFORE), -age)
        born_before = birthday_at(on + timedelta(days=NOTICE_DAYS_BEFORE + 1), -age)
        rows = session.scalars(
            select(Contract).join(Product).join(InsuredPerson, InsuredPerson.id == Contract.insured_person_id)
            .outerjoin(CoverEndNotice, CoverEndNotice.contract_id == Contract.id)
            .where(Product.kind == kind, Contract.status == "in_force", CoverEndNotice.id.is_(None),
                   InsuredPerson.birth_date > born_after, InsuredPerson.birth_date <= born_before)
            .options(joinedload(Contract.product), joinedload(Contract.insured_person))
        ).unique()
        for contract in rows:
            end = cover_end(contract)
            if end and on <= end.last_day <= on + timedelta(days=NOTICE_DAYS_BEFORE):
                found.append((contract, end))
    return found


def send_cover_end_notices(session: Session, on: date) -> int:
    """Queue one notice per contract ending soon; safe to run every day and on
    several servers (the unique contract row makes the second attempt a no-op)."""
    sent = 0
    for contract, end in contracts_ending_soon(session, on):
        try:
            with session.begin_nested():
                session.add(CoverEndNotice(contract_id=contract.id, cover_ends_on=end.last_day))
                session.flush()
                member = session.get(Member, contract.member_id)
                assert member is not None
                subject, body = notice_text(contract, end)
                queue_notice(session, member, subject, f"{member.name}様\n{body}", topic="procedure")
        except IntegrityError:
            continue  # another run got there first
        sent += 1
    return sent
