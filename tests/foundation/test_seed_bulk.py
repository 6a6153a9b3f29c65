"""seed-bulk on PostgreSQL loads without foreign keys and secondary indexes and
puts every one of them back, validated, also when the load fails half-way."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from portal.contracts.models import Contract, Coverage
from portal.members.models import Member
from portal.seed.bulk import seed_bulk

TABLES = "'members', 'insured_persons', 'contracts', 'coverages'"


def _schema(session) -> set[tuple[str, str]]:
    constraints = session.execute(text(
        f"SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid::regclass::text IN ({TABLES})"))
    indexes = session.execute(text(f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ({TABLES})"))
    return set(constraints.all()) | set(indexes.all())


@pytest.fixture
def postgres(db_session):
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("the bulk mode is PostgreSQL's")
    return db_session


def test_bulk_mode_restores_every_key_and_index(postgres):
    before = _schema(postgres)
    assert any(name == "fk_coverages_contract_id_contracts" for name, _ in before)
    members = postgres.scalar(select(func.count()).select_from(Member))
    assert seed_bulk(postgres, 30, batch=10, bulk_mode=True) == 30
    assert _schema(postgres) == before
    assert postgres.scalar(select(func.count()).select_from(Member)) == members + 30
    contract = postgres.scalar(select(Contract).order_by(Contract.id.desc()).limit(1))
    assert postgres.scalar(select(func.count()).select_from(Coverage).where(Coverage.contract_id == contract.id)) > 0
    with pytest.raises(IntegrityError), postgres.begin_nested():  # the foreign key checks again
        postgres.execute(text("INSERT INTO coverages (contract_id, kind, amount_yen, is_unlimited, age_from, age_to)"
                              " VALUES (-1, 'outpatient', 1, false, 0, 99)"))


def test_a_failed_bulk_load_leaves_the_schema_and_adds_nothing(postgres):
    before = _schema(postgres)
    members = postgres.scalar(select(func.count()).select_from(Member))

    def stop(added: int) -> None:
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        seed_bulk(postgres, 30, batch=10, progress=stop, bulk_mode=True)
    assert _schema(postgres) == before
    assert postgres.scalar(select(func.count()).select_from(Member)) == members
