"""Bulk members for benchmarks (`seed-bulk`): many households, fast."""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.contracts.catalogue import coverage_rows
from portal.contracts.models import Contract, Coverage
from portal.members.models import InsuredPerson, Member, kana_keys
from portal.seed.household import ensure_products
FAMILY_NAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
                "吉田", "山口", "松本", "井上", "木村", "林", "斎藤", "清水", "山崎", "森",
                "池田", "橋本", "阿部", "石川", "山下", "中島", "石井", "小川", "前田", "岡田"]
FAMILY_KANA = ["サトウ", "スズキ", "タカハシ", "タナカ", "イトウ", "ワタナベ", "ヤマモト", "ナカムラ", "コバヤシ", "カトウ",
               "ヨシダ", "ヤマグチ", "マツモト", "イノウエ", "キムラ", "ハヤシ", "サイトウ", "シミズ", "ヤマザキ", "モリ",
               "イケダ", "ハシモト", "アベ", "イシカワ", "ヤマシタ", "ナカジマ", "イシイ", "オガワ", "マエダ", "オカダ"]
GIVEN = [("一郎", "イチロウ", "male"), ("花子", "ハナコ", "female"), ("健", "ケン", "male"), ("陽子", "ヨウコ", "female"),
         ("大輔", "ダイスケ", "male"), ("恵子", "ケイコ", "female"), ("誠", "マコト", "male"), ("裕子", "ユウコ", "female"),
         ("翔太", "ショウタ", "male"), ("美咲", "ミサキ", "female"), ("浩二", "コウジ", "male"), ("直美", "ナオミ", "female"),
         ("拓也", "タクヤ", "male"), ("由美", "ユミ", "female"), ("和也", "カズヤ", "male"), ("明美", "アケミ", "female"),
         ("修", "オサム", "male"), ("幸子", "サチコ", "female"), ("博", "ヒロシ", "male"), ("久美子", "クミコ", "female")]
# Search keys of every bulk name, computed once (portal.members.models.kana_keys).
_KEYS = {(f, g): kana_keys(f"{FAMILY_KANA[f]} {GIVEN[g][1]}") for f in range(len(FAMILY_KANA)) for g in range(len(GIVEN))}


# From this many members on, PostgreSQL loads without the foreign keys and
# secondary indexes of the four tables and makes them again at the end: checking
# 40 coverage rows a member one by one costs more than writing them.
BULK_MODE_FROM = 20_000


def seed_bulk(session: Session, count: int, *, batch: int = 5_000,
              progress: Callable[[int], None] | None = None, bulk_mode: bool | None = None) -> int:
    """Insert `count` members, each with one insured person and two contracts, fast.

    Core multi-row inserts with ids assigned here: no ORM objects, no per-row round trips.
    Password hashes are left empty (bulk members are not registered), except that
    a benchmark can register one itself. `progress(n)` is called after each batch
    with the number of members it added (the CLI's progress bar).

    On PostgreSQL with `bulk_mode` (default: from BULK_MODE_FROM members) the whole
    load is one transaction that drops the foreign keys and secondary indexes of
    the tables it fills, COPYs, and makes them again (the foreign keys validated):
    a failure or an interrupted run leaves the schema as it was.
    """
    if count <= 0:
        raise ValueError("--members must be a positive number")
    postgres = session.get_bind().dialect.name == "postgresql"
    if bulk_mode is None:
        bulk_mode = count >= BULK_MODE_FROM
    if not (postgres and bulk_mode):
        return _load(session, count, batch, progress, commit=True)
    session.commit()
    try:
        saved = _drop_checks(session)
        done = _load(session, count, batch, progress, commit=False)
        _restore_checks(session, saved)
        session.commit()
    except BaseException:
        session.rollback()  # DDL is transactional: the dropped keys and indexes come back
        raise
    _after_bulk_load(session)
    return done


_LOADED_TABLES = ("members", "insured_persons", "contracts", "coverages")


def _drop_checks(session: Session) -> list[tuple[str, str, str]]:
    """Drop the foreign keys and the secondary indexes (not primary keys, not
    unique constraints) of the loaded tables; returns what makes them again."""
    tables = list(_LOADED_TABLES)
    foreign = session.execute(text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(CAST(:tables AS regclass[])) ORDER BY conname"),
        {"tables": tables}).all()
    indexes = session.execute(text(
        "SELECT i.indrelid::regclass::text, c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = ANY(CAST(:tables AS regclass[])) "
        "AND NOT i.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
        "ORDER BY c.relname"), {"tables": tables}).all()
    for table, name, _ in foreign:
        session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for _, name, _ in indexes:
        session.execute(text(f'DROP INDEX "{name}"'))
    # The index builds at the end sort tens of millions of rows: give them memory.
    session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    session.execute(text("SET LOCAL synchronous_commit = off"))
    return [("index", table, definition) for table, _, definition in indexes] + \
           [("foreign", table, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            for table, name, definition in foreign]


def _restore_checks(session: Session, saved: list[tuple[str, str, str]]) -> None:
    for _, _, statement in saved:  # indexes first: validating a foreign key reads them
        session.execute(text(statement))


def _load(session: Session, count: int, batch: int, progress: Callable[[int], None] | None, *,
          commit: bool) -> int:
    products = ensure_products(session)
    sogo, iryo = products["KOKUMIN_SOGO"], products["KOKUMIN_IRYO"]
    sogo_rows = coverage_rows("KOKUMIN_SOGO")
    iryo_rows = coverage_rows("KOKUMIN_IRYO")
    rng = random.Random(count)
    member_id = (session.scalar(select(func.max(Member.id))) or 0) + 1
    insured_id = (session.scalar(select(func.max(InsuredPerson.id))) or 0) + 1
    contract_id = (session.scalar(select(func.max(Contract.id))) or 0) + 1
    coverage_id = (session.scalar(select(func.max(Coverage.id))) or 0) + 1
    member_no = int(session.scalar(select(func.max(Member.member_no))) or "5000000000")
    member_no = max(member_no, 5_000_000_000)
    now = utcnow()
    done = 0
    while done < count:
        size = min(batch, count - done)
        members, insured, contracts, coverages = [], [], [], []
        for _ in range(size):
            member_no += 1
            f, g = rng.randrange(len(FAMILY_NAMES)), rng.randrange(len(GIVEN))
            given, given_kana, sex = GIVEN[g]
            birth = date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28))
            members.append({"id": member_id, "member_no": str(member_no), "name": f"{FAMILY_NAMES[f]} {given}",
                            "name_kana": f"{FAMILY_KANA[f]} {given_kana}", "name_kana_key": _KEYS[f, g][0],
                            "given_kana_key": _KEYS[f, g][1], "birth_date": birth, "sex": sex,
                            "postal_code": "1000001", "prefecture": "東京都", "city": "千代田区",
                            "street": f"千代田{rng.randrange(1, 9)}-{rng.randrange(1, 30)}", "building": None,
                            "phone": f"080{member_no % 100_000_000:08d}", "email": None, "login_id": None,
                            "password_hash": None, "status": "active", "shares": 10, "registered_at": None,
                            "created_at": now, "version": 1})
            insured.append({"id": insured_id, "member_id": member_id, "relation": "self",
                            "name": members[-1]["name"], "name_kana": members[-1]["name_kana"],
                            "birth_date": birth, "sex": sex})
            for product, rows, premium in ((sogo, sogo_rows, 1_800), (iryo, iryo_rows, 2_300)):
                contracts.append({"id": contract_id, "contract_no": f"9{contract_id:011d}", "member_id": member_id,
                                  "product_id": product.id, "insured_person_id": insured_id, "units": 2,
                                  "start_date": date(2015, 4, 1), "end_date": None, "status": "in_force",
                                  "premium_yen": premium, "deductible_premium_yen": premium,
                                  "premium_period": "monthly", "payment_method": "transfer",
                                  "debit_account_id": None, "property_postal_code": None, "property_address": None,
                                  "property_structure": None, "certificate_status": "shipped",
                                  "certificate_shipped_on": date(2015, 3, 20), "needs_rerating": False,
                                  "created_at": now, "version": 1})
                # ~40 coverage rows per member, most of the volume: kept as tuples and,
                # on PostgreSQL, written to COPY as text (see _copy_coverages).
                for kind, amount, unlimited, lo, hi in rows:
                    coverages.append((coverage_id, contract_id, kind, amount, unlimited, lo, hi))
                    coverage_id += 1
                contract_id += 1
            member_id += 1
            insured_id += 1
        for model, rows in ((Member, members), (InsuredPerson, insured), (Contract, contracts)):
            _bulk_insert(session, model, rows)
        _insert_coverages(session, coverages)
        if commit:
            session.commit()
        done += size
        if progress is not None:
            progress(size)
    if commit:
        _after_bulk_load(session)
    return done


def _bulk_insert(session: Session, model, rows: list[dict]) -> None:
    """COPY on PostgreSQL (several times faster than multi-row INSERT for the
    ~40 coverage rows of each member); a multi-row INSERT elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(model), rows)
        return
    columns = list(rows[0])
    table = model.__table__
    cursor = session.connection().connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


_COVERAGE_COLUMNS = ("id", "contract_id", "kind", "amount_yen", "is_unlimited", "age_from", "age_to")


def _insert_coverages(session: Session, rows: list[tuple]) -> None:
    """COPY in its text format on PostgreSQL: one f-string per row instead of a
    per-value adaptation (the values are ours: digits, ASCII kinds, booleans)."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(Coverage), [dict(zip(_COVERAGE_COLUMNS, row)) for row in rows])
        return
    cursor = session.connection().connection.dbapi_connection.cursor()
    text = "".join(f"{i}\t{c}\t{k}\t{a}\t{'t' if u else 'f'}\t{lo}\t{hi}\n" for i, c, k, a, u, lo, hi in rows)
    with cursor.copy(f"COPY coverages ({', '.join(_COVERAGE_COLUMNS)}) FROM STDIN") as copy:
        copy.write(text)


def _after_bulk_load(session: Session) -> None:
    """Serial sequences move past the ids inserted explicitly (PostgreSQL), and the
    planner learns the new table sizes: with stale statistics PostgreSQL reads the
    whole coverages table for one household instead of using its index."""
    tables = _LOADED_TABLES
    if session.get_bind().dialect.name == "postgresql":
        for table in tables:
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    for table in tables:
        session.execute(text(f"ANALYZE {table}"))
    session.commit()
