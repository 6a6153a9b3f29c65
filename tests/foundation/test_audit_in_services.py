"""Audit rows are written by the services, in the session they are given, so that a
service called from anywhere (a view, the office queue, a test) leaves its row."""
from __future__ import annotations

from datetime import date

import time_machine
from sqlalchemy import func, select

from portal.audit.models import AuditLog


def _count(session, action: str) -> int:
    return session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == action))


def test_certificate_mailing_is_audited_once_by_the_service(db_session, demo):
    from portal.certificates import services

    with time_machine.travel("2026-11-10 10:00 +09:00", tick=False):
        key = "cert_mail:" + "a" * 20
        first = services.request_mail(db_session, demo["taro"], date(2026, 11, 10), idempotency_key=key)
        services.request_mail(db_session, demo["taro"], date(2026, 11, 10), idempotency_key=key)  # resent
    db_session.flush()
    rows = db_session.scalars(select(AuditLog).where(AuditLog.action == "certificate.mail_requested")).all()
    assert [(r.target_id, r.actor_type) for r in rows] == [(str(first.id), "system")]


def test_staff_account_changes_and_member_opening_are_audited_by_the_services(db_session, demo, make_staff):
    from portal.staff import accounts, search

    admin = make_staff("admin")
    staff, _ = accounts.create_staff_account(db_session, "new@example.jp", "新人", ["support"])
    accounts.set_staff_enabled(db_session, staff.id, False, by_staff_id=admin.id)
    accounts.reset_totp(db_session, staff.id)
    assert search.open_member(db_session, demo["taro"].id) is not None
    search.find_members(db_session, "やまだ")
    db_session.flush()
    for action in ("staff.user_create", "staff.user_disable", "staff.totp_reset", "staff.member_open",
                   "staff.member_search"):
        assert _count(db_session, action) == 1, action
    assert search.open_member(db_session, 10**9) is None
    assert _count(db_session, "staff.member_open") == 1


def test_claims_and_office_readings_are_audited_by_the_services(db_session, demo, tmp_path):
    from portal.backoffice import services as backoffice
    from portal.claims import services as claims
    from portal.claims.models import Claim
    from portal.gateways.storage import LocalStorage
    from portal.procedures.models import ProcedureRequest

    claim = db_session.scalars(select(Claim).where(Claim.member_id == demo["taro"].id)).first()
    claims.record_staff_view(db_session, claim)
    store = LocalStorage(tmp_path)
    assert claims.open_claim_file(db_session, claim, 10**9, store, action="claims.file_view") is None
    request = db_session.scalars(select(ProcedureRequest).where(ProcedureRequest.kind == "inquiry")).first()
    backoffice.record_view(db_session, request)
    assert backoffice.open_intake_file(db_session, request, store) is None  # taken by phone, no document
    db_session.flush()
    assert (_count(db_session, "claims.staff_view"), _count(db_session, "backoffice.view")) == (1, 1)
    assert (_count(db_session, "claims.file_view"), _count(db_session, "backoffice.file_view")) == (0, 0)
