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
