"""A per-account limit on failed sign-ins, for members and staff alike.

The first FREE_FAILURES wrong passwords (or staff TOTP codes) cost nothing; each
one after that makes the account wait before the next try, twice as long each
time (30 s, 1 min, 2 min … at most 15 minutes). The wait is a delay, not a lock:
it never lasts longer than 15 minutes after the last failure, the count starts
again after a day without failures, and a member on a remembered device is not
held up at all (the caller decides that), so an attacker who knows a login ID
cannot keep its member out. The per-IP limits of the views stay as they are.

The counters are rows, so they hold across every worker and server; the row is
locked while it is counted up, so two failures at once both count.
"""
from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.auth.models import SignInThrottle
from portal.clock import to_tokyo, utcnow
from portal.service_errors import ServiceError

FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)


class SignInDelayed(ServiceError):
    """The account must wait until `retry_at` (UTC); shown next to the password field."""

    def __init__(self, retry_at: datetime, now: datetime | None = None) -> None:
        now = now or utcnow()
        minutes = max(1, math.ceil((retry_at - now).total_seconds() / 60))
        self.retry_at = retry_at
        super().__init__(f"ログインの失敗が続いたため、{to_tokyo(retry_at):%H:%M}まで（約{minutes}分）"
                         "ログインできません。時間をおいてもう一度お試しください。", field="password")

    @property
    def retry_after_seconds(self) -> int:
        return max(1, int((self.retry_at - utcnow()).total_seconds() + 0.999))


def account_key(kind: str, value: str | int) -> str:
    return hashlib.sha256(f"{kind}:{str(value).strip().lower()}".encode()).hexdigest()


def delay_after(failures: int) -> timedelta | None:
    if failures < FREE_FAILURES:
        return None
    return min(FIRST_DELAY * 2 ** (failures - FREE_FAILURES), MAX_DELAY)


def check(session: Session, key: str, now: datetime | None = None) -> None:
    """Raise SignInDelayed while the account has to wait."""
    now = now or utcnow()
    blocked_until = session.scalar(select(SignInThrottle.blocked_until).where(SignInThrottle.key == key))
    if blocked_until is not None and blocked_until > now:
        raise SignInDelayed(blocked_until, now)


def _locked_row(session: Session, key: str, now: datetime) -> SignInThrottle:
    query = select(SignInThrottle).where(SignInThrottle.key == key).with_for_update()
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.add(SignInThrottle(key=key, failures=0, last_failure_at=now))
            session.flush()
    except IntegrityError:
        pass  # another request inserted it first: count on its row
    return session.scalar(query.execution_options(populate_existing=True))


def record_failure(session: Session, key: str, now: datetime | None = None) -> int:
    """Count one failure; returns the count (within the last day)."""
    now = now or utcnow()
    row = _locked_row(session, key, now)
    if row.last_failure_at < now - FORGET_AFTER:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    delay = delay_after(row.failures)
    row.blocked_until = now + delay if delay else None
    session.flush()
    return row.failures


def failures(session: Session, key: str, now: datetime | None = None) -> int:
    now = now or utcnow()
    row = session.scalar(select(SignInThrottle).where(SignInThrottle.key == key))
    if row is None or row.last_failure_at < now - FORGET_AFTER:
        return 0
    return row.failures


def clear(session: Session, key: str) -> None:
    """A successful sign-in starts the count again."""
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == key))
