"""Issue #14: what a FHIR Patient read costs beside the /v1 person read it mirrors.

Run by hand from the repository root, with the venv active:

    python bench/fhir_read.py                      # PostgreSQL, 100,000 families
    python bench/fhir_read.py --reuse              # keep the loaded database
    python bench/fhir_read.py --families 20000 --seconds 10
    python bench/fhir_read.py --sqlite             # quick local smoke run (5,000 families)

The same database, server and load as bench/people_read.py (whose machinery it uses):
the real app (`uvicorn app.main:app`, 2 workers; 1 on SQLite) driven with 32
connections (8 on SQLite) reading random children as a health visitor under
`health_care`, first `GET /v1/people/{id}`, then `GET /fhir/R4/Patient/{id}`, one
after the other on the same server, each a warm-up then the measured run. Printed:
requests/s, p50 and p99 latency, non-2xx counts and the FHIR/v1 ratio, and one audit
event per request in each run.

The Patient reaches one category more than the /v1 person (ethnicity, the UK Core
extension): its read also reads and decrypts the child's ethnic category, where held.
"""

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from people_read import (  # noqa: E402
    DEFAULT_SQLITE,
    Driver,
    Measured,
    measure,
    prepare_database,
    sample_child_ids,
    settled_event_count,
    start_server,
    stop_server,
    wait_until_up,
)
from people_read import free_port as _free_port  # noqa: E402

from app.auth.tokens import mint_token  # noqa: E402
from app.people.models import Family  # noqa: E402
from app.platform.db import make_engine  # noqa: E402
from app.platform.settings import get_settings  # noqa: E402
from app.policy.vocabulary import Role  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ieys_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL database to (re)create")
    parser.add_argument(
        "--sqlite", nargs="?", const=DEFAULT_SQLITE, default=None, metavar="PATH",
        help=f"run against a SQLite file instead (default {DEFAULT_SQLITE}), 1 worker",
    )  # fmt: skip
    parser.add_argument("--families", type=int, default=None,
                        help="families to load (default 100,000; 5,000 with --sqlite)")  # fmt: skip
    parser.add_argument("--reuse", action="store_true", help="keep a database already loaded")
    parser.add_argument("--seconds", type=int, default=20, help="length of each measured run")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up before each run")
    parser.add_argument("--connections", type=int, default=None,
                        help="concurrent connections (default 32; 8 with --sqlite)")  # fmt: skip
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

    reader = mint_token(get_settings(), role=Role.HEALTH_VISITOR, sub="bench-hv", ttl_seconds=7200)
    headers = {"Authorization": f"Bearer {reader}", "X-Purpose": "health_care"}
    env = {
        **os.environ,
        "IEYS_DATABASE_URL": url,
        "IEYS_AUDIT_SEAL_INTERVAL_SECONDS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    runs: dict[str, tuple[Measured, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        driver = Driver(kind, args.connections, Path(tmp))
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(["app.main:app"], port=port, workers=workers, env=env)
        try:
            wait_until_up(f"{base}/health/ready", server)
            for name, template in (
                ("v1", "/v1/people/{}"),
                ("fhir", "/fhir/R4/Patient/{}"),
            ):
                before = settled_event_count(engine)
                measured = measure(driver, base, [template.format(i) for i in ids], headers, args)
                runs[name] = (measured, settled_event_count(engine) - before)
        finally:
            stop_server(server)
    engine.dispose()

    print()
    print("IEYS FHIR Patient read benchmark (issue #14)")
    print(f"  database     {make_url(url).render_as_string(hide_password=True)}: "
          f"{loaded:,} families")  # fmt: skip
    print(f"  driver       {driver.describe()}")
    print(f"  load         {args.connections} connections, random children of {len(ids):,}, "
          f"{args.warmup} s warm-up + {args.seconds} s measured, "
          f"{workers} worker(s), health_visitor under health_care")  # fmt: skip
    print()
    print(f"  {'':34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'events':>9}")
    for name, label in (("v1", "GET /v1/people/{id}"), ("fhir", "GET /fhir/R4/Patient/{id}")):
        measured, events = runs[name]
        r = measured.run
        sent = measured.warmup.sent + r.sent
        print(f"  {label:34}{r.rate:>9,.0f}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}"
              f"{r.non2xx:>9,}{events:>9,}  ({sent:,} sent)")  # fmt: skip
    v1, fhir = runs["v1"][0].run, runs["fhir"][0].run
    ratio = fhir.rate / v1.rate if v1.rate else float("nan")
    print(f"  FHIR Patient read / v1 person read: {ratio:.2f}")


if __name__ == "__main__":
    main()
