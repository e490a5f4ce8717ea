"""``liaison ingest`` and ``liaison crosscheck``: the shared information system from a shell."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from liaison.core.actor import Actor
from liaison.core.errors import LiaisonError
from liaison.db.engine import Database
from liaison.entities import ingest
from liaison.entities.crosscheck import pending_count, run_pending
from liaison.entities.formats import safe_cell

console = Console(stderr=True)


def _database() -> Database:
    from liaison.core.settings import get_settings

    return Database(get_settings().database_url)


def _actor(database: Database, username: str) -> Actor:
    from liaison.identity.model import User
    from liaison.identity.service import actor_for

    with database.session() as session:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None or not user.active:
            raise LiaisonError(f"no active user {username!r}")
        return actor_for(user)


def _json_option(text: str | None, name: str) -> dict[str, str]:
    if not text:
        return {}
    if "=" in text and not text.lstrip().startswith("{"):
        pairs = [p.split("=", 1) for p in text.split(",") if p.strip()]
        return {k.strip(): v.strip() for k, v in pairs}
    try:
        value: Any = json.loads(text)
    except ValueError:
        raise LiaisonError(f"--{name} must be JSON or key=value,… pairs") from None
    if not isinstance(value, dict):
        raise LiaisonError(f"--{name} must be an object")
    return {str(k): str(v) for k, v in value.items()}


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest_file(
        path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
        user: Annotated[str, typer.Option("--as", help="username contributing the records")],
        source_format: Annotated[
            str, typer.Option("--format", help="table (CSV/XLSX), ndjson or ftm")
        ] = "table",
        entity_type: Annotated[str, typer.Option("--type", help="record type of a table")] = (
            "Person"
        ),
        mapping: Annotated[
            str | None, typer.Option("--map", help="column=property,… (default: recognised)")
        ] = None,
        defaults: Annotated[
            str | None,
            typer.Option("--defaults", help="markings for every row, e.g. handling=H1,…"),
        ] = None,
        report: Annotated[
            Path | None, typer.Option("--report", help="write the per-row report (CSV)")
        ] = None,
        crosscheck: Annotated[bool, typer.Option(help="cross-check after storing")] = True,
    ) -> None:
        """Store records from a CSV/Excel, NDJSON or FollowTheMoney file, with a per-row report."""
        database = _database()
        actor = _actor(database, user)
        data = path.read_bytes()
        ingest.check_size(data)
        chosen = _json_option(mapping, "map")
        marks = _json_option(defaults, "defaults")
        links: list[tuple[int, dict[str, Any]]] = []
        after = None
        if source_format == "ftm":
            rows = ingest.ftm_rows(data, marks, links)
            after = ingest.link_ftm(actor, links)
        elif source_format == "ndjson":
            rows = ingest.ndjson_rows(data)
        elif source_format == "table":
            table, rows = ingest.table_rows(
                data, path.name, entity_type=entity_type, mapping=chosen or None, defaults=marks
            )
            for warning in table.warnings:
                console.print(f"[yellow]warning:[/] {warning}", markup=True, highlight=False)
        else:
            raise LiaisonError("--format must be table, ndjson or ftm")
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("storing rows", total=None)
            result = ingest.ingest_rows(
                database,
                actor,
                rows,
                source_format=source_format,
                filename=path.name,
                progress=lambda n: progress.update(task, description=f"stored {n} rows"),
                after=after,
            )
        b = result.batch
        console.print(
            f"{b.total} rows: {b.accepted} accepted, {b.updated} updated, "
            f"{b.unchanged} unchanged, {b.rejected} rejected (batch {b.id})"
        )
        with database.session() as session:
            rejected = ingest.batch_rows(session, actor, b.id, outcome="rejected", limit=20)
            for row in rejected:
                console.print(f"  line {row.line}: {row.message}", markup=False, highlight=False)
            if report is not None:
                _write_report(session, actor, b.id, report)
        if crosscheck:
            checked = run_pending(database)
            console.print(f"cross-checked {checked} records")

    @app.command("crosscheck")
    def crosscheck_command() -> None:
        """Run the automatic cross-check over every pending record."""
        database = _database()
        with database.session() as session:
            pending = pending_count(session)
        console.print(f"{pending} records pending")
        checked = run_pending(database)
        console.print(f"cross-checked {checked} records")


def _write_report(session: Any, actor: Actor, batch_id: str, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "id", "outcome", "entity_id", "message"])
        offset = 0
        while True:
            rows = ingest.batch_rows(session, actor, batch_id, offset=offset, limit=5000)
            if not rows:
                break
            for r in rows:
                writer.writerow(
                    [
                        r.line,
                        safe_cell(r.source_ref or ""),
                        r.outcome,
                        r.entity_id or "",
                        safe_cell(r.message),
                    ]
                )
            offset += len(rows)
