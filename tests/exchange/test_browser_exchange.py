"""End to end in headless Chromium: an officer of agency A sends an urgent request for directly
accessible information, with a person, to agency B; B's officer, already signed in, sees the
counter in the header change without reloading, opens the message (8-hour deadline, markings),
replies; A sees the reply and the request answered and closed; B's data protection officer finds
every read of B's officer in the audit log (and, within B's scope, none of A's)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from liaison.core.actor import Role
from liaison.core.markings import Classification
from liaison.core.settings import Settings
from liaison.db.engine import Database
from tests.support.browser import live_server, sign_in
from tests.support.factories import agency, user

pytestmark = pytest.mark.browser

POLL = 25_000  # the header polls every 10 s: allow two polls and some slack


def test_urgent_request_with_a_person_is_answered_and_every_read_audited(
    page: Any, chromium: Any, sqlite_db: Database, settings: Settings
) -> None:
    from playwright.sync_api import expect

    with sqlite_db.session() as s:
        a = agency(s, "DE-BKA", country="DE")
        b = agency(s, "NL-NP", country="NL", accreditation=Classification.RESTRICTED)
        user(s, a, Role.OFFICER, username="de.officer")
        user(s, b, Role.OFFICER, username="nl.officer")
        user(s, b, Role.DPO, username="nl.dpo")

    b_context = chromium.new_context()
    b_page = b_context.new_page()
    b_page.set_default_timeout(15_000)
    try:
        with live_server(sqlite_db, settings) as base:
            # B's officer is signed in first: the header shows nothing unread.
            sign_in(b_page, base, "nl.officer")
            b_unread = b_page.locator("#badge-messages .live-unread")
            expect(b_unread).to_have_text("0 unread")
            # A marker that a reload would wipe: the counter must change without one.
            b_page.evaluate("window.__notReloaded = true")

            # A composes an urgent request for directly accessible information, with a person.
            sign_in(page, base, "de.officer")
            page.click("nav >> text=Messages")
            page.click("#compose-link")
            page.select_option("select[name=to]", ["NL-NP"])
            page.select_option("#message-type", "request")
            page.select_option("#priority", "urgent")
            page.select_option("#accessibility", "direct")
            expect(page.locator("#deadline-hint")).to_contain_text("8 hours")
            page.fill("input[name=subject]", "Identity of the driver of NL plate 12-ABC-3")
            page.fill("input[name=legal_basis]", "Directive (EU) 2023/977 Art. 4")
            page.fill("input[name=purpose]", "armed robbery, case DE-2026-0412")
            page.select_option("select[name=crime_area]", "robbery_aggravated_theft")
            page.select_option("#handling", "H1")
            page.select_option("select[name=classification]", "RESTRICTED")
            page.fill("textarea[name=body]", "Please identify this person.\nHe drove the car.")
            page.fill("input[name='person0.given_name']", "Jan")
            page.fill("input[name='person0.family_name']", "de Vries")
            page.fill("input[name='person0.dob']", "1984-03-07")
            page.fill("input[name='person0.nationality']", "NL")
            page.fill("input[name='person0.document_number']", "NXC1234567")
            page.select_option("select[name='person0.role']", "suspect")
            page.select_option("select[name='person0.evaluation']", "B2")
            page.click("#send-button")
            expect(page.locator(".flash.ok")).to_contain_text("Sent")
            request_url = page.url.split("?")[0]
            request_id = request_url.rsplit("/", 1)[1]

            # B's header changes by itself: one unread, one urgent, a new-message notice.
            expect(b_unread).to_have_text("1 unread", timeout=POLL)
            expect(b_page.locator("#badge-messages .live-urgent")).to_have_text("1 urgent")
            notice = b_page.locator("#badge-messages .new-message")
            expect(notice).to_be_visible()
            assert b_page.evaluate("window.__notReloaded === true")

            # B opens it: the 8-hour deadline and the markings.
            notice.click()
            b_page.wait_for_url(f"{base}/messages/{request_id}")
            expect(b_page.locator("#deadline")).to_contain_text("8 hours")
            expect(b_page.locator("#deadline")).to_contain_text("Art. 5(1)(a)")
            expect(b_page.locator("#h1-warning")).to_contain_text(
                "Not for use in judicial proceedings without permission of the provider"
            )
            expect(b_page.locator("#banner-top")).to_contain_text("EU RESTRICTED")
            expect(b_page.locator("#banner-bottom")).to_contain_text("EU RESTRICTED")
            expect(b_page.locator("#handling-badge")).to_have_text("H1")
            item = b_page.locator("table.item").first
            expect(item).to_contain_text("de Vries")
            expect(item.locator(".badge.eval")).to_have_text("B2")
            expect(item.locator(".eval-meaning")).to_contain_text(
                "source which has in most instances proved to be reliable"
            )
            expect(b_page.locator("#signature")).to_contain_text("valid")
            expect(b_page.locator("#badge-messages .live-unread")).to_have_text("0 unread")

            # B replies.
            b_page.click("#reply-link")
            b_page.fill("textarea[name=body]", "Registered keeper: Jan de Vries, Utrecht.")
            b_page.select_option("select[name=classification]", "RESTRICTED")
            b_page.click("#send-button")
            expect(b_page.locator(".flash.ok")).to_contain_text("Your reply was sent")

            # A sees the reply and its request answered and closed.
            page.click("nav >> text=Messages")
            rows = page.locator("#messages tr.message-row")
            expect(rows.first).to_contain_text("Re: Identity of the driver")
            expect(rows.first).to_contain_text("NL-NP")
            page.goto(request_url)
            nl_row = page.locator("#recipients tr[data-agency='NL-NP']")
            expect(nl_row).to_contain_text("answered · closed")
            page.locator("#recipients tr[data-agency='NL-NP'] a").first.click()
            expect(page.locator("#body")).to_contain_text("Registered keeper")
            page.goto(f"{base}/messages?folder=sent")
            expect(page.locator("#messages")).to_contain_text("1 answered")

            # B's data protection officer: every read by B's officer is in the audit log.
            b_page.click("text=Sign out")
            sign_in(b_page, base, "nl.dpo")
            expect(b_page.locator("nav >> text=Messages")).to_have_count(0)
            b_page.goto(f"{base}/audit?action=message.read")
            entries = b_page.locator("#audit-entries tbody tr")
            expect(entries.filter(has_text="nl.officer").first).to_be_visible()
            reads = entries.filter(has_text="message.read").filter(has_text="nl.officer")
            expect(reads.filter(has_text=request_id)).not_to_have_count(0)
            # The DPO of an agency sees its own agency's entries: A's reads are not shown.
            expect(entries.filter(has_text="de.officer")).to_have_count(0)
            table = b_page.inner_text("#audit-entries")
            assert re.search(r"message\.read", table)
    finally:
        b_context.close()
