"""Issue #4: what the lawful-basis check and the audit trail cost a person read.

Run by hand from the repository root, with the venv active:

    python bench/people_read.py                      # PostgreSQL, 100,000 families
    python bench/people_read.py --reuse              # keep the loaded database
    python bench/people_read.py --families 20000 --seconds 10
    python bench/people_read.py --sqlite             # quick local smoke run (5,000 families)

It (re)creates the database, migrates it and loads demo families; then serves, one
after the other, a bare FastAPI + ORM read (bench/baseline_app.py) and the real app
(`uvicorn app.main:app`), each with 2 workers (1 on SQLite), and drives each with
32 connections (8 on SQLite) reading random children: a warm-up, then the measured
run. wrk is used when it is on PATH (bench/people_read.lua), otherwise an asyncio +
httpx load generator in a separate process (slower than the servers it drives, so its
figures bound the driver more than the app). Printed: requests/s, p50 and p99 latency, non-2xx
counts, the app/baseline ratio, the pure engine's decisions per second, and the
audit chain after the app's run: one event per request, `verify` ok, the unsealed
tail, and no fork (no two seals share a predecessor).
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing import get_context
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.audit.models import AuditEvent, AuditSeal  # noqa: E402
from app.auth.tokens import mint_token  # noqa: E402
from app.demo.generate import generate  # noqa: E402
from app.people.models import Family, Person  # noqa: E402
from app.people.schemas import PersonRead  # noqa: E402
from app.platform.categories import categories_of  # noqa: E402
from app.platform.db import make_engine  # noqa: E402
from app.platform.identifiers import london_today  # noqa: E402
from app.platform.schema import upgrade as migrate_database  # noqa: E402
from app.platform.settings import get_settings  # noqa: E402
from app.policy import engine as policy_engine  # noqa: E402
from app.policy.model import Ask, RecordState  # noqa: E402
from app.policy.vocabulary import Action, Purpose, Role, SubjectKind  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ieys_bench"
DEFAULT_SQLITE = "/tmp/ieys_bench.sqlite"
SAMPLE_IDS = 5000
DECISIONS = 200_000
LUA = Path(__file__).resolve().parent / "people_read.lua"


@dataclass(frozen=True, slots=True)
class Run:
    """One driver run against one server."""

    completed: int
    sent: int
    non2xx: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


# --- the database ----------------------------------------------------------------------


def prepare_database(url: str, *, families: int, reuse: bool) -> None:
    """Recreate (unless reusing), migrate, and load demo families if there are none."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not reuse and parsed.database:
            for suffix in ("", "-wal", "-shm"):
                Path(parsed.database + suffix).unlink(missing_ok=True)
    else:
        admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
        name = parsed.database
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if not reuse and exists:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                exists = None
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    migrate_database(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            present = connection.execute(select(func.count()).select_from(Family)).scalar_one()
        if present:
            print(f"reusing {present:,} families already loaded")
            return
        load_families(engine, families)
    finally:
        engine.dispose()
    if parsed.get_backend_name() == "postgresql":
        # Fresh statistics and visibility map now, so autovacuum does not start on the
        # new tables in the middle of a measured run.
        vacuum = make_engine(url)
        with vacuum.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        vacuum.dispose()


def load_families(engine: Engine, families: int) -> None:
    step = max(1, families // 10)
    done = 0
    started = time.perf_counter()

    def progress(n: int) -> None:
        nonlocal done
        before, done = done, done + n
        if done // step != before // step or done == families:
            print(f"  generated {done:,}/{families:,} families", flush=True)

    summary = generate(
        engine, families=families, seed=1, today=london_today(), batch=2000, progress=progress
    )
    elapsed = time.perf_counter() - started
    print(f"loaded {summary.rows:,} rows for {families:,} families in {elapsed:.1f} s")


def sample_child_ids(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        ids = [
            str(i)
            for i in connection.execute(
                select(Person.id).where(Person.kind == "child").order_by(Person.id)
            ).scalars()
        ]
    return random.Random(4).sample(ids, min(SAMPLE_IDS, len(ids)))


def audit_counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        events = connection.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        seals = connection.execute(select(func.count()).select_from(AuditSeal)).scalar_one()
    return int(events), int(seals)


def settled_event_count(engine: Engine) -> int:
    """The event count once requests still in flight when the driver stopped are done."""
    last = audit_counts(engine)[0]
    while True:
        time.sleep(0.5)
        now = audit_counts(engine)[0]
        if now == last:
            return now
        last = now


# --- the pure engine -------------------------------------------------------------------


def decisions_per_second() -> float:
    today = london_today()
    ask = Ask(
        role=Role.HEALTH_VISITOR,
        org="RV3",
        purpose=Purpose.HEALTH_CARE,
        action=Action.READ,
        categories=categories_of(PersonRead),
        on=today,
    )
    state = RecordState(kind=SubjectKind.CHILD, destruction_date=today + timedelta(days=700))
    assert policy_engine.decide(ask, state).allowed
    decide = policy_engine.decide
    started = time.perf_counter()
    for _ in range(DECISIONS):
        decide(ask, state)
    return DECISIONS / (time.perf_counter() - started)


# --- servers ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    target: Sequence[str], *, port: int, workers: int, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "uvicorn", *target,
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    # The service writes a JSON line per request (as in production): to a file, not here.
    with tempfile.NamedTemporaryFile(
        prefix=f"ieys-bench-{port}-", suffix=".log", delete=False
    ) as log:
        # The child keeps its own copy of the descriptor.
        return subprocess.Popen(command, cwd=ROOT, env=env, stderr=log)


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server did not answer {url} within {timeout:.0f} s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- load drivers ----------------------------------------------------------------------


def run_wrk(
    base: str, paths_file: Path, headers: dict[str, str], *, seconds: int, connections: int
) -> Run:
    command = [
        "wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
        "-s", str(LUA),
    ]  # fmt: skip
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command += [base, "--", str(paths_file)]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((x for x in finished.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if finished.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed:\n{finished.stdout}\n{finished.stderr}")
    out = json.loads(line.removeprefix("WRK_JSON "))
    return Run(
        completed=out["requests"],
        sent=out["sent"],
        non2xx=out["non2xx"],
        errors=out["errors"],
        seconds=out["duration_us"] / 1e6,
        p50_ms=out["p50_us"] / 1000,
        p99_ms=out["p99_us"] / 1000,
    )


async def _drive(
    base: str, paths: list[str], headers: dict[str, str], seconds: int, connections: int
) -> Run:
    latencies: list[float] = []
    counts = {"sent": 0, "non2xx": 0, "errors": 0}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=10
    ) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker(seed: int) -> None:
            rng = random.Random(seed)
            # A worker finishes the request it has started: every request sent is
            # answered, so the audit count can be compared exactly.
            while time.perf_counter() < deadline:
                counts["sent"] += 1
                begun = time.perf_counter()
                try:
                    response = await client.get(rng.choice(paths))
                except httpx.HTTPError:
                    counts["errors"] += 1
                    continue
                latencies.append(time.perf_counter() - begun)
                if not 200 <= response.status_code < 300:
                    counts["non2xx"] += 1

        await asyncio.gather(*(worker(i) for i in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def percentile(p: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return Run(
        completed=len(latencies),
        sent=counts["sent"],
        non2xx=counts["non2xx"],
        errors=counts["errors"],
        seconds=elapsed,
        p50_ms=percentile(50),
        p99_ms=percentile(99),
    )


def _python_driver(
    base: str, paths: list[str], headers: dict[str, str], seconds: int, connections: int
) -> Run:
    return asyncio.run(_drive(base, paths, headers, seconds, connections))


def run_python(
    base: str, paths: list[str], headers: dict[str, str], *, seconds: int, connections: int
) -> Run:
    # A process of its own: the generator's event loop must not share a GIL with
    # anything else measuring.
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_python_driver, base, paths, headers, seconds, connections).result()


class Driver:
    def __init__(self, kind: str, connections: int, workdir: Path) -> None:
        self.kind = kind
        self.connections = connections
        self.workdir = workdir
        self.files = 0

    def describe(self) -> str:
        if self.kind == "wrk":
            version = subprocess.run(
                ["wrk", "--version"], capture_output=True, text=True, check=False
            ).stdout.split(" [")[0]
            return f"{version} (2 threads, bench/people_read.lua)"
        return (
            "python: asyncio + httpx.AsyncClient in a separate process (wrk not on PATH; "
            "the generator may saturate before the servers do)"
        )

    def run(self, base: str, paths: list[str], headers: dict[str, str], seconds: int) -> Run:
        if self.kind == "wrk":
            self.files += 1
            paths_file = self.workdir / f"paths-{self.files}.txt"
            paths_file.write_text("\n".join(paths) + "\n")
            return run_wrk(base, paths_file, headers, seconds=seconds, connections=self.connections)
        return run_python(base, paths, headers, seconds=seconds, connections=self.connections)


# --- the benchmark ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measured:
    warmup: Run
    run: Run


def measure(
    driver: Driver, base: str, paths: list[str], headers: dict[str, str], args: argparse.Namespace
) -> Measured:
    warmup = driver.run(base, paths, headers, args.warmup)
    return Measured(warmup=warmup, run=driver.run(base, paths, headers, args.seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL database to (re)create")
    parser.add_argument(
        "--sqlite", nargs="?", const=DEFAULT_SQLITE, default=None, metavar="PATH",
        help=f"run against a SQLite file instead (default {DEFAULT_SQLITE}), 1 worker each",
    )  # fmt: skip
    parser.add_argument("--families", type=int, default=None,
                        help="families to load (default 100,000; 5,000 with --sqlite)")  # fmt: skip
    parser.add_argument("--reuse", action="store_true", help="keep a database already loaded")
    parser.add_argument("--seconds", type=int, default=20, help="length of each measured run")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up before each run")
    parser.add_argument(
        "--connections", type=int, default=None,
        help="concurrent connections (default 32; 8 with --sqlite, whose single writer "
        "lock stalls the app's request threads at 32)",
    )  # fmt: skip
    parser.add_argument("--driver", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args()

    sqlite = args.sqlite is not None
    url = f"sqlite:///{Path(args.sqlite).resolve()}" if sqlite else args.url
    families = args.families or (5000 if sqlite else 100_000)
    workers = 1 if sqlite else 2
    if args.connections is None:
        args.connections = 8 if sqlite else 32
    kind = args.driver
    if kind == "auto":
        kind = "wrk" if shutil.which("wrk") else "python"
    elif kind == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not on PATH")

    print(f"preparing {make_url(url).render_as_string(hide_password=True)}")
    prepare_database(url, families=families, reuse=args.reuse)
    engine = make_engine(url)
    ids = sample_child_ids(engine)
    with engine.connect() as connection:
        loaded = connection.execute(select(func.count()).select_from(Family)).scalar_one()
        people = connection.execute(select(func.count()).select_from(Person)).scalar_one()

    # Measured before any server starts, so nothing else competes for the CPU.
    rate = decisions_per_second()

    settings = get_settings()
    reader = mint_token(settings, role=Role.HEALTH_VISITOR, sub="bench-hv", ttl_seconds=7200)
    officer = mint_token(settings, role=Role.DATA_PROTECTION_OFFICER, sub="bench-dpo")
    env = {
        **os.environ,
        "IEYS_DATABASE_URL": url,
        "IEYS_AUDIT_SEAL_INTERVAL_SECONDS": "1",
        # Steady state: the reports' index is built at start in a thread of each worker
        # (decrypting every household), which a person read never uses; bench/reports.py
        # measures that build.
        "IEYS_REPORT_FACTS_AT_START": "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory() as tmp:
        driver = Driver(kind, args.connections, Path(tmp))

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(
            ["--app-dir", "bench", "baseline_app:app"], port=port, workers=workers, env=env
        )
        try:
            wait_until_up(f"{base}/people/{ids[0]}", server)
            baseline = measure(driver, base, [f"/people/{i}" for i in ids], {}, args)
        finally:
            stop_server(server)

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(["app.main:app"], port=port, workers=workers, env=env)
        try:
            wait_until_up(f"{base}/health/ready", server)
            events_before = settled_event_count(engine)
            real = measure(
                driver,
                base,
                [f"/v1/people/{i}" for i in ids],
                {"Authorization": f"Bearer {reader}", "X-Purpose": "health_care"},
                args,
            )
            events_after = settled_event_count(engine)
            # The sealer runs each second in each worker: wait for it to catch up.
            unsealed_after_run = events_after - audit_counts(engine)[1]
            catch_up = time.perf_counter()
            while audit_counts(engine)[1] < events_after and time.perf_counter() - catch_up < 120:
                time.sleep(0.25)
            caught_up_in = time.perf_counter() - catch_up
            verify_started = time.perf_counter()
            verified = httpx.get(
                f"{base}/v1/audit/verify",
                headers={"Authorization": f"Bearer {officer}", "X-Purpose": "subject_rights"},
                timeout=600,
            )
            verify_seconds = time.perf_counter() - verify_started
        finally:
            stop_server(server)

    with engine.connect() as connection:
        seals, predecessors = connection.execute(
            text("SELECT count(*), count(DISTINCT prev_hash) FROM audit_seal")
        ).one()
    engine.dispose()

    report(
        url=url, loaded=loaded, people=people, driver=driver.describe(), workers=workers,
        args=args, load_before=load_before, baseline=baseline, real=real, rate=rate,
        events=events_after - events_before, unsealed_after_run=unsealed_after_run,
        caught_up_in=caught_up_in, verified=verified, verify_seconds=verify_seconds,
        seals=int(seals), predecessors=int(predecessors),
    )  # fmt: skip


def report(
    *,
    url: str,
    loaded: int,
    people: int,
    driver: str,
    workers: int,
    args: argparse.Namespace,
    load_before: float,
    baseline: Measured,
    real: Measured,
    rate: float,
    events: int,
    unsealed_after_run: int,
    caught_up_in: float,
    verified: httpx.Response,
    verify_seconds: float,
    seals: int,
    predecessors: int,
) -> None:
    shown = make_url(url).render_as_string(hide_password=True)
    print()
    print("IEYS people-read benchmark (issue #4)")
    print(f"  database     {shown}: {loaded:,} families, {people:,} people")
    print(f"  driver       {driver}")
    print(f"  load         {args.connections} connections, random children of {SAMPLE_IDS:,}, "
          f"{args.warmup} s warm-up + {args.seconds} s measured")  # fmt: skip
    print(f"  servers      uvicorn, {workers} worker(s) each, one server at a time; "
          f"load average before {load_before:.2f} on {os.cpu_count()} CPUs")  # fmt: skip
    print()
    print(f"  {'':34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'errors':>8}")
    for name, m in (
        ("baseline: bare FastAPI + ORM read", baseline),
        ("app: GET /v1/people/{id}", real),
    ):
        r = m.run
        print(f"  {name:34}{r.rate:>9,.0f}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}"
              f"{r.non2xx:>9,}{r.errors:>8,}")  # fmt: skip
    ratio = real.run.rate / baseline.run.rate if baseline.run.rate else float("nan")
    print(f"  app / baseline: {ratio:.2f}")
    print()
    print(f"  pure engine: decide() x {DECISIONS:,} in-process: {rate:,.0f} decisions/s "
          f"({1e6 / rate:.1f} µs each)")  # fmt: skip
    print()
    requests = real.warmup.sent + real.run.sent
    completed = real.warmup.completed + real.run.completed
    print("  audit trail, app run")
    print(f"    requests made    {requests:,} sent, {completed:,} answered before the "
          "driver stopped (warm-up included)")  # fmt: skip
    # Requests in flight when the driver stopped reach the server (and the trail) but
    # are never answered: one event per request puts the count between the two.
    verdict = "one per request" if completed <= events <= requests else "MISMATCH"
    print(f"    events written   {events:,}: {verdict} (sent {events - requests:+,}, "
          f"answered {events - completed:+,})")  # fmt: skip
    print(f"    sealer           {unsealed_after_run:,} unsealed when the run ended; "
          f"caught up {caught_up_in:.1f} s later")  # fmt: skip
    if verified.status_code == 200:
        body = verified.json()
        print(f"    verify           ok={body['ok']} events={body['events']:,} "
              f"sealed={body['sealed']:,} unsealed tail={body['unsealed']:,} "
              f"head_seq={body['head_seq']:,} ({verify_seconds:.1f} s)")  # fmt: skip
        if body.get("first_bad"):
            print(f"    first bad        {body['first_bad']}")
    else:
        print(f"    verify           HTTP {verified.status_code}: {verified.text[:300]}")
    verdict = "no fork" if seals == predecessors else "FORKED: seals share a predecessor"
    print(f"    fork check       {seals:,} seals, {predecessors:,} distinct prev_hash: {verdict}")


if __name__ == "__main__":
    main()
