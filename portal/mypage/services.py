"""The member's home page: the household at a glance and what needs attention.

Each panel besides the household (procedure and certificate notices, tips, the
support-access history) comes from another feature's service. A panel that
fails is left out in production so that one broken panel never takes the home
page down; in tests and development it raises so that the failure is seen.

The three panels that read the database (procedures in progress, tips, support
access) are read in ONE statement: each owner's statement is a branch of a
UNION ALL, and each owner turns its own rows into what the page shows. A round
trip to the database is the largest cost of a page, and /mypage is the most
visited one.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import Integer, Text, cast, literal_column, null, select, union_all
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal.audit import reports as audit_reports
from portal.certificates import services as certificates
from portal.contracts.services import HEADLINE_DEATH, HEADLINE_HOSPITAL, Household, household_summary
from portal.members.models import Member
from portal.procedures import services as procedures
from portal.tips import services as tips

__all__ = ["HEADLINE_DEATH", "HEADLINE_HOSPITAL", "QUICK_LINKS", "Dashboard", "dashboard", "household_summary",
           "notices_for", "panel"]

log = logging.getLogger(__name__)

NOTICE_LEVELS = ("info", "warning")

# (label, url, description): every procedure a member can do here.
QUICK_LINKS: tuple[tuple[str, str, str], ...] = (
    ("共済金のご請求", "/claims", "入院・手術・通院など、住まいる共済の損害のご報告"),
    ("住所の変更", "/profile/address", "お引越しのとき。住まいる共済の所在地も一緒に"),
    ("電話番号の変更", "/profile/phone", "携帯電話・ご自宅の電話番号"),
    ("メールアドレスの変更", "/profile/email", "お知らせを受け取るアドレス"),
    ("振替口座の変更", "/profile/bank-account", "掛金を引き落とす口座"),
    ("お知らせ方法の設定", "/profile/notifications", "郵送物を減らす・ペーパーレス"),
    ("ログインとセキュリティ", "/account/security", "パスキー・パスワード・ログイン中の端末"),
    ("手続き状況", "/requests", "お申し込みいただいた手続きの進み具合"),
    ("掛金証明書の再発行", "/certificates", "年末調整・確定申告用（10月〜翌年3月）"),
    ("こくみん共済に加入", "/enroll", "ご家族の保障もオンラインで"),
    ("健康チェックキット", "/shop", "組合員価格でご購入"),
    ("ご意見・ご要望", "/voices/new", "組合員・お客さまの声をお寄せください"),
    ("お役立ち情報", "/tips", "暮らしに役立つ記事"),
)


@dataclass
class Dashboard:
    household: Household
    notices: list[dict[str, str]] = field(default_factory=list)
    tips: list[Any] = field(default_factory=list)
    access_history: list[Any] = field(default_factory=list)


def panel(session: Session, source: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Any]:
    """The rows of one My Page panel. A failing panel is logged and left empty in
    production so that the rest of the page still shows; in tests and development
    it raises so that the failure is seen."""
    return _shown(session, source, lambda: list(source(session, *args, **kwargs) or []))


def _shown(session: Session, source: Callable[..., Any], make: Callable[[], list[Any]]) -> list[Any]:
    try:
        return make()
    except Exception as error:
        if not has_app_context() or current_app.config.get("PORTAL_ENV") != "production":
            raise
        log.exception("My Page panel %s.%s failed", source.__module__, source.__qualname__)
        if isinstance(error, SQLAlchemyError):
            session.rollback()  # PostgreSQL refuses further statements in a failed transaction
        return []


# Panels of the combined statement, in its order.
PROCEDURES, TIPS, ACCESS = 1, 2, 3
NOTICES_LIMIT, TIPS_LIMIT, ACCESS_LIMIT = 5, 3, 5


@functools.lru_cache(maxsize=2)
def _panels_statement(tips_statement):
    """The three panels' statements as one UNION ALL, built once per tips statement (its
    audience shape). Every branch has the same columns: panel, at, n, staff_id, t1, t2,
    t3 (each owner's row, see _owner_rows), and keeps its own order and limit inside."""
    def branch(number: int, statement, at: str, n: str, staff_id: str | None, *texts: str):
        sub = statement.subquery()
        return select(literal_column(str(number), Integer).label("panel"), sub.c[at].label("at"),
                      sub.c[n].label("n"),
                      (sub.c[staff_id] if staff_id else cast(null(), Integer)).label("staff_id"),
                      *(cast(sub.c[t], Text).label(f"t{i}") for i, t in enumerate(texts, 1)))

    union = union_all(
        branch(PROCEDURES, procedures.open_notices_statement(), "created_at", "id", None,
               "kind", "status", "receipt_no"),
        branch(TIPS, tips_statement, "published_at", "id", None, "slug", "title", "summary"),
        branch(ACCESS, audit_reports.access_history_statement(), "occurred_at", "id", "actor_staff_id",
               "action", "detail", "name"),
    ).subquery()
    return select(union).order_by(union.c.panel, union.c.at.desc(), union.c.n.desc())


def _owner_rows(session: Session, member: Member) -> dict[int, list[tuple[Any, ...]]]:
    """{panel: rows in the shape of the owner's own statement}, from one statement."""
    tips_statement, tips_parameters = tips.latest_links_statement(member, TIPS_LIMIT)
    parameters = {**tips_parameters, "member_id": member.id, "notices_limit": NOTICES_LIMIT,
                  "access_limit": ACCESS_LIMIT}
    rows: dict[int, list[tuple[Any, ...]]] = {PROCEDURES: [], TIPS: [], ACCESS: []}
    for number, at, n, staff_id, t1, t2, t3 in session.execute(_panels_statement(tips_statement), parameters):
        rows[number].append((at, staff_id, t1, t2, t3, n) if number == ACCESS else (t1, t2, t3, at, n))
    return rows


def _valid_notice(notice: Any) -> dict[str, str] | None:
    if not isinstance(notice, dict) or not notice.get("text"):
        return None
    level = notice.get("level") if notice.get("level") in NOTICE_LEVELS else "info"
    url = str(notice.get("url") or "")
    # Notices only ever link inside the portal.
    if url and (not url.startswith("/") or url.startswith("//")):
        url = ""
    return {"text": str(notice["text"]), "url": url, "level": level}


def notices_for(session: Session, member: Member, on: date,
                procedure_rows: list[tuple[Any, ...]] | None = None) -> list[dict[str, str]]:
    """Warnings first, then information: procedures in progress (from `procedure_rows`
    when the dashboard has read them already), certificate window."""
    if procedure_rows is None:
        from_procedures = panel(session, procedures.open_notices, member)
    else:
        from_procedures = _shown(session, procedures.notices_from_rows,
                                 lambda: procedures.notices_from_rows(procedure_rows))
    raw = from_procedures + panel(session, certificates.dashboard_notices, member, on)
    notices = [n for n in (_valid_notice(r) for r in raw) if n is not None]
    return sorted(notices, key=lambda n: n["level"] != "warning")


def dashboard(session: Session, member: Member, on: date) -> Dashboard:
    """Everything /mypage shows, in two statements whatever the number of contracts:
    the household, and the panels of the other features together."""
    # The cards show two kinds of cover: load only those coverage rows.
    household = household_summary(session, member, on, kinds=(HEADLINE_DEATH, HEADLINE_HOSPITAL))
    rows = _shown(session, _owner_rows, lambda: [_owner_rows(session, member)])
    rows_of = rows[0] if rows else {PROCEDURES: [], TIPS: [], ACCESS: []}
    return Dashboard(
        household=household,
        notices=notices_for(session, member, on, rows_of[PROCEDURES]),
        tips=_shown(session, tips.links_from_rows, lambda: tips.links_from_rows(rows_of[TIPS])),
        access_history=_shown(session, audit_reports.access_entries_from_rows,
                              lambda: audit_reports.access_entries_from_rows(rows_of[ACCESS])),
    )
