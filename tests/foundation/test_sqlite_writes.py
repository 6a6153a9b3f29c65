"""Two requests on the development SQLite database at once: one reads, another
commits a write, then the first writes. With deferred transactions the first one
fails at once with "database is locked" (its WAL snapshot is stale); every
transaction taking the write lock up front makes the second one wait instead."""
from __future__ import annotations

import threading

from sqlalchemy import text

from portal.db import make_engine


def test_a_read_then_write_survives_another_connection_committing_meanwhile(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
    errors: list[Exception] = []

    def other_request() -> None:
        try:
            with engine.begin() as other:
                other.execute(text("INSERT INTO notes VALUES ('other')"))
        except Exception as error:  # noqa: BLE001 - the test reports it
            errors.append(error)

    with engine.begin() as first:
        first.execute(text("SELECT count(*) FROM notes")).scalar_one()
        racer = threading.Thread(target=other_request)
        racer.start()
        racer.join(timeout=0.5)  # with the write lock held, the other request waits here
        first.execute(text("INSERT INTO notes VALUES ('first')"))
    racer.join(timeout=30)
    assert errors == []
    with engine.connect() as connection:
        assert sorted(connection.execute(text("SELECT body FROM notes")).scalars()) == ["first", "other"]
    engine.dispose()
