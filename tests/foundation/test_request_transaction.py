"""How a request's transaction ends (portal.db.Database._teardown).

A request that only read ends with COMMIT, so psycopg keeps its prepared
statements (it forgets all of them on every ROLLBACK) and PostgreSQL stops
parsing and planning the page queries on every request. Anything a view wrote
and did not commit is still rolled back, whether flushed, pending or written
with a Core statement.

These run on an app with its own engine, outside the test transaction, because
the point is what reaches the database.
"""
from __future__ import annotations

import pytest
from sqlalchemy import delete, func, insert, select, text

from portal import create_app
from portal.extensions import db
from portal.tips.models import TipCategory

PREFIX = "txn-"


@pytest.fixture
def own_app(app_config):
    application = create_app(app_config)
    yield application
    with application.app_context():
        db.session.execute(delete(TipCategory).where(TipCategory.code.startswith(PREFIX)))
        db.commit()
    db.engine_for(application).dispose()


def stored(app, code: str) -> bool:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TipCategory)
                                 .where(TipCategory.code == code)) == 1


def test_requests_that_only_read_keep_their_prepared_statements(own_app, backend):
    if backend != "postgresql":
        pytest.skip("prepared statements are psycopg's (PostgreSQL)")
    query = select(func.count()).select_from(TipCategory).where(TipCategory.code == PREFIX + "prepared")
    for _ in range(8):  # psycopg prepares a statement on its 5th execution on a connection
        with own_app.app_context():
            db.session.execute(query).scalar()
    with own_app.app_context():
        prepared = db.session.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any("tip_categories" in statement for statement in prepared), prepared


def test_a_flushed_write_the_view_did_not_commit_is_rolled_back(own_app):
    with own_app.app_context():
        db.session.add(TipCategory(code=PREFIX + "flushed", name="未確定1"))
        db.session.flush()
    assert not stored(own_app, PREFIX + "flushed")


def test_a_pending_object_is_neither_flushed_nor_kept(own_app):
    with own_app.app_context():
        db.session.execute(select(func.count()).select_from(TipCategory)).scalar()
        db.session.add(TipCategory(code=PREFIX + "pending", name="未確定2"))
    assert not stored(own_app, PREFIX + "pending")


def test_a_core_write_the_view_did_not_commit_is_rolled_back(own_app):
    with own_app.app_context():
        db.session.execute(select(func.count()).select_from(TipCategory)).scalar()
        db.session.execute(insert(TipCategory).values(code=PREFIX + "core", name="未確定3", sort_order=1))
    assert not stored(own_app, PREFIX + "core")


def test_a_request_that_failed_is_rolled_back(own_app):
    with pytest.raises(RuntimeError):
        with own_app.app_context():
            db.session.execute(insert(TipCategory).values(code=PREFIX + "failed", name="未確定4", sort_order=1))
            raise RuntimeError("the view failed")
    assert not stored(own_app, PREFIX + "failed")


def test_a_committed_write_is_kept(own_app):
    with own_app.app_context():
        db.session.add(TipCategory(code=PREFIX + "committed", name="確定5"))
        db.commit()
    assert stored(own_app, PREFIX + "committed")
