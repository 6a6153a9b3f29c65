"""`flask --app wsgi run-jobs`: the scheduled commands in one loop, on one server.

Every server may run it (one systemd unit everywhere); a lock lets exactly one of
them work at a time and another take over when that one stops:
- PostgreSQL: a session-level advisory lock held by a connection of its own
  (the database releases it when the process or its connection dies);
- SQLite (one machine): an exclusive flock on instance/run-jobs.lock.

Each job is an existing CLI command run in-process (deliver-outbox,
publish-scheduled, …), so a job is written once and can still be run by hand.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import text

log = logging.getLogger(__name__)

DEFAULT_JOBS = ("deliver-outbox", "publish-scheduled", "send-cover-end-notices", "remove-abandoned-uploads",
                "apply-property-moves")
# Jobs that need not run every round: at most once per this many seconds per process.
MIN_SECONDS_BETWEEN = {"send-cover-end-notices": 3600, "remove-abandoned-uploads": 3600, "apply-property-moves": 3600}
# Any fixed number identifies the lock; this one spells "MYPG".
ADVISORY_LOCK_KEY = 0x4D595047


@contextlib.contextmanager
def job_lock(app: Flask) -> Iterator[bool]:
    """Yields True while this process holds the jobs lock, False when another does."""
    from portal.extensions import db

    engine = db.engine_for(app)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar())
            connection.commit()
            try:
                yield held
            finally:
                if held:
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                    connection.commit()
        return
    path = Path(app.instance_path) / "run-jobs.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_job(app: Flask, name: str) -> bool:
    """Run one CLI command in-process; True when it finished without error."""
    from portal.extensions import db

    command = app.cli.get_command(click.Context(app.cli), name)
    if command is None:
        log.error("run-jobs: no command %s", name)
        return False
    started = time.perf_counter()
    try:
        with app.app_context():
            try:
                # standalone_mode=False: a command's own sys.exit(1) comes back as an exception.
                command.main(args=[], prog_name=name, standalone_mode=False)
            finally:
                db.session.rollback()
    except (Exception, SystemExit) as error:
        log.error("run-jobs: %s failed: %s", name, error)
        return False
    log.info("run-jobs: %s done in %.1f s", name, time.perf_counter() - started)
    return True


def is_due(name: str, now: float, last_run: dict[str, float]) -> bool:
    """Whether `name` runs this round (monotonic seconds; hourly jobs once an hour)."""
    return name not in last_run or now - last_run[name] >= MIN_SECONDS_BETWEEN.get(name, 0)


def loop(app: Flask, jobs: tuple[str, ...], interval: float, once: bool) -> int:
    """Run `jobs` every `interval` seconds while holding the lock; returns how many
    rounds this process ran (0 when another process held the lock)."""
    rounds = 0
    last_run: dict[str, float] = {}
    while True:
        with job_lock(app) as held:
            while held:
                started = time.monotonic()
                for name in jobs:
                    if is_due(name, started, last_run):
                        last_run[name] = started
                        run_job(app, name)
                rounds += 1
                if once:
                    return rounds
                time.sleep(max(0.0, interval - (time.monotonic() - started)))
        if once:
            log.info("run-jobs: another server holds the jobs lock; nothing run")
            return rounds
        time.sleep(interval)  # another server works: ask again later


def register(app: Flask) -> None:
    @app.cli.command("run-jobs")
    @click.option("--job", "jobs", multiple=True, help=f"a command to run (default: {', '.join(DEFAULT_JOBS)})")
    @click.option("--interval", default=60.0, show_default=True, help="seconds between rounds")
    @click.option("--once", is_flag=True, help="one round, then exit (cron, tests)")
    def run_jobs_command(jobs: tuple[str, ...], interval: float, once: bool) -> None:
        """Run the scheduled commands in a loop, on one server at a time (a lock)."""
        from flask import current_app

        application = current_app._get_current_object()  # type: ignore[attr-defined]
        rounds = loop(application, jobs or DEFAULT_JOBS, interval, once)
        click.echo(f"run-jobs: {rounds} round(s)")
