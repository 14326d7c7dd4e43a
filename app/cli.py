"""`ieys`: the operator's commands (migrate, serve, tokens, demo data, the audit chain,
key rotation, the destruction log and restores).

Every command reads the same `IEYS_*` settings as the service (API.md, "Running it").
"""

import dataclasses
import os
import tempfile
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

import orjson
import typer
import uvicorn
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.tokens import mint_token
from app.demo import generate as demo
from app.keys import service as keys_service
from app.platform import schema
from app.platform.crypto import get_key_ring
from app.platform.db import make_engine
from app.platform.identifiers import london_today
from app.platform.settings import ConfigurationError, get_settings
from app.policy.vocabulary import Role
from app.retention import replay as retention_replay
from app.retention import service as retention_service

cli = typer.Typer(
    name="ieys",
    help="Camden Integrated Early Years Service: operator commands.",
    no_args_is_help=True,
    add_completion=False,
)
# Messages for people go to stderr, so `ieys token …` and `ieys verify` stay pipeable.
console = Console(stderr=True)


def _progress(what: str) -> Progress:
    """A bar on stderr: how many of `what`, how long so far, how long to go."""
    return Progress(
        TextColumn(f"[bold]{what}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def _print_destroyed(title: str, verb: str, destroyed: Mapping[str, int], total: int) -> None:
    """What a destruction did, by kind of record, with the total."""
    table = Table(title=title)
    table.add_column("kind")
    table.add_column(verb, justify="right")
    for kind, count in sorted(destroyed.items()):
        table.add_row(kind, f"{count:,}")
    table.add_row("[bold]total", f"[bold]{total:,}")
    console.print(table)


def _engine() -> Engine:
    settings = get_settings()
    return make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )


@cli.command()
def migrate() -> None:
    """Bring the schema at IEYS_DATABASE_URL up to date (alembic upgrade head)."""
    schema.upgrade(get_settings().database_url)
    console.print("[green]Schema up to date.[/green]")


@cli.command()
def token(
    role: Annotated[Role, typer.Argument(help="The caller's role (DOMAIN.md).")],
    org: Annotated[
        str | None, typer.Option(help="Organisation code; default: the role's first.")
    ] = None,
    nursery_id: Annotated[
        UUID | None,
        typer.Option(help="Nursery practitioners: default, the organisation's first nursery."),
    ] = None,
    sub: Annotated[str, typer.Option(help="The `sub` claim.")] = "dev-user",
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.", min=1)] = 3600,
) -> None:
    """Print a development HS256 bearer token signed with IEYS_JWT_SECRET."""
    try:
        signed = mint_token(
            get_settings(), role=role, org=org, sub=sub, nursery_id=nursery_id, ttl_seconds=ttl
        )
    except ValueError as exc:
        # Under RS256 the identity provider holds the key: there is nothing to sign with.
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    # Plain print: rich would wrap a long token at the terminal's width.
    print(signed)


@cli.command("demo-data")
def demo_data(
    families: Annotated[int, typer.Option(help="How many families.", min=1)] = 1000,
    seed: Annotated[int, typer.Option(help="Same seed, same families.")] = 1,
    batch: Annotated[int, typer.Option(help="Families per transaction.", min=1)] = 2000,
    today: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="The day the data is generated for (children are under five on it); "
            "default: today in London.",
        ),
    ] = None,
) -> None:
    """Load synthetic families (invented people, 999-range NHS numbers)."""
    on = today.date() if today is not None else london_today()
    engine = _engine()
    try:
        # Before the progress bar: a refusal should read as one message, not a bar at 0.
        demo.refuse_if_present(engine, seed)
        started = time.perf_counter()
        with _progress("families") as bar:
            task = bar.add_task("families", total=families)
            summary = demo.generate(
                engine,
                families=families,
                seed=seed,
                today=on,
                batch=batch,
                progress=lambda n: bar.advance(task, n),
            )
    except demo.DemoDataPresent as exc:
        console.print(f"[yellow]{exc}[/yellow]")
        raise typer.Exit(1) from None
    except (OperationalError, ProgrammingError) as exc:
        # Batches already loaded stay committed; the message says where to look.
        console.print(
            f"[red]The database refused the load ({type(exc.orig).__name__}: "
            f"{str(exc.orig).splitlines()[0]}). Is it up, and has `ieys migrate` run?[/red]"
        )
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    table = Table(title=f"Demo data, seed {seed}, as of {on.isoformat()}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in summary.counts.items():
        table.add_row(name, f"{count:,}")
    table.add_row("[bold]total", f"[bold]{summary.rows:,}")
    console.print(table)
    console.print(
        f"{families:,} families in {elapsed:.1f} s "
        f"({summary.rows / elapsed:,.0f} rows/s); first family {summary.first_family_id}"
    )


@cli.command()
def seal() -> None:
    """Chain every committed, unsealed audit event now (waits for a running sealer)."""
    engine = _engine()
    try:
        with engine.begin() as connection:
            sealed = audit_service.seal(connection, full=True, wait=True)
    finally:
        engine.dispose()
    console.print(f"Sealed {sealed:,} audit events.")


@cli.command()
def verify() -> None:
    """Walk the audit chain and print the result as JSON; exit code 1 if it is broken."""
    engine = _engine()
    try:
        with engine.connect() as connection:
            result = audit_service.verify(connection)
    finally:
        engine.dispose()
    print(orjson.dumps(dataclasses.asdict(result), option=orjson.OPT_INDENT_2).decode())
    if not result.ok:
        raise typer.Exit(1)


@cli.command("retention-sweep")
def retention_sweep(
    dry_run: Annotated[bool, typer.Option(help="Count what would go; change nothing.")] = False,
    batch: Annotated[
        int, typer.Option(help="Households per transaction.", min=1)
    ] = retention_service.DEFAULT_BATCH,
    on: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Apply the retention rules as of this day; default: today in London. "
            "Never later than today: nothing is destroyed before its date.",
        ),
    ] = None,
) -> None:
    """Destroy everything past its destruction date and not held (nightly).

    Each batch of households is its own transaction: a failing batch is rolled back
    alone and reported, and the next run finishes the job. Exit code 1 if any failed.
    """
    today = london_today()
    day = on.date() if on is not None else today
    if day > today:
        console.print("[red]--on may not be in the future.[/red]")
        raise typer.Exit(2)
    engine = _engine()
    started = time.perf_counter()
    try:
        with Session(engine, expire_on_commit=False, autoflush=False) as session:
            total = retention_service.count_due_households(session, day)
            session.rollback()
            with _progress("households") as bar:
                task = bar.add_task("households", total=total)
                report = retention_service.sweep(
                    session,
                    on=day,
                    batch=batch,
                    dry_run=dry_run,
                    progress=lambda n: bar.advance(task, n),
                )
            session.rollback()
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    verb = "would be destroyed" if dry_run else "destroyed"
    title = f"Retention sweep as of {day.isoformat()}{' (dry run)' if dry_run else ''}"
    _print_destroyed(title, verb, report.destroyed, report.subjects)
    console.print(
        f"{report.households_examined:,} households examined in {elapsed:.1f} s "
        f"({report.subjects / elapsed if elapsed else 0:,.0f} subjects/s); "
        f"{report.kept:,} kept by a hold; {report.failed_batches:,} batches failed."
    )
    if report.failed_batches:
        raise typer.Exit(1)


@cli.command()
def rewrap(
    batch: Annotated[
        int, typer.Option(help="Household keys per transaction.", min=1)
    ] = keys_service.DEFAULT_BATCH,
) -> None:
    """Move every household's data key to the current key-encryption key.

    Run after making a new key IEYS_ENCRYPTION_KEY with the old one in
    IEYS_ENCRYPTION_PREVIOUS_KEYS; once it reports nothing left under another key, the
    old key may be dropped from the configuration. A batch per transaction: stopped at
    any point, every key is still under a configured KEK, and a rerun goes on.
    Exit code 1 if a key is under a KEK that is not configured (it is left as it is).
    """
    keys = get_key_ring()
    engine = _engine()
    try:
        with engine.connect() as connection:
            total = sum(
                count
                for kek, count in keys_service.households_by_kek(connection).items()
                if kek != keys.current_id
            )
        with _progress("household keys") as bar:
            task = bar.add_task("keys", total=total)
            report = keys_service.rewrap(
                engine, keys, batch=batch, progress=lambda n: bar.advance(task, n)
            )
    finally:
        engine.dispose()
    table = Table(title=f"Household keys by key-encryption key (current: {report.current})")
    table.add_column("KEK id")
    table.add_column("household keys", justify="right")
    table.add_column("configured")
    for kek, count in sorted(report.by_kek.items()):
        label = "current" if kek == report.current else ("previous" if keys.knows(kek) else "no")
        table.add_row(kek, f"{count:,}", label)
    console.print(table)
    console.print(
        f"{report.moved:,} moved to the current key in {report.batches:,} batches; "
        f"{report.unknown:,} under a key that is not configured; canary {report.canary}."
    )
    if report.unknown or report.canary == "unknown":
        raise typer.Exit(1)


@cli.command("export-destructions")
def export_destructions(
    to: Annotated[
        Path,
        typer.Option(
            "--to",
            help="The file to write, kept where the database's backups are not; entries "
            "it holds already are kept.",
            dir_okay=False,
        ),
    ],
) -> None:
    """Write the destruction log (opaque ids, rules, dates) to a file, merged with it.

    Run it after every sweep and before every backup, and before a restore while the
    database still answers: a restore brings back what was destroyed after its backup,
    and `ieys replay-destructions --from` this file destroys it again."""
    engine = _engine()
    try:
        with engine.connect() as connection:
            held, added = retention_replay.export(connection, to)
    except retention_replay.LogFileRefused as refused:
        console.print(f"[red]{refused}: the file was left as it was.[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    console.print(f"{held:,} destruction log entries in {to.name} ({added:,} new).")


@cli.command("replay-destructions")
def replay_destructions(
    sources: Annotated[
        list[Path],
        typer.Option(
            "--from",
            help="A file written by `ieys export-destructions` (repeat for several).",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    batch: Annotated[
        int, typer.Option(help="Entries per transaction.", min=1)
    ] = retention_replay.DEFAULT_BATCH,
) -> None:
    """Destroy again, on a database restored from a backup, everything the exported
    destruction log names (run before the restored database serves anyone).

    Each subject the restore brought back is destroyed as it was the first time (its
    household's data key with its household); the log's missing rows are written back;
    the audit chain is not touched. A rerun finds nothing more to do. Exit code 1 if a
    household was left because it still has a member the log does not name."""
    try:
        entries = retention_replay.read(sources)
    except retention_replay.LogFileRefused as refused:
        console.print(f"[red]{refused}: nothing was replayed.[/red]")
        raise typer.Exit(2) from None
    engine = _engine()
    try:
        with _progress("entries") as bar:
            task = bar.add_task("entries", total=len(entries))
            report = retention_replay.replay(
                engine, entries, batch=batch, progress=lambda n: bar.advance(task, n)
            )
    finally:
        engine.dispose()
    _print_destroyed("Destructions replayed", "destroyed again", report.destroyed, report.subjects)
    console.print(
        f"{report.entries:,} entries read; {report.already_gone:,} already gone; "
        f"{report.log_restored:,} log entries restored; "
        f"{len(report.kept):,} households left (a member the log does not name)."
    )
    for family_id in report.kept:
        console.print(f"[yellow]household {family_id} left: it still has a member.[/yellow]")
    if report.kept:
        raise typer.Exit(1)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    with_demo: Annotated[
        bool,
        typer.Option(
            "--demo/--no-demo", help="Load demo families first, unless they are already there."
        ),
    ] = False,
    demo_families: Annotated[int, typer.Option(help="How many demo families.", min=1)] = 500,
) -> None:
    """Migrate (and load demo data with --demo), then serve app.main:app with uvicorn."""
    schema.upgrade(get_settings().database_url)
    if with_demo:
        engine = _engine()
        try:
            demo.refuse_if_present(engine, 1)
        except demo.DemoDataPresent:
            console.print("Demo data already loaded.")
        else:
            demo_data(families=demo_families, seed=1, batch=2000, today=None)
        finally:
            engine.dispose()
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker counts its own requests; a shared directory lets a scrape of any
        # worker add them all up (a fresh one per start, as prometheus_client asks).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="ieys-metrics-")
    # The service logs each request itself, as JSON without the path: uvicorn's access
    # line would print the query (an NHS number among it).
    uvicorn.run("app.main:app", host=host, port=port, workers=workers, access_log=False)


def main() -> None:
    try:
        # Refused before anything starts: one line that names the setting, no traceback
        # (a traceback could carry a secret).
        get_settings()
    except ConfigurationError as refused:
        console.print(f"[red]{refused}[/red]")
        raise SystemExit(2) from None
    cli()
