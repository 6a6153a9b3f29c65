"""Tips: the editor's rules (slugs, images, workflow, revisions) and the members' queries.

Services take a Session and plain values, flush and never commit. Errors are
`TipError` with a Japanese message and the form field it belongs to.
"""
from __future__ import annotations

import functools
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, not_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload

from portal import audit
from portal.clock import today, utcnow
from portal.contracts.models import Contract, Product
from portal.db import in_constants
from portal.jp.dates import age_on
from portal.members.models import InsuredPerson, Member
from portal.tips.errors import TipError
from portal.tips.images import store_cover_image
from portal.tips.models import AUDIENCES, TIP_STATUSES, Tip, TipCategory, TipRevision

DEFAULT_CATEGORIES = (("health", "健康", 10), ("living", "暮らし", 20), ("seasonal-food", "季節の食べもの", 30),
                      ("ceremony", "冠婚葬祭マナー", 40))
PAGE_SIZE = 10
SLUG_MAX = 80
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CATEGORY_CODE_RE = SLUG_RE


# Which status may follow which (draft → scheduled → published → archived, and back where sensible).
TRANSITIONS = {
    "draft": {"scheduled", "published"},
    "scheduled": {"draft", "published"},
    "published": {"archived"},
    "archived": {"draft", "published"},
}
CHILD_AGE_LIMIT = 18
SENIOR_AGE = 60


@dataclass
class TipInput:
    title: str
    summary: str
    body_md: str
    category_id: int
    audience: str = "everyone"
    slug: str | None = None
    cover: bytes | None = None  # a newly uploaded file, raw
    remove_cover: bool = False


# --- categories ------------------------------------------------------------------
def ensure_categories(session: Session) -> list[TipCategory]:
    existing = {c.code for c in session.scalars(select(TipCategory))}
    for code, name, order in DEFAULT_CATEGORIES:
        if code not in existing:
            session.add(TipCategory(code=code, name=name, sort_order=order))
    session.flush()
    return list_categories(session)


def list_categories(session: Session) -> list[TipCategory]:
    return list(session.scalars(select(TipCategory).order_by(TipCategory.sort_order, TipCategory.id)))


def add_category(session: Session, name: str, code: str | None = None) -> TipCategory:
    name = unicodedata.normalize("NFKC", name or "").strip()
    if not name:
        raise TipError("カテゴリ名を入力してください。", "name")
    if len(name) > 30:
        raise TipError("カテゴリ名は30文字以内で入力してください。", "name")
    code = unicodedata.normalize("NFKC", code or "").strip().lower()
    if code:
        if not CATEGORY_CODE_RE.match(code) or len(code) > 40:
            raise TipError("コードは半角英小文字・数字・ハイフンで入力してください。", "code")
    else:
        code = _ascii_slug(name) or f"category-{secrets.token_hex(2)}"
    if session.scalar(select(TipCategory.id).where(TipCategory.name == name)) is not None:
        raise TipError("同じ名前のカテゴリがすでにあります。", "name")
    if session.scalar(select(TipCategory.id).where(TipCategory.code == code)) is not None:
        raise TipError("このコードはすでに使われています。別のコードを入力してください。", "code")
    order = (session.scalar(select(func.max(TipCategory.sort_order))) or 0) + 10
    category = TipCategory(code=code, name=name, sort_order=order)
    session.add(category)
    session.flush()
    audit.record("tip_category.create", target_type="tip_category", target_id=category.id,
                 detail={"code": code, "name": name})
    return category


# --- slugs ------------------------------------------------------------------------
def _ascii_slug(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:60].rstrip("-")


def generate_slug(title: str, on: date | None = None) -> str:
    """A readable ASCII slug: the title's own words when it has enough of them
    (an English title), otherwise tip-YYYYMMDD-xxxx for a Japanese title."""
    ascii_part = _ascii_slug(title)
    non_ascii = sum(1 for ch in unicodedata.normalize("NFKC", title) if ord(ch) > 127)
    if len(ascii_part) >= 3 and non_ascii == 0:
        return ascii_part
    return f"tip-{(on or today()):%Y%m%d}-{secrets.token_hex(2)}"


def normalize_slug(value: str) -> str:
    slug = unicodedata.normalize("NFKC", value or "").strip().lower()
    if not SLUG_RE.match(slug) or len(slug) > SLUG_MAX:
        raise TipError("スラッグは半角英小文字・数字・ハイフン（80文字以内）で入力してください。", "slug")
    return slug


def slug_taken(session: Session, slug: str, *, except_id: int | None = None) -> bool:
    query = select(Tip.id).where(Tip.slug == slug)
    if except_id is not None:
        query = query.where(Tip.id != except_id)
    return session.scalar(query) is not None


def _unique_slug(session: Session, requested: str | None, title: str, *, except_id: int | None = None) -> str:
    if requested and requested.strip():
        slug = normalize_slug(requested)
        if slug_taken(session, slug, except_id=except_id):
            raise TipError(f"スラッグ「{slug}」はほかの記事で使われています。別のスラッグを入力してください。", "slug")
        return slug
    slug = generate_slug(title)
    base, n = slug, 2
    while slug_taken(session, slug, except_id=except_id):
        slug = generate_slug(title) if base.startswith("tip-") else f"{base}-{n}"
        n += 1
    return slug


# --- editing ----------------------------------------------------------------------
def _clean_text(value: str | None) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


def _validated(session: Session, data: TipInput) -> tuple[str, str, str]:
    title = _clean_text(data.title)
    summary = _clean_text(data.summary)
    body = (data.body_md or "").replace("\r\n", "\n").strip()  # Markdown: keep the editor's characters
    if not title:
        raise TipError("タイトルを入力してください。", "title")
    if len(title) > 120:
        raise TipError("タイトルは120文字以内で入力してください。", "title")
    if not summary:
        raise TipError("概要を入力してください。", "summary")
    if len(summary) > 300:
        raise TipError("概要は300文字以内で入力してください。", "summary")
    if not body:
        raise TipError("本文を入力してください。", "body_md")
    if data.audience not in AUDIENCES:
        raise TipError("対象を選んでください。", "audience")
    if session.get(TipCategory, data.category_id) is None:
        raise TipError("カテゴリを選んでください。", "category_id")
    return title, summary, body


def save_revision(session: Session, tip: Tip, staff_id: int | None, note: str | None = None) -> TipRevision:
    number = (session.scalar(select(func.max(TipRevision.number)).where(TipRevision.tip_id == tip.id)) or 0) + 1
    revision = TipRevision(tip_id=tip.id, number=number, title=tip.title, slug=tip.slug,
                           category_id=tip.category_id, summary=tip.summary, body_md=tip.body_md,
                           cover_key=tip.cover_key, cover_content_type=tip.cover_content_type,
                           audience=tip.audience, note=note, saved_by_staff_id=staff_id)
    session.add(revision)
    session.flush()
    return revision


def _flush_slug(session: Session, slug: str) -> None:
    """The unique index is the last word when two editors take a slug at once."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        raise TipError(f"スラッグ「{slug}」はほかの記事で使われています。別のスラッグを入力してください。",
                       "slug") from error


def create_tip(session: Session, data: TipInput, *, staff_id: int | None) -> Tip:
    title, summary, body = _validated(session, data)
    slug = _unique_slug(session, data.slug, title)
    cover_key = content_type = None
    if data.cover:
        cover_key, content_type = store_cover_image(data.cover)
    tip = Tip(slug=slug, title=title, summary=summary, body_md=body, category_id=data.category_id,
              audience=data.audience, cover_key=cover_key, cover_content_type=content_type, status="draft",
              created_by_staff_id=staff_id, updated_by_staff_id=staff_id)
    session.add(tip)
    _flush_slug(session, slug)
    save_revision(session, tip, staff_id, "作成")
    audit.record("tip.create", target_type="tip", target_id=tip.id, detail={"slug": slug, "title": title})
    return tip


def get_tip(session: Session, tip_id: int) -> Tip:
    tip = session.get(Tip, tip_id)
    if tip is None:
        raise TipError("記事が見つかりません。")
    return tip


def _check_version(tip: Tip, expected_version: int | None) -> None:
    if expected_version is not None and tip.version != expected_version:
        raise TipError("ほかの担当者がこの記事を先に更新しました。最新の内容を確認してから、もう一度保存してください。")


def update_tip(session: Session, tip_id: int, data: TipInput, *, staff_id: int | None,
               expected_version: int | None = None) -> Tip:
    tip = get_tip(session, tip_id)
    _check_version(tip, expected_version)
    title, summary, body = _validated(session, data)
    slug = _unique_slug(session, data.slug, title, except_id=tip.id) if (data.slug or "").strip() else tip.slug
    if data.cover:
        tip.cover_key, tip.cover_content_type = store_cover_image(data.cover)
    elif data.remove_cover:
        tip.cover_key = tip.cover_content_type = None
    tip.title, tip.summary, tip.body_md, tip.slug = title, summary, body, slug
    tip.category_id, tip.audience, tip.updated_by_staff_id = data.category_id, data.audience, staff_id
    _flush_slug(session, slug)
    save_revision(session, tip, staff_id)
    audit.record("tip.update", target_type="tip", target_id=tip.id, detail={"slug": slug})
    return tip


def restore_revision(session: Session, tip_id: int, revision_id: int, *, staff_id: int | None) -> Tip:
    tip = get_tip(session, tip_id)
    revision = session.get(TipRevision, revision_id)
    if revision is None or revision.tip_id != tip.id:
        raise TipError("版が見つかりません。")
    if slug_taken(session, revision.slug, except_id=tip.id):
        raise TipError(f"この版のスラッグ「{revision.slug}」はほかの記事で使われているため復元できません。", "slug")
    for name in ("title", "slug", "category_id", "summary", "body_md", "cover_key", "cover_content_type",
                 "audience"):
        setattr(tip, name, getattr(revision, name))
    tip.updated_by_staff_id = staff_id
    session.flush()
    save_revision(session, tip, staff_id, f"第{revision.number}版から復元")
    audit.record("tip.restore_revision", target_type="tip", target_id=tip.id,
                 detail={"revision": revision.number})
    return tip


# --- workflow ---------------------------------------------------------------------
def _publish(tip: Tip, at: datetime, *, via: str) -> None:
    tip.status = "published"
    tip.published_at = at
    tip.archived_at = None
    audit.record("tip.publish", target_type="tip", target_id=tip.id,
                 detail={"slug": tip.slug, "via": via, "published_at": at.isoformat()})


def change_status(session: Session, tip_id: int, target: str, *, staff_id: int | None,
                  publish_at: datetime | None = None) -> Tip:
    """Move an article along the workflow; a scheduled one needs a future Tokyo date-time."""
    if target not in TIP_STATUSES:
        raise TipError("この操作はできません。")
    tip = get_tip(session, tip_id)
    if target not in TRANSITIONS[tip.status]:
        raise TipError(f"「{tip.status_label}」の記事はこの状態に変更できません。")
    now = utcnow()
    tip.updated_by_staff_id = staff_id
    if target == "scheduled":
        if publish_at is None:
            raise TipError("公開日時を入力してください。", "publish_at")
        if publish_at.tzinfo is None:
            raise ValueError("publish_at must be timezone-aware")
        if publish_at <= now:
            raise TipError("公開日時は現在より後の日時を入力してください。", "publish_at")
        tip.status, tip.publish_at = "scheduled", publish_at
        audit.record("tip.schedule", target_type="tip", target_id=tip.id,
                     detail={"slug": tip.slug, "publish_at": publish_at.isoformat()})
    elif target == "published":
        tip.publish_at = None
        _publish(tip, now, via="editor")
    elif target == "draft":
        action = "tip.unschedule" if tip.status == "scheduled" else "tip.reopen"
        tip.status, tip.publish_at = "draft", None
        audit.record(action, target_type="tip", target_id=tip.id, detail={"slug": tip.slug})
    else:  # archived
        tip.status, tip.archived_at = "archived", now
        audit.record("tip.archive", target_type="tip", target_id=tip.id, detail={"slug": tip.slug})
    session.flush()
    return tip


def publish_due(session: Session, now: datetime | None = None, limit: int = 200) -> list[Tip]:
    """Publish every scheduled article whose time has come. Idempotent, and safe
    from cron on several servers at once: on PostgreSQL the rows are claimed with
    FOR UPDATE SKIP LOCKED, so two runs never publish (or audit) the same one twice."""
    now = now or utcnow()
    query = (select(Tip).where(Tip.status == "scheduled", Tip.publish_at <= now)
             .order_by(Tip.publish_at, Tip.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Tip)
    due = list(session.scalars(query))
    for tip in due:
        scheduled_for = tip.publish_at or now
        tip.publish_at = None
        _publish(tip, scheduled_for, via="schedule")
    session.flush()
    return due


# --- members' pages ---------------------------------------------------------------
def published_query():
    return select(Tip).where(Tip.status == "published")


def list_published(session: Session, *, category_code: str | None = None, page: int = 1,
                   per_page: int = PAGE_SIZE) -> tuple[list[Tip], int]:
    """(tips on the page, total count), newest first."""
    query = published_query()
    if category_code:
        query = query.join(TipCategory, Tip.category_id == TipCategory.id).where(TipCategory.code == category_code)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(page, 1)
    tips = session.scalars(query.order_by(Tip.published_at.desc(), Tip.id.desc())
                           .offset((page - 1) * per_page).limit(per_page))
    return list(tips), total


def get_published(session: Session, slug: str) -> Tip | None:
    return session.scalar(published_query().where(Tip.slug == slug))


def related_tips(session: Session, tip: Tip, limit: int = 3) -> list[Tip]:
    return list(session.scalars(published_query().where(Tip.category_id == tip.category_id, Tip.id != tip.id)
                                .order_by(Tip.published_at.desc(), Tip.id.desc()).limit(limit)))


def _household_conditions(member_id: Any, on: Any, child_born_after: Any):
    """SQL conditions: a child under 18 in the household; 住まいる共済 (fire cover) in force.
    Each argument is a value or a bound parameter (the cached My Page statement)."""
    has_child = select(InsuredPerson.id).where(
        InsuredPerson.member_id == member_id, InsuredPerson.relation == "child",
        InsuredPerson.birth_date > child_born_after).exists()
    # The SQL form of Contract.is_in_force_on.
    has_fire_cover = select(Contract.id).join(Product, Contract.product_id == Product.id).where(
        Contract.member_id == member_id, Product.kind == "sumairu", Contract.start_date <= on,
        or_(Contract.end_date > on,
            and_(Contract.end_date.is_(None), not_(in_constants(Contract.status, ("lapsed", "ended")))))).exists()
    return has_child, has_fire_cover


def _child_born_after(on: date) -> date:
    """Under 18 on `on` ⇔ born after the same day 18 years earlier (a 29 Feb `on` maps to
    28 Feb, which keeps age_on's rule that 29 Feb birthdays count from 1 March in common years)."""
    return _years_before(on, CHILD_AGE_LIMIT)


def audiences_for(session: Session, member: Member, on: date | None = None) -> set[str]:
    """The audiences a member belongs to: children under 18 in the household,
    aged 60 or over, holding 住まいる共済 (fire cover) in force."""
    on = on or today()
    audiences = {"everyone"}
    child, fire = session.execute(select(*_household_conditions(member.id, on, _child_born_after(on)))).one()
    if child:
        audiences.add("children")
    if age_on(member.birth_date, on) >= SENIOR_AGE:
        audiences.add("senior")
    if fire:
        audiences.add("sumairu")
    return audiences


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year - years, day=28)


@functools.lru_cache(maxsize=4)
def _latest_for_member_statement(senior: bool, links: bool = False):
    """The newest published tips for a household, built once per audience shape (with
    or without the senior tips) and per result (Tip objects, or link rows for My Page):
    the member, the day and the limit are bound parameters (member_id, on,
    child_born_after, tips_limit)."""
    has_child, has_fire_cover = _household_conditions(bindparam("member_id"), bindparam("on"),
                                                      bindparam("child_born_after"))
    audience = [Tip.audience == "everyone", and_(Tip.audience == "children", has_child),
                and_(Tip.audience == "sumairu", has_fire_cover)]
    if senior:
        audience.append(Tip.audience == "senior")
    if links:
        query = published_query().with_only_columns(Tip.slug, Tip.title, Tip.summary, Tip.published_at, Tip.id)
    else:
        query = published_query().options(lazyload(Tip.category))
    return (query.where(or_(*audience))
            .order_by(Tip.published_at.desc(), Tip.id.desc()).limit(bindparam("tips_limit")))


def _latest_parameters(member: Member, limit: int) -> dict[str, object]:
    on = today()
    return {"member_id": member.id, "on": on, "tips_limit": limit,
            "child_born_after": _child_born_after(on)}


def latest_for_member(session: Session, member: Member, limit: int = 3) -> list[Tip]:
    """The newest published tips meant for this member's household, in one query."""
    stmt = _latest_for_member_statement(age_on(member.birth_date, today()) >= SENIOR_AGE)
    return list(session.scalars(stmt, _latest_parameters(member, limit)))


@dataclass(frozen=True)
class TipLink:
    """What My Page shows of a tip: a link with its summary."""

    slug: str
    title: str
    summary: str | None


def latest_links_statement(member: Member, limit: int = 3):
    """(statement, parameters) of latest_for_member as link rows: slug, title, summary,
    then the order (published_at, id). My Page reads it together with its other
    panels in one round trip."""
    senior = age_on(member.birth_date, today()) >= SENIOR_AGE
    return _latest_for_member_statement(senior, links=True), _latest_parameters(member, limit)


def links_from_rows(rows) -> list[TipLink]:
    return [TipLink(slug, title, summary) for slug, title, summary, *_ in rows]


def staff_list(session: Session, status: str | None = None) -> list[Tip]:
    query = select(Tip)
    if status in TIP_STATUSES:
        query = query.where(Tip.status == status)
    return list(session.scalars(query.order_by(Tip.updated_at.desc(), Tip.id.desc())))
