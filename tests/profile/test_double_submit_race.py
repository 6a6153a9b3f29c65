"""A double click that reaches two workers at once: both copies of one address form
(same one-time token) answer with the same result page, one change is stored, and
nobody is told of a conflict (409). Real commits on PostgreSQL, in a schema of its
own, two threads posting at the same moment."""
from __future__ import annotations

import os
import threading
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portal import create_app
from portal.auth.passwords import hash_password
from portal.db import make_engine
from portal.members.models import InsuredPerson, Member
from portal.models import metadata
from portal.procedures.models import ProcedureRequest
from tests.profile.helpers import hidden

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
ATTEMPTS = 6


@pytest.fixture
def race_app(app_config):
    if not PG_URL:
        pytest.skip("PORTAL_TEST_DATABASE_URL not set (CI sets it): SQLite runs one writer at a time")
    schema = f"race_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = PG_URL + ("&" if "?" in PG_URL else "?") + f"options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    metadata.create_all(engine)
    with Session(engine) as s:
        member = Member(member_no="4000000101", name="並行 花子", name_kana="ヘイコウ ハナコ",
                        birth_date=date(1980, 1, 1), sex="female", postal_code="1000001", prefecture="東京都",
                        city="千代田区", street="千代田1-1", phone="09011113333", status="active", shares=10,
                        login_id="race-member", password_hash=hash_password("Heikou-pass-2026"))
        s.add(member)
        s.flush()
        s.add(InsuredPerson(member_id=member.id, relation="self", name=member.name, name_kana=member.name_kana,
                            birth_date=member.birth_date, sex="female"))
        s.commit()
    application = create_app({**app_config, "DATABASE_URL": url, "TRUST_NEW_DEVICES": True})
    application.race_engine = engine  # type: ignore[attr-defined]
    yield application
    from portal.extensions import db
    db.engine_for(application).dispose()
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _signed_in(app):
    client = app.test_client()
    assert client.post("/login", data={"login_id": "race-member", "password": "Heikou-pass-2026"}).status_code == 302
    return client


def test_two_copies_of_one_address_form_get_the_same_result_page(race_app):
    first, second = _signed_in(race_app), _signed_in(race_app)
    for attempt in range(ATTEMPTS):
        page = first.get("/profile/address")
        data = {"form_token": hidden(page.text, "form_token"), "version": hidden(page.text, "version"),
                "postal_code": "151-0053", "prefecture": "東京都", "city": "渋谷区",
                "street": f"代々木4-5-{attempt + 1}", "building": "", "action": "save"}
        barrier = threading.Barrier(2)
        answers: list = [None, None]
        errors: list[BaseException] = []

        def post(index, client):
            try:
                barrier.wait()
                answers[index] = client.post("/profile/address", data=data)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=post, args=(i, c)) for i, c in enumerate((first, second))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        statuses = [a.status_code for a in answers]
        assert statuses == [302, 302], (attempt, statuses)
        assert answers[0].headers["Location"] == answers[1].headers["Location"], attempt
        assert answers[0].headers["Location"].startswith("/requests/")
        with Session(race_app.race_engine) as s:
            stored = s.scalar(select(func.count()).select_from(ProcedureRequest).where(
                ProcedureRequest.idempotency_key == f"address:{data['form_token']}"))
            assert stored == 1
            assert s.scalar(select(Member.street).where(Member.member_no == "4000000101")) == data["street"]
