from __future__ import annotations

import json
from datetime import date

import pytest

from portal.mypage import services
from tests.contracts.helpers import count_queries, sign_in, tokyo

PROCEDURE_URLS = ("/profile/address", "/profile/phone", "/profile/email", "/profile/bank-account",
                  "/profile/notifications", "/requests", "/certificates", "/enroll", "/shop", "/voices/new", "/tips")


def _squash(html: str) -> str:
    return " ".join(html.split())


def test_home_shows_household_cards_premiums_and_every_procedure(client, db_session, demo):
    with tokyo(2026, 12, 14, 9):
        sign_in(client, db_session, demo["taro"])
        response = client.get("/mypage")
    html = _squash(response.text)
    assert response.status_code == 200
    assert "山田 太郎さま、おはようございます" in html
    for name, relation, age in (("山田 太郎", "本人", 59), ("山田 花子", "配偶者", 56),
                                ("山田 一郎", "子", 14), ("山田 さくら", "子", 11)):
        assert f'{name}さま <span class="badge">{relation}</span>' in html
        assert f"{age}歳" in html
    # 山田 太郎: 総合保障 (59: 死亡（病気） 400万円, 入院 1,500円/日), 住まいる, マイカー, ねんきん
    taro_card = html.split('id="person-')[1]
    assert "保障中のご契約 <strong>4件</strong>" in taro_card
    assert "<dt>死亡（病気）</dt><dd>400万円</dd>" in taro_card
    assert '<dt>入院日額（病気）</dt><dd>1,500円<span class="per-day">／日</span></dd>' in taro_card
    assert '11,800円</span>／月' in taro_card and '138,000円</span>／年' in taro_card
    hanako_card = html.split('id="person-')[2]
    assert "<dt>死亡（病気）</dt><dd>50万円</dd>" in hanako_card
    assert "<dt>入院日額（病気）</dt><dd>10,000円" in hanako_card
    # household totals: monthly and yearly shown apart, and labelled
    assert '<dt>月払</dt><dd><span class="money">16,500円</span>／月</dd>' in html
    assert '<dt>年払</dt><dd><span class="money">138,000円</span>／年</dd>' in html
    for url in PROCEDURE_URLS:
        assert f'href="{url}"' in html, url


def test_home_after_60th_birthday(client, db_session, demo):
    with tokyo(2026, 12, 15, 20):
        sign_in(client, db_session, demo["taro"])
        html = _squash(client.get("/mypage").text)
    assert "こんばんは" in html
    taro_card = html.split('id="person-')[1]
    assert "60歳" in taro_card and "<dt>死亡（病気）</dt><dd>300万円</dd>" in taro_card


def test_procedure_in_progress_is_a_notice(client, db_session, demo):
    from portal.procedures.services import change_status, start
    # Later than the demo's own open procedures: My Page lists the newest ones.
    with tokyo(2027, 7, 1):
        request = start(db_session, demo["taro"], "address_change", "住所変更")
        done = start(db_session, demo["taro"], "phone_change", "電話番号変更")
        change_status(db_session, done, "completed")
        db_session.flush()
        sign_in(client, db_session, demo["taro"])
        html = client.get("/mypage").text
    assert f"住所変更（受付番号 {request.receipt_no}）は「受付済み」です。" in html
    assert done.receipt_no not in html


def test_member_without_contracts(client, db_session, make_member):
    sign_in(client, db_session, make_member(household=True))
    html = client.get("/mypage").text
    assert "現在保障中のご契約はありません。" in html
    assert '<span class="money">0円</span>／月' in html


def _broken(*args, **kwargs):
    raise RuntimeError("panel broke")


def test_a_failing_panel_leaves_the_rest_of_the_page_in_production(client, app, db_session, demo, monkeypatch):
    """Every panel but the household fails: in production the page still shows the
    household and the procedures, without the broken panels."""
    from portal.audit import reports
    from portal.certificates import services as certificates
    from portal.procedures import services as procedures
    from portal.tips import services as tips
    for module, name in ((procedures, "notices_from_rows"), (certificates, "dashboard_notices"),
                         (tips, "links_from_rows"), (reports, "access_entries_from_rows")):
        monkeypatch.setattr(module, name, _broken)
    monkeypatch.setitem(app.config, "PORTAL_ENV", "production")
    with tokyo(2026, 11, 1):
        sign_in(client, db_session, demo["taro"])
        response = client.get("/mypage")
    assert response.status_code == 200
    assert "山田 花子" in response.text and "/profile/address" in response.text
    assert "お知らせ" not in response.text.split("</header>")[1].split("ご家族の保障")[0]
    assert "サポート担当者によるアクセス履歴" not in response.text


@pytest.mark.parametrize("env", ["test", "development"])
def test_a_failing_panel_raises_outside_production(app, db_session, demo, monkeypatch, env):
    from portal.tips import services as tips
    monkeypatch.setattr(tips, "links_from_rows", _broken)
    monkeypatch.setitem(app.config, "PORTAL_ENV", env)
    with app.app_context(), pytest.raises(RuntimeError, match="panel broke"):
        services.dashboard(db_session, demo["taro"], date(2026, 11, 1))


def test_bad_notices_are_cleaned(monkeypatch):
    from portal.certificates import services as certificates
    from portal.procedures import services as procedures
    monkeypatch.setattr(certificates, "dashboard_notices", lambda session, member, on: [
        {"text": "外部リンク", "url": "https://evil.example/", "level": "danger"},
        {"text": "", "url": "/x"}, "not a dict",
        {"text": "証明書", "url": "/certificates", "level": "warning"}])
    monkeypatch.setattr(procedures, "open_notices", lambda session, member: [])
    notices = services.notices_for(None, object(), date(2026, 11, 1))
    assert notices == [{"text": "証明書", "url": "/certificates", "level": "warning"},
                       {"text": "外部リンク", "url": "", "level": "info"}]


def test_certificate_window_tips_and_staff_access(client, db_session, demo, make_staff):
    from portal.audit.models import AuditLog
    with tokyo(2026, 11, 2):
        staff = make_staff("support")
        db_session.add(AuditLog(actor_type="staff", actor_staff_id=staff.id, acting_as_member_id=demo["taro"].id,
                                action="impersonation.start", detail=json.dumps({"reason": "住所変更のお問い合わせ"})))
        db_session.flush()
        sign_in(client, db_session, demo["taro"])
        html = client.get("/mypage").text
    assert "サポート担当者によるアクセス履歴" in html
    assert staff.name in html and "住所変更のお問い合わせ" in html
    assert "/certificates" in html.split("ご家族の保障")[0]  # the window is open in November


def test_mypage_query_budget_with_every_feature_installed(client, db_session, demo):
    """The demo household with every panel: 2 queries besides the 1 of sign-in, the
    household and the other features' panels together (each of those panels costs a
    query of its own when read alone)."""
    with tokyo(2026, 11, 2):
        sign_in(client, db_session, demo["taro"])
        client.get("/mypage")
        with count_queries() as log:
            assert client.get("/mypage").status_code == 200
        hooks = {}
        for source, args, kwargs in (
                (services.procedures.open_notices, (demo["taro"],), {}),
                (services.tips.latest_for_member, (demo["taro"],), {"limit": 3}),
                (services.audit_reports.access_history, (demo["taro"].id,), {"limit": 5})):
            db_session.expire_all()
            db_session.refresh(demo["taro"])
            with count_queries() as hook_log:
                services.panel(db_session, source, *args, **kwargs)
            hooks[f"{source.__module__}.{source.__name__}"] = len(hook_log.all)
        db_session.expire_all()
        db_session.refresh(demo["taro"])
        with count_queries() as own_log:
            services.household_summary(db_session, demo["taro"], date(2026, 11, 2),
                                       kinds=(services.HEADLINE_DEATH, services.HEADLINE_HOSPITAL))
    assert len(log.all) - len(log.page) == 1  # the session row and the member in one statement
    assert len(own_log.all) == 1
    assert hooks == dict.fromkeys(hooks, 1), hooks
    assert len(log.page) == 2, f"/mypage makes {len(log.page)} queries besides sign-in: {log.page}"


@pytest.mark.parametrize("path", ["/mypage", "/coverage", "/contracts"])
def test_the_busiest_pages_run_statements_built_once(client, db_session, demo, path):
    """No statement of these pages has a list rendered into its SQL per execution
    (portal.db.in_constants): each comes from the compiled cache as it is, and on
    PostgreSQL from the connection's prepared statements. (/requests loads each
    procedure's history by the list of its ids, which varies with the member.)"""
    with tokyo(2026, 11, 2):
        sign_in(client, db_session, demo["taro"])
        client.get(path)
        with count_queries() as log:
            assert client.get(path).status_code == 200
    assert log.all and not log.expanding, log.expanding


def test_panels_read_together_show_what_each_owner_reads_alone(db_session, demo, make_staff):
    """The one statement for the panels keeps each owner's order and limit: more
    procedures in progress, tips and support visits than the page shows."""
    from portal.audit.models import AuditLog
    from portal.procedures.services import start
    from portal.tips.models import Tip
    taro = demo["taro"]
    with tokyo(2026, 11, 2):
        staff = make_staff("support")
        for n in range(7):
            start(db_session, taro, "address_change", f"住所変更 {n}")
            db_session.add(AuditLog(actor_type="staff", actor_staff_id=staff.id, acting_as_member_id=taro.id,
                                    action="impersonation.start", detail=json.dumps({"reason": f"問い合わせ {n}"})))
            db_session.flush()
        db_session.add(AuditLog(actor_type="staff", actor_staff_id=staff.id, acting_as_member_id=taro.id,
                                action="staff.member_open"))
        db_session.flush()
        board = services.dashboard(db_session, taro, date(2026, 11, 2))
        alone_notices = services.procedures.open_notices(db_session, taro)
        alone_tips = services.tips.latest_for_member(db_session, taro, limit=3)
        alone_access = services.audit_reports.access_history(db_session, taro.id, limit=5)
    assert db_session.query(Tip).filter_by(status="published").count() > 3
    assert len(alone_notices) == 5 and len(alone_access) == 5 and len(alone_tips) == 3
    assert [n for n in board.notices if n["url"] == "/requests"] == alone_notices
    assert [(t.slug, t.title, t.summary) for t in board.tips] == [(t.slug, t.title, t.summary) for t in alone_tips]
    assert board.access_history == alone_access
    assert board.access_history[0].action == "staff.member_open" and board.access_history[1].reason == "問い合わせ 6"
