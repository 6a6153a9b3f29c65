"""Server-side sessions for members and staff.

The signed Flask cookie carries only a random token; the AuthSession row holds
who is signed in, when they were last seen and whether the session has ended.
Every sign-in clears the cookie and issues a new token (session id rotation).
"""
from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, request, session
from flask_login import login_user, logout_user
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from portal.auth.models import AuthSession
from portal.clock import utcnow
from portal.extensions import db
from portal.users import parse_user_id


@functools.cache
def _current_statement():
    """The session row and whoever it signs in, in one round trip: the user loader
    then finds the Member (or StaffUser) in the identity map. Built once, on first
    use (building it at import would configure the mappers before every model is
    imported): every request runs it, and a prebuilt statement skips construction
    and cache-key work."""
    return (select(AuthSession)
            .options(joinedload(AuthSession.member), joinedload(AuthSession.staff))
            .where(AuthSession.token_hash == bindparam("token_hash")))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def begin(user, *, reauthenticated: bool = True) -> AuthSession:
    """Sign `user` (Member or StaffUser) in with a brand-new session id."""
    end_current("rotated")
    session.clear()
    token = secrets.token_urlsafe(32)
    kind, user_id = parse_user_id(user.get_id()) or ("", 0)
    now = utcnow()
    row = AuthSession(
        token_hash=_hash(token),
        member_id=int(user_id) if kind == "member" else None,
        staff_id=int(user_id) if kind == "staff" else None,
        created_at=now, last_seen_at=now,
        reauthenticated_at=now if reauthenticated else None,
        ip=request.remote_addr, user_agent=(request.user_agent.string or "")[:200],
    )
    db.session.add(row)
    db.session.flush()
    session["sid"] = token
    session.permanent = True
    login_user(user)
    g.auth_session = row
    return row


def rotate() -> AuthSession | None:
    """A new session id for the same sign-in (impersonation start/end, phone change)."""
    row = current()
    if row is None:
        return None
    token = secrets.token_urlsafe(32)
    row.token_hash = _hash(token)
    keep = {k: v for k, v in session.items() if k not in ("sid", "csrf_token")}
    session.clear()
    session.update(keep)
    session["sid"] = token
    return row


def current() -> AuthSession | None:
    if "auth_session" in g:
        return g.auth_session
    token = session.get("sid")
    row = None
    if token:
        row = db.session.execute(_current_statement(), {"token_hash": _hash(token)}).scalars().first()
        if row is not None:
            # The identity map holds objects weakly: keep the signed-in user alive
            # until the user loader asks for it.
            g.auth_user = row.member if row.member is not None else row.staff
    g.auth_session = row
    return row


def end_current(reason: str = "logout") -> None:
    row = current()
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        row.ended_reason = reason
    g.pop("auth_session", None)
    logout_user()
    session.clear()


def end_others_for_member(member_id: int, reason: str) -> None:
    """A password or phone change signs the member out everywhere else."""
    keep = current()
    stmt = (update(AuthSession)
            .where(AuthSession.member_id == member_id, AuthSession.ended_at.is_(None))
            .values(ended_at=utcnow(), ended_reason=reason))
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep.id)
    db.session.execute(stmt)


def expiry_reason(row: AuthSession, now: datetime) -> str | None:
    """Why this session is no longer valid, or None while it is."""
    if row.ended_at is not None:
        return "ended"
    config = current_app.config
    if row.staff_id is not None:
        idle = timedelta(minutes=config["STAFF_IDLE_MINUTES"])
    else:
        idle = timedelta(minutes=config["MEMBER_IDLE_MINUTES"])
    if now - row.last_seen_at > idle:
        return "idle"
    if now - row.created_at > timedelta(hours=config["MEMBER_ABSOLUTE_HOURS"]):
        return "absolute"
    return None


def touch(row: AuthSession, now: datetime) -> None:
    # Write last_seen at most once a minute: most requests stay read-only.
    if now - row.last_seen_at > timedelta(seconds=60):
        row.last_seen_at = now


def is_recently_reauthenticated(minutes: int = 5) -> bool:
    row = current()
    return bool(row and row.reauthenticated_at and utcnow() - row.reauthenticated_at <= timedelta(minutes=minutes))


def mark_reauthenticated() -> None:
    row = current()
    if row is not None:
        row.reauthenticated_at = utcnow()
