"""``liaison exchange``: send a structured message document, export one, list requests due."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from liaison.core.errors import LiaisonError
from liaison.entities.cli import _actor, _database
from liaison.exchange import service

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    exchange_app = typer.Typer(help="The secure exchange.", no_args_is_help=True)
    app.add_typer(exchange_app, name="exchange")

    @exchange_app.command("send")
    def send_document(
        path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
        user: Annotated[str, typer.Option("--as", help="username sending for its agency")],
        purpose: Annotated[str, typer.Option(help="stated purpose (audited)")] = "",
        idempotency_key: Annotated[
            str | None, typer.Option(help="repeat safely: the same key sends once")
        ] = None,
    ) -> None:
        """Send a message document (JSON, or XML by the .xml extension) from a user's agency."""
        database = _database()
        try:
            actor = _actor(database, user).with_purpose(purpose or None)
            fmt = "xml" if path.suffix.lower() == ".xml" else "json"
            with database.session() as session:
                message = service.import_document(
                    session, actor, path.read_bytes(), fmt, idempotency_key=idempotency_key
                )
                message_id = message.id
        except LiaisonError as exc:
            console.print(f"[bold red]error:[/] {exc.detail}")
            for where, problem in (exc.extra.get("errors") or {}).items():
                console.print(f"  {where}: {problem}")
            raise typer.Exit(2) from None
        finally:
            database.dispose()
        typer.echo(message_id)

    @exchange_app.command("export")
    def export_message(
        message_id: Annotated[str, typer.Argument()],
        user: Annotated[str, typer.Option("--as", help="username reading for its agency")],
        fmt: Annotated[str, typer.Option("--format", help="json or xml")] = "json",
        output: Annotated[Path | None, typer.Option("--out", help="file (default: stdout)")] = None,
    ) -> None:
        """Export a message (audited) as a structured message document."""
        database = _database()
        try:
            actor = _actor(database, user)
            with database.session() as session:
                data = service.export(session, actor, message_id, fmt)
        except LiaisonError as exc:
            console.print(f"[bold red]error:[/] {exc.detail}")
            raise typer.Exit(2) from None
        finally:
            database.dispose()
        if output is None:
            typer.echo(data.decode("utf-8"))
        else:
            output.write_bytes(data)

    @exchange_app.command("due")
    def requests_due(
        user: Annotated[str, typer.Option("--as", help="username of the requested agency")],
        overdue: Annotated[bool, typer.Option(help="only requests past their deadline")] = False,
    ) -> None:
        """Open requests to a user's agency with their deadlines; exit 1 when any is overdue."""
        database = _database()
        try:
            actor = _actor(database, user)
            with database.session() as session:
                rows = service.inbox(
                    session, actor, open_requests=True, overdue=overdue, limit=200
                ).rows
        except LiaisonError as exc:
            console.print(f"[bold red]error:[/] {exc.detail}")
            raise typer.Exit(2) from None
        finally:
            database.dispose()
        # Tab-separated, one request per line: easy to read and to script.
        typer.echo("deadline_utc\tstate\tfrom\ttype\tpriority\tmessage")
        late = 0
        for r in sorted(
            rows,
            key=lambda r: r.own.deadline_at if r.own and r.own.deadline_at else r.message.sent_at,
        ):
            deadline = r.own.deadline_at if r.own else None
            late += r.overdue
            fields = (
                f"{deadline:%Y-%m-%d %H:%M}" if deadline else "-",
                "OVERDUE" if r.overdue else "open",
                r.sender_code,
                r.message.message_type,
                r.message.priority,
                r.message.id,
            )
            typer.echo("\t".join(fields))
        if late:
            raise typer.Exit(1)
