"""CLI commands and demo data."""
from __future__ import annotations

from sqlalchemy import func, select

from portal import create_app
from portal.contracts.models import Contract, PremiumChange, PremiumPayment
from portal.members.models import InsuredPerson, Member
from portal.seed import seed_demo
from portal.staff.models import StaffUser


def test_seed_demo_is_idempotent(db_session):
    assert seed_demo(db_session) is True
    counts = [db_session.scalar(select(func.count()).select_from(t)) for t in (Member, Contract, StaffUser)]
    assert seed_demo(db_session) is False
    assert counts == [db_session.scalar(select(func.count()).select_from(t)) for t in (Member, Contract, StaffUser)]


def test_demo_household(demo, db_session):
    taro = demo["taro"]
    relations = sorted(p.relation for p in db_session.scalars(
        select(InsuredPerson).where(InsuredPerson.member_id == taro.id)))
    assert relations == ["child", "child", "self", "spouse"]
    contracts = list(db_session.scalars(select(Contract).where(Contract.member_id == taro.id)))
    codes = sorted(c.product.code for c in contracts)
    assert codes == sorted(["KOKUMIN_SOGO", "KOKUMIN_IRYO", "KOKUMIN_KODOMO", "KOKUMIN_KODOMO", "SUMAIRU",
                            "MYCAR", "NENKIN"])
    sumairu = next(c for c in contracts if c.product.code == "SUMAIRU")
    assert sumairu.property_structure == "wooden" and sumairu.property_address
    assert sumairu.premium_yen == 300 * 70 + 300 * 190 and sumairu.deductible_premium_yen == 300 * 190
    reasons = db_session.scalars(select(PremiumChange.reason)).all()
    assert any("制度改定" in r for r in reasons)
    sogo = next(c for c in contracts if c.product.code == "KOKUMIN_SOGO")
    assert db_session.scalar(select(func.count()).select_from(PremiumPayment)
                             .where(PremiumPayment.contract_id == sogo.id)) == 12
    assert demo["jiro"].password_hash is None and demo["jiro"].phone == "09012340002"


def test_create_staff_prints_the_secret_once(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-staff", "new@example.jp", "--role", "cs", "--password", "Long-enough-1"])
    assert result.exit_code == 0, result.output
    assert "TOTP secret" in result.output and "otpauth://" in result.output


def test_create_staff_refuses_an_unknown_role(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-staff", "x@example.jp", "--role", "boss"])
    assert result.exit_code == 1
    assert "unknown role" in result.output
    assert db_session.scalar(select(func.count()).select_from(StaffUser)
                             .where(StaffUser.email == "x@example.jp")) == 0


def test_seed_bulk_refuses_zero(app, db_session):
    result = app.test_cli_runner().invoke(args=["seed-bulk", "--members", "0"])
    assert result.exit_code == 1 and "positive" in result.output


def test_seed_bulk_adds_members(app, db_session):
    before = db_session.scalar(select(func.count()).select_from(Member))
    result = app.test_cli_runner().invoke(args=["seed-bulk", "--members", "50"])
    assert result.exit_code == 0, result.output
    assert db_session.scalar(select(func.count()).select_from(Member)) == before + 50
    assert db_session.scalar(select(func.count()).select_from(Contract)) >= 100


def test_cli_reports_an_unreachable_database():
    app = create_app({"PORTAL_ENV": "test", "SECRET_KEY": "k",
                      "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "database unreachable" in result.output
    assert "Traceback" not in result.output


def test_seed_demo_refused_in_production(monkeypatch):
    app = create_app({"PORTAL_ENV": "test", "SECRET_KEY": "k", "DATABASE_URL": "sqlite://"})
    app.config["PORTAL_ENV"] = "production"
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 1 and "production" in result.output


def _row_counts(session) -> dict[str, int]:
    from portal.db import Base

    return {table.name: session.scalar(select(func.count()).select_from(table)) for table in Base.metadata.sorted_tables}


def _demo_fingerprint(session, before: dict[str, int]) -> dict[str, object]:
    """The rows the demo added to every table (rows another test left behind, such as
    sign-in throttles kept outside its transaction, do not count), and what a person
    sees of the demo: staff, FAQ, tips and the demo household's procedures."""
    from portal.help.models import FaqEntry
    from portal.procedures.models import ProcedureRequest
    from portal.tips.models import Tip

    added = {name: n - before.get(name, 0) for name, n in _row_counts(session).items()}
    return {
        "counts": {name: n for name, n in added.items() if n},
        "staff": sorted(session.scalars(select(StaffUser.email))),
        "faq": list(session.scalars(select(FaqEntry.question).order_by(FaqEntry.sort_order))),
        "tips": sorted(session.scalars(select(Tip.slug))),
        "procedures": sorted((r.kind, r.status, r.summary) for r in session.scalars(select(ProcedureRequest))),
    }


def test_seed_demo_command_makes_the_same_demo(app, db_session):
    """`flask seed-demo` makes the demo it always made: these figures were taken
    from it before the demo data moved into portal/seed/."""
    from tests.contracts.helpers import tokyo

    before = _row_counts(db_session)
    with tokyo(2026, 11, 2):
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code == 0 and "demo data created" in result.output, result.output
        fingerprint = _demo_fingerprint(db_session, before)
        again = app.test_cli_runner().invoke(args=["seed-demo"])
        assert "demo data already present" in again.output
        assert _demo_fingerprint(db_session, before) == fingerprint
    assert fingerprint == EXPECTED_DEMO


EXPECTED_DEMO: dict[str, object] = {'counts': {'assessor_visits': 1,
            'claim_lines': 5,
            'claim_payment_run_items': 1,
            'claim_payment_runs': 1,
            'claims': 3,
            'contracts': 8,
            'coverages': 70,
            'debit_accounts': 2,
            'enrollment_applications': 1,
            'faq_entries': 4,
            'insured_persons': 5,
            'members': 2,
            'premium_changes': 9,
            'premium_payments': 74,
            'procedure_events': 18,
            'procedure_requests': 11,
            'products': 6,
            'shop_orders': 1,
            'staff_roles': 7,
            'staff_users': 7,
            'tip_categories': 4,
            'tip_revisions': 4,
            'tips': 4,
            'voices': 142},
 'faq': ['住所が変わったときの手続きは？', '解約したいときは？', '共済掛金証明書をなくしました', 'こども保障タイプは何歳まで？'],
 'procedures': [('bank_account_change', 'received', '新しい振替口座：三菱UFJ銀行 本店 普通 ***4321（2027年1月の口座振替から）'),
                ('certificate_mail', 'received', '2026年分 共済掛金証明書をご登録の住所へ郵送します。'),
                ('claim', 'awaiting_documents', '山田 一郎さま 骨折・通院（不慮の事故）'),
                ('claim', 'paid', '山田 花子さま 入院・手術（病気）'),
                ('contract_certificate', 'received', '共済契約証書（証書番号 ********0106）を作成し、ご登録の住所へ郵送します（ご契約の更新）。'),
                ('damage_report', 'visit_proposed', '風災・台風による損害（2026年10月23日）東京都渋谷区代々木1-2-3'),
                ('enrollment', 'received', 'こくみん共済 総合保障タイプ（被共済者 山田 花子さま、月掛金 1,800円）'),
                ('inquiry', 'received', '掛金の引き落とし日について（お電話で承りました）'),
                ('paper_forms', 'received', '死亡・重度障害共済金の請求書類の送付（お電話で承りました）'),
                ('property_rerating', 'received', '住まいる共済（証書番号 ********0105）の所在地変更に伴い、建物の構造を確認して掛金を再計算します。'),
                ('shop_order', 'paid', '健康チェッカー（1回お届け）（山田 太郎さま）')],
 'staff': ['admin@example.jp',
           'claims2@example.jp',
           'claims@example.jp',
           'cs@example.jp',
           'marketing@example.jp',
           'office@example.jp',
           'support@example.jp'],
 'tips': ['home-fire-prevention', 'koden-manners', 'winter-cold-prevention', 'winter-vegetables']}
