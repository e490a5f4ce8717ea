"""The alert pages: who may open them, the form per category with its validation on the form,
the alert page (history, flags, review, delete), the check page with the action to take, the
warnings and the flags, and the hit-report queue with its deadlines."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from liaison.alerts.model import Alert, AlertNote, HitReport
from liaison.core.actor import Role
from liaison.core.clock import frozen
from liaison.core.settings import Settings
from tests.alerts.conftest import World, arrest, passport, stolen_car
from tests.support.factories import user
from tests.support.web import make_app, signed_in

PURPOSE = "border check, Terminal 2"
PERSON = {"full_name": "Aleksandr Ivanov", "dob": "1980-03-12"}
ACTION = "Arrest the person for surrender"
# Near the real time: a web session slides from its last request, 8 hours at most.
T0 = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)

Clients = Callable[[str], TestClient]


@pytest.fixture
def clients(world: World, settings: Settings) -> Clients:
    """A signed-in client per username, made on first use."""
    with world.db.session() as s:
        user(s, world.a, Role.ANALYST, username="a.analyst")
    app = make_app(world.db, settings)
    made: dict[str, TestClient] = {}

    def client(username: str) -> TestClient:
        if username not in made:
            made[username] = signed_in(app, username)
        return made[username]

    return client


def csrf(client: TestClient) -> str:
    token: str = client.csrf  # type: ignore[attr-defined]
    return token


def post(client: TestClient, url: str, data: Mapping[str, object]) -> Response:
    return client.post(url, data={**data, "csrf_token": csrf(client)})


def check_person(client: TestClient, **fields: str) -> str:
    response = client.post(
        "/check", data={"type": "person", "purpose": PURPOSE, **fields, "csrf_token": csrf(client)}
    )
    assert response.status_code == 200, response.text
    return response.text


def arrest_form(**changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "category": "arrest_surrender",
        "subject.full_name": "Александр Иванов",
        "subject.dob": "1980-03-12",
        "subject.nationality": "RU",
        "subject.judicial_authority": "Amtsgericht Köln",
        "subject.warrant_reference": "EAW-2026-0042",
        "reason": "wanted for armed robbery",
        "warnings": ["armed", "violent"],
        "classification": "RESTRICTED",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def text_of(html: str) -> str:
    """The page's text without tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# ── Access ───────────────────────────────────────────────────────────────────────────────────


def test_navigation_and_pages_follow_the_roles(clients: Clients) -> None:
    manager = clients("a.manager").get("/").text
    for href in ('href="/alerts"', 'href="/check"', 'href="/hit-reports"'):
        assert href in manager
    officer = clients("b.officer")
    home = officer.get("/").text
    assert 'href="/check"' in home
    assert 'href="/alerts"' not in home
    assert 'href="/hit-reports"' not in home
    assert officer.get("/check").status_code == 200
    assert officer.get("/alerts/new").status_code == 403
    analyst = clients("a.analyst")
    assert 'href="/check"' not in analyst.get("/").text
    for url in ("/alerts", "/alerts/new", "/check", "/hit-reports"):
        refused = analyst.get(url)
        assert refused.status_code == 403, url
        assert "none of your roles" in refused.text


def test_every_form_needs_the_csrf_token(world: World, clients: Clients) -> None:
    alert = world.issue(arrest())
    manager, officer = clients("a.manager"), clients("b.officer")
    for client, url in (
        (manager, "/alerts"),
        (manager, f"/alerts/{alert.id}/review"),
        (manager, f"/alerts/{alert.id}/delete"),
        (clients("b.manager"), f"/alerts/{alert.id}/flag"),
        (clients("b.manager"), f"/alerts/{alert.id}/unflag"),
        (officer, "/check"),
        (officer, f"/check/hits/{alert.id}"),
        (officer, f"/check/false-hits/{alert.id}"),
        (manager, "/hit-reports/01ARZ3NDEKTSV4RRFFQ69G5FAV/answer"),
        (officer, "/hit-reports/01ARZ3NDEKTSV4RRFFQ69G5FAV/outcome"),
    ):
        refused = client.post(url, data={"reason": "x", "purpose": PURPOSE})
        assert refused.status_code == 403, url
        assert "CSRF" in refused.text, url
    with world.db.session() as s:
        stored = s.get(Alert, alert.id)
        assert stored is not None
        assert stored.version == 1
        assert stored.status == "active"
        assert s.scalars(select(HitReport)).all() == []


# ── The alert form ───────────────────────────────────────────────────────────────────────────


def test_the_form_shows_what_each_category_needs(clients: Clients) -> None:
    manager = clients("a.manager")
    chooser = manager.get("/alerts/new").text
    assert "Arrest for surrender (European Arrest Warrant)" in chooser
    assert "Firearm lost, stolen or trafficked" in chooser
    form = manager.get("/alerts/new", params={"category": "arrest_surrender"}).text
    assert ACTION in form  # the action to be taken
    assert 'value="Regulation (EU) 2018/1862, Art. 26"' in form  # the default legal basis
    for field in ("subject.dob", "subject.judicial_authority", "subject.warrant_reference"):
        assert re.search(rf'name="{re.escape(field)}"[^>]*required', form), field
    assert 'name="subject.document_number"' in form
    assert 'name="subject.nationality"' in form
    assert 'name="warnings" value="armed"' in form
    assert 'name="warnings" value="violent"' in form
    assert 'name="review_date"' in form
    assert 'name="valid_until"' in form
    assert 'name="handling"' in form
    assert 'name="classification"' in form
    assert 'name="diffusion_countries"' not in form
    vehicle = manager.get("/alerts/new", params={"category": "vehicle"}).text
    assert 'name="subject.plate"' in vehicle
    assert 'name="subject.vin"' in vehicle
    assert 'name="subject.plate_country"' in vehicle
    assert 'value="armed"' not in vehicle  # person warnings only on persons
    assert 'value="hazardous"' in vehicle
    assert "Checks find this alert by: vehicle identification number (VIN), number plate" in vehicle
    firearm = manager.get("/alerts/new", params={"category": "firearm"}).text
    assert 'name="subject.serial"' in firearm
    assert 'name="subject.make"' in firearm
    document = manager.get("/alerts/new", params={"category": "document_issued"}).text
    for field in ("number", "issuing_country", "document_type", "document_status"):
        assert f'name="subject.{field}"' in document
    diffusion = manager.get("/alerts/new", params={"category": "diffusion"}).text
    assert re.search(r'name="diffusion_countries"[^>]*required', diffusion)
    assert re.search(r'name="instructions"[^>]*required', diffusion)
    silver = manager.get(
        "/alerts/new", params={"category": "notice_silver", "subject_type": "Boat"}
    )
    assert 'name="subject.hull_number"' in silver.text
    assert "subject_type=BankAccount" in silver.text
    unknown = manager.get("/alerts/new", params={"category": "nonsense"})
    assert unknown.status_code == 422
    assert "unknown alert category" in unknown.text


def test_validation_errors_show_on_the_form_with_the_input_kept(
    world: World, clients: Clients
) -> None:
    manager = clients("a.manager")
    response = post(
        manager,
        "/alerts",
        arrest_form(
            **{"subject.dob": None, "reason": None, "subject.nationality": "Atlantis"},
            review_date="2001-01-01",
        ),
    )
    assert response.status_code == 422
    page: str = response.text
    assert "The alert was not issued" in page
    assert 'id="error-subject-dob"' in page
    assert "Date of birth is required" in page
    assert 'id="error-reason"' in page
    assert "state the reason for the alert" in page
    assert 'id="error-subject-nationality"' in page
    assert 'id="error-review_date"' in page
    assert "lies in the past" in page
    assert 'value="Александр Иванов"' in page  # what was typed is kept
    assert 'value="EAW-2026-0042"' in page
    assert 'value="armed" checked' in page
    assert 'value="violent" checked' in page
    assert '<option value="RESTRICTED" selected' in page
    # An object alert needs an identifier a check can find it by, and a valid one.
    car = post(
        manager, "/alerts", {"category": "vehicle", "reason": "stolen", "subject.make": "VW"}
    )
    assert car.status_code == 422
    assert "give at least one of: Number plate or VIN" in car.text
    bad_vin = post(
        manager, "/alerts", {"category": "vehicle", "reason": "stolen", "subject.vin": "WVW123"}
    )
    assert 'id="error-subject-vin"' in bad_vin.text
    with world.db.session() as s:
        assert s.scalars(select(Alert)).all() == []


def test_an_alert_issued_through_the_form_with_its_page_and_list(
    world: World, clients: Clients
) -> None:
    manager = clients("a.manager")
    response = post(manager, "/alerts", arrest_form(id="EAW-7"))
    assert response.status_code == 303, response.text
    location: str = response.headers["location"]
    alert_id = location.split("/")[2].split("?")[0]
    page = manager.get(location).text
    assert "The alert was issued" in page
    assert "Александр Иванов" in page
    assert ACTION in page
    assert "Armed" in page
    assert "Violent" in page
    assert "RESTRICTED" in page
    assert "EAW-7" in page
    assert re.search(r"<td>1</td><td>issued</td>", page)
    again = post(manager, "/alerts", arrest_form(id="EAW-7"))
    assert again.status_code == 409
    assert 'id="error-id"' in again.text
    listing = manager.get("/alerts", params={"category": "arrest_surrender"}).text
    assert f'href="/alerts/{alert_id}"' in listing
    assert f'href="/alerts/{alert_id}"' not in manager.get("/alerts?category=vehicle").text
    assert f'href="/alerts/{alert_id}"' in manager.get("/alerts?issuer=DE-BKA&status=active").text
    assert f'href="/alerts/{alert_id}"' not in manager.get("/alerts?issuer=NL-NP").text
    due = manager.get("/alerts", params={"review_due": "30"}).text
    assert f'href="/alerts/{alert_id}"' not in due  # due in three years
    assert "no agency with code" in manager.get("/alerts?issuer=XX-NONE").text


def test_paging_through_the_alert_list(world: World, clients: Clients) -> None:
    for i in range(53):
        world.issue(stolen_car(plate=f"B-AB {1000 + i}", vin=f"WVWZZZ1JZXW{i:06d}"))
    manager = clients("a.manager")
    first = manager.get("/alerts").text
    assert first.count('class="alert-row') == 50
    cursor = re.search(r'cursor=([0-9A-Z]{26})" rel="next"', first)
    assert cursor
    second = manager.get("/alerts", params={"cursor": cursor.group(1)}).text
    assert second.count('class="alert-row') == 3
    assert 'rel="next"' not in second


# ── The alert page ───────────────────────────────────────────────────────────────────────────


def test_review_flag_and_delete_from_the_alert_page(world: World, clients: Clients) -> None:
    alert = world.issue(arrest())
    manager_a, manager_b = clients("a.manager"), clients("b.manager")
    url = f"/alerts/{alert.id}"
    own = manager_a.get(url).text
    assert 'id="review-form"' in own
    assert 'id="delete-form"' in own
    assert 'id="flag-form"' not in own  # the issuer changes or deletes instead
    refused = post(manager_a, f"{url}/review", {"justification": " "})
    assert refused.status_code == 422
    assert "give the justification" in refused.text
    sooner = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=365)).isoformat()
    reviewed = post(
        manager_a, f"{url}/review", {"justification": "warrant still in force", "until": sooner}
    )
    assert reviewed.status_code == 303
    history = manager_a.get(url).text
    assert "reviewed" in history
    assert "warrant still in force" in history
    assert re.search(rf"review date: \d{{4}}-\d\d-\d\d → {sooner}", history)

    other = manager_b.get(url).text
    assert 'id="flag-form"' in other
    assert 'id="review-form"' not in other
    assert 'id="delete-form"' not in other
    assert 'id="versions"' not in other  # the history is the issuer's
    empty = post(manager_b, f"{url}/flag", {"reason": ""})
    assert empty.status_code == 422
    flagged = post(manager_b, f"{url}/flag", {"reason": "offence time-barred in NL"})
    assert flagged.status_code == 303
    page = manager_b.get(url + "?done=flagged").text
    assert "offence time-barred in NL" in page
    assert 'id="unflag-form"' in page
    assert "offence time-barred in NL" in manager_a.get(url).text  # the issuer sees every flag
    assert post(manager_b, f"{url}/unflag", {}).status_code == 303
    assert 'id="flag-form"' in manager_b.get(url).text

    assert post(manager_a, f"{url}/delete", {"reason": "withdrawn"}).status_code == 303
    deleted = manager_a.get(url).text
    assert "deleted" in deleted
    assert 'id="review-form"' not in deleted
    assert manager_b.get(url).status_code == 404


# ── The check page ───────────────────────────────────────────────────────────────────────────


def test_the_check_page_shows_the_action_warnings_and_flags(world: World, clients: Clients) -> None:
    alert = world.issue(arrest())
    post(clients("b.manager"), f"/alerts/{alert.id}/flag", {"reason": "time-barred in NL"})
    page = check_person(clients("b.officer"), **PERSON)
    text = text_of(page)
    assert "1 HIT" in text
    assert f'id="hit-{alert.id}"' in page
    assert "ACTION NOT TO BE EXECUTED IN YOUR TERRITORY" in text
    assert "FLAGGED by your agency (time-barred in NL): do NOT execute the action" in text
    assert '<li class="warning-badge">⚠ Armed</li>' in page
    assert '<li class="warning-badge">⚠ Violent</li>' in page
    assert "issued by DE-BKA" in text
    assert "Arrest for surrender (European Arrest Warrant)" in text
    assert re.search(r"strength (match|possible)", text)
    assert "name agrees" in text  # the match explanation
    assert 'action="/check/hits/' in page
    assert 'action="/check/false-hits/' in page
    # Another member state's officer: the action itself, no flag.
    other = text_of(check_person(clients("fr.officer"), **PERSON))
    assert f"Action to be taken {ACTION}" in other
    assert "NOT TO BE EXECUTED" not in other
    nobody = text_of(check_person(clients("b.officer"), full_name="Jan de Vries", dob="1975"))
    assert "NO HIT" in nobody
    assert "HIT —" not in nobody


def test_object_checks_on_the_same_form(world: World, clients: Clients) -> None:
    world.issue(stolen_car())
    officer = clients("b.officer")
    form = officer.get("/check", params={"kind": "object"}).text
    assert 'name="kind"' in form
    assert 'name="value"' in form
    assert 'value="object"' in form
    response = post(
        officer,
        "/check",
        {
            "type": "object",
            "purpose": PURPOSE,
            "kind": "plate",
            "value": "bab1234",
            "country": "DE",
        },
    )
    page = text_of(response.text)
    assert "Seize the vehicle" in page
    assert "B-AB 1234" in page
    bad = post(
        officer, "/check", {"type": "object", "purpose": PURPOSE, "kind": "vin", "value": "?"}
    )
    assert bad.status_code == 422
    assert 'id="error-value"' in bad.text


def test_a_check_needs_a_purpose_and_keeps_what_was_typed(clients: Clients) -> None:
    officer = clients("b.officer")
    response = post(officer, "/check", {"type": "person", **PERSON})
    assert response.status_code == 403
    page: str = response.text
    assert "state the purpose of the check" in page
    assert 'value="Aleksandr Ivanov"' in page
    assert 'value="1980-03-12"' in page
    nothing = post(officer, "/check", {"type": "person", "purpose": PURPOSE, "dob": "1980"})
    assert nothing.status_code == 422
    assert "give a name, a document number" in nothing.text


def test_partners_without_personal_data_get_no_person_alert_content(
    world: World, clients: Clients
) -> None:
    alert = world.issue(arrest())
    document = world.issue(passport())
    partner = clients("wa.officer")
    form = partner.get("/check").text
    assert 'id="person-refused"' in form
    assert 'value="object"' in form
    response = post(partner, "/check", {"type": "person", "purpose": PURPOSE, **PERSON})
    assert response.status_code == 403
    page: str = response.text
    assert "excludes personal data" in page
    for hidden in (ACTION, "DE-BKA", alert.id, "Armed", "EAW-2026-0042", "hit-card"):
        assert hidden not in page, hidden
    shown = post(
        partner,
        "/check",
        {"type": "object", "purpose": PURPOSE, "kind": "document", "value": "C01X00T47"},
    )
    hit = text_of(shown.text)
    assert "Seize the document" in hit
    assert "Category and action only" in hit
    assert f'href="/alerts/{document.id}"' not in shown.text
    assert 'action="/check/hits/' not in shown.text
    assert "passport" not in hit.lower().replace("passport control", "")


# ── Hit reports ──────────────────────────────────────────────────────────────────────────────


def test_a_confirmed_hit_reaches_the_queue_with_its_deadline_and_turns_overdue(
    world: World, settings: Settings
) -> None:
    alert = world.issue(arrest())
    app = make_app(world.db, settings)
    with frozen(T0):
        officer = signed_in(app, "b.officer")
        check_person(officer, **PERSON)
        response = post(
            officer,
            f"/check/hits/{alert.id}",
            {
                "purpose": PURPOSE,
                "query": "full_name=Aleksandr Ivanov",
                "band": "match",
                "place": "Schiphol, passport control",
                "circumstances": "arriving from Istanbul",
                "action_taken": "held at the border",
            },
        )
        assert response.status_code == 303
        report_url: str = response.headers["location"].split("?")[0]
        report = text_of(officer.get(response.headers["location"]).text)
        due = (T0 + dt.timedelta(hours=12)).strftime("%Y-%m-%d %H:%M")
        assert "Hit confirmed and reported" in report
        assert f"Answer due {due} UTC in 12 h 00 min" in report
        assert "within 12 hours" in report
        assert "hit pending" in report
        assert "Schiphol, passport control" in report
        assert 'id="outcome-form"' in officer.get(report_url).text
        assert 'id="answer-form"' not in officer.get(report_url).text
        manager = signed_in(app, "a.manager")
        queue = manager.get("/hit-reports").text
        assert "arriving from Istanbul" not in queue  # the list shows the action taken
        assert "held at the border" in queue
        assert "NL-NP" in queue
        assert f"{due} UTC" in queue
        assert "OVERDUE" not in queue
        assert "in 12 h 00 min" in queue
        assert 'class="hit-report-row overdue"' not in queue
        assert "Aleksandr Ivanov" not in manager.get("/hit-reports?overdue=1").text
        assert 'id="answer-form"' in manager.get(report_url).text
        assert "held at the border" in officer.get("/hit-reports").text  # filed by B
        assert clients_refused(app, report_url)
    with frozen(T0 + dt.timedelta(hours=13, minutes=5)):
        manager = signed_in(app, "a.manager")
        late = manager.get("/hit-reports").text
        assert 'class="hit-report-row overdue"' in late
        assert "OVERDUE" in late
        assert "overdue by 1 h 05 min" in late
        assert "1 hit report overdue" in text_of(late)
        assert "held at the border" in manager.get("/hit-reports?overdue=1").text
        empty = post(manager, f"{report_url}/answer", {"answer": "executed", "text": ""})
        assert empty.status_code == 422
        assert 'value="executed" required checked' in empty.text
        answered = post(
            manager, f"{report_url}/answer", {"answer": "executed", "text": "surrender arranged"}
        )
        assert answered.status_code == 303
        page = text_of(manager.get(report_url).text)
        assert "answered" in page
        assert "surrender arranged" in page
        assert "status now: executed" in page
        assert "No hit report." in manager.get("/hit-reports").text
        assert "executed" in manager.get(f"/alerts/{alert.id}").text


def clients_refused(app: FastAPI, report_url: str) -> bool:
    """Agencies that neither issued the alert nor reported the hit do not see the report."""
    other = signed_in(app, "fr.officer")
    return bool(other.get(report_url).status_code == 404)


def test_a_false_hit_from_the_check_page_becomes_a_note_on_later_hits(
    world: World, clients: Clients
) -> None:
    alert = world.issue(arrest())
    officer = clients("b.officer")
    refused = post(
        officer,
        f"/check/false-hits/{alert.id}",
        {"purpose": PURPOSE, "circumstances": "border check", "distinguishing_details": ""},
    )
    assert refused.status_code == 422
    assert "tells this person" in refused.text
    assert 'value="border check"' not in refused.text
    assert ">border check</textarea>" in refused.text
    response = post(
        officer,
        f"/check/false-hits/{alert.id}",
        {
            "purpose": PURPOSE,
            "circumstances": "border check at Venlo",
            "distinguishing_details": "born in Minsk, passport BY1234567",
            "note_kind": "misused_identity",
        },
    )
    assert response.status_code == 303
    report = text_of(officer.get(response.headers["location"]).text)
    assert "false hit" in report
    assert "status now: active" in report
    again = text_of(check_person(clients("fr.officer"), **PERSON))
    assert "NOT THE SUBJECT?" in again
    assert "born in Minsk, passport BY1234567" in again
    with world.db.session() as s:
        [note] = s.scalars(select(AlertNote)).all()
        assert note.kind == "misused_identity"


def test_the_outcome_form_of_the_checking_agency(world: World, clients: Clients) -> None:
    alert = world.issue(arrest())
    officer = clients("b.officer")
    response = post(
        officer,
        f"/check/hits/{alert.id}",
        {"purpose": PURPOSE, "circumstances": "at the border", "action_taken": "held"},
    )
    url: str = response.headers["location"].split("?")[0]
    page = officer.get(url).text
    assert 'value="not_taken_flag"' not in page  # B did not flag the alert
    missing = post(officer, f"{url}/outcome", {"outcome": "false_hit"})
    assert missing.status_code == 422
    assert 'id="error-distinguishing_details"' in missing.text
    done = post(officer, f"{url}/outcome", {"outcome": "action_taken", "note": "arrested"})
    assert done.status_code == 303
    shown = officer.get(url).text
    assert "action taken" in shown
    assert 'id="outcome-form"' not in shown
    manager = clients("a.manager")
    keep = post(manager, f"{url}/answer", {"answer": "keep_active", "text": "not yet: keep it"})
    assert keep.status_code == 303
    assert "status now: active" in text_of(manager.get(url).text)
    assert (
        post(clients("b.manager"), f"{url}/answer", {"answer": "executed", "text": "x"}).status_code
        == 403
    )
