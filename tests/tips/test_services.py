"""Editor rules: slugs, images, workflow, scheduling, revisions, audience matching."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
import time_machine
from PIL import Image
from sqlalchemy import func, select

from portal import seed
from portal.clock import TOKYO
from portal.audit.models import AuditLog
from portal.tips import images, services
from portal.tips.models import Tip, TipRevision
from portal.tips.services import TipError, TipInput
from tests.tips.conftest import image_bytes


@pytest.fixture(autouse=True)
def _app_context(in_app):
    """Services write audit rows through db.session, which needs an app context."""
    yield


def audit_actions(session, tip_id: int, action: str) -> int:
    return session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == action, AuditLog.target_id == str(tip_id)))


# --- slugs -------------------------------------------------------------------------
def test_english_title_gives_a_readable_slug(make_tip):
    assert make_tip(title="Winter Cold Prevention: 5 Tips!").slug == "winter-cold-prevention-5-tips"


def test_japanese_title_gives_a_dated_ascii_slug(make_tip):
    with time_machine.travel(datetime(2026, 12, 1, 0, 30, tzinfo=TOKYO), tick=False):
        slug = make_tip(title="冬の健康づくり").slug
    assert re.fullmatch(r"tip-20261201-[0-9a-f]{4}", slug), slug


def test_slug_is_unique_with_a_clear_error(make_tip):
    make_tip(slug="koden-manners")
    with pytest.raises(TipError) as error:
        make_tip(slug="koden-manners")
    assert error.value.field == "slug" and "koden-manners" in error.value.message
    assert "使われています" in error.value.message


def test_same_english_title_twice_gets_a_suffix(make_tip):
    assert make_tip(title="Hand Washing").slug == "hand-washing"
    assert make_tip(title="Hand Washing").slug == "hand-washing-2"


def test_slug_is_normalised_and_checked(make_tip):
    assert make_tip(slug="ＨＥＡＬＴＨ-2026").slug == "health-2026"  # full-width typed
    for bad in ("has space", "../etc", "日本語", "a--b", "-lead"):
        with pytest.raises(TipError) as error:
            make_tip(slug=bad)
        assert error.value.field == "slug"


def test_editing_keeps_slug_unless_changed_and_refuses_a_taken_one(session, make_tip):
    first, second = make_tip(slug="first-tip"), make_tip(slug="second-tip")
    data = TipInput(title="変更後", summary="s", body_md="b", category_id=first.category_id)
    assert services.update_tip(session, first.id, data, staff_id=None).slug == "first-tip"
    data.slug = "second-tip"
    with pytest.raises(TipError) as error:
        services.update_tip(session, first.id, data, staff_id=None)
    assert error.value.field == "slug"
    data.slug = "first-tip"  # its own slug is fine
    assert services.update_tip(session, first.id, data, staff_id=None).slug == "first-tip"
    assert second.slug == "second-tip"


# --- images ------------------------------------------------------------------------
def test_renamed_text_file_is_refused():
    with pytest.raises(TipError) as error:
        images.process_cover_image(b"This is a text file named photo.jpg\n" * 10)
    assert error.value.field == "cover" and "JPEG・PNG・WebP" in error.value.message


def test_oversized_file_is_refused_before_decoding():
    data = image_bytes("PNG") + b"\0" * (5 * 1024 * 1024)
    with pytest.raises(TipError) as error:
        images.process_cover_image(data)
    assert "5MB" in error.value.message


def test_other_image_formats_and_svg_are_refused():
    for data in (image_bytes("GIF"), image_bytes("BMP"),
                 b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'):
        with pytest.raises(TipError):
            images.process_cover_image(data)


def test_truncated_png_is_refused():
    with pytest.raises(TipError):
        images.process_cover_image(image_bytes("PNG")[:40])


def test_polyglot_png_is_reencoded_without_its_payload():
    payload = b"<html><script>alert(document.cookie)</script></html>"
    polyglot = image_bytes("PNG", (120, 80)) + payload
    assert Image.open(BytesIO(polyglot)).format == "PNG"  # a browser sniffing it might see HTML
    result = images.process_cover_image(polyglot)
    assert result.content_type == "image/png" and result.extension == "png"
    assert b"<script" not in result.data and b"alert" not in result.data and b"<html" not in result.data
    assert result.data.endswith(b"IEND\xaeB`\x82")  # nothing after the image's last chunk
    assert Image.open(BytesIO(result.data)).size == (120, 80)


def test_png_text_chunk_payload_is_dropped():
    from PIL.PngImagePlugin import PngInfo
    info = PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    out = BytesIO()
    Image.new("RGB", (30, 30), (1, 2, 3)).save(out, "PNG", pnginfo=info)
    assert b"<script" in out.getvalue()
    assert b"<script" not in images.process_cover_image(out.getvalue()).data


def test_real_jpeg_is_accepted_resized_and_stripped_of_exif():
    exif = Image.Exif()
    exif[0x013B] = "Secret Photographer"  # Artist
    exif[0x010E] = "<script>alert(1)</script>"  # ImageDescription
    original = image_bytes("JPEG", (3200, 2000), (30, 120, 200), exif=exif.tobytes(), quality=90)
    assert b"Secret Photographer" in original
    result = images.process_cover_image(original)
    image = Image.open(BytesIO(result.data))
    assert image.format == "JPEG" and result.content_type == "image/jpeg"
    assert image.size == (1600, 1000) == (result.width, result.height)
    assert not image.getexif()
    assert b"Secret Photographer" not in result.data and b"<script" not in result.data


def test_small_webp_is_kept_at_its_size():
    result = images.process_cover_image(image_bytes("WEBP", (800, 600)))
    assert result.content_type == "image/webp"
    assert Image.open(BytesIO(result.data)).size == (800, 600)


def test_cover_is_stored_under_a_random_name(app, session, make_tip):
    from portal.gateways.storage import storage
    first = make_tip(cover=image_bytes("PNG"))
    second = make_tip(cover=image_bytes("PNG"))
    assert re.fullmatch(r"tips/[0-9a-f]{32}\.png", first.cover_key)
    assert first.cover_key != second.cover_key
    stored = storage().open(first.cover_key)
    assert Image.open(BytesIO(stored)).format == "PNG"


# --- workflow ------------------------------------------------------------------------
def test_workflow_draft_scheduled_published_archived(session, make_tip):
    tip = make_tip()
    assert tip.status == "draft" and tip.published_at is None
    with time_machine.travel(datetime(2026, 11, 30, 9, 0, tzinfo=TOKYO), tick=False):
        services.change_status(session, tip.id, "scheduled", staff_id=None,
                               publish_at=datetime(2026, 11, 30, 12, 0, tzinfo=TOKYO))
        assert tip.status == "scheduled"
        services.change_status(session, tip.id, "draft", staff_id=None)
        assert tip.status == "draft" and tip.publish_at is None
        services.change_status(session, tip.id, "published", staff_id=None)
        assert tip.status == "published"
        assert tip.published_at == datetime(2026, 11, 30, 9, 0, tzinfo=TOKYO)
        assert services.get_published(session, tip.slug) is tip
        with pytest.raises(TipError):  # published cannot go straight back to scheduled
            services.change_status(session, tip.id, "scheduled", staff_id=None,
                                   publish_at=datetime(2026, 12, 1, tzinfo=TOKYO))
        services.change_status(session, tip.id, "archived", staff_id=None)
        assert tip.status == "archived" and tip.archived_at is not None
        assert services.get_published(session, tip.slug) is None
        services.change_status(session, tip.id, "draft", staff_id=None)
        assert tip.status == "draft"


def test_publish_time_is_recorded_in_utc(session, make_tip):
    tip = make_tip()
    with time_machine.travel(datetime(2026, 12, 1, 0, 0, tzinfo=TOKYO), tick=False):
        services.change_status(session, tip.id, "published", staff_id=None)
    session.flush()
    session.expire(tip)
    assert tip.published_at == datetime(2026, 12, 1, 0, 0, tzinfo=TOKYO)
    assert tip.published_at.utcoffset() == timedelta(0)
    assert (tip.published_at.day, tip.published_at.hour) == (30, 15)  # stored as 2026-11-30 15:00 UTC


def test_schedule_needs_a_future_time(session, make_tip):
    tip = make_tip()
    with time_machine.travel(datetime(2026, 11, 30, 9, 0, tzinfo=TOKYO), tick=False):
        with pytest.raises(TipError) as error:
            services.change_status(session, tip.id, "scheduled", staff_id=None,
                                   publish_at=datetime(2026, 11, 30, 8, 59, tzinfo=TOKYO))
        assert error.value.field == "publish_at"
        with pytest.raises(TipError):
            services.change_status(session, tip.id, "scheduled", staff_id=None, publish_at=None)
    assert tip.status == "draft"


def test_scheduled_article_publishes_at_tokyo_midnight_not_before(session, make_tip):
    tip = make_tip()
    midnight = datetime(2026, 12, 1, 0, 0, tzinfo=TOKYO)
    with time_machine.travel(datetime(2026, 11, 30, 10, 0, tzinfo=TOKYO), tick=False):
        services.change_status(session, tip.id, "scheduled", staff_id=None, publish_at=midnight)
    with time_machine.travel(datetime(2026, 11, 30, 23, 59, tzinfo=TOKYO), tick=False):
        assert services.publish_due(session) == []
        assert tip.status == "scheduled"
        assert services.get_published(session, tip.slug) is None
    with time_machine.travel(midnight, tick=False):
        assert [t.id for t in services.publish_due(session)] == [tip.id]
        assert tip.status == "published" and tip.published_at == midnight
        assert services.publish_due(session) == []  # idempotent: run again, nothing more
    assert audit_actions(session, tip.id, "tip.publish") == 1
    row = session.scalar(select(AuditLog).where(AuditLog.action == "tip.publish"))
    assert row.actor_type == "system" and '"via": "schedule"' in row.detail


def test_publish_scheduled_command(app, session, make_tip):
    due, later = make_tip(), make_tip()
    with time_machine.travel(datetime(2026, 11, 30, 10, 0, tzinfo=TOKYO), tick=False):
        services.change_status(session, due.id, "scheduled", staff_id=None,
                               publish_at=datetime(2026, 11, 30, 12, 0, tzinfo=TOKYO))
        services.change_status(session, later.id, "scheduled", staff_id=None,
                               publish_at=datetime(2026, 12, 1, 0, 0, tzinfo=TOKYO))
    session.flush()
    with time_machine.travel(datetime(2026, 11, 30, 12, 0, 30, tzinfo=TOKYO), tick=False):
        result = app.test_cli_runner().invoke(args=["publish-scheduled"])
        assert result.exit_code == 0, result.output
        assert f"published 1: {due.slug}" in result.output
        again = app.test_cli_runner().invoke(args=["publish-scheduled"])
        assert "published 0" in again.output
    session.expire_all()
    assert session.get(Tip, due.id).status == "published"
    assert session.get(Tip, later.id).status == "scheduled"


def test_every_publish_is_audited(session, make_tip):
    tip = make_tip()
    services.change_status(session, tip.id, "published", staff_id=None)
    services.change_status(session, tip.id, "archived", staff_id=None)
    services.change_status(session, tip.id, "published", staff_id=None)
    session.flush()
    assert audit_actions(session, tip.id, "tip.publish") == 2
    assert audit_actions(session, tip.id, "tip.archive") == 1


# --- revisions ------------------------------------------------------------------------
def test_every_save_keeps_a_revision_and_an_earlier_one_can_be_restored(session, make_tip):
    tip = make_tip(title="最初のタイトル", body_md="最初の本文", audience="children")
    data = TipInput(title="二番目のタイトル", summary="新しい概要", body_md="二番目の本文",
                    category_id=tip.category_id, audience="everyone")
    services.update_tip(session, tip.id, data, staff_id=None)
    revisions = list(session.scalars(select(TipRevision).where(TipRevision.tip_id == tip.id)
                                     .order_by(TipRevision.number)))
    assert [(r.number, r.title) for r in revisions] == [(1, "最初のタイトル"), (2, "二番目のタイトル")]
    services.restore_revision(session, tip.id, revisions[0].id, staff_id=None)
    assert (tip.title, tip.body_md, tip.audience, tip.summary) == ("最初のタイトル", "最初の本文", "children", "概要です")
    latest = session.scalar(select(TipRevision).where(TipRevision.tip_id == tip.id)
                            .order_by(TipRevision.number.desc()))
    assert latest.number == 3 and latest.note == "第1版から復元" and latest.title == "最初のタイトル"


def test_restore_refuses_another_articles_revision(session, make_tip):
    one, other = make_tip(), make_tip()
    foreign = session.scalar(select(TipRevision).where(TipRevision.tip_id == other.id))
    with pytest.raises(TipError):
        services.restore_revision(session, one.id, foreign.id, staff_id=None)


def test_stale_version_is_refused(session, make_tip):
    tip = make_tip()
    old_version = tip.version
    data = TipInput(title="A", summary="s", body_md="b", category_id=tip.category_id)
    services.update_tip(session, tip.id, data, staff_id=None, expected_version=old_version)
    with pytest.raises(TipError) as error:
        services.update_tip(session, tip.id, data, staff_id=None, expected_version=old_version)
    assert "先に更新" in error.value.message


# --- members' lists ---------------------------------------------------------------------
def test_list_is_newest_first_by_category_and_paginated(session, make_tip):
    base = datetime(2026, 11, 1, 9, 0, tzinfo=TOKYO)
    made = []
    for i in range(12):
        with time_machine.travel(base + timedelta(days=i), tick=False):
            made.append(make_tip(status="published", category_code="health" if i % 2 else "ceremony"))
    make_tip()  # a draft is never listed
    page1, total = services.list_published(session, page=1)
    page2, _ = services.list_published(session, page=2)
    assert total == 12 and len(page1) == 10 and len(page2) == 2
    assert [t.id for t in page1 + page2] == [t.id for t in reversed(made)]
    health, health_total = services.list_published(session, category_code="health")
    assert health_total == 6 and all(t.category.code == "health" for t in health)
    related = services.related_tips(session, made[-1])
    assert [t.id for t in related] == [made[-3].id, made[-5].id, made[-7].id]


# --- audience ---------------------------------------------------------------------------
@pytest.fixture
def targeted(make_tip):
    tips = {}
    for i, audience in enumerate(("everyone", "children", "senior", "sumairu")):
        with time_machine.travel(datetime(2026, 11, 10 + i, tzinfo=TOKYO), tick=False):
            tips[audience] = make_tip(status="published", audience=audience, title=f"{audience} tip")
    return tips


def latest_audiences(session, member, limit=10):
    return {t.audience for t in services.latest_for_member(session, member, limit=limit)}


def test_family_with_a_child_under_18_gets_the_children_tip(session, make_member, targeted):
    from portal.members.models import InsuredPerson
    with time_machine.travel(datetime(2026, 11, 27, 12, 0, tzinfo=TOKYO), tick=False):
        family = make_member(birth_date=date(1985, 1, 1))
        alone = make_member(birth_date=date(1985, 1, 1))
        grown = make_member(birth_date=date(1970, 1, 1))
        session.add(InsuredPerson(member_id=family.id, relation="child", name="子", name_kana="コ",
                                  birth_date=date(2015, 4, 1), sex="female"))
        session.add(InsuredPerson(member_id=grown.id, relation="child", name="子", name_kana="コ",
                                  birth_date=date(2008, 11, 27), sex="male"))  # turned 18 today
        session.flush()
        assert latest_audiences(session, family) == {"everyone", "children"}
        assert latest_audiences(session, alone) == {"everyone"}
        assert latest_audiences(session, grown) == {"everyone"}


def test_member_gets_senior_tips_from_their_60th_birthday(session, make_member, targeted):
    member = make_member(birth_date=date(1966, 12, 1))
    with time_machine.travel(datetime(2026, 11, 30, 23, 59, tzinfo=TOKYO), tick=False):
        assert "senior" not in latest_audiences(session, member)
    with time_machine.travel(datetime(2026, 12, 1, 0, 0, tzinfo=TOKYO), tick=False):
        assert "senior" in latest_audiences(session, member)


def test_fire_cover_holders_get_sumairu_tips(session, make_member, make_contract, targeted):
    with time_machine.travel(datetime(2026, 11, 27, 12, 0, tzinfo=TOKYO), tick=False):
        holder, ended, other = make_member(), make_member(), make_member()
        make_contract(holder, "SUMAIRU", premium_yen=21_000, coverage_kwargs={"building_units": 100})
        make_contract(ended, "SUMAIRU", premium_yen=21_000, coverage_kwargs={"building_units": 100},
                      status="ended", end_date=date(2025, 4, 1))
        make_contract(other, "KOKUMIN_SOGO")
        assert "sumairu" in latest_audiences(session, holder)
        assert "sumairu" not in latest_audiences(session, ended)
        assert "sumairu" not in latest_audiences(session, other)


def test_latest_for_member_returns_three_newest_matching(session, make_member, targeted, make_tip):
    member = make_member()  # born 1980, no children, no fire cover
    with time_machine.travel(datetime(2026, 11, 20, tzinfo=TOKYO), tick=False):
        newer = [make_tip(status="published", title=f"新着{i}") for i in range(3)]
    latest = services.latest_for_member(session, member)
    assert [t.id for t in latest] == [t.id for t in reversed(newer)]
    assert all(t.title and t.slug and t.summary for t in latest)
    assert services.latest_for_member(session, member, limit=5)[-1].id == targeted["everyone"].id


def test_demo_household_matches_children_and_fire_cover(session, demo):
    seed.seed_tips(session)
    with time_machine.travel(datetime(2026, 11, 27, 12, 0, tzinfo=TOKYO), tick=False):
        assert services.audiences_for(session, demo["taro"]) == {"everyone", "children", "sumairu"}
        slugs = {t.slug for t in services.latest_for_member(session, demo["taro"], limit=10)}
        jiro_slugs = {t.slug for t in services.latest_for_member(session, demo["jiro"], limit=10)}
    assert "home-fire-prevention" in slugs and "home-fire-prevention" not in jiro_slugs


def test_seed_tips_is_idempotent(session):
    assert seed.seed_tips(session) == 4
    assert seed.seed_tips(session) == 0
    tips = list(session.scalars(select(Tip).order_by(Tip.published_at.desc())))
    assert len(tips) == 4 and all(t.status == "published" for t in tips)
    assert {t.category.name for t in tips} == {"健康", "季節の食べもの", "冠婚葬祭マナー", "暮らし"}


def test_admin_adds_a_category(session):
    category = services.add_category(session, "子育て", "parenting")
    assert category.code == "parenting" and category in services.list_categories(session)
    generated = services.add_category(session, "お金のこと")
    assert re.fullmatch(r"category-[0-9a-f]{4}", generated.code)
    with pytest.raises(TipError) as error:
        services.add_category(session, "子育て", "kids")
    assert error.value.field == "name"
    with pytest.raises(TipError) as error:
        services.add_category(session, "住まい", "parenting")
    assert error.value.field == "code"


@pytest.mark.parametrize("birth,on,is_child", [
    (date(2008, 11, 28), date(2026, 11, 27), True),    # turns 18 tomorrow
    (date(2008, 11, 27), date(2026, 11, 27), False),   # turned 18 today
    (date(2008, 2, 29), date(2026, 2, 28), True),      # 29 Feb birthdays count from 1 March
    (date(2008, 2, 29), date(2026, 3, 1), False),
    (date(2010, 3, 1), date(2028, 2, 29), True),       # a 29 Feb day in a leap year
    (date(2010, 2, 28), date(2028, 2, 29), False),
])
def test_child_audience_matches_age_on(session, make_member, birth, on, is_child):
    """The SQL cut-off in audiences_for agrees with portal.jp.dates.age_on."""
    from portal.jp.dates import age_on
    from portal.members.models import InsuredPerson
    member = make_member(birth_date=date(1980, 1, 1))
    session.add(InsuredPerson(member_id=member.id, relation="child", name="子", name_kana="コ",
                              birth_date=birth, sex="male"))
    session.flush()
    assert (age_on(birth, on) < 18) is is_child
    assert ("children" in services.audiences_for(session, member, on)) is is_child


def test_fire_cover_starting_next_month_does_not_count_yet(session, make_member, make_contract):
    member = make_member()
    make_contract(member, "SUMAIRU", premium_yen=21_000, coverage_kwargs={"building_units": 100},
                  start=date(2026, 12, 1), status="pending")
    assert "sumairu" not in services.audiences_for(session, member, date(2026, 11, 30))
    assert "sumairu" in services.audiences_for(session, member, date(2026, 12, 1))
