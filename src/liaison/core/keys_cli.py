"""``liaison keys``: rotate the master key and agency signing keys, and report on data keys."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console

from liaison.core.errors import LiaisonError
from liaison.db.engine import Database

console = Console(stderr=True)
keys_app = typer.Typer(help="Data-at-rest keys and agency signing keys.", no_args_is_help=True)

ROLE_LABELS = {
    "current": "current (LIAISON_DATA_KEY)",
    "previous": "previous (LIAISON_DATA_KEY_PREVIOUS)",
    "unknown": "UNKNOWN — not configured, its data cannot be read",
}


def _database() -> Database:
    from liaison.core.settings import get_settings

    return Database(get_settings().database_url)


def _run(action: Callable[[], int]) -> None:
    """Run a command body; domain errors become a readable message and exit code 2."""
    try:
        code = action()
    except LiaisonError as exc:
        console.print(f"[bold red]error:[/] {exc.detail}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if code:
        raise typer.Exit(code)


@keys_app.command("rotate")
def rotate(
    batch: Annotated[int, typer.Option(min=1, help="data keys re-wrapped per transaction")] = 500,
) -> None:
    """Start a new data key and re-wrap every data key under the current master key.

    Run after setting the new LIAISON_DATA_KEY with the old one in LIAISON_DATA_KEY_PREVIOUS;
    safe to re-run. Exit 1 when some data keys are wrapped by a master key not configured.
    """

    def body() -> int:
        from liaison.core.crypto import rewrap_data_keys, start_new_data_key
        from liaison.core.settings import get_settings

        settings = get_settings()
        database = _database()
        with database.session() as session:
            fresh = start_new_data_key(session, settings)
        typer.echo(
            f"new data key {fresh.id} wrapped by master key {fresh.master_key_id} "
            "seals new data from now on"
        )
        report = rewrap_data_keys(database, settings, batch=batch)
        typer.echo(report.describe())
        for problem in report.problems:
            console.print(f"[yellow]warning:[/] {problem}", highlight=False, soft_wrap=True)
        return 0 if report.ok else 1

    _run(body)


@keys_app.command("status")
def status() -> None:
    """Data keys per master key; exit 1 if some are wrapped by a key neither current nor old."""

    def body() -> int:
        from liaison.core.crypto import data_keys, key_status
        from liaison.core.settings import get_settings

        with _database().session() as session:
            result = key_status(session, get_settings())
        typer.echo(f"current master key: {result.current_master_key_id}")
        typer.echo(f"active data key:    {result.active_data_key_id or '— (created on first use)'}")
        for usage in result.usage:
            active = ", holds the active data key" if usage.holds_active else ""
            typer.echo(
                f"  {usage.master_key_id}  {ROLE_LABELS[usage.role]}: "
                f"{data_keys(usage.data_keys)}{active}"
            )
        if result.needs_rewrap:
            typer.echo(
                f"{data_keys(result.needs_rewrap)} still to re-wrap: run `liaison keys rotate`"
            )
        else:
            typer.echo("every data key is wrapped by the current master key")
            if any(u.role == "previous" for u in result.usage):
                typer.echo("the keys in LIAISON_DATA_KEY_PREVIOUS are no longer needed")
        if not result.ok:
            console.print(
                f"[bold red]error:[/] {data_keys(result.unreadable)} wrapped by a master key "
                "this node does not hold; add it to LIAISON_DATA_KEY_PREVIOUS",
                highlight=False,
                soft_wrap=True,
            )
            return 1
        return 0

    _run(body)


@keys_app.command("rotate-signing")
def rotate_signing(
    agency_code: Annotated[str, typer.Argument(help="agency code, e.g. DE-BKA")],
) -> None:
    """Retire an agency's signing key (it still verifies old messages) and create a new one."""

    def body() -> int:
        from liaison.core.agencies import agency_by_code
        from liaison.core.settings import get_settings
        from liaison.core.signing import rotate_signing_key

        with _database().session() as session:
            agency = agency_by_code(session, agency_code)
            key = rotate_signing_key(session, agency.id, get_settings())
            public = base64.b64encode(key.public_key).decode()
        typer.echo(f"new signing key {key.id} for {agency_code} (Ed25519 public key {public})")
        return 0

    _run(body)


def register(app: typer.Typer) -> None:
    """Add the ``keys`` command group to the ``liaison`` command."""
    app.add_typer(keys_app, name="keys")
