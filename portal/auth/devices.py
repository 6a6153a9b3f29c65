"""Remembered devices: a browser where the member has once signed in with a code.

The browser keeps a random token in a signed cookie for 90 days; the database keeps
only the token's SHA-256 per member. Signing in from any other browser asks for a
code and sends a new-device notice.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.models import KnownDevice
from portal.clock import utcnow

COOKIE_NAME = "mypage_device"
LIFETIME = timedelta(days=90)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="mypage-known-device")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_from_request() -> str | None:
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return None
    try:
        token = _serializer().loads(raw, max_age=int(LIFETIME.total_seconds()))
    except BadSignature:  # also SignatureExpired
        return None
    return token if isinstance(token, str) else None


def is_known(session: Session, member_id: int, token: str | None) -> bool:
    if not token:
        return False
    row = session.scalar(select(KnownDevice).where(KnownDevice.member_id == member_id,
                                                   KnownDevice.token_hash == _hash(token)))
    if row is None or row.expires_at <= utcnow():
        return False
    row.last_used_at = utcnow()
    return True


def remember(session: Session, member_id: int, token: str | None, user_agent: str | None) -> str:
    """Store this browser for the member (90 days from now); returns the token for the cookie."""
    token = token or secrets.token_urlsafe(32)
    now = utcnow()
    row = session.scalar(select(KnownDevice).where(KnownDevice.member_id == member_id,
                                                   KnownDevice.token_hash == _hash(token)))
    if row is None:
        row = KnownDevice(member_id=member_id, token_hash=_hash(token), created_at=now)
        session.add(row)
    row.user_agent = (user_agent or "")[:200]
    row.last_used_at = now
    row.expires_at = now + LIFETIME
    session.flush()
    return token


def set_cookie(response: Response, token: str) -> Response:
    response.set_cookie(COOKIE_NAME, _serializer().dumps(token), max_age=int(LIFETIME.total_seconds()),
                        httponly=True, samesite="Lax", secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response
