"""``liaison alerts …`` and ``liaison check …``: alerts and checks from a shell."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from liaison.alerts import checks, hits, importing, service
from liaison.core.actor import Actor
from liaison.core.agencies import agency_by_code
from liaison.core.errors import LiaisonError
from liaison.db.engine import Database
from liaison.entities.formats import safe_cell

console = Console(stderr=True)


def _database() -> Database:
    from liaison.core.settings import get_settings

    return Database(get_settings().database_url)


def _actor(database: Database, username: str, purpose: str | None = None) -> Actor:
    from liaison.identity.model import User
    from liaison.identity.service import actor_for

    with database.session() as session:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None or not user.active:
            raise LiaisonError(f"no active user {username!r}")
        return actor_for(user, purpose)


def _echo(value: object) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=1, default=str))


def register(app: typer.Typer) -> None:
    alerts_app = typer.Typer(help="Alerts: import, expiry, review reminders.", no_args_is_help=True)
    check_app = typer.Typer(
        help="Check a person or an object against alerts.", no_args_is_help=True
    )
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(check_app, name="check")

    @alerts_app.command("import")
    def import_command(
        path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
        user: Annotated[str, typer.Option("--as", help="alert manager issuing the alerts")],
        source_format: Annotated[
            str | None, typer.Option("--format", help="csv or ndjson (default: from the name)")
        ] = None,
        report: Annotated[
            Path | None, typer.Option("--report", help="write the per-row report (CSV)")
        ] = None,
    ) -> None:
        """Issue alerts from a CSV or JSON-lines file, with a per-row report."""
        database = _database()
        actor = _actor(database, user)
        chosen = source_format or ("csv" if path.suffix.lower() in (".csv", ".xlsx") else "ndjson")
        result = importing.import_file(
            database, actor, path.read_bytes(), source_format=chosen, filename=path.name
        )
        for warning in result.warnings:
            console.print(f"[yellow]warning:[/] {warning}", highlight=False)
        console.print(
            f"{len(result.rows)} rows: {result.count('accepted')} accepted, "
            f"{result.count('updated')} updated, {result.count('unchanged')} unchanged, "
            f"{result.count('rejected')} rejected"
        )
        for row in [r for r in result.rows if r.outcome == "rejected"][:20]:
            console.print(f"  line {row.line}: {row.message}", markup=False, highlight=False)
        if report is not None:
            with report.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["line", "id", "outcome", "alert_id", "message"])
                for r in result.rows:
                    writer.writerow(
                        [
                            r.line,
                            safe_cell(r.ref or ""),
                            r.outcome,
                            r.alert_id or "",
                            safe_cell(r.message),
                        ]
                    )

    @alerts_app.command("expire")
    def expire_command() -> None:
        """Expire every alert past its validity (or past its review date without a review)."""
        with _database().session() as session:
            expired = service.expire_due(session)
            for alert in expired:
                typer.echo(f"{alert.id}\t{alert.category}\t{alert.caption}")
        console.print(f"{len(expired)} alerts expired")

    @alerts_app.command("reminders")
    def reminders_command(
        days: Annotated[int, typer.Option(min=0, help="review due within this many days")] = 30,
        agency: Annotated[str | None, typer.Option(help="issuing agency code")] = None,
    ) -> None:
        """List alerts due for review (overdue first): id, agency, category, review date."""
        with _database().session() as session:
            agency_id = agency_by_code(session, agency).id if agency else None
            due = service.due_for_review(session, days=days, agency_id=agency_id)
            codes = service.agency_codes(session, {a.issuer_agency_id for a in due})
            for alert in due:
                typer.echo(
                    f"{alert.id}\t{codes.get(alert.issuer_agency_id, '?')}\t{alert.category}\t"
                    f"{alert.review_date.isoformat()}\t{alert.caption}"
                )
        console.print(f"{len(due)} alerts due for review within {days} days")

    @alerts_app.command("overdue")
    def overdue_command(
        agency: Annotated[str | None, typer.Option(help="issuing agency code")] = None,
    ) -> None:
        """List hit reports past their answer deadline."""
        with _database().session() as session:
            agency_id = agency_by_code(session, agency).id if agency else None
            reports = hits.overdue_hit_reports(session, agency_id=agency_id)
            for r in reports:
                typer.echo(f"{r.id}\t{r.alert_id}\t{r.deadline.isoformat()}")
        console.print(f"{len(reports)} hit reports overdue")

    @check_app.command("person")
    def check_person(
        user: Annotated[str, typer.Option("--as", help="checking officer")],
        purpose: Annotated[str, typer.Option(help="the purpose of the check (audited)")],
        name: Annotated[str | None, typer.Option(help="full name, any script")] = None,
        dob: Annotated[str | None, typer.Option(help="date of birth")] = None,
        nationality: Annotated[str | None, typer.Option()] = None,
        document: Annotated[str | None, typer.Option(help="document number")] = None,
        document_country: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        """Check a person; prints the result as JSON (exit 1 on a hit)."""
        database = _database()
        actor = _actor(database, user, purpose)
        fields = {
            "full_name": name,
            "dob": dob,
            "nationality": nationality,
            "document_number": document,
            "document_country": document_country,
        }
        with database.session() as session:
            result = checks.check_person(session, actor, {k: v for k, v in fields.items() if v})
            _echo(result.as_dict())
        if result.hits:
            raise typer.Exit(1)

    @check_app.command("object")
    def check_object(
        user: Annotated[str, typer.Option("--as", help="checking officer")],
        purpose: Annotated[str, typer.Option(help="the purpose of the check (audited)")],
        kind: Annotated[str, typer.Option(help="document, plate, vin, firearm, …")],
        value: Annotated[str, typer.Option(help="the identifier")],
        country: Annotated[str | None, typer.Option()] = None,
        make: Annotated[str | None, typer.Option(help="firearm make or banknote currency")] = None,
    ) -> None:
        """Check an object by its identifier; prints the result as JSON (exit 1 on a hit)."""
        database = _database()
        actor = _actor(database, user, purpose)
        fields = {"kind": kind, "value": value, "country": country, "make": make}
        with database.session() as session:
            result = checks.check_object(session, actor, {k: v for k, v in fields.items() if v})
            _echo(result.as_dict())
        if result.hits:
            raise typer.Exit(1)
