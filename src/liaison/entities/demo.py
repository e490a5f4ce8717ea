"""The demo's share of the shared information system: every agency that holds person records
contributes its synthetic records; the cross-check then runs once, so the demo starts with
cross-matches in the inboxes and identity conflicts in the review queue."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rich.console import Console
from sqlalchemy import select

from liaison.core.actor import Actor
from liaison.db.engine import Database
from liaison.entities.crosscheck import run_pending
from liaison.entities.ingest import ingest_rows, json_rows
from liaison.entities.synthetic import contributions
from liaison.identity.model import User
from liaison.identity.service import actor_for
from liaison.synth.world import iter_world


def _contributors(database: Database) -> dict[str, Actor]:
    """One officer per agency, by agency code (the demo's ``xx.officer`` users)."""
    with database.session() as session:
        users = session.scalars(select(User).where(User.username.like("%.officer"))).all()
        return {actor.agency_code: actor for actor in (actor_for(u) for u in users)}


def seed_demo(database: Database, *, persons: int, seed: int, console: Console) -> None:
    actors = _contributors(database)
    clearance = {code: actor.accreditation for code, actor in actors.items()}
    by_agency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for unit in iter_world(persons, seed):
        for code, raw in contributions(unit, clearance):
            by_agency[code].append(raw)
    stored = 0
    for code, rows in sorted(by_agency.items()):
        actor = actors.get(code)
        if actor is None or not actor.personal_data_allowed:
            continue
        report = ingest_rows(
            database, actor, json_rows(rows), source_format="json", filename="synthetic world"
        )
        stored += report.batch.accepted
    checked = run_pending(database)
    console.print(f"contributed {stored} records; cross-checked {checked}")
