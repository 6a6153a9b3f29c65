"""The staff console's member search and the read-only member overview."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from portal import audit
from portal.audit.reports import AccessEntry, access_history
from portal.jp.errors import JpValueError
from portal.jp.phone import mask_phone
from portal.jp.text import digits_only, kana_search_key, normalize
from portal.members.models import Member
from portal.pagination import Pagination
from portal.staff.acting import MEMBER_STATUS_LABELS, acting_refusal
from portal.staff.accounts import StaffError


# --- member search -----------------------------------------------------------------
def mask_name(name: str) -> str:
    """山田 太郎 → 山田 ＊＊: enough to confirm a caller, not to read off a list."""
    family, _, given = name.partition(" ")
    if not given:
        return name[:1] + "＊" * (len(name) - 1)
    return f"{family} " + "＊" * len(given)


@dataclass
class MemberHit:
    id: int
    member_no: str
    name_masked: str
    name_kana: str
    birth_year: int
    phone_masked: str
    prefecture: str
    status: str

    @property
    def status_label(self) -> str:
        return MEMBER_STATUS_LABELS.get(self.status, self.status)


TOTAL_CAP = 1000


@dataclass
class SearchResult(Pagination):
    query: str
    kind: str  # "number" or "kana"
    hits: list[MemberHit]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, TOTAL_CAP) // self.per_page))

    @property
    def is_capped(self) -> bool:
        return self.total > TOTAL_CAP


def search_members(session: Session, query: str, *, page: int = 1, per_page: int = 20) -> SearchResult:
    """By 組合員番号, 証書番号 or phone (digits, hyphens and 全角 accepted, exact match),
    or by フリガナ (ｶﾅ, かな, カナ): the start of the family name, the whole name, or
    the start of the given name."""
    from portal.contracts.models import Contract

    text = normalize(query)
    if not text:
        raise StaffError("組合員番号・証書番号・電話番号・フリガナのいずれかを入力してください", "q")
    try:
        digits = digits_only(text)
    except JpValueError:
        digits = ""
    if digits:
        kind = "number"
        # One indexed lookup per kind of number, joined by UNION: an OR across the
        # three would make PostgreSQL read the whole members table.
        branches = [Member.member_no == digits, Member.phone == digits,
                    Member.id.in_(select(Contract.member_id).where(Contract.contract_no == digits))]
    else:
        kind = "kana"
        key = kana_search_key(text)
        if not re.fullmatch(r"[ァ-ヺー]+", key):
            raise StaffError("氏名はフリガナ（カタカナまたはひらがな）で入力してください", "q")
        # The stored keys are indexed with the result order, (key, member_no) and
        # (given key, key, member_no): each branch is a range scan of its index that
        # stops after the rows the page needs; an OR would walk a whole index.
        branches = [Member.name_kana_key.startswith(key, autoescape=True),
                    Member.given_kana_key.startswith(key, autoescape=True)]
    # Counted up to TOTAL_CAP: a common family name at a million members would
    # otherwise be counted row by row on every page of results.
    capped = union(*(select(select(Member.id).where(b).limit(TOTAL_CAP + 1).subquery()) for b in branches)).subquery()
    total = min(session.scalar(select(func.count()).select_from(capped)) or 0, TOTAL_CAP + 1)
    page = max(1, min(page, -(-min(total, TOTAL_CAP) // per_page) or 1))
    needed = page * per_page
    order = (Member.name_kana_key, Member.member_no)
    firsts = union(*(select(select(Member.id, *order).where(b).order_by(*order).limit(needed).subquery())
                     for b in branches)).subquery()
    ids = select(firsts.c.id).order_by(firsts.c.name_kana_key, firsts.c.member_no).offset(needed - per_page)\
        .limit(per_page)
    rows = session.scalars(select(Member).where(Member.id.in_(ids)).order_by(*order))
    hits = [MemberHit(id=m.id, member_no=m.member_no, name_masked=mask_name(m.name), name_kana=m.name_kana,
                      birth_year=m.birth_date.year, phone_masked=mask_phone(m.phone), prefecture=m.prefecture,
                      status=m.status) for m in rows]
    return SearchResult(query=text, kind=kind, hits=hits, total=total, page=page, per_page=per_page)


def find_members(session: Session, query: str, *, page: int = 1) -> SearchResult:
    """search_members for a staff user: the search goes into the audit log (what kind
    of query and how many hits, never the query itself)."""
    result = search_members(session, query, page=page)
    audit.record("staff.member_search", detail={"kind": result.kind, "hits": result.total, "page": result.page},
                 session=session)
    return result


@dataclass
class MemberOverview:
    member: Member
    contracts: list[Any]
    procedures: list[Any]
    debit_accounts: list[Any]
    history: list[AccessEntry]
    can_act: bool
    refusal: str | None


def member_overview(session: Session, member_id: int) -> MemberOverview | None:
    """Everything the console shows about an opened member, read-only."""
    from portal.contracts.models import Contract
    from portal.members.models import DebitAccount
    from portal.procedures.models import ProcedureRequest

    member = session.get(Member, member_id)
    if member is None:
        return None
    contracts = list(session.scalars(select(Contract).where(Contract.member_id == member.id)
                                     .order_by(Contract.start_date, Contract.contract_no)))
    procedures = list(session.scalars(select(ProcedureRequest).where(ProcedureRequest.member_id == member.id)
                                      .order_by(ProcedureRequest.created_at.desc()).limit(20)))
    accounts = list(session.scalars(select(DebitAccount).where(DebitAccount.member_id == member.id,
                                                               DebitAccount.is_current.is_(True))))
    refusal = acting_refusal(session, member)
    return MemberOverview(member=member, contracts=contracts, procedures=procedures, debit_accounts=accounts,
                          history=access_history(session, member.id, limit=10), can_act=refusal is None,
                          refusal=refusal)


def open_member(session: Session, member_id: int) -> MemberOverview | None:
    """The overview a staff user opens; the member is told of it in their access history."""
    overview = member_overview(session, member_id)
    if overview is not None:
        audit.record("staff.member_open", target_type="member", target_id=member_id, member_id=member_id,
                     session=session)
    return overview
