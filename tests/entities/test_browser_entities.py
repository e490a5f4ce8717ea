"""End to end in headless Chromium: agency A uploads a CSV with a person; B's officer searches
the name written in another script and sees a hit owned by A with its markings but no details;
B asks for details; A's cross-match inbox shows the match and the request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from liaison.core.actor import Role
from liaison.core.settings import Settings
from liaison.db.engine import Database
from liaison.entities.crosscheck import run_pending
from tests.support.browser import live_server, sign_in
from tests.support.factories import agency, user

pytestmark = pytest.mark.browser

CSV = (
    "Record ID;Given name;Surname;Date of birth;Passport No\n"
    "BKA-2026-001;Aleksandr;Ivanov;12.03.1980;P1234567\n"
    "BKA-2026-002;Maria;;31.02.1980;\n"
)


def test_upload_search_in_another_script_ask_details_and_inbox(
    page: Any, sqlite_db: Database, settings: Settings, tmp_path: Path
) -> None:
    with sqlite_db.session() as s:
        a = agency(s, "DE-BKA", country="DE")
        b = agency(s, "NL-NP", country="NL")
        user(s, a, Role.OFFICER, username="de.officer")
        user(s, b, Role.OFFICER, username="nl.officer")
    upload = tmp_path / "persons.csv"
    upload.write_text(CSV, encoding="utf-8")
    with live_server(sqlite_db, settings) as base:
        # A uploads the CSV, maps the columns (suggested) and stores the records.
        sign_in(page, base, "de.officer")
        page.click("nav >> text=Records")
        page.set_input_files("#upload-form input[name=file]", str(upload))
        page.select_option("#upload-form select[name=handling]", "H1")
        page.fill("#upload-form input[name=evaluation]", "B2")
        page.select_option("#upload-form select[name=subject_category]", "suspect")
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#mapping-form")
        assert page.input_value("select[aria-label='Surname becomes']") == "family_name"
        page.click("#mapping-form button[type=submit]")
        page.wait_for_selector("#rows")
        report = page.inner_text("main")
        assert "accepted 1" in report
        assert "rejected 1" in report
        assert "line" in page.inner_text("#rows").lower()
        page.click("text=Sign out")

        # B searches the name in Cyrillic: a hit owned by A, markings, no details.
        sign_in(page, base, "nl.officer")
        page.click("nav >> text=Search")
        page.fill("#search-form input[name=q]", "Александр Иванов")
        page.fill("#search-form input[name=purpose]", "JIT drugs 2026/12")
        page.click("#search-form button[type=submit]")
        row = page.locator("#results tr.hit")
        assert row.count() == 1
        text = row.inner_text()
        assert "DE-BKA" in text
        assert "H1" in text
        assert "B2" in text
        assert "Ivanov" not in text
        assert "1980" not in text
        assert "P1234567" not in text
        row.locator("input[name=justification]").fill("same suspect in our JIT on drugs 2026/12")
        row.locator("button[type=submit]").click()
        page.wait_for_selector(".flash.ok")
        page.click("text=Sign out")

        # A's cross-match inbox: the match (once the background cross-check has run) and the
        # request for details.
        sign_in(page, base, "de.officer")
        page.click("nav >> text=Cross-matches")
        assert "same suspect in our JIT" in page.inner_text("#incoming")
        assert "nl.officer" in page.inner_text("#incoming")
        page.goto(f"{base}/search?q=x")  # any page between: the inbox is read fresh below
    # B contributes the same person too; the cross-check runs; A sees the match in the inbox.
    with sqlite_db.session() as s:
        from liaison.entities.service import contribute, parse_contribution
        from liaison.identity.model import User
        from liaison.identity.service import actor_for

        nl = s.query(User).filter_by(username="nl.officer").one()
        contribute(
            s,
            actor_for(nl),
            parse_contribution(
                {
                    "type": "Person",
                    "id": "NL-1",
                    "subject_category": "contact",
                    "handling": "H0",
                    "properties": {"full_name": "IVANOV, Aleksandr", "dob": "1980-03-12"},
                }
            ),
        )
    run_pending(sqlite_db)
    with live_server(sqlite_db, settings) as base:
        sign_in(page, base, "de.officer")
        page.click("nav >> text=Cross-matches")
        inbox = page.inner_text("#inbox")
        assert "NL-NP" in inbox
        assert "Aleksandr Ivanov" in inbox  # A's own record, in full
        assert "IVANOV, Aleksandr" not in inbox  # B's record stays B's
