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


def test_voice_triage_is_audited_by_the_services(db_session, make_member, make_staff):
    from portal.voices import report, services

    cs, member = make_staff("cs"), make_member()
    for _ in range(2):  # the second time is a resent form: no second row
        voice = services.submit_voice(db_session, kind="opinion", topic="web", body="文字を大きく",
                                      wants_reply=False, member=member, idempotency_key="v" * 32).voice
    assert services.open_voice(db_session, voice.id) is voice and services.open_voice(db_session, 10**9) is None
    services.change_status(db_session, voice, "in_progress")
    services.assign(db_session, voice, cs.id)
    services.add_note(db_session, voice, cs, "確認中")
    item = services.create_item(db_session, title="文字の大きさ", voice_ids=[voice.id])
    services.update_item(db_session, item, title="文字の大きさ", description="", owner_staff_id=None, due_on=None,
                         progress="in_progress", progress_note="")
    services.link_item(db_session, voice, None)
    services.send_reply(db_session, voice, cs, "ありがとうございました")
    services.inbox(db_session, services.InboxFilters())
    report.report_for_staff(db_session, 2026)
    report.report_for_staff(db_session, 2026, exported=True)
    report.start_export(db_session, 2026)
    db_session.flush()
    for action in ("voice.submitted", "voice.viewed", "voice.status_changed", "voice.assigned", "voice.note_added",
                   "improvement_item.created", "improvement_item.updated", "voice.replied", "voice.inbox_viewed",
                   "voice.report_viewed", "voice.report_exported", "voice.exported"):
        assert _count(db_session, action) == 1, action
    assert _count(db_session, "voice.item_linked") == 1  # linking while creating the item is the item's own row


def test_member_requests_and_inquiries_are_audited_once_by_the_services(db_session, make_member, make_contract,
                                                                        make_staff):
    from portal.changes import services as changes
    from portal.help import services as help_services

    member = make_member()
    contract = make_contract(member, "SUMAIRU", premium_yen=15_590, start=date(2020, 4, 1))
    for _ in range(2):  # a double click
        changes.request_cancellation(db_session, member, contract, date(2026, 12, 1), requested_end=None,
                                     reason="", idempotency_key="cancel:audit")
        inquiry = help_services.submit_inquiry(db_session, member, topic="other", subject="件名", body="本文",
                                               on=date(2026, 12, 1), idempotency_key="inquiry:audit")
        help_services.member_reply(db_session, member, inquiry, "追加です", idempotency_key="reply:audit")
        help_services.staff_reply(db_session, inquiry.id, "回答です", staff_id=make_staff("cs").id,
                                  idempotency_key="answer:audit")
    db_session.flush()
    for action in ("contract.cancellation_requested", "inquiry.submitted", "inquiry.replied", "inquiry.answered"):
        assert _count(db_session, action) == 1, action
