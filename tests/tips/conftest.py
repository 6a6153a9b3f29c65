"""Fixtures for the tips tests: a session inside an app context, tips and images."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import BytesIO
from typing import Any

import pytest
from flask import g
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.tips import services
from portal.tips.models import Tip, TipCategory


@contextmanager
def bound(app, db_session: Session) -> Iterator[Session]:
    """An app context whose db.session is the test's session (audit.record writes there).

    Only around service calls: a test client request made while an app context is
    open reuses it (and its g, with the signed-in user), so it must not stay open."""
    with app.app_context():
        g.db_session = db_session
        try:
            yield db_session
        finally:
            g.pop("db_session", None)  # the fixture, not the context, closes it


@pytest.fixture
def session(app, db_session) -> Session:
    services.ensure_categories(db_session)
    return db_session


@pytest.fixture
def in_app(app, session) -> Iterator[Session]:
    """For service tests: an app context open for the whole test."""
    with bound(app, session):
        yield session


@pytest.fixture
def category(session) -> Callable[[str], TipCategory]:
    def get(code: str = "health") -> TipCategory:
        return session.scalar(select(TipCategory).where(TipCategory.code == code))
    return get


@pytest.fixture
def make_tip(app, session, category) -> Callable[..., Tip]:
    counter = iter(range(1, 10_000))

    def factory(*, status: str = "draft", category_code: str = "health", **fields: Any) -> Tip:
        n = next(counter)
        data = services.TipInput(title=fields.pop("title", f"テスト記事{n}"), summary=fields.pop("summary", "概要です"),
                                 body_md=fields.pop("body_md", "本文です。"),
                                 category_id=category(category_code).id, **fields)
        with bound(app, session):
            tip = services.create_tip(session, data, staff_id=None)
            if status in ("published", "archived"):
                services.change_status(session, tip.id, "published", staff_id=None)
            if status == "archived":
                services.change_status(session, tip.id, "archived", staff_id=None)
        return tip

    return factory


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48), color=(200, 30, 30), **save: Any) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **save)
    return out.getvalue()
