"""The one clock. Every 'now' and 'today' in the portal comes from here.

Instants are stored as timezone-aware UTC; dates a member sees are Tokyo dates.
Tests move time with time-machine, which this module honours because it calls
datetime.now at each use.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def now_tokyo() -> datetime:
    return datetime.now(TOKYO)


def today() -> date:
    """Today's date in Asia/Tokyo (not the server's local date)."""
    return now_tokyo().date()


def to_tokyo(instant: datetime) -> datetime:
    if instant.tzinfo is None:  # SQLite hands back naive UTC
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(TOKYO)


def as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        return instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(timezone.utc)
