"""Jinja2 templates with the globals every page needs (navigation, CSRF token, markings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from liaison.core.actor import Actor
from liaison.core.markings import Classification, HandlingCode
from liaison.web.nav import nav_for

TEMPLATE_DIRS = [Path(__file__).parent / "templates"] + [
    Path(__file__).parent.parent / name / "templates"
    for name in ("entities", "matching", "exchange", "alerts")
]

templates = Jinja2Templates(directory=[str(d) for d in TEMPLATE_DIRS])
templates.env.globals.update(Classification=Classification, HandlingCode=HandlingCode)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render a page with the signed-in actor's navigation and CSRF token."""
    actor: Actor | None = getattr(request.state, "actor", None)
    base: dict[str, Any] = {
        "actor": actor,
        "nav": nav_for(actor) if actor else [],
        "csrf_token": getattr(request.state, "csrf_token", ""),
    }
    base.update(context or {})
    return templates.TemplateResponse(request, name, base, status_code=status)


def render_error(request: Request, status: int, title: str, detail: str) -> Response:
    """An error page; "please sign in" becomes a redirect to the login page."""
    if status == 401:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return render(request, "error.html", {"title": title, "detail": detail}, status=status)
