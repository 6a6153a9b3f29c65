"""Two office staff on the same procedure at the same moment, with real commits on
PostgreSQL (a schema of its own, so the rolled-back test schema is untouched)."""
from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.backoffice import services
from portal.backoffice.models import WorkHold
from portal import create_app
from portal.extensions import db
from portal.members.models import Member
from portal.audit.models import AuditLog
from portal.procedures import services as procedures
from portal.procedures.models import ProcedureEvent, ProcedureRequest
from portal.staff.accounts import create_staff
from tests.conftest import PG_URL
from tests.support.pg import own_schema, schema_url

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PORTAL_TEST_DATABASE_URL (PostgreSQL)")
SCHEMA = "office_concurrency"


@pytest.fixture
def engine(backend):
    if backend != "postgresql":
        pytest.skip("row locks: the PostgreSQL run covers it")
    with own_schema(PG_URL, SCHEMA) as engine:
        yield engine


@pytest.fixture
def office_app(engine, app_config):
    """An app of its own whose sessions commit for real into the schema above."""
    application = create_app({**app_config, "DATABASE_URL": schema_url(PG_URL, SCHEMA)})
    yield application
    db.engine_for(application).dispose()


@pytest.fixture
def setup(engine, office_app):
    app = office_app
    with app.app_context():
        s = db.session
        member = Member(member_no="4100000001", name="並行 花子", name_kana="ヘイコウ ハナコ",
                        birth_date=date(1980, 1, 1), sex="female", postal_code="1000001", prefecture="東京都",
                        city="千代田区", street="1-1", phone="09011113333", status="active")
        s.add(member)
        s.flush()
        request = procedures.start(s, member, "inquiry", "お問い合わせ", notify=False)
        first = create_staff(s, "office-a@example.jp", ["office"], "Staff-pass-2026", name="事務A")
        second = create_staff(s, "office-b@example.jp", ["office"], "Staff-pass-2026", name="事務B")
        db.commit()
        return request.id, first.id, second.id


def _run_both(engine, app, work) -> tuple[list[str], list[BaseException]]:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def run(staff_id: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                outcomes.append(work(db.session, staff_id))
                db.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(staff_id,)) for staff_id in work.staff_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes, errors


def test_two_claims_at_once_leave_one_holder(engine, office_app, setup):
    app = office_app
    request_id, first_id, second_id = setup

    def work(session, staff_id):
        request = session.get(ProcedureRequest, request_id)
        staff = session.get(services.StaffUser, staff_id)
        try:
            services.claim(session, request, staff)
            return "held"
        except services.WorkError as error:
            return error.message
    work.staff_ids = (first_id, second_id)

    outcomes, errors = _run_both(engine, app, work)
    assert not errors, errors
    assert sorted(outcomes)[0] == "held" and outcomes.count("held") == 1
    assert any("さんが対応中です" in o for o in outcomes)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(WorkHold)) == 1
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "backoffice.claim")) == 1


def test_two_completions_at_once_change_it_once(engine, office_app, setup):
    app = office_app
    """Both staff pass the page (one held it, the other took over after a release);
    their submissions race: the row lock lets one through, the other sees it done."""
    request_id, first_id, second_id = setup
    with app.app_context():
        s = db.session
        services.claim(s, s.get(ProcedureRequest, request_id), s.get(services.StaffUser, first_id))
        db.commit()

    def work(session, staff_id):
        request = session.get(ProcedureRequest, request_id)
        staff = session.get(services.StaffUser, staff_id)
        try:
            return services.act(session, request, "complete", staff, {"note": ""})
        except services.WorkError as error:
            return "refused: " + error.message
    work.staff_ids = (first_id, first_id)  # the same person double-clicking in two tabs

    outcomes, errors = _run_both(engine, app, work)
    assert not errors, errors
    assert sum(1 for o in outcomes if o.startswith("refused")) == 1, outcomes
    with Session(engine) as s:
        assert s.get(ProcedureRequest, request_id).status == "completed"
        assert s.scalar(select(func.count()).select_from(ProcedureEvent).where(
            ProcedureEvent.request_id == request_id, ProcedureEvent.status == "completed")) == 1
        assert s.scalar(select(func.count()).select_from(WorkHold)) == 0
