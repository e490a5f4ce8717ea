"""Recall against the synthetic truth: a person with an alert is found when another agency's
record of them — written with every variation the synthetic world produces (transliteration
systems, typos, folded letters, name order, nicknames, dropped names, date slips) — is
checked. Reports recall per variation and the false-hit rate (hits on someone else's alert).

The alert is issued from the person's primary record; the checks are the person's other
records. Half of the persons have an alert; the records of the other half probe for false hits.
Matching does not depend on the storage, so this runs on SQLite only.
"""

from __future__ import annotations

from collections import Counter

from liaison.alerts import checks, service
from liaison.alerts.drafts import parse_alert
from liaison.core.actor import Role
from liaison.db.engine import Database
from liaison.entities.synthetic import person_contribution
from liaison.synth.world import iter_world
from tests.support.factories import actor_of, agency, user

PERSONS = 1600
SEED = 11
FIELDS = (
    "given_name",
    "middle_name",
    "family_name",
    "full_name",
    "name_original",
    "dob",
    "gender",
    "nationality",
    "birth_place",
    "document_number",
    "document_country",
)
# A record written under another person's name (an alias) cannot be found by name.
UNFINDABLE = "alias"


def test_recall_of_the_synthetic_truth_and_false_hit_rate(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        manager = actor_of(user(s, agency(s, "DE-BKA", country="DE"), Role.ALERT_MANAGER))
        officer = actor_of(user(s, agency(s, "NL-NP", country="NL"), Role.OFFICER), "recall")
    alert_of: dict[str, str] = {}
    probes: list[tuple[str, list[str], checks.Query]] = []
    with sqlite_db.session() as s:
        for number, unit in enumerate(iter_world(PERSONS, SEED)):
            person = unit.person.person_id
            records = unit.records
            if number % 2 == 0:
                props = person_contribution(records[0])["properties"]
                subject = {k: props[k] for k in FIELDS if props.get(k)}
                raw = {"category": "discreet_check", "subject": subject, "reason": "recall"}
                alert_of[person] = service.issue(s, manager, parse_alert(raw)).id
                records = records[1:]
            for record in records:
                fields = {k: record[k] for k in FIELDS if record.get(k)}
                variations = [v for v in record["variations"].split(";") if v] or ["none"]
                probes.append(
                    (person, variations, checks.person_query(fields, record["record_id"]))
                )
    with sqlite_db.session() as s:
        results = list(checks.check_batch(s, officer, [q for _, _, q in probes]))

    seen, found = Counter[str](), Counter[str]()
    false_any = false_match = 0
    for (person, variations, _query), result in zip(probes, results, strict=True):
        mine = alert_of.get(person)
        others = [h for h in result.hits if h.view.alert.id != mine]
        false_any += bool(others)
        false_match += any(h.band == "match" for h in others)
        if mine is None:
            continue
        hit = any(h.view.alert.id == mine for h in result.hits)
        for variation in ["all", *variations]:
            seen[variation] += 1
            found[variation] += hit
        if UNFINDABLE not in variations:
            seen["all findable"] += 1
            found["all findable"] += hit

    lines = [f"{v:24s} {found[v]:5d}/{seen[v]:<5d} {found[v] / seen[v]:.3f}" for v in sorted(seen)]
    rate_any, rate_match = false_any / len(results), false_match / len(results)
    print("\nrecall by variation (found/checked):\n" + "\n".join(lines))
    print(f"false-hit rate: {rate_any:.3f} (any band), {rate_match:.3f} (match band)")

    assert seen["all"] > 300
    assert found["all findable"] / seen["all findable"] >= 0.97
    assert found["all"] / seen["all"] >= 0.95
    for variation, count in seen.items():
        if count >= 5 and variation != UNFINDABLE:
            assert found[variation] / count >= 0.75, (variation, found[variation], count)
    assert rate_match <= 0.03
    assert rate_any <= 0.08
