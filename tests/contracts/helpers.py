"""Shared by the contracts and mypage tests: frozen Tokyo time and a SQL counter."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime

import time_machine
from sqlalchemy import event
from sqlalchemy.engine import Engine

from portal.clock import TOKYO
from portal.extensions import db


def tokyo(year: int, month: int, day: int, hour: int = 10, minute: int = 0):
    """Freeze the clock at a Tokyo wall-clock time (sign in inside the block:
    a session opened at another instant would be idle-expired)."""
    return time_machine.travel(datetime(year, month, day, hour, minute, tzinfo=TOKYO), tick=False)


# Transaction control of the test harness (requests commit to a SAVEPOINT): not queries.
_HARNESS = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT|BEGIN|COMMIT|ROLLBACK)\b", re.I)


def is_sign_in_bookkeeping(statement: str) -> bool:
    """What every signed-in request runs before any view: the server-side session
    lookup (auth_sessions by token hash, joined to the member it signs in), and
    Flask-Login's user loader (members by primary key) should the member not come
    with it. The same for every page, the bare benchmark page included, and
    independent of the member's data."""
    s = " ".join(statement.split()).lower()
    return "from auth_sessions" in s or (
        s.startswith("select members.") and "from members" in s and "where members.id =" in s
        and " join " not in s)


class QueryLog:
    def __init__(self) -> None:
        self.statements: list[str] = []
        # Statements with a list parameter that SQLAlchemy renders into the SQL on every
        # execution ("expanding", a plain in_()): their text is built anew each time.
        self.expanding: list[str] = []

    @property
    def all(self) -> list[str]:
        return [s for s in self.statements if not _HARNESS.match(s)]

    @property
    def page(self) -> list[str]:
        return [s for s in self.all if not is_sign_in_bookkeeping(s)]


@contextmanager
def count_queries():
    log = QueryLog()

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        log.statements.append(statement)
        compiled = getattr(context, "compiled", None)
        if compiled is not None and "POSTCOMPILE" in compiled.string:
            log.expanding.append(statement)

    event.listen(Engine, "before_cursor_execute", before_cursor_execute)  # every app's engine
    try:
        yield log
    finally:
        event.remove(Engine, "before_cursor_execute", before_cursor_execute)


def sign_in(client, db_session, member) -> None:
    """Open a member session without the login form (the auth feature tests that
    form, including its new-device code step): a server-side AuthSession row and
    the cookie pointing at it, exactly what sessions.begin() leaves behind."""
    import hashlib
    import secrets

    from portal.auth.models import AuthSession

    token = secrets.token_urlsafe(32)
    db_session.add(AuthSession(token_hash=hashlib.sha256(token.encode()).hexdigest(), member_id=member.id))
    db_session.flush()
    with client.session_transaction() as s:
        s.clear()
        s["sid"] = token
        s["_user_id"] = member.get_id()
        s["_fresh"] = True
