"""Shared fixtures.

Every test that touches the database runs on SQLite and, when
PORTAL_TEST_DATABASE_URL is set (CI sets it), on PostgreSQL too. The schema is
built once per backend; each test runs inside a transaction that is rolled back
(requests commit to a SAVEPOINT), so tests never see each other's rows.

Factories are fixtures that return callables (`make_member(**kw)`).
"""
from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from portal import create_app
from portal.auth import passwords
from portal.db import make_engine
from portal.extensions import db
from portal.models import metadata

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
LOOPBACK = ("127.0.0.1", "::1", "localhost")


# --- no real network ---------------------------------------------------------
_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if isinstance(address, tuple) and address and address[0] not in LOOPBACK:
        raise RuntimeError(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def no_network() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


ARTIFACTS = os.path.join(os.path.dirname(__file__), "artifacts")
SUITE_LOG = os.path.join(ARTIFACTS, "suite.log")


@pytest.fixture(autouse=True, scope="session")
def suite_log() -> Iterator[None]:
    """Everything logged during the suite, for tests/zz_log_scan (no secrets in logs)."""
    import logging

    os.makedirs(ARTIFACTS, exist_ok=True)
    from portal.logredact import install_record_factory
    install_record_factory()
    handler = logging.FileHandler(SUITE_LOG, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    previous_level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    yield
    root.removeHandler(handler)
    root.setLevel(previous_level)
    handler.close()


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing() -> Iterator[None]:
    """Production cost is measured by tests/perf; the suite needs speed, not strength."""
    original = passwords.METHOD
    passwords.METHOD = "pbkdf2:sha256:1000"
    yield
    passwords.METHOD = original


# --- databases ---------------------------------------------------------------
def database_url_for(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend == "postgresql":
        assert PG_URL
        return PG_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def reset_schema(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            metadata.drop_all(connection)
    metadata.create_all(engine)
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def app_config(backend: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    url = database_url_for(backend, tmp_path_factory)
    reset_schema(url)
    return {
        "PORTAL_ENV": "test",
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": url,
        "WTF_CSRF_ENABLED": False,
        "STORAGE_DIR": str(tmp_path_factory.mktemp("files")),
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "TRUST_NEW_DEVICES": True,  # other features sign in with the password only; tests/auth covers codes
        # View tests read words (<wbr> and .nowrap spans would split them); tests/foundation/test_typeset.py
        # and the browser suite check the typesetting.
        "TYPESET_HTML": False,
    }


@pytest.fixture(scope="session")
def app(app_config: dict[str, Any]):
    application = create_app(app_config)
    yield application
    db.engine_for(application).dispose()


@pytest.fixture
def db_session(app) -> Iterator[Session]:
    """A session inside a transaction rolled back after the test; requests share it."""
    connection = db.engine_for(app).connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    original = db.bind(factory, app)
    session = factory()
    from portal.extensions import limiter
    limiter.reset()
    try:
        yield session
    finally:
        session.close()
        db.bind(original, app)
        outer.rollback()
        connection.close()


@pytest.fixture
def make_app(app_config, db_session):
    """make_app(SMS_BACKEND="aws", ...) → another app on the same test transaction."""
    created = []

    def factory(**overrides: Any):
        application = create_app({**app_config, **overrides})
        db.bind(sessionmaker(bind=db_session.connection(), join_transaction_mode="create_savepoint",
                             expire_on_commit=False), application)
        created.append(application)
        return application

    yield factory
    for application in created:
        db.engine_for(application).dispose()


@pytest.fixture
def client(app, db_session):
    return app.test_client()


# --- factories -----------------------------------------------------------------
@pytest.fixture
def make_member(db_session: Session) -> Callable[..., Any]:
    from portal.auth.passwords import hash_password
    from portal.members.models import InsuredPerson, Member

    counter = iter(range(1, 10_000))

    def factory(*, password: str | None = "Member-pass-2026", household: bool = False, **fields: Any) -> Member:
        n = next(counter)
        values: dict[str, Any] = dict(
            member_no=f"30000{n:05d}", name=f"試験 太郎{n}", name_kana=f"シケン タロウ", birth_date=date(1980, 5, 15),
            sex="male", postal_code="1000001", prefecture="東京都", city="千代田区", street="千代田1-1",
            phone=f"0901111{n:04d}", email=None, status="active", shares=10,
            login_id=f"member{n}" if password else None,
            password_hash=hash_password(password) if password else None,
        )
        values.update(fields)
        member = Member(**values)
        db_session.add(member)
        db_session.flush()
        db_session.add(InsuredPerson(member_id=member.id, relation="self", name=member.name,
                                     name_kana=member.name_kana, birth_date=member.birth_date, sex=member.sex))
        if household:
            db_session.add(InsuredPerson(member_id=member.id, relation="spouse", name="試験 花子",
                                         name_kana="シケン ハナコ", birth_date=date(1982, 3, 3), sex="female"))
        db_session.flush()
        member.password_plain = password  # type: ignore[attr-defined]  (for login helpers)
        return member

    return factory


@pytest.fixture
def make_contract(db_session: Session) -> Callable[..., Any]:
    from portal.seed import add_contract, add_payments, ensure_products

    counter = iter(range(1, 10_000))

    def factory(member, product_code: str = "KOKUMIN_SOGO", *, insured=None, start: date = date(2020, 4, 1),
                premium_yen: int | None = None, payments: bool = False, **kw: Any):
        from portal.contracts.catalogue import MONTHLY_PREMIUM_YEN
        products = ensure_products(db_session)
        db_session.refresh(member)
        insured = insured or member.insured_persons[0]
        contract = add_contract(db_session, member, products[product_code], insured,
                                kw.pop("contract_no", f"8{member.id:05d}{next(counter):06d}"), start,
                                premium_yen if premium_yen is not None else MONTHLY_PREMIUM_YEN.get(product_code, 10_000),
                                **kw)
        if payments:
            add_payments(db_session, contract)
        return contract

    return factory


@pytest.fixture
def demo(db_session: Session) -> dict[str, Any]:
    """The seed-demo data: {'taro': Member, 'jiro': Member}."""
    from sqlalchemy import select

    from portal.members.models import Member
    from portal.seed import seed_demo
    seed_demo(db_session)
    members = {m.member_no: m for m in db_session.scalars(select(Member))}
    return {"taro": members["1000000001"], "jiro": members["1000000002"]}


# --- signing in -----------------------------------------------------------------
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str | None:
    match = CSRF_RE.search(html)
    return match.group(1) if match else None


class AuthActions:
    def __init__(self, client) -> None:
        self.client = client

    def login(self, login_id: str = "demo", password: str = "Demo-pass-2026"):
        return self.client.post("/login", data={"login_id": login_id, "password": password})

    def login_member(self, member):
        return self.login(member.login_id, member.password_plain)

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def member_client(client, auth, make_member):
    """A client signed in as a fresh member (its .member attribute)."""
    member = make_member(household=True)
    response = auth.login_member(member)
    assert response.status_code == 302, response.text
    client.member = member
    return client


@pytest.fixture
def make_staff(db_session: Session) -> Callable[..., Any]:
    from portal.staff.accounts import create_staff

    counter = iter(range(1, 10_000))

    def factory(*roles: str, password: str = "Staff-pass-2026", totp_secret: str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"):
        n = next(counter)
        staff = create_staff(db_session, f"staff{n}-{'-'.join(roles)}@example.jp", list(roles) or ["support"],
                             password, name=f"職員{n}", totp_secret=totp_secret)
        staff.password_plain = password  # type: ignore[attr-defined]
        return staff

    return factory


def sign_in_staff_directly(client, db_session: Session, staff) -> None:
    """Open a staff session without the TOTP form (the staff console tests that form)."""
    import hashlib
    import secrets as _secrets

    from portal.auth.models import AuthSession
    token = _secrets.token_urlsafe(32)
    db_session.add(AuthSession(token_hash=hashlib.sha256(token.encode()).hexdigest(), staff_id=staff.id))
    db_session.flush()
    with client.session_transaction() as s:
        s["sid"] = token
        s["_user_id"] = staff.get_id()
        s["_fresh"] = True


@pytest.fixture
def staff_client(app, db_session, make_staff):
    """staff_client("cs") → a new test client signed in as a staff user with that role."""
    def factory(*roles: str):
        client = app.test_client()
        staff = make_staff(*roles)
        sign_in_staff_directly(client, db_session, staff)
        client.staff = staff
        return client

    return factory
