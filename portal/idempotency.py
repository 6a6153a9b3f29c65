"""Doing a thing once although the request arrives twice (a double click, a
resent form, two tabs).

A form carries a one-time token (`new_form_token`); the service stores it in a
unique `idempotency_key` column with the row it creates. `insert_once` adds the
row inside a SAVEPOINT: when a concurrent request with the same key got there
first, the unique index refuses our INSERT and we return the winner's row, so a
race never shows the user an error and never creates two rows.
"""
from __future__ import annotations

import secrets
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

T = TypeVar("T")


def new_form_token() -> str:
    """An unguessable token for one rendering of a form."""
    return secrets.token_urlsafe(24)


def find_by_key(session: Session, model: type[T], key: str | None, *, column: str = "idempotency_key") -> T | None:
    if not key:
        return None
    return session.scalar(select(model).where(getattr(model, column) == key))


def insert_once(session: Session, row: T, *, column: str = "idempotency_key") -> tuple[T, bool]:
    """Insert `row` unless a row with its key exists: (the stored row, created?).

    Without a key the row is simply inserted. An IntegrityError that is not about
    this key (no row with it afterwards) is raised as usual.
    """
    model: Any = type(row)
    key = getattr(row, column)
    existing = find_by_key(session, model, key, column=column)
    if existing is not None:
        return existing, False
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        if key is None:
            raise
        if row in session:
            session.expunge(row)
        existing = find_by_key(session, model, key, column=column)
        if existing is None:
            raise
        return existing, False
    return row, True
