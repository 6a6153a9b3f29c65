"""run-jobs: the scheduled commands in one loop, one server at a time."""
from __future__ import annotations

import threading

from sqlalchemy import select

from portal.gateways.models import DevOutboxEntry
from portal.messaging.models import OutboxMessage
from portal.ops import jobs


def test_one_round_runs_the_jobs(make_app, db_session, make_member):
    app = make_app()
    member = make_member()
    db_session.add(OutboxMessage(member_id=member.id, channel="sms", recipient="+819012345678",
                                 body="手続きを受け付けました", status="queued"))
    db_session.flush()
    result = app.test_cli_runner().invoke(args=["run-jobs", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 round" in result.output
    assert db_session.scalar(select(OutboxMessage.status)) == "sent"
    assert db_session.scalars(select(DevOutboxEntry)).all()


def test_a_failing_job_does_not_stop_the_others(make_app, caplog):
    app = make_app()
    with app.app_context():
        assert jobs.run_job(app, "no-such-command") is False
        assert jobs.run_job(app, "publish-scheduled") is True


def test_only_one_process_holds_the_lock(app_config, tmp_path):
    """Two holders at once never both get the lock (advisory lock on PostgreSQL, flock on SQLite)."""
    from portal import create_app
    from portal.extensions import db

    first = create_app({**app_config})
    first.instance_path = str(tmp_path)
    second = create_app({**app_config})
    second.instance_path = str(tmp_path)
    inside, release = threading.Event(), threading.Event()
    results = {}

    def hold() -> None:
        with jobs.job_lock(first) as held:
            results["first"] = held
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert inside.wait(10)
        with jobs.job_lock(second) as held:
            results["second"] = held
    finally:
        release.set()
        thread.join()
    with jobs.job_lock(second) as held:
        results["after"] = held
    db.engine_for(first).dispose()
    db.engine_for(second).dispose()
    assert results == {"first": True, "second": False, "after": True}
