"""Demo data for the office: the staff user office@example.jp and open procedures of
every kind for the demo household, some of them past their due date."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.clock import today, utcnow
from portal.jp.dates import first_debit_date
from portal.members.models import DebitAccount, Member
from portal.procedures import services as procedures
from portal.procedures.models import ProcedureRequest
from portal.staff.models import StaffUser

OFFICE_STAFF = ("office@example.jp", "office", "山本（事務センター）")
KEY = "demo:office:"


def seed_office_staff(session: Session, password: str, totp_secret: str) -> bool:
    from portal.staff.services import create_staff

    email, role, name = OFFICE_STAFF
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        return False
    create_staff(session, email, [role], password, name=name, totp_secret=totp_secret)
    return True


def _start(session: Session, member: Member, kind: str, summary: str, key: str, *, days_ago: int = 0,
           **kw) -> ProcedureRequest | None:
    if procedures.find_by_key(session, KEY + key) is not None:
        return None
    request = procedures.start(session, member, kind, summary, idempotency_key=KEY + key, notify=False, **kw)
    if days_ago:  # an older receipt, so the queue shows what is overdue
        received = utcnow() - timedelta(days=days_ago)
        request.created_at = received
        for event in request.events:
            event.occurred_at = received
    return request


def seed_office_work(session: Session) -> int:
    """Open procedures for the demo household (idempotent: each has its own key)."""
    taro = session.scalar(select(Member).where(Member.member_no == "1000000001"))
    if taro is None:
        return 0
    added = 0
    if procedures.find_by_key(session, KEY + "bank") is None:
        account = DebitAccount(member_id=taro.id, bank_code="0005", bank_name="三菱UFJ銀行", branch_code="001",
                               branch_name="本店", account_type=1, account_number="7654321",
                               holder_name="ﾔﾏﾀﾞ ﾀﾛｳ", is_current=False)
        session.add(account)
        session.flush()
        effective = first_debit_date(today())
        added += bool(_start(session, taro, "bank_account_change",
                             f"新しい振替口座：{account.masked}（{effective.year}年{effective.month}月の口座振替から）",
                             "bank", days_ago=9, effective_date=effective,
                             detail={"debit_account_id": account.id, "received_on": today().isoformat()}))
    added += bool(_start(session, taro, "paper_forms", "死亡・重度障害共済金の請求書類の送付（お電話で承りました）",
                         "paper", days_ago=4, detail={"note": "父の死亡共済金の請求書類を送ってほしい", "taken_by": "phone"}))
    added += bool(_start(session, taro, "inquiry", "掛金の引き落とし日について（お電話で承りました）", "inquiry",
                         detail={"note": "今月の引き落とし日を知りたい", "taken_by": "phone"}))
    year = today().year if today().month >= 10 else today().year - 1
    added += bool(_start(session, taro, "certificate_mail",
                         f"{year}年分 共済掛金証明書をご登録の住所へ郵送します。", "certificate_mail", days_ago=2,
                         detail={"year": year, "address": f"〒151-0053 {taro.address}"}))
    session.flush()
    return added


