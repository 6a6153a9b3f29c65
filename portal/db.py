"""Engine and session wiring, and the declarative Base.

One SQLAlchemy session per request (or CLI command), created on first use and
closed at teardown. Services only flush; the caller commits once with
`db.commit()`, which then runs the callbacks registered with `after_commit`
(used to deliver queued notices only once their procedure is safely stored).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import datetime, timezone
from typing import Any

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import ColumnElement, DateTime, MetaData, create_engine, event, literal
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC instants on every database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use portal.clock")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            options["poolclass"] = StaticPool
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
    options.update(kwargs)
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        _sqlite_pragmas(engine)
    _note_writes(engine)
    return engine


# Anything but a plain query counts as a write (INSERT, UPDATE, DELETE, WITH … INSERT, DDL).
_QUERY = re.compile(r"\s*SELECT\b", re.IGNORECASE)
_WROTE = "portal_transaction_wrote"


def _note_writes(engine: Engine) -> None:
    """Remember, per transaction, whether a statement other than SELECT ran on it
    (see `Database._teardown`)."""
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.info[_WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if not _QUERY.match(statement):
            connection.info[_WROTE] = True


def _only_read(session: Session) -> bool:
    """The session's transaction ran queries only and holds no unflushed change."""
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    return session.connection().info.get(_WROTE) is False


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINTs; let SQLAlchemy
        # emit BEGIN itself (the documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front. A deferred transaction that reads
        # and then writes fails at once with "database is locked" when another
        # connection committed in between (WAL snapshot), busy_timeout or not: the
        # login page's passkey request racing the password form did exactly that.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class _AppDatabase:
    """One app's engine and session factory (several apps may live in one process)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.session_factory: sessionmaker[Session] = sessionmaker(bind=engine, expire_on_commit=False)


class Database:
    def __init__(self) -> None:
        self._last: _AppDatabase | None = None

    def init_app(self, app: Flask) -> None:
        state = _AppDatabase(make_engine(app.config["DATABASE_URL"]))
        app.extensions["portal_db"] = state
        self._last = state
        app.teardown_appcontext(self._teardown)

    def _state(self, app: Flask | None = None) -> _AppDatabase:
        if app is not None:
            return app.extensions["portal_db"]
        if has_app_context():
            return current_app.extensions["portal_db"]
        assert self._last is not None, "Database.init_app was not called"
        return self._last

    def engine_for(self, app: Flask) -> Engine:
        return self._state(app).engine

    @property
    def engine(self) -> Engine:
        """The current app's engine (outside an app context: the most recently created app's)."""
        return self._state().engine

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self._state().session_factory

    def bind(self, factory: sessionmaker[Session], app: Flask | None = None) -> sessionmaker[Session]:
        """Tests point an app at a connection held inside an outer transaction.

        Returns the factory it replaces, so the caller can put it back.
        """
        state = self._state(app)
        previous = state.session_factory
        state.session_factory = factory
        return previous

    @property
    def session(self) -> Session:
        if not has_app_context():
            raise RuntimeError("db.session needs an application context")
        if "db_session" not in g:
            g.db_session = self._state().session_factory()
        return g.db_session

    def commit(self) -> None:
        """Commit the request's unit of work, then run its after-commit callbacks."""
        session = self.session
        session.commit()
        callbacks: list[Callable[[], None]] = session.info.pop("after_commit", [])
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.session.info.setdefault("after_commit", []).append(callback)

    def _teardown(self, exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is None:
            return
        session.info.pop("after_commit", None)
        try:
            # A request that only read ends its transaction with COMMIT, which for it is
            # the same as ROLLBACK: psycopg forgets its prepared statements on every
            # ROLLBACK, and kept they spare PostgreSQL parsing and planning the same
            # page queries again on every request. Anything written and not committed
            # by the view is still rolled back.
            if exc is None and _only_read(session):
                session.commit()
        except SQLAlchemyError:
            pass  # close() below rolls back whatever is left
        finally:
            session.close()


def in_constants(column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN (…)` for a fixed list of the code's own constants, one bound
    parameter per value. A plain `in_()` binds one "expanding" parameter that
    SQLAlchemy renders into the SQL anew on every execution; with this the SQL
    is built once, so a hot page's statement comes from the compiled cache and
    psycopg's prepared statement as it is."""
    return column.in_([literal(value) for value in values])


def sql_in(values: tuple[str, ...]) -> str:
    """The SQL list for an enumeration check constraint: ('a', 'b')."""
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"
