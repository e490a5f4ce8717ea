"""The demo: a migrated embedded database with the synthetic world's agencies, users and data."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import make_url

from liaison.core.settings import Settings
from liaison.db.engine import Database
from liaison.db.migrate import upgrade
from liaison.identity.administration import create_agency
from liaison.identity.model import User
from liaison.identity.passwords import hash_password
from liaison.synth import write_world
from liaison.synth.agencies import AGENCIES, DEMO_PASSWORD, USERS

# Capabilities that put their share of the synthetic world into the demo database, in flow order;
# each reads the world written to ``demo_world_dir``.
DEMO_SEEDERS = ("liaison.entities.demo", "liaison.exchange.demo", "liaison.alerts.demo")


def demo_world_dir(settings: Settings) -> Path:
    """Where the demo writes its synthetic world: beside the SQLite file."""
    url = make_url(settings.database_url)
    base = Path(url.database).parent if url.database else Path("var")
    return base / "demo-world"


@dataclass(frozen=True, slots=True)
class DemoLogins:
    password: str
    users: list[tuple[str, str]]


def seed_demo(settings: Settings, *, persons: int, seed: int, console: Console) -> DemoLogins:
    """Migrate, then seed agencies, users and each capability's demo data."""
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    password_hash = hash_password(DEMO_PASSWORD)
    logins: list[tuple[str, str]] = []
    with database.session() as session:
        ids: dict[str, str] = {}
        for spec in AGENCIES:
            agency = create_agency(
                session,
                None,
                code=spec.code,
                name=spec.name,
                country=spec.country,
                framework=spec.framework,
                accreditation=spec.accreditation,
                personal_data_basis=spec.personal_data_basis,
            )
            ids[spec.code] = agency.id
        for user_spec in USERS:
            session.add(
                User(
                    agency_id=ids[user_spec.agency_code],
                    username=user_spec.username,
                    display_name=user_spec.display_name,
                    password_hash=password_hash,
                    roles_csv=",".join(sorted(user_spec.roles)),
                    active=True,
                    failed_logins=0,
                )
            )
            logins.append(
                (user_spec.username, f"{user_spec.agency_code} · {', '.join(user_spec.roles)}")
            )
    console.print(f"seeded {len(AGENCIES)} agencies and {len(USERS)} users")
    world_dir = demo_world_dir(settings)
    summary = write_world(world_dir, persons=persons, seed=seed)
    console.print(f"synthetic world in {world_dir}: {summary}")
    for name in DEMO_SEEDERS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.seed_demo(database, persons=persons, seed=seed, console=console)
    database.dispose()
    return DemoLogins(DEMO_PASSWORD, logins)
