"""End to end in headless Chromium: an alert manager of agency A issues an arrest alert on a
person written in Cyrillic; an officer of agency B checks the transliterated name at a border and
sees the hit with the action to take and the warnings; B confirms the hit and reports it; A's
hit-report queue shows it with its 12-hour deadline; A answers and the alert is executed."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from liaison.alerts.model import Alert, HitReport
from liaison.core.actor import Role
from liaison.core.settings import Settings
from liaison.db.engine import Database
from tests.support.browser import live_server, sign_in
from tests.support.factories import agency, user

pytestmark = pytest.mark.browser

ACTION = "Arrest the person for surrender under the European Arrest Warrant."


def test_issue_check_transliterated_confirm_and_answer_a_hit(
    page: Any, sqlite_db: Database, settings: Settings
) -> None:
    from playwright.sync_api import expect

    with sqlite_db.session() as s:
        a = agency(s, "DE-BKA", country="DE")
        b = agency(s, "NL-KMAR", country="NL")
        user(s, a, Role.ALERT_MANAGER, username="de.alerts")
        user(s, b, Role.OFFICER, username="nl.border")
    with live_server(sqlite_db, settings) as base:
        # A's alert manager issues an arrest alert through the form, category first.
        sign_in(page, base, "de.alerts")
        page.click("nav >> text=Alerts")
        page.click("text=Issue an alert")
        page.select_option("#category", "arrest_surrender")
        page.click("#category-form button[type=submit]")
        form = page.locator("#alert-form")
        expect(page.locator(".category-action")).to_contain_text(ACTION)
        form.locator("[name='subject.full_name']").fill("Александр Иванов")
        form.locator("[name='subject.nationality']").fill("RU")
        form.locator("[name='reason']").fill("wanted for armed robbery in Köln")
        form.locator("input[name=warnings][value=armed]").check()
        form.locator("button[type=submit]").click()
        # Forgotten fields are shown on the form, with what was typed kept.
        expect(page.locator("#error-subject-dob")).to_contain_text("Date of birth is required")
        expect(page.locator("#error-subject-warrant_reference")).to_be_visible()
        expect(form.locator("[name='subject.full_name']")).to_have_value("Александр Иванов")
        expect(form.locator("input[name=warnings][value=armed]")).to_be_checked()
        form.locator("[name='subject.dob']").fill("1980-03-12")
        form.locator("[name='subject.judicial_authority']").fill("Amtsgericht Köln")
        form.locator("[name='subject.warrant_reference']").fill("EAW-2026-0042")
        form.locator("button[type=submit]").click()
        expect(page.locator(".flash.ok")).to_contain_text("The alert was issued")
        expect(page.locator("h1")).to_contain_text("Александр Иванов")
        expect(page.locator("#action")).to_contain_text(ACTION)
        expect(page.locator(".warning-badge")).to_have_text(["⚠ Armed"])
        alert_path = urlparse(page.url).path
        page.click("text=Sign out")

        # B's officer checks the name written in Latin letters at the border.
        sign_in(page, base, "nl.border")
        page.click("nav >> text=Check")
        check = page.locator("#check-form")
        check.locator("[name=full_name]").fill("Aleksandr Ivanov")
        check.locator("[name=dob]").fill("1980-03-12")
        check.locator("[name=purpose]").fill("border check")
        check.locator("button[type=submit]").click()
        hit = page.locator("article.hit-card")
        expect(hit).to_have_count(1)
        expect(hit.locator(".hit-action")).to_contain_text(ACTION)
        expect(hit.locator(".warning-badge")).to_have_text(["⚠ Armed"])
        expect(hit.locator(".issuer")).to_have_text("DE-BKA")
        expect(hit.locator(".explanation")).to_contain_text("name agrees")

        # B confirms the hit and reports it to A.
        confirm = hit.locator("form.confirm-hit")
        confirm.locator("[name=place]").fill("Schiphol, passport control")
        confirm.locator("[name=circumstances]").fill("arriving on flight TK1951 from Istanbul")
        confirm.locator("[name=action_taken]").fill("arrested, held for surrender")
        confirm.locator("button[type=submit]").click()
        expect(page.locator(".flash.ok")).to_contain_text("Hit confirmed and reported")
        expect(page.locator("#alert-status")).to_have_text("hit pending")
        expect(page.locator("#deadline")).to_contain_text("within 12 hours")
        page.click("text=Sign out")
        with sqlite_db.session() as s:
            report = s.scalars(select(HitReport)).one()
            assert report.deadline - report.created_at == dt.timedelta(hours=12)
            due = report.deadline.strftime("%Y-%m-%d %H:%M")

        # A's hit-report queue shows the report with its 12-hour deadline; A answers it.
        sign_in(page, base, "de.alerts")
        page.click("nav >> text=Hit reports")
        row = page.locator("#hit-report-queue tr.hit-report-row")
        expect(row).to_have_count(1)
        expect(row).to_contain_text(f"{due} UTC")
        expect(row).to_contain_text(re.compile(r"in 1[12] h \d\d min"))
        expect(row).to_contain_text("NL-KMAR")
        expect(row).to_contain_text("arrested, held for surrender")
        row.locator("a").first.click()
        expect(page.locator("#report-facts")).to_contain_text("arriving on flight TK1951")
        expect(page.locator("#report-facts")).to_contain_text("Schiphol, passport control")
        answer = page.locator("#answer-form")
        answer.locator("input[name=answer][value=executed]").check()
        answer.locator("[name=text]").fill("surrender to Germany arranged for tomorrow")
        answer.locator("button[type=submit]").click()
        expect(page.locator(".flash.ok")).to_contain_text("Your answer was sent")
        expect(page.locator("#answer")).to_contain_text("surrender to Germany arranged")
        expect(page.locator("#alert-status")).to_have_text("executed")
        page.goto(base + alert_path)
        expect(page.locator(".alert-status")).to_have_text("executed")
        expect(page.locator("#versions")).to_contain_text("status: hit_pending → executed")
        page.click("nav >> text=Hit reports")
        expect(page.locator("#hit-report-queue")).to_contain_text("No hit report.")
    with sqlite_db.session() as s:
        assert s.scalars(select(Alert.status)).one() == "executed"
