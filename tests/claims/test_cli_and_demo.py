"""The scheduler's payment run command and the demo claims."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from portal.claims.models import Claim
from portal.jp.zengin import parse_transfer_file


def _approved_claim(db_session, member, amount: int) -> Claim:
    from portal.procedures.services import start

    procedure = start(db_session, member, "claim", "入院", status="awaiting_payment", notify=False)
    claim = Claim(procedure_id=procedure.id, member_id=member.id, kind="claim", first_day=date(2026, 10, 1),
                  approved_yen=amount, payee_bank_code="0001", payee_bank_name="みずほ銀行", payee_branch_code="001",
                  payee_branch_name="東京営業部", payee_account_type=1, payee_account_number="7654321",
                  payee_holder_name="ｼｹﾝ ﾀﾛｳ")
    db_session.add(claim)
    db_session.flush()
    return claim


def test_payment_run_command_writes_the_file_and_prints_where(app, db_session, make_member):
    from portal.jp.dates import add_business_days

    member = make_member()
    _approved_claim(db_session, member, 12_345)
    _approved_claim(db_session, member, 300_000)
    day = add_business_days(date.today(), 1)
    result = app.test_cli_runner().invoke(args=["claims-payment-run", "--date", day.isoformat()])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("run ") and "2 claims, 312345 yen" in lines[0]
    parsed = parse_transfer_file(Path(lines[1]).read_bytes())
    assert parsed.count == 2 and parsed.total_yen == 312_345
    assert parsed.header["transfer_date"] == f"{day:%m%d}"
    again = app.test_cli_runner().invoke(args=["claims-payment-run", "--date", day.isoformat()])
    assert again.exit_code == 1 and "ありません" in again.output
    bad = app.test_cli_runner().invoke(args=["claims-payment-run", "--date", "2026-13-40"])
    assert bad.exit_code == 1 and "YYYY-MM-DD" in bad.output


def test_demo_claims_and_staff(demo, db_session):
    from portal.staff.models import StaffUser

    taro = demo["taro"]
    claims = {c.procedure.status: c for c in db_session.scalars(select(Claim).where(Claim.member_id == taro.id))}
    assert set(claims) == {"paid", "awaiting_documents", "visit_proposed"}
    assert claims["paid"].approved_yen == 110_000 and claims["paid"].paid_on is not None
    assert claims["awaiting_documents"].estimated_yen == 3 * 2_000 + 50_000
    assert claims["visit_proposed"].visits[0].status == "proposed"
    staff = {s.email: s for s in db_session.scalars(select(StaffUser).where(StaffUser.email.like("claims%")))}
    assert set(staff) == {"claims@example.jp", "claims2@example.jp"}
    assert all(s.has_role("claims") for s in staff.values())
    from portal.seed import seed_demo
    seed_demo(db_session)  # idempotent
    assert len(list(db_session.scalars(select(Claim).where(Claim.member_id == taro.id)))) == 3
