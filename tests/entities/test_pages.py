"""The shared information system's pages: what each viewer sees, readable errors, CSRF."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from liaison.core.actor import Role
from liaison.core.settings import Settings
from liaison.db.engine import Database
from liaison.entities.crosscheck import run_pending
from liaison.entities.model import Entity
from liaison.entities.service import contribute, parse_contribution
from liaison.identity.service import actor_for
from tests.support.factories import agency, user
from tests.support.web import make_app, signed_in


@dataclass
class Site:
    db: Database
    a: TestClient
    b: TestClient
    b_analyst: TestClient
    record: Entity
    theirs: Entity


@pytest.fixture
def site(db: Database, settings: Settings) -> Site:
    with db.session() as s:
        a = agency(s, "DE-BKA", country="DE")
        b = agency(s, "NL-NP", country="NL")
        officer_a = user(s, a, Role.OFFICER, username="de.officer")
        officer_b = user(s, b, Role.OFFICER, username="nl.officer")
        user(s, b, Role.ANALYST, username="nl.analyst")
        record, _ = contribute(
            s,
            actor_for(officer_a),
            parse_contribution(
                {
                    "type": "Person",
                    "id": "DE-1",
                    "subject_category": "suspect",
                    "handling": "H1",
                    "evaluation": "A2",
                    "properties": {
                        "given_name": "Olga",
                        "family_name": "Lebedeva",
                        "dob": "1980-06-29",
                        "document_number": "X998877",
                    },
                }
            ),
        )
        theirs, _ = contribute(
            s,
            actor_for(officer_b),
            parse_contribution(
                {
                    "type": "Person",
                    "id": "NL-1",
                    "subject_category": "victim",
                    "properties": {
                        "full_name": "Иван Петров",
                        "dob": "01.01.1991",
                        "document_number": "X998877",
                    },
                }
            ),
        )
    run_pending(db)
    app = make_app(db, settings)
    return Site(
        db,
        signed_in(app, "de.officer"),
        signed_in(app, "nl.officer"),
        signed_in(app, "nl.analyst"),
        record,
        theirs,
    )


def test_owner_sees_the_entity_page_in_full(site: Site) -> None:
    page = site.a.get(f"/entities/{site.record.id}")
    assert page.status_code == 200
    assert "Lebedeva" in page.text
    assert "X998877" in page.text
    assert "Versions" in page.text
    assert "NL-NP" in page.text  # the cross-match with the other owner
    assert "Иван" not in page.text  # …but nothing of the other owner's record


def test_other_agency_sees_hit_only_page(site: Site) -> None:
    page = site.b.get(f"/entities/{site.record.id}")
    assert page.status_code == 200
    assert 'id="hit-only"' in page.text
    assert "Lebedeva" not in page.text
    assert "X998877" not in page.text
    assert "H1" in page.text
    assert "Request details from DE-BKA" in page.text


def test_search_page_requires_a_purpose_and_lists_hits(site: Site) -> None:
    without = site.b.get("/search", params={"q": "Olga Lebedeva"})
    assert "state the purpose" in without.text
    found = site.b.get("/search", params={"q": "Olga Lebedeva", "purpose": "case 7"})
    assert found.status_code == 200
    assert "DE-BKA" in found.text
    assert "hit — details on request" in found.text


def test_details_request_without_csrf_is_refused(site: Site) -> None:
    response = site.b.post(
        f"/entities/{site.record.id}/details", data={"justification": "needed for our case"}
    )
    assert response.status_code == 403
    ok = site.b.post(
        f"/entities/{site.record.id}/details",
        data={"justification": "needed for our case 7", "csrf_token": site.b.csrf},
    )  # type: ignore[attr-defined]
    assert ok.status_code == 303
    inbox = site.a.get("/cross-matches")
    assert "needed for our case 7" in inbox.text


def test_short_justification_is_a_readable_error(site: Site) -> None:
    response = site.b.post(
        f"/entities/{site.record.id}/details",
        data={"justification": "x", "csrf_token": site.b.csrf},
    )  # type: ignore[attr-defined]
    assert response.status_code == 422
    assert "say why the details are needed" in response.text


def test_conflict_queue_and_review(site: Site) -> None:
    assert site.b.get("/identity-conflicts").status_code == 403
    queue = site.b_analyst.get("/identity-conflicts")
    assert queue.status_code == 200
    assert "document:X998877" in queue.text
    assert "a record of DE-BKA" in queue.text
    assert "Lebedeva" not in queue.text


def test_upload_of_garbage_is_a_readable_error(site: Site) -> None:
    response = site.a.post(
        "/entities/upload",
        files={"file": ("x.csv", b"\x00\x01\x02PDF\x00" * 50, "text/csv")},
        data={"csrf_token": site.a.csrf, "source_format": "table"},  # type: ignore[attr-defined]
    )
    assert response.status_code == 422
    assert 'class="flash error"' in response.text


def test_records_page_lists_own_records_only(site: Site) -> None:
    page = site.a.get("/entities")
    assert "Lebedeva" in page.text
    assert "Иван" not in page.text


def test_entity_page_draws_the_neighbourhood(site: Site) -> None:
    from liaison.entities.service import link
    from liaison.identity.model import User

    with site.db.session() as s:
        officer = s.query(User).filter_by(username="de.officer").one()
        actor = actor_for(officer)
        car, _ = contribute(
            s,
            actor,
            parse_contribution(
                {"type": "Vehicle", "id": "DE-V", "properties": {"plate": "M-XY 77"}}
            ),
        )
        link(s, actor, link_type="owns_uses", source_id=site.record.id, target_id=car.id)
    page = site.a.get(f"/entities/{site.record.id}")
    assert 'id="neighbourhood"' in page.text
    assert f'href="/entities/{car.id}"' in page.text
    assert "owns uses" in page.text


def test_a_large_upload_is_stored_in_the_background_with_progress(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re
    import threading

    from liaison.entities import views

    monkeypatch.setattr(views, "BACKGROUND_UPLOAD_BYTES", 10_000)  # "large" for this test
    rows = "".join(f"R{i},Given{i},Family{i},1970-01-{i % 28 + 1:02d}\n" for i in range(2_000))
    data = ("id,first_name,surname,dob\n" + rows).encode()
    csrf = site.a.csrf  # type: ignore[attr-defined]
    mapping_page = site.a.post(
        "/entities/upload",
        files={"file": ("big.csv", data, "text/csv")},
        data={"csrf_token": csrf, "source_format": "table", "subject_category": "suspect"},
    )
    assert mapping_page.status_code == 200, mapping_page.text
    token = re.search(r'action="/entities/upload/([^"]+)"', mapping_page.text)
    assert token
    form = {
        "csrf_token": csrf,
        "filename": "big.csv",
        "entity_type": "Person",
        "subject_category": "suspect",
    }
    form |= {
        f"map:{h}": t
        for h, t in re.findall(
            r'name="map:([^"]+)".*?<option value="([^"]*)" selected', mapping_page.text, re.S
        )
    }
    stored = site.a.post(f"/entities/upload/{token.group(1)}", data=form)
    assert stored.status_code == 303
    batch_id = stored.headers["location"].rsplit("/", 1)[1]
    for thread in threading.enumerate():
        if thread.name == f"ingest-{batch_id}":
            thread.join(timeout=300)
    page = site.a.get(f"/entities/batches/{batch_id}")
    assert "accepted 2000" in page.text
    assert "Storing rows" not in page.text
