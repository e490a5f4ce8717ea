"""End to end in headless Chromium: sign in, an administrator creates a user, the DPO sees it."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.browser import live_server, sign_in
from tests.support.factories import agency, user

from liaison.core.actor import Role
from liaison.core.agencies import PartnerFramework
from liaison.core.settings import Settings
from liaison.db.engine import Database

pytestmark = pytest.mark.browser


def test_admin_creates_user_and_dpo_sees_it(
    page: Any, sqlite_db: Database, settings: Settings
) -> None:
    with sqlite_db.session() as s:
        hub = agency(s, "EU-HUB", framework=PartnerFramework.EU_BODY, country=None)
        user(s, hub, Role.ADMIN, username="hub.admin")
        user(s, hub, Role.DPO, username="hub.dpo")
    with live_server(sqlite_db, settings) as base:
        sign_in(page, base, "hub.admin")
        assert "Administrator" in page.inner_text("main")
        page.click("text=Users")
        page.fill("#create-user input[name=username]", "new.officer")
        page.fill("#create-user input[name=display_name]", "New Officer")
        page.fill("#create-user input[name=password]", "a very long password")
        page.check("#create-user input[value=officer]")
        page.click("#create-user button[type=submit]")
        page.wait_for_url(f"{base}/admin/users")
        assert "new.officer" in page.inner_text("#users")
        page.click("text=Sign out")
        page.wait_for_url(f"{base}/login")

        sign_in(page, base, "hub.dpo")
        page.click("text=Audit")
        page.fill("input[name=action]", "user.create")
        page.click("form.filters button[type=submit]")
        entries = page.inner_text("#audit-entries")
        assert "user.create" in entries
        assert "new.officer" in entries
        assert "hub.admin" in entries
        assert "Chain verified" in page.inner_text("#chain-status")
