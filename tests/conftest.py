"""Fixtures shared by the whole suite.

Database fixtures run every test that uses ``db`` on SQLite and on PostgreSQL. The schema is
migrated once per session into a template (a SQLite file copied per test; a PostgreSQL
template database cloned per test), so each test starts from a clean, migrated database.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from liaison.core.settings import Mode, Settings
from liaison.db.engine import Database
from liaison.db.migrate import upgrade
from tests.support.postgres import Cluster, PostgresUnavailable, start_cluster

REQUIRE_POSTGRES = os.environ.get("LIAISON_REQUIRE_POSTGRES") == "1"
REQUIRE_BROWSER = os.environ.get("LIAISON_REQUIRE_BROWSER") == "1"
os.environ.setdefault("LIAISON_MODE", "test")


@pytest.fixture(scope="session")
def settings() -> Settings:
    # Tests run the cross-check themselves (``run_pending``), so results never race a thread.
    return Settings(mode=Mode.TEST, cookie_secure=False, crosscheck_in_background=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    given = os.environ.get("LIAISON_TEST_DATABASE_URL")
    if given:
        yield given
        return
    cluster: Cluster | None = None
    try:
        cluster = start_cluster()
    except PostgresUnavailable as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL required (LIAISON_REQUIRE_POSTGRES=1) but unavailable: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    try:
        yield cluster.admin_url
    finally:
        cluster.stop()


def _replace_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str) -> str:
    name = f"liaison_tpl_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    upgrade(_replace_database(postgres_admin_url, name))
    return name


def _sqlite_database(template: Path, directory: Path) -> Database:
    path = directory / "liaison.db"
    shutil.copyfile(template, path)
    return Database(f"sqlite:///{path}")


def _postgres_database(admin_url: str, template: str) -> tuple[Database, str]:
    name = f"liaison_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return Database(_replace_database(admin_url, name)), name


def _drop_postgres(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A freshly migrated database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        database = _sqlite_database(request.getfixturevalue("sqlite_template"), tmp_path)
        yield database
        database.dispose()
        return
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    template: str = request.getfixturevalue("postgres_template")
    database, name = _postgres_database(admin_url, template)
    try:
        yield database
    finally:
        database.dispose()
        _drop_postgres(admin_url, name)


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """SQLite only, for tests about the embedded default itself."""
    database = _sqlite_database(sqlite_template, tmp_path)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """One headless Chromium for the session (Playwright driving Debian's chromium)."""
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, browser_unavailable_reason

    reason = browser_unavailable_reason()
    if reason:
        if REQUIRE_BROWSER:
            pytest.fail(f"browser required (LIAISON_REQUIRE_BROWSER=1) but unavailable: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: object) -> Iterator[object]:
    """A fresh browser context and page per test."""
    context = chromium.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        yield page
    finally:
        context.close()
