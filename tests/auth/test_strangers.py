"""A stranger who knows a member's phone number can neither lock the member out
nor use up the member's code sends (portal.auth.codes: counters per number and
who asked). Driven through the real pages on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from sqlalchemy import select

from portal.auth.models import CodeChallenge, CodeFailure
from portal.clock import TOKYO
from tests.auth.conftest import identity

START = datetime(2026, 11, 2, 10, 0, tzinfo=TOKYO)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _stranger_burns_decoys(app, start: str, code_page: str, phone: str, identifiers: list[str]) -> None:
    """For each guessed identifier: step 1 with the member's number, then 3 wrong codes."""
    for n, identifier in enumerate(identifiers):
        stranger = app.test_client()  # a fresh browser (and address) each time, as an attacker would
        environ = {"REMOTE_ADDR": f"198.51.100.{n + 1}"}
        response = stranger.post(start, data={"identifier": identifier, "birth_date": "1960-01-01",
                                              "phone": phone, "channel": "sms"}, environ_base=environ)
        assert response.status_code == 302 and response.headers["Location"] == code_page
        for _ in range(3):
            page = stranger.post(code_page, data={"code": "123456"}, environ_base=environ)
            assert "認証コード" in page.text


@pytest.mark.parametrize("flow", ["signup", "reset"])
def test_wrong_codes_against_decoys_never_lock_the_member(flow, app, client, outbox, newcomer, make_member,
                                                          db_session, clock):
    member = newcomer() if flow == "signup" else make_member(phone="09023459999")
    start, code_page = ("/signup", "/signup/code") if flow == "signup" else ("/password/reset",
                                                                             "/password/reset/code")
    # 12 wrong codes over 4 decoys, all at the member's number: more than the 10 that lock.
    _stranger_burns_decoys(app, start, code_page, member.phone,
                           ["1999999901", "1999999902", "1999999903", "1999999904"])
    decoys = db_session.scalars(select(CodeChallenge).where(CodeChallenge.phone == member.phone)).all()
    assert len(decoys) == 4 and all(d.is_decoy and d.status == "burned" for d in decoys)
    assert db_session.scalars(select(CodeFailure).where(CodeFailure.member_id == member.id)).all() == []
    # The member, at once (no 60-second wait either), gets a real code and it works.
    response = client.post(start, data=identity(member), environ_base={"REMOTE_ADDR": "203.0.113.10"})
    assert response.headers["Location"] == code_page
    accepted = client.post(code_page, data={"code": outbox.code(member.phone)})
    assert accepted.status_code == 302 and accepted.headers["Location"] != start


def test_a_stranger_cannot_use_up_the_members_sends(app, client, outbox, newcomer, clock):
    member = newcomer()
    stranger = app.test_client()
    guess = {"identifier": "1999999911", "birth_date": "1960-01-01", "phone": member.phone, "channel": "sms"}
    assert stranger.post("/signup", data=guess).headers["Location"] == "/signup/code"
    # The stranger's next try within the minute is throttled, in the stranger's own bucket…
    again = stranger.post("/signup", data=guess)
    assert again.status_code == 429 and "60秒に1回" in again.text
    # …which is not the member's.
    assert client.post("/signup", data=identity(member)).headers["Location"] == "/signup/code"
    assert len(outbox.entries(member.phone)) == 1


def test_decoy_and_real_challenges_lock_alike(app, newcomer, db_session, clock):
    """Ten wrong codes in one bucket lock it whether the data matched or not, so the lock
    message tells a stranger nothing about the member."""
    member = newcomer()
    answers = {}
    for label, data in {"decoy": {**identity(member), "identifier": "1999999921"},
                        "real": identity(member)}.items():
        visitor = app.test_client()
        for n in range(4):
            clock.shift(61)
            assert visitor.post("/signup", data=data).headers["Location"] == "/signup/code"
            for _ in range(3 if n < 3 else 1):
                last = visitor.post("/signup/code", data={"code": "000000"})
        answers[label] = (last.status_code, "まで認証できません" in last.text)
    assert answers["decoy"] == answers["real"] == (429, True)
