"""The OpenAPI document, fuzzed against a running server: `python -m tests.fuzz`.

API.md promises that a schema-driven fuzzer finds no request the document calls valid
that the service refuses for a reason the document does not state. This serves the app
with uvicorn on a scratch database (PostgreSQL beside `IEYS_TEST_DATABASE_URL` when it is
set, a SQLite file otherwise), migrated and loaded with demo families, and runs
schemathesis with every check over every operation, once per caller: a role, the
purpose it declares, and ids that exist (so that operations reach their 2xx answers as
well as their 404s). Any failure of any check, a 5xx included, fails the run (exit 1).

`--max-examples` bounds the time: CI runs it once, on PostgreSQL.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from uuid import UUID

from sqlalchemy import create_engine, text

from tests.conftest import ROOT
from tests.servers import free_port, scratch_database, serve, wait_ready

BIN = Path(sys.executable).parent


@dataclass(frozen=True, slots=True)
class Caller:
    role: str
    purpose: str


CALLERS = (
    Caller("health_visitor", "health_care"),
    Caller("family_worker", "early_help"),
    Caller("data_protection_officer", "subject_rights"),
)

ACCEPTED: Final = (
    "2xx",
    "401",
    "403",
    "404",
    "409",
    "410",
    "412",
    "415",
    "422",
    "428",
    "429",
)
"""What a request the document calls valid may be answered: besides schemathesis's own
list (a success, a token or decision refusal, an id never held, a conflict, the rate),
the refusals the document states for what a schema cannot say: a record erased (410),
an `If-Match` that is stale (412) or missing once a record exists (428), a file whose
bytes are of no type accepted (415: a schema says a file is binary, not which bytes it
holds), and a domain rule across fields or records (422: a reference to an id never
held, a cursor never issued, an end before a start, a check digit, a key reused with
another body). A 400 (a required header the document left optional) or an undocumented
status still fails."""
MISSING_HEADER: Final = ("400", "401", "403", "406", "415", "422", "428")
"""What a request without a required header may be answered: schemathesis's list, and
428 for a missing `If-Match` (API.md; RFC 6585)."""

# Ids the seeded database holds, by the parameter names the document uses: schemathesis
# draws from them most of the time (real records: the 2xx answers) and generates the rest
# (ids never held: the 404s and 422s).
ID_QUERIES = {
    "people": "SELECT id FROM person ORDER BY id LIMIT 40",
    "families": "SELECT id FROM family ORDER BY id LIMIT 20",
    "consents": "SELECT id FROM consent ORDER BY id LIMIT 20",
    "nurseries": "SELECT id FROM nursery ORDER BY id",
    "relationships": "SELECT id FROM relationship ORDER BY id LIMIT 20",
}
BINDINGS = {
    "path.person_id": "people",
    "body.subject_id": "people",
    "body.given_by_id": "people",
    "body.requester_id": "people",
    "body.child_id": "people",
    "path.family_id": "families",
    "body.family_id": "families",
    "path.consent_id": "consents",
    "path.nursery_id": "nurseries",
    "path.relationship_id": "relationships",
    "body.to_person_id": "people",
    "query.patient": "people",
}


def _ieys(url: str, *args: str) -> str:
    env = {**os.environ, "IEYS_DATABASE_URL": url}
    done = subprocess.run(
        [str(BIN / "ieys"), *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def _ids(url: str) -> dict[str, list[str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            # Canonical ids: SQLite hands back a UUID column as 32 hex digits, which the
            # document's `format: uuid` does not call valid.
            return {
                name: [str(UUID(str(row[0]))) for row in connection.execute(text(query))]
                for name, query in ID_QUERIES.items()
            }
    finally:
        engine.dispose()


def _toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{value}"' for value in values) + "]"


def _config(token: str, caller: Caller, ids: dict[str, list[str]]) -> str:
    lines = [
        "[headers]",
        f'Authorization = "Bearer {token}"',
        f'X-Purpose = "{caller.purpose}"',
        "",
    ]
    for name, values in ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {_toml_list(values)}", ""]
    lines += [
        "[checks.positive_data_acceptance]",
        f"expected-statuses = {_toml_list(ACCEPTED)}",
        "",
        "[checks.missing_required_header]",
        f"expected-statuses = {_toml_list(MISSING_HEADER)}",
        "",
        "[parameters]",
    ]
    lines += [
        f'"{key}" = {{ dictionary = "{name}", probability = 0.8 }}'
        for key, name in BINDINGS.items()
        if ids.get(name)
    ]
    return "\n".join(lines) + "\n"


def run(*, families: int, max_examples: int, seed: int, workers: int) -> int:
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as scratch, scratch_database(Path(scratch), "fuzz") as url:
        _ieys(url, "migrate")
        _ieys(url, "demo-data", "--families", str(families), "--seed", "1")
        ids = _ids(url)
        port = free_port()
        server = serve(url, port)
        try:
            wait_ready(port)
            for caller in CALLERS:
                token = _ieys(url, "token", caller.role, "--sub", f"fuzz-{caller.role}")
                config = Path(scratch) / f"{caller.role}.toml"
                config.write_text(_config(token, caller, ids), encoding="utf-8")
                started = time.perf_counter()
                sys.stdout.write(f"== schemathesis as {caller.role} ({caller.purpose})\n")
                sys.stdout.flush()
                done = subprocess.run(
                    [
                        str(BIN / "schemathesis"),
                        "--config-file",
                        str(config),
                        "run",
                        f"http://127.0.0.1:{port}/openapi.json",
                        "--checks",
                        "all",
                        "--max-examples",
                        str(max_examples),
                        "--seed",
                        str(seed),
                        "--workers",
                        str(workers),
                        "--no-color",
                    ],
                    cwd=scratch,
                    check=False,
                )
                sys.stdout.write(
                    f"== {caller.role}: exit {done.returncode} "
                    f"in {time.perf_counter() - started:.0f} s\n"
                )
                if done.returncode != 0:
                    failed.append(caller.role)
        finally:
            server.terminate()
            server.wait(timeout=10)
    if failed:
        sys.stdout.write(f"schemathesis found failures as: {', '.join(failed)}\n")
        return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, default=50)
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sys.exit(
        run(
            families=args.families,
            max_examples=args.max_examples,
            seed=args.seed,
            workers=args.workers,
        )
    )


if __name__ == "__main__":
    main()
