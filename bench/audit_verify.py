"""Verifying the audit chain at scale: events per second, and memory that stays flat.

Run by hand from the repository root, with the venv active:

    python bench/audit_verify.py                     # PostgreSQL, 5,000,000 events
    python bench/audit_verify.py --reuse             # keep the loaded trail
    python bench/audit_verify.py --events 500000     # a quicker run

It (re)creates the database, migrates it, writes synthetic events with COPY (the shape
a person read leaves) and seals them with the service's own sealer; then, in one run,
measures the baseline (streaming the same seal-and-event join in the same chunks, no
hashing: the floor any verification stands on) and `audit_service.verify` over the
whole chain, and a range verification of the newest tenth (`from_seq`). Printed:
events/s for each, the ratio of verify to the baseline, and the process's peak memory
before and after each walk (a streamed walk does not grow with the trail).
"""

import argparse
import io
import resource
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.audit import service as audit_service  # noqa: E402
from app.audit.models import AuditEvent, AuditSeal  # noqa: E402
from app.platform.db import make_engine  # noqa: E402
from app.platform.schema import upgrade as migrate_database  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ieys_bench_verify"
COPY_BATCH = 100_000
CHUNK = 10_000


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def recreate(url: str, *, reuse: bool) -> None:
    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
        ).first()
        if exists and not reuse:
            connection.execute(text(f'DROP DATABASE "{parsed.database}" WITH (FORCE)'))
            exists = None
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    migrate_database(url)


def load(connection: Connection, events: int) -> None:
    """`events` synthetic person reads, written with COPY in batches."""
    columns = [c.name for c in AuditEvent.__table__.columns if c.name != "id"]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    raw = connection.connection.driver_connection
    assert raw is not None
    written = 0
    began = time.perf_counter()
    while written < events:
        n = min(COPY_BATCH, events - written)
        buffer = io.StringIO()
        for i in range(written, written + n):
            when = (start + timedelta(milliseconds=37 * i)).isoformat()
            subject = uuid.UUID(int=i + 1)
            row = {
                "decision_id": uuid.uuid4(),
                "occurred_at": when,
                "request_id": uuid.uuid4().hex,
                "actor_sub": f"health_visitor-{i % 97}",
                "actor_role": "health_visitor",
                "actor_org": "RV3",
                "actor_nursery_id": "\\N",
                "purpose": "health_care",
                "action": "read",
                "resource": "person",
                "subject_id": subject,
                "subject_kind": "child",
                "related_ids": "\\N",
                "categories_asked": "contact,ethnicity,health,household,identity,services",
                "categories_granted": "contact,ethnicity,health,household,identity,services",
                "allowed": "t",
                "reason": "allowed",
                "bases": "art6-1-e,art9-2-h",
                "justification": "\\N",
                "review_required": "f",
                "outcome": "completed",
                "status": "\\N",
                "detail": "\\N",
            }
            buffer.write("\t".join(str(row[c]) for c in columns) + "\n")
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY audit_event ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            copy.write(buffer.getvalue())
        written += n
        print(f"  wrote {written:,}/{events:,} events", flush=True)
    print(f"  {events / (time.perf_counter() - began):,.0f} events/s written")


def walk_baseline(connection: Connection) -> int:
    """The same join, chunks and order as verify, fetched and unpacked, nothing hashed."""
    query = (
        select(AuditSeal.seq, AuditSeal.event_id, AuditSeal.prev_hash, AuditSeal.hash)
        .add_columns(*AuditEvent.__table__.columns)
        .select_from(AuditSeal.__table__.outerjoin(AuditEvent, AuditEvent.id == AuditSeal.event_id))
        .order_by(AuditSeal.seq)
        .limit(CHUNK)
    )
    last, seen = 0, 0
    while True:
        rows = connection.execute(query.where(AuditSeal.seq > last)).all()
        if not rows:
            return seen
        for _seq, _event_id, _prev, _hash, *_values in rows:
            seen += 1
        last = int(rows[-1].seq)


def timed(label: str, work: object) -> tuple[float, object]:
    before = peak_mb()
    began = time.perf_counter()
    result = work() if callable(work) else None
    seconds = time.perf_counter() - began
    print(f"  {label}: {seconds:.2f} s; peak memory {before:.0f} -> {peak_mb():.0f} MB")
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep a trail already loaded")
    args = parser.parse_args()

    recreate(args.url, reuse=args.reuse)
    engine = make_engine(args.url)
    with engine.connect() as connection:
        present = connection.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    if present < args.events:
        print(f"loading {args.events - present:,} events")
        with engine.begin() as connection:
            load(connection, args.events - present)
        began = time.perf_counter()
        with engine.begin() as connection:
            sealed = audit_service.seal(connection, full=True, wait=True)
        print(f"  sealed {sealed:,} in {time.perf_counter() - began:.1f} s")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    with engine.connect() as connection:
        events = connection.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        print(f"\nverifying {events:,} events (chunks of {CHUNK:,})")
        base_s, seen = timed(
            "baseline: stream the join, no hashing", lambda: walk_baseline(connection)
        )
        full_s, result = timed("verify: the whole chain", lambda: audit_service.verify(connection))
        assert isinstance(result, audit_service.VerifyResult)
        tenth = max(1, result.head_seq - result.head_seq // 10)
        range_s, ranged = timed(
            f"verify from_seq={tenth:,}",
            lambda: audit_service.verify(connection, from_seq=tenth),
        )
        assert isinstance(ranged, audit_service.VerifyResult)
    engine.dispose()

    rows = (
        ("baseline (fetch only)", seen, base_s),
        ("verify, whole chain", result.checked, full_s),
        ("verify, newest tenth", ranged.checked, range_s),
    )
    print("\n| walk | events | seconds | events/s |\n|---|---|---|---|")
    for label, count, seconds in rows:
        print(f"| {label} | {count:,} | {seconds:.2f} | {count / seconds:,.0f} |")
    print(f"\nverify ok: {result.ok}; range ok: {ranged.ok}")
    print(f"verify / baseline: {(result.checked / full_s) / (seen / base_s):.2f}")


if __name__ == "__main__":
    main()
