"""One minimal valid alert per category (the table every per-category test reads)."""

from __future__ import annotations

from typing import Any

NAME = {"given_name": "Marta", "family_name": "Kowalczyk"}
BORN = {**NAME, "dob": "1991-07-04"}
ARREST = {**BORN, "judicial_authority": "Sąd Okręgowy w Krakowie", "warrant_reference": "W/7/26"}
TCN = {**BORN, "nationality": "UA", "decision_reference": "D-2026-17"}
INSTRUCTIONS = "Ask where the person is travelling to and why."

SUBJECTS: dict[str, dict[str, Any]] = {
    "arrest_surrender": ARREST,
    "arrest_extradition": ARREST,
    "missing_adult": {**BORN, "protection_needed": "yes"},
    "missing_child": {**NAME, "dob": "2015-02-01"},
    "child_abduction_risk": {
        **NAME,
        "dob": "2016-05-05",
        "protection_needs": "may be taken abroad",
    },
    "vulnerable_prevent_travel": {**BORN, "protection_needs": "risk of forced marriage"},
    "judicial_procedure": {**NAME, "judicial_authority": "Tribunal de Lyon"},
    "discreet_check": NAME,
    "inquiry_check": NAME,
    "specific_check": NAME,
    "refusal_entry_stay": TCN,
    "return": TCN,
    "unknown_wanted": {"mark_reference": "LM-2026-001", "offence": "bombing of a railway line"},
    "notice_red": ARREST,
    "notice_yellow": NAME,
    "notice_blue": NAME,
    "notice_black": {"found_date": "2026-01-03", "found_place": "Rhine bank, Duisburg"},
    "notice_green": {**NAME, "offences": "repeated investment fraud"},
    "notice_orange": {**NAME, "threat": "announced an attack on a stadium"},
    "notice_purple": {"description": "drugs hidden in hollowed-out pallets"},
    "notice_silver": {"plate": "WX 12345", "plate_country": "PL"},
    "notice_un_special": {**NAME, "sanctions_committee": "1267 Committee: travel ban"},
    "diffusion": {**NAME, "purpose": "locate"},
    "vehicle": {"plate": "B-AB 1234", "plate_country": "DE"},
    "boat": {"hull_number": "FR-ABC12345D606"},
    "aircraft": {"registration": "D-EABC"},
    "firearm": {"make": "Glock", "serial": "ABC123", "firearm_status": "stolen"},
    "document_issued": {
        "number": "C01X00T47",
        "issuing_country": "DE",
        "document_status": "stolen",
    },
    "document_blank": {"number": "X00012345", "issuing_country": "FR", "document_status": "lost"},
    "vehicle_registration_document": {
        "number": "ZB12345678",
        "issuing_country": "DE",
        "document_status": "stolen",
    },
    "number_plate": {"plate": "M-XY 77", "plate_country": "DE"},
    "banknote": {"currency": "EUR", "serial_number": "X12345678901"},
    "it_equipment": {"serial_number": "C02XK0AAJG5H", "make": "Apple"},
    "other_object": {"description": "bronze statue", "serial_number": "INV-1882"},
    "payment_means": {"card_number": "4111 1111 1111 1111"},
    "object_discreet_check": {"plate": "GD 12345", "plate_country": "PL"},
    "object_inquiry_check": {"plate": "GD 12346", "plate_country": "PL"},
    "object_specific_check": {"plate": "GD 12347", "plate_country": "PL"},
}


def example(code: str, **changes: Any) -> dict[str, Any]:
    """A valid alert of category ``code``; ``changes`` replace top-level fields."""
    raw: dict[str, Any] = {
        "category": code,
        "subject": dict(SUBJECTS[code]),
        "reason": f"test alert of category {code}",
    }
    if code in ("inquiry_check", "notice_orange", "diffusion", "object_inquiry_check"):
        raw["instructions"] = INSTRUCTIONS
    if code == "diffusion":
        raw["diffusion_countries"] = ["FR", "NL"]
    raw.update(changes)
    return raw
