"""Two requests finishing passkey sign-ins at the same moment, with real commits on
PostgreSQL (a schema of its own, so the rolled-back test schema is untouched): a
challenge is spent once, and one counter value lets one sign-in through."""
from __future__ import annotations

import json
import threading
from datetime import date

import pytest
from sqlalchemy.orm import Session
from webauthn.helpers import bytes_to_base64url

from portal.account import passkeys
from portal.account.models import Passkey
from portal.members.models import Member
from tests.account.authenticator import SoftAuthenticator
from tests.conftest import PG_URL
from tests.support.pg import own_schema

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PORTAL_TEST_DATABASE_URL (PostgreSQL)")
SCHEMA = "account_concurrency"
RP = passkeys.RelyingParty(id="localhost", name="テスト", origin="http://localhost:5000", secret="s" * 32)


@pytest.fixture
def engine(backend):
    if backend != "postgresql":
        pytest.skip("real concurrent commits: the PostgreSQL run covers it")
    with own_schema(PG_URL, SCHEMA) as engine:
        yield engine


@pytest.fixture
def authenticator(engine) -> SoftAuthenticator:
    key = SoftAuthenticator()
    with Session(engine) as s:
        member = Member(member_no="4200000001", name="並行 次郎", name_kana="ヘイコウ ジロウ",
                        birth_date=date(1980, 1, 1), sex="male", postal_code="1000001", prefecture="東京都",
                        city="千代田区", street="1-1", phone="09011114444", status="active")
        s.add(member)
        s.flush()
        s.add(Passkey(member_id=member.id, credential_id=bytes_to_base64url(key.credential_id),
                      public_key=key._cose_key(), sign_count=0, name="並行テスト"))
        s.commit()
    return key


def _options(engine) -> dict:
    with Session(engine) as s:
        ceremony = passkeys.authentication_options(s, RP, "login")
        s.commit()
    return json.loads(ceremony.options_json)


def _race(engine, attempts: list[tuple[dict, str]]) -> list[str]:
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []

    def run(credential: dict, challenge: str) -> None:
        with Session(engine) as s:
            barrier.wait()
            try:
                passkeys.finish_authentication(s, RP, credential_json=credential, challenge=challenge,
                                               purpose="login")
                s.commit()
                outcomes.append("ok")
            except passkeys.PasskeyError:
                s.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=run, args=attempt) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


def test_one_assertion_sent_twice_at_once_signs_in_once(engine, authenticator):
    options = _options(engine)
    assertion = authenticator.get(options)
    assert _race(engine, [(assertion, options["challenge"])] * 2) == ["ok", "refused"]


def test_a_cloned_counter_racing_the_real_one_gets_in_once(engine, authenticator):
    first, second = _options(engine), _options(engine)
    real = authenticator.get(first)
    clone = authenticator.get(second, bump=False)  # same counter value, its own fresh challenge
    assert _race(engine, [(real, first["challenge"]), (clone, second["challenge"])]) == ["ok", "refused"]
