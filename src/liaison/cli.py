"""The ``liaison`` command: thin wrappers over library functions."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from liaison.core.errors import LiaisonError
from liaison.db.engine import Database

app = typer.Typer(
    name="liaison",
    help="Liaison: cross-border law-enforcement cooperation platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Users of this node.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
agencies_app = typer.Typer(help="Agencies on the network.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(agencies_app, name="agencies")

console = Console(stderr=True)

# Capability modules that add their own commands with ``register(app)``.
CAPABILITY_CLIS = (
    "liaison.matching.cli",
    "liaison.entities.cli",
    "liaison.exchange.cli",
    "liaison.alerts.cli",
    "liaison.core.keys_cli",
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _database() -> Database:
    from liaison.core.settings import get_settings

    return Database(get_settings().database_url)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
) -> None:
    """Create or migrate the database schema to the latest revision."""
    from liaison.core.settings import get_settings
    from liaison.db.migrate import upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    console.print(f"database at revision {revision}")


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument()],
    agency: Annotated[str, typer.Option(help="agency code, e.g. DE-BKA")],
    roles: Annotated[str, typer.Option(help="comma-separated roles, e.g. officer,analyst")],
    name: Annotated[str, typer.Option(help="display name")] = "",
    email: Annotated[str, typer.Option()] = "",
    password_env: Annotated[
        str, typer.Option(help="environment variable holding the password (else prompted)")
    ] = "",
) -> None:
    """Add a user (operator command; audited as the node operator)."""
    from liaison.core.agencies import agency_by_code
    from liaison.identity.service import create_user, parse_roles

    password = os.environ.get(password_env, "") if password_env else ""
    if not password:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    database = _database()
    try:
        with database.session() as session:
            user = create_user(
                session,
                None,
                agency_id=agency_by_code(session, agency).id,
                username=username,
                display_name=name or username,
                password=password,
                roles=parse_roles(roles.split(",")),
                email=email or None,
            )
            console.print(f"user {user.username} created ({user.roles_csv})")
    except LiaisonError as exc:
        raise _fail(exc.detail) from None


@agencies_app.command("list")
def agencies_list() -> None:
    """List agencies and their partner frameworks."""
    from liaison.identity.administration import list_agencies

    with _database().session() as session:
        for agency in list_agencies(session):
            typer.echo(f"{agency.code}\t{agency.framework}\t{agency.country or '-'}\t{agency.name}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Verify the hash chain; exit 0 when intact, 1 naming the first broken entry."""
    from liaison.core.audit import verify

    with _database().session() as session:
        result = verify(session)
    if result.ok:
        typer.echo(result.describe())
        return
    typer.echo(result.describe(), err=True)
    raise typer.Exit(1)


@app.command()
def synth(
    out: Annotated[Path, typer.Option(help="output directory")],
    persons: Annotated[int, typer.Option(min=1, help="number of real persons")] = 1000,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
) -> None:
    """Write a deterministic synthetic world (CSV and JSON lines) with its truth files."""
    from rich.progress import Progress

    from liaison.synth import write_world

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("generating", total=persons)
        summary = write_world(
            out, persons=persons, seed=seed, progress=lambda n: progress.update(task, completed=n)
        )
    console.print(f"synthetic world written to {out}: {summary}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
) -> None:
    """Serve the web UI and the API."""
    import uvicorn

    from liaison.core.settings import get_settings
    from liaison.web.app import create_app

    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        proxy_headers=False,
        log_level="info",
    )


@app.command()
def demo(
    persons: Annotated[int, typer.Option(min=100, help="persons in the synthetic world")] = 2000,
    seed: Annotated[int, typer.Option(help="seed of the synthetic world")] = 7,
    database: Annotated[Path, typer.Option(help="SQLite file of the demo")] = Path(
        "var/liaison-demo.db"
    ),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="seed and stop")] = False,
    fresh: Annotated[bool, typer.Option(help="delete an existing demo database first")] = True,
) -> None:
    """Migrate the embedded database, seed a synthetic world, print the logins and serve."""
    os.environ.setdefault("LIAISON_MODE", "demo")
    os.environ.setdefault("LIAISON_DATABASE_URL", f"sqlite:///{database}")
    os.environ.setdefault("LIAISON_COOKIE_SECURE", "false")
    from liaison.core.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    from liaison.demo import seed_demo

    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    logins = seed_demo(settings, persons=persons, seed=seed, console=console)
    console.print(
        f"\n[bold]Demo logins[/] (password for every demo user: [bold]{logins.password}[/])"
    )
    for username, description in logins.users:
        console.print(f"  {username:<24} {description}")
    if no_serve:
        return
    console.print(f"\nServing on http://{settings.host}:{settings.port} — Ctrl+C to stop")
    serve(host=None, port=None)


def _register_capabilities() -> None:
    for name in CAPABILITY_CLIS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)


_register_capabilities()


def main() -> None:
    """Entry point of the ``liaison`` console script."""
    from pydantic import ValidationError

    try:
        app()
    except LiaisonError as exc:
        console.print(f"[bold red]error:[/] {exc.detail}")
        sys.exit(2)
    except ValidationError as exc:
        problems = "; ".join(str(e.get("msg", "")) for e in exc.errors())
        console.print(f"[bold red]configuration refused:[/] {problems}")
        sys.exit(2)
