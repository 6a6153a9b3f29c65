"""The scheduled jobs of contract changes, run the way servers run them (run-jobs):
cover-end notices 60 days ahead, and uploads never sent removed after 24 hours
from the real local storage."""
from __future__ import annotations

import os
import re
import time
from datetime import date, datetime
from io import BytesIO

import time_machine
from PIL import Image
from sqlalchemy import select

from portal.changes import uploads
from portal.changes.models import CoverEndNotice
from portal.claims.models import ClaimFile
from portal.clock import TOKYO
from portal.gateways.storage import LocalStorage
from portal.messaging.models import OutboxMessage
from portal.ops import jobs
from portal.procedures.models import ProcedureRequest
from tests.changes.test_services import kodomo_ending_march_2027
from tests.claims.test_flow import _draft, file_claim, insured_member  # noqa: F401  (a fixture)


def test_run_jobs_runs_both_by_default():
    assert {"send-cover-end-notices", "remove-abandoned-uploads"} <= set(jobs.DEFAULT_JOBS)


def test_run_jobs_sends_the_cover_end_notice_60_days_before(make_app, db_session, make_member, make_contract):
    app = make_app()
    member, contract = kodomo_ending_march_2027(db_session, make_member, make_contract)
    # cover ends 31 Mar 2027: 30 Jan 2027 is 60 days before
    with time_machine.travel(datetime(2027, 1, 29, 9, 0, tzinfo=TOKYO), tick=False):
        assert app.test_cli_runner().invoke(args=["run-jobs", "--once"]).exit_code == 0
    assert db_session.scalar(select(CoverEndNotice).where(CoverEndNotice.contract_id == contract.id)) is None
    with time_machine.travel(datetime(2027, 1, 30, 9, 0, tzinfo=TOKYO), tick=False):
        result = app.test_cli_runner().invoke(args=["run-jobs", "--once"])
    assert result.exit_code == 0, result.output
    assert db_session.scalar(select(CoverEndNotice.cover_ends_on).where(
        CoverEndNotice.contract_id == contract.id)) == date(2027, 3, 31)
    notice = db_session.scalar(select(OutboxMessage).where(OutboxMessage.member_id == member.id,
                                                           OutboxMessage.subject.contains("保障期間満了")))
    assert notice is not None and "2027年3月31日" in notice.body


def test_hourly_jobs_are_not_run_every_round():
    assert jobs.is_due("deliver-outbox", 100.0, {"deliver-outbox": 99.0})
    assert jobs.is_due("remove-abandoned-uploads", 100.0, {})
    assert not jobs.is_due("remove-abandoned-uploads", 100.0 + 3599, {"remove-abandoned-uploads": 100.0})
    assert jobs.is_due("remove-abandoned-uploads", 100.0 + 3600, {"remove-abandoned-uploads": 100.0})


def _age(store: LocalStorage, key: str, hours: float) -> None:
    stamp = time.time() - hours * 3600
    os.utime(store.root / key, (stamp, stamp))


def _png() -> bytes:
    out = BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, "PNG")
    return out.getvalue()


def _token(html: str) -> str:
    return re.search(r'name="form_token"[^>]*value="([^"]+)"', html).group(1)


def test_uploads_never_sent_are_removed_after_24_hours(app, member_client, insured_member, db_session):
    from portal.gateways.storage import storage

    with app.app_context():
        store = storage()
    assert isinstance(store, LocalStorage)
    member = insured_member
    fields = {"new_name": "佐藤 太郎", "new_name_kana": "サトウ タロウ", "reason": "marriage"}

    def keys() -> set[str]:
        return {f.key for f in store.list("private")}

    def name_document() -> tuple[str, str]:
        token = _token(member_client.get("/changes/name").text)
        before = keys()
        page = member_client.post("/changes/name", data={**fields, "form_token": token, "action": "confirm",
                                                         "document": (BytesIO(_png()), "id.png")},
                                  content_type="multipart/form-data")
        assert "写真を受け取りました" in page.text
        (key,) = keys() - before
        return token, key

    _, abandoned = name_document()              # the member stopped at the confirmation page
    token, sent = name_document()               # …and sent this one
    assert member_client.post("/changes/name", data={**fields, "form_token": token, "action": "save"}
                              ).status_code == 302
    request = db_session.scalar(select(ProcedureRequest).where(ProcedureRequest.kind == "name_change"))
    assert sent in request.detail

    before = keys()
    file_claim(member_client, member, files=1)  # a claim left at its last step
    claim_abandoned = keys() - before
    before = keys()
    _, step4 = file_claim(member_client, member, files=1, days=("2026-10-01", "2026-10-03"))
    assert member_client.post("/claims/new/submit", data={"draft": _draft(step4.text)}).status_code == 302
    claim_sent = keys() - before
    assert len(claim_abandoned) == len(claim_sent) == 1
    assert set(db_session.scalars(select(ClaimFile.storage_key))) == claim_sent
    payment_run = "private/claims/runs/20261201-1-0123456789abcdef.txt"  # where payment runs keep their file
    store.save(payment_run, b"transfer file", "text/plain")

    for key in {abandoned, sent, payment_run} | claim_abandoned | claim_sent:
        _age(store, key, 25)
    _, fresh = name_document()                  # chosen an hour ago: the member may still send it
    _age(store, fresh, 1)

    result = app.test_cli_runner().invoke(args=["run-jobs", "--once", "--job", "remove-abandoned-uploads"])
    assert result.exit_code == 0, result.output
    ours = {abandoned, sent, payment_run, fresh} | claim_abandoned | claim_sent
    # Other tests share the storage folder: judge only the files this test made.
    assert keys() & ours == {sent, payment_run, fresh} | claim_sent
    assert store.open(sent).startswith(b"\xff\xd8")  # the office still opens the sent document
