"""Demo traffic for the secure exchange: requests (some answered, some refused, some overdue),
information with every handling code, an H2 forward waiting for consent, and a case — sent
through the real service (validated, sealed, signed, audited) at times spread over two weeks."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from typing import Any

from rich.console import Console

from liaison.core.actor import Actor
from liaison.core.clock import frozen, utcnow
from liaison.core.errors import LiaisonError
from liaison.core.markings import Classification, HandlingCode
from liaison.db.engine import Database
from liaison.entities.demo import _contributors
from liaison.exchange import service
from liaison.exchange.model import Accessibility, Message, MessageType, Priority
from liaison.exchange.service import AttachmentUpload, Draft

PEOPLE: tuple[dict[str, str], ...] = (
    {"given_name": "Aleksandr", "family_name": "Ivanov", "dob": "1980-03-12", "nationality": "UA"},
    {"given_name": "Мария", "family_name": "Петренко", "dob": "1991-07-02", "nationality": "UA"},
    {"given_name": "Mohammed", "family_name": "Al-Hassan", "dob": "1986-11-30"},
    {"given_name": "Γιώργος", "family_name": "Παπαδόπουλος", "dob": "1975-01-19"},
    {"given_name": "Jan", "family_name": "de Vries", "dob": "1984-03-07", "nationality": "NL"},
)
SUBJECTS = (
    ("Keeper and recent sightings of a vehicle", "robbery_aggravated_theft"),
    ("Identity check: suspected courier", "drug_trafficking"),
    ("Phone number used in extortion calls", "racketeering_extortion"),
    ("Accounts receiving funds from a fraud scheme", "swindling_fraud"),
    ("Travel movements of a facilitator", "immigrant_smuggling"),
    ("Firearm recovered after a shooting", "arms_trafficking"),
)
MEMBERS = ("DE-BKA", "FR-DCPJ", "NL-NP", "PL-KGP", "ES-CNP", "IT-SCIP", "GR-HP")


def _draft(rng: random.Random, to: str, *, urgent: bool) -> Draft:
    subject, area = rng.choice(SUBJECTS)
    person = rng.choice(PEOPLE)
    items: list[dict[str, Any]] = [
        {"ref": "p1", "type": "Person", "evaluation": rng.choice(("A1", "B2", "B3", "C3", "X4")),
         "properties": person, "role": "suspect"}
    ]  # fmt: skip
    links: list[dict[str, Any]] = []
    if "vehicle" in subject:
        items.append(
            {
                "ref": "v1",
                "type": "Vehicle",
                "evaluation": "A2",
                "properties": {"plate": f"{rng.randint(10, 99)}-ABC-{rng.randint(1, 9)}",
                               "plate_country": "NL"},
            }
        )  # fmt: skip
        links.append({"source": "p1", "target": "v1", "type": "owns_uses"})
    return Draft(
        to=(to,),
        subject=subject,
        body=(
            f"In the course of our investigation we identified {person['given_name']} "
            f"{person['family_name']}. Please provide any information you hold: identity, "
            "addresses, vehicles, criminal records and associates."
        ),
        legal_basis="Directive (EU) 2023/977 Art. 4",
        purpose=f"criminal investigation {rng.randint(100, 999)}/2026",
        message_type=MessageType.REQUEST,
        priority=Priority.URGENT if urgent else Priority.NORMAL,
        accessibility=rng.choice((Accessibility.DIRECT, Accessibility.INDIRECT)),
        crime_area=area,
        handling=rng.choice((HandlingCode.H0, HandlingCode.H1, HandlingCode.H1)),
        classification=Classification.RESTRICTED,
        items=tuple(items),
        links=tuple(links),
    )


def _answer(text: str, **changes: Any) -> Draft:
    base = Draft(
        to=(),
        subject="Reply",
        body=text,
        legal_basis="Directive (EU) 2023/977 Art. 5",
        purpose="answer to a request for information",
        classification=Classification.RESTRICTED,
        personal_data=True,
    )
    return replace(base, **changes)


def seed_demo(database: Database, *, persons: int, seed: int, console: Console) -> None:
    """About seventy messages between the demo agencies' officers."""
    actors = _contributors(database)
    rng = random.Random(seed)  # noqa: S311 - demo traffic, not secrets
    now = utcnow()
    sent = 0

    def at(hours_ago: float) -> dt.datetime:
        return now - dt.timedelta(hours=hours_ago)

    def send(actor: Actor, draft: Draft, hours_ago: float) -> Message | None:
        nonlocal sent
        with frozen(at(hours_ago)), database.session() as session:
            try:
                message = service.send(session, actor, draft)
            except LiaisonError as exc:  # a demo agency that may not receive this: skip it
                console.print(f"[dim]demo message skipped: {exc.detail}[/]")
                return None
        sent += 1
        return message

    for i in range(48):
        sender, recipient = rng.sample(MEMBERS, 2)
        hours_ago = rng.uniform(0.2, 24 * 14)
        message = send(actors[sender], _draft(rng, recipient, urgent=i % 3 == 0), hours_ago)
        if message is None or rng.random() < 0.45:
            continue  # left open: some are due soon, some overdue
        answer_after = min(hours_ago - 0.1, rng.uniform(0.5, 48))
        refuse = rng.random() < 0.15
        with frozen(at(hours_ago - answer_after)), database.session() as session:
            service.reply(
                session,
                actors[recipient],
                message.id,
                _answer(
                    "We regret that we cannot provide the requested information."
                    if refuse
                    else "The person is known to us: two convictions for theft (2019, 2022); "
                    "last known address in our records attached to our case file.",
                    subject="Re: request for information",
                    refusal_ground="not_available" if refuse else None,
                ),
            )
        sent += 1

    # Information under each handling code, one H2 forward waiting for the provider's consent.
    for code, handling, conditions in (
        ("NL-NP", HandlingCode.H2, None),
        ("IT-SCIP", HandlingCode.H3, "Not to be passed to customs or tax authorities."),
        ("ES-CNP", HandlingCode.H0, None),
    ):
        info = send(
            actors[code],
            Draft(
                to=("DE-BKA",),
                cc=("FR-DCPJ",),
                subject="Modus operandi: ATM skimming devices behind the card slot",
                body="Devices found in three cities this month; photos attached.",
                legal_basis="Regulation (EU) 2016/794",
                purpose="crime prevention: payment card fraud",
                crime_area="money_payment_forgery",
                handling=handling,
                h3_conditions=conditions,
                classification=Classification.RESTRICTED,
                personal_data=False,
                attachments=(AttachmentUpload("devices.txt", b"Device A: 3D-printed overlay\n"),),
            ),
            rng.uniform(1, 100),
        )
        if info is not None and handling is HandlingCode.H2:
            with database.session() as session:
                service.forward(
                    session, actors["DE-BKA"], info.id, to=("PL-KGP",), note="Seen in Poland too?"
                )

    # A case with a thread, and non-personal information to partners.
    with database.session() as session:
        case = service.create_case(
            session,
            actors["DE-BKA"],
            title="Operation Harbour — cocaine shipments through North Sea ports",
            crime_area="drug_trafficking",
            participants=("NL-NP", "FR-DCPJ"),
        )
    for code, hours in (("NL-NP", 30.0), ("FR-DCPJ", 20.0)):
        send(
            actors["DE-BKA"],
            replace(_draft(rng, code, urgent=False), case_id=case.id),
            hours,
        )
    for code in ("JP-NPA", "UA-NPU"):
        send(
            actors["DE-BKA"],
            Draft(
                to=(code,),
                subject="Trend report: synthetic drugs shipped by post",
                body="No personal data: statistics and concealment methods only.",
                legal_basis="working arrangement / operational agreement",
                purpose="strategic analysis",
                crime_area="drug_trafficking",
                personal_data=False,
            ),
            rng.uniform(1, 50),
        )
    console.print(f"sent {sent} demo messages")
