"""The FastAPI application: JSON API under /api/v1, HTML pages, static assets, health checks."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from liaison import __version__
from liaison.core.errors import LiaisonError
from liaison.core.settings import Settings, get_settings
from liaison.db.engine import Database
from liaison.db.migrate import is_up_to_date
from liaison.web import api as core_api
from liaison.web import views as core_views
from liaison.web.problems import (
    http_error_handler,
    liaison_error_handler,
    problem,
    validation_error_handler,
)

STATIC = Path(__file__).parent / "static"
# Capability modules whose ``router`` joins the app when they exist.
CAPABILITY_ROUTERS = tuple(
    f"liaison.{cap}.{kind}"
    for cap in ("matching", "entities", "exchange", "alerts")
    for kind in ("api", "views")
)

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def _capability_routers() -> list[APIRouter]:
    routers = []
    for name in CAPABILITY_ROUTERS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            routers.append(router)
    return routers


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the application for these settings and database."""
    settings = settings or get_settings()
    database = database or Database(settings.database_url)
    app = FastAPI(
        title="Liaison",
        version=__version__,
        summary="Cross-border law-enforcement cooperation: exchange, hit/no-hit, alerts, audit.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.database = database

    app.add_exception_handler(LiaisonError, liaison_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if not request.url.path.startswith("/api/docs"):
            response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["health"], response_model=None)
    def readyz() -> dict[str, str] | JSONResponse:
        """Readiness: the database answers and its schema is current."""
        try:
            database.ping()
            current = is_up_to_date(database.engine)
        except Exception as exc:
            return problem(503, "Not ready", f"database unavailable: {type(exc).__name__}")
        if not current:
            return problem(
                503, "Not ready", "database schema is not current: run liaison db upgrade"
            )
        return {"status": "ready", "database": database.dialect}

    app.include_router(core_api.router)
    app.include_router(core_views.router)
    for router in _capability_routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
