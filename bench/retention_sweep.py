"""How fast the retention sweep destroys: records per second on demo families.

Run by hand from the repository root, with the venv active:

    python bench/retention_sweep.py                     # PostgreSQL, 100,000 families
    python bench/retention_sweep.py --families 20000    # a smaller run
    python bench/retention_sweep.py --sqlite            # quick local smoke run

It (re)creates the database (`ieys_bench_retention`: never the service's own), migrates
it and loads demo families as they were six years and a day ago, so that today every
child is past five and due, except the ~5% whose family a family worker supported
(kept to 25). Then it times a dry run (planning only) and the real sweep, batch by
batch, each batch its own transaction, exactly as `ieys retention-sweep` runs it, and
prints: households examined, subjects destroyed (children, adults, households),
every row deleted across the tables, and the rates per second; then checks that a
second run finds nothing and that nothing due is left.
"""

import argparse
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from app.demo import generate as demo
from app.people.models import Family, Person
from app.platform.db import make_engine
from app.platform.identifiers import london_today
from app.platform.schema import upgrade as migrate_database
from app.retention import rules
from app.retention import service as retention_service

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ieys_bench_retention"
DEFAULT_SQLITE = "/tmp/ieys_bench_retention.sqlite"
SKIP = {"alembic_version"}


def recreate(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(parsed.database) + suffix).unlink(missing_ok=True)
        return
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def load(engine: Engine, families: int, then: date) -> None:
    started = time.perf_counter()
    step = max(1, families // 10)
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        before, done = done, done + n
        if before // step != done // step:
            print(f"  loaded {done:,} / {families:,} families", flush=True)

    summary = demo.generate(engine, families=families, seed=7, today=then, progress=progress)
    elapsed = time.perf_counter() - started
    print(f"loaded {summary.rows:,} rows for {families:,} families in {elapsed:.1f} s")


def vacuum(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        tables = [t for t in inspect(connection).get_table_names() if t not in SKIP]
        return {
            table: int(connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())
            for table in sorted(tables)
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL database to (re)create")
    parser.add_argument("--sqlite", action="store_true", help=f"use {DEFAULT_SQLITE} instead")
    parser.add_argument(
        "--families", type=int, default=None, help="default 100,000 (5,000 on SQLite)"
    )
    parser.add_argument("--batch", type=int, default=retention_service.DEFAULT_BATCH)
    args = parser.parse_args()
    url = f"sqlite:///{DEFAULT_SQLITE}" if args.sqlite else args.url
    families = args.families or (5_000 if args.sqlite else 100_000)
    today = london_today()
    then = rules.add_years(today, -6) - timedelta(days=1)

    recreate(url)
    migrate_database(url)
    engine = make_engine(url)
    try:
        load(engine, families, then)
        vacuum(engine)
        before = row_counts(engine)
        with Session(engine) as session:
            due = retention_service.count_due_households(session, today)
        print(f"{due:,} of {families:,} households have something due on {today}")

        with Session(engine, expire_on_commit=False, autoflush=False) as session:
            started = time.perf_counter()
            preview = retention_service.sweep(session, on=today, batch=args.batch, dry_run=True)
            planned = time.perf_counter() - started
            session.rollback()
        print(
            f"dry run: {preview.subjects:,} subjects would go, planned in {planned:.1f} s "
            f"({preview.households_examined / planned:,.0f} households/s)"
        )

        with Session(engine, expire_on_commit=False, autoflush=False) as session:
            started = time.perf_counter()
            report = retention_service.sweep(session, on=today, batch=args.batch)
            elapsed = time.perf_counter() - started
        after = row_counts(engine)
        deleted = {
            t: before[t] - after.get(t, 0) for t in before if before[t] - after.get(t, 0) > 0
        }
        rows = sum(deleted.values())
        people = sum(n for kind, n in report.destroyed.items() if kind != "family")
        print(f"\n{engine.dialect.name}, {families:,} demo families, batch {args.batch}:")
        print(f"  households examined   {report.households_examined:>12,}")
        for kind, count in sorted(report.destroyed.items()):
            print(f"  destroyed {kind:<17}{count:>7,}")
        tables = ", ".join(f"{t} {n:,}" for t, n in deleted.items())
        print(f"  rows deleted          {rows:>12,}   ({tables})")
        print(
            f"  destruction log added {after['destruction_log'] - before['destruction_log']:>12,}"
        )
        print(f"  failed batches        {report.failed_batches:>12,}")
        print(f"  time                  {elapsed:>12.1f} s")
        print(
            f"  RATE: {report.subjects / elapsed:,.0f} records/s "
            f"(subjects destroyed: {people:,} people + {report.destroyed['family']:,} "
            f"households), {people / elapsed:,.0f} people/s, "
            f"{report.households_examined / elapsed:,.0f} households/s, "
            f"{rows / elapsed:,.0f} rows deleted/s"
        )

        with Session(engine) as session:
            again = retention_service.sweep(session, on=today, batch=args.batch)
            left = session.execute(
                select(func.count())
                .select_from(Person)
                .where(Person.kind == "child", Person.destroy_on <= today)
            ).scalar_one()
            households = session.execute(select(func.count()).select_from(Family)).scalar_one()
        print(
            f"second run destroyed {again.subjects:,}; children past their date left: {left:,}; "
            f"households left (family-worker support, to 25): {households:,}"
        )
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
