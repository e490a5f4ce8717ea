"""A live server in a thread and a headless Chromium, for end-to-end page tests."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from liaison.core.settings import Settings
from liaison.db.engine import Database
from liaison.web.app import create_app
from tests.support.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]


def browser_unavailable_reason() -> str | None:
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        return (
            "Debian chromium is not installed (/usr/bin/chromium); `make test` installs it as root"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(db: Database, settings: Settings) -> Iterator[str]:
    """Serve the app on a free localhost port in a background thread; yields the base URL."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, db), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(400):
        if server.started:
            started.set()
            break
        started.wait(0.025)  # polling for readiness, not timing anything under test
    if not server.started:
        raise RuntimeError("live server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sign_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login page and land on the dashboard."""
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
