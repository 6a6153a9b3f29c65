"""Members' pages and the editor over HTTP: roles, workflow, images, sanitised output."""
from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO

import pytest
import time_machine
from PIL import Image
from sqlalchemy import func, select

from portal.clock import TOKYO
from portal.audit.models import AuditLog
from portal.tips import images, services
from portal.tips.models import Tip, TipRevision
from tests.tips.conftest import bound, image_bytes


@pytest.fixture
def marketing(staff_client):
    return staff_client("marketing")


def form_data(category_id: int, **overrides):
    data = {"title": "冬の健康づくり", "slug": "", "category_id": str(category_id), "summary": "冬の健康のコツ",
            "body_md": "## 手洗い\n\nしっかり洗いましょう。", "audience": "everyone"}
    data.update(overrides)
    return data


def fresh(db_session, tip_id: int) -> Tip:
    db_session.expire_all()
    return db_session.get(Tip, tip_id)


# --- roles -----------------------------------------------------------------------------
STAFF_PAGES = [("GET", "/staff/tips"), ("GET", "/staff/tips/new"), ("POST", "/staff/tips/new"),
               ("GET", "/staff/tips/{id}/edit"), ("POST", "/staff/tips/{id}/edit"),
               ("GET", "/staff/tips/{id}/preview"), ("POST", "/staff/tips/{id}/status"),
               ("GET", "/staff/tips/{id}/revisions/{rev}"), ("POST", "/staff/tips/{id}/revisions/{rev}/restore"),
               ("GET", "/staff/tips/categories"), ("POST", "/staff/tips/categories")]


def _urls(tip):
    rev = tip.revisions[0].id if tip.revisions else 1
    return [(m, u.format(id=tip.id, rev=rev)) for m, u in STAFF_PAGES]


@pytest.mark.parametrize("role", ["cs", "support"])
def test_other_staff_roles_get_403(staff_client, make_tip, role):
    client = staff_client(role)
    for method, url in _urls(make_tip()):
        assert client.open(url, method=method).status_code == 403, (role, method, url)


def test_members_and_anonymous_are_sent_to_staff_login(client, member_client, make_tip):
    for who in (member_client,):
        for method, url in _urls(make_tip()):
            response = who.open(url, method=method)
            assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login"), url
    member_client.post("/logout")
    for method, url in _urls(make_tip()):
        response = client.open(url, method=method)
        assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login"), url


def test_marketing_and_admin_open_the_editor(staff_client, make_tip):
    tip = make_tip()
    for role in ("marketing", "admin"):
        client = staff_client(role)
        for url in ("/staff/tips", "/staff/tips/new", f"/staff/tips/{tip.id}/edit", f"/staff/tips/{tip.id}/preview"):
            assert client.get(url).status_code == 200, (role, url)
    assert staff_client("marketing").get("/staff/tips/categories").status_code == 403
    assert staff_client("admin").get("/staff/tips/categories").status_code == 200


# --- editor ------------------------------------------------------------------------------
def test_create_edit_publish_through_the_editor(marketing, db_session, category):
    png = image_bytes("PNG", (2000, 1000))
    response = marketing.post("/staff/tips/new", data={**form_data(category().id),
                                                       "cover": (BytesIO(png), "cover.png")},
                              content_type="multipart/form-data")
    assert response.status_code == 302, response.text
    tip = db_session.scalar(select(Tip).order_by(Tip.id.desc()))
    assert response.headers["Location"] == f"/staff/tips/{tip.id}/edit"
    assert tip.status == "draft" and re.fullmatch(r"tip-\d{8}-[0-9a-f]{4}", tip.slug)
    assert tip.created_by_staff_id == marketing.staff.id and tip.cover_content_type == "image/png"
    page = marketing.get(f"/staff/tips/{tip.id}/edit")
    assert "下書き" in page.text and "保存履歴" in page.text and 'name="version"' in page.text

    # Members cannot see a draft, nor its image.
    assert marketing.application.test_client().get(f"/tips/{tip.slug}").status_code == 404
    image_url = f"/tips/images/{images.image_name(tip.cover_key)}"
    assert marketing.application.test_client().get(image_url).status_code == 404
    preview_image = marketing.get(image_url)
    assert preview_image.status_code == 200 and Image.open(BytesIO(preview_image.data)).size == (1600, 800)

    response = marketing.post(f"/staff/tips/{tip.id}/edit", data=form_data(
        category("ceremony").id, title="香典のマナー", slug="koden", version=str(tip.version)))
    assert response.status_code == 302
    tip = fresh(db_session, tip.id)
    assert (tip.slug, tip.title, tip.category.code) == ("koden", "香典のマナー", "ceremony")
    assert tip.cover_key  # kept when no new file is sent

    assert marketing.post(f"/staff/tips/{tip.id}/status", data={"target": "published"}).status_code == 302
    assert fresh(db_session, tip.id).status == "published"
    audit = db_session.scalar(select(AuditLog).where(AuditLog.action == "tip.publish",
                                                     AuditLog.target_id == str(tip.id)))
    assert audit.actor_type == "staff" and audit.actor_staff_id == marketing.staff.id

    anonymous = marketing.application.test_client()
    page = anonymous.get("/tips/koden")
    assert page.status_code == 200 and "香典のマナー" in page.text and image_url in page.text
    image = anonymous.get(image_url)
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert image.headers["Content-Disposition"].startswith("inline")


def test_duplicate_slug_shows_a_clear_error_and_keeps_the_input(marketing, make_tip, category, db_session):
    make_tip(slug="winter-health")
    response = marketing.post("/staff/tips/new", data=form_data(category().id, slug="winter-health",
                                                                 title="残しておくタイトル"))
    assert response.status_code == 422
    assert "スラッグ「winter-health」はほかの記事で使われています" in response.text
    assert "残しておくタイトル" in response.text
    assert db_session.scalar(select(func.count()).select_from(Tip)) == 1


@pytest.mark.parametrize("upload, message", [
    (b"just some text, renamed to .jpg", "JPEG・PNG・WebP"),
    (image_bytes("GIF"), "JPEG・PNG・WebP"),
])
def test_bad_uploads_are_refused_next_to_the_field(marketing, category, db_session, upload, message):
    response = marketing.post("/staff/tips/new", data={**form_data(category().id),
                                                       "cover": (BytesIO(upload), "photo.jpg")},
                              content_type="multipart/form-data")
    assert response.status_code == 422 and message in response.text
    assert 'id="cover-error"' in response.text
    assert db_session.scalar(select(func.count()).select_from(Tip)) == 0


def test_oversized_upload_is_refused(marketing, category, db_session):
    big = image_bytes("PNG") + b"\0" * (5 * 1024 * 1024)
    response = marketing.post("/staff/tips/new", data={**form_data(category().id),
                                                       "cover": (BytesIO(big), "big.png")},
                              content_type="multipart/form-data")
    assert response.status_code == 422 and "5MB" in response.text
    assert db_session.scalar(select(func.count()).select_from(Tip)) == 0


def test_stale_edit_is_told_not_lost(marketing, make_tip, category, db_session):
    tip = make_tip(title="元のタイトル")
    old = str(tip.version)
    assert marketing.post(f"/staff/tips/{tip.id}/edit",
                          data=form_data(category().id, title="一人目", version=old)).status_code == 302
    second = marketing.post(f"/staff/tips/{tip.id}/edit", data=form_data(category().id, title="二人目", version=old))
    assert second.status_code == 422 and "先に更新" in second.text
    assert fresh(db_session, tip.id).title == "一人目"


def test_schedule_through_the_editor_in_tokyo_time(staff_client, make_tip, db_session):
    tip = make_tip()
    with time_machine.travel(datetime(2026, 11, 30, 10, 0, tzinfo=TOKYO), tick=False):
        marketing = staff_client("marketing")  # signed in at the travelled-to time
        response = marketing.post(f"/staff/tips/{tip.id}/status",
                                  data={"target": "scheduled", "publish_at": "2026-12-01T00:00"})
        assert response.status_code == 302
        tip = fresh(db_session, tip.id)
        assert tip.status == "scheduled" and tip.publish_at == datetime(2026, 12, 1, tzinfo=TOKYO)
        page = marketing.get(f"/staff/tips/{tip.id}/edit")
        assert "2026年12月1日 00:00" in page.text and "公開予約" in page.text
        past = marketing.post(f"/staff/tips/{tip.id}/status", data={"target": "draft"})
        assert past.status_code == 302
        response = marketing.post(f"/staff/tips/{tip.id}/status",
                                  data={"target": "scheduled", "publish_at": "2026-11-30T09:00"}, follow_redirects=True)
        assert "現在より後" in response.text
        assert fresh(db_session, tip.id).status == "draft"


def test_preview_uses_the_members_partial(marketing, make_tip):
    tip = make_tip(title="プレビュー記事", body_md="**太字**と[リンク](https://example.jp)")
    preview = marketing.get(f"/staff/tips/{tip.id}/preview")
    assert preview.status_code == 200 and "プレビュー" in preview.text
    article = re.search(r'<article class="tip-article">.*?</article>', preview.text, re.S).group(0)
    assert "<strong>太字</strong>" in article and 'rel="noopener noreferrer"' in article


def test_preview_and_member_page_render_the_same_article(app, marketing, make_tip, session):
    tip = make_tip(title="同じ見た目", body_md="## 見出し\n\n- 一\n- 二")
    with bound(app, session):
        services.change_status(session, tip.id, "published", staff_id=None)
    preview = marketing.get(f"/staff/tips/{tip.id}/preview").text
    member_page = marketing.application.test_client().get(f"/tips/{tip.slug}").text
    pattern = re.compile(r'<article class="tip-article">.*?</article>', re.S)
    assert pattern.search(preview).group(0) == pattern.search(member_page).group(0)


def test_restore_an_earlier_revision_through_the_editor(marketing, make_tip, category, db_session):
    tip = make_tip(title="第一版", body_md="最初")
    marketing.post(f"/staff/tips/{tip.id}/edit", data=form_data(category().id, title="第二版", body_md="次",
                                                                 version=str(tip.version)))
    first = db_session.scalar(select(TipRevision).where(TipRevision.tip_id == tip.id, TipRevision.number == 1))
    view = marketing.get(f"/staff/tips/{tip.id}/revisions/{first.id}")
    assert view.status_code == 200 and "第一版" in view.text
    assert marketing.post(f"/staff/tips/{tip.id}/revisions/{first.id}/restore").status_code == 302
    tip = fresh(db_session, tip.id)
    assert (tip.title, tip.body_md) == ("第一版", "最初")
    assert db_session.scalar(select(func.count()).select_from(TipRevision)
                             .where(TipRevision.tip_id == tip.id)) == 3


def test_admin_adds_a_category_that_editors_can_use(staff_client, db_session):
    admin = staff_client("admin")
    assert admin.post("/staff/tips/categories", data={"name": "子育て", "code": "parenting"}).status_code == 302
    assert "子育て" in staff_client("marketing").get("/staff/tips/new").text
    again = admin.post("/staff/tips/categories", data={"name": "子育て", "code": "kids"})
    assert again.status_code == 422 and "同じ名前" in again.text


def test_staff_list_shows_state(marketing, make_tip):
    make_tip(title="下書きの記事")
    make_tip(title="公開の記事", status="published")
    page = marketing.get("/staff/tips")
    assert "下書きの記事" in page.text and "公開の記事" in page.text and "公開中" in page.text
    only_drafts = marketing.get("/staff/tips?status=draft").text
    assert "下書きの記事" in only_drafts and "公開の記事" not in only_drafts


# --- members ----------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["draft", "scheduled", "archived"])
def test_unpublished_articles_are_404(app, client, member_client, make_tip, session, status):
    tip = make_tip(status="archived" if status == "archived" else "draft")
    if status == "scheduled":
        with bound(app, session):
            services.change_status(session, tip.id, "scheduled", staff_id=None,
                                   publish_at=datetime(2099, 1, 1, tzinfo=TOKYO))
    assert member_client.get(f"/tips/{tip.slug}").status_code == 404
    assert tip.title not in member_client.get("/tips").text


def test_unknown_slug_category_and_page_are_404(client, make_tip):
    make_tip(status="published")
    assert client.get("/tips/no-such-tip").status_code == 404
    assert client.get("/tips?category=nope").status_code == 404
    assert client.get("/tips?page=2").status_code == 404


def test_members_list_newest_first_with_category_filter_and_pages(client, make_tip):
    made = []
    for i in range(11):
        with time_machine.travel(datetime(2026, 11, 1 + i, 9, 0, tzinfo=TOKYO), tick=False):
            made.append(make_tip(status="published", title=f"記事{i:02d}",
                                 category_code="seasonal-food" if i == 10 else "health"))
    page1 = client.get("/tips").text
    titles = re.findall(r"記事\d\d", page1)
    assert titles == [f"記事{i:02d}" for i in range(10, 0, -1)]
    assert "次のページ" in page1
    assert re.findall(r"記事\d\d", client.get("/tips?page=2").text) == ["記事00"]
    food = client.get("/tips?category=seasonal-food").text
    assert re.findall(r"記事\d\d", food) == ["記事10"] and 'aria-current="page">季節の食べもの' in food


def test_article_page_shows_related_articles_of_the_same_category(client, make_tip):
    main = make_tip(status="published", title="メイン記事", category_code="ceremony")
    sibling = make_tip(status="published", title="同じカテゴリ", category_code="ceremony")
    make_tip(status="published", title="別カテゴリ", category_code="health")
    page = client.get(f"/tips/{main.slug}").text
    assert "冠婚葬祭マナーの関連記事" in page and "同じカテゴリ" in page and "別カテゴリ" not in page
    assert f"/tips/{sibling.slug}" in page


def test_hostile_markdown_is_inert_on_the_member_page(client, make_tip):
    body = "\n\n".join([
        "[a](JaVaScRiPt:alert(1))", "[b](java&#x09;script:alert(1))", "[c](&#106;avascript:alert(1))",
        "[d](  javascript:alert(1))", "![e](data:image/png;base64,AAAA)", "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>", "<script>alert(1)</script>", '<iframe src="https://evil.example"></iframe>',
        '<p style="color:red">s</p>', "[ok](https://example.jp)"])
    tip = make_tip(status="published", body_md=body, title="<script>alert('title')</script>")
    page = client.get(f"/tips/{tip.slug}").text
    body_html = re.search(r'<div class="tip-body">(.*?)</div>\s*</article>', page, re.S).group(1)
    from tests.tips.test_markdown import assert_inert, elements
    assert_inert(body_html)
    assert len(elements(body_html)) >= 5  # the page really rendered the body
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in page
    assert '<a href="https://example.jp" rel="noopener noreferrer">ok</a>' in body_html
    assert "<script>alert" not in page


def test_tip_pages_send_security_headers(client, make_tip):
    tip = make_tip(status="published")
    response = client.get(f"/tips/{tip.slug}")
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_image_route_refuses_odd_names(client):
    for name in ("..%2f..%2fsecret_key", "x.html", "0" * 32 + ".svg", "tips"):
        assert client.get(f"/tips/images/{name}").status_code == 404
