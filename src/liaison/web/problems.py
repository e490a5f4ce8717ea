"""RFC 9457 problem details for the API; readable error pages for the UI."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from liaison.core.errors import LiaisonError

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int, title: str, detail: str, *, instance: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://liaison.example/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and request.url.path not in (
        "/healthz",
        "/readyz",
    )


async def liaison_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LiaisonError)
    if wants_html(request):
        from liaison.web.templating import render_error

        return render_error(request, exc.status, exc.title, exc.detail)
    return problem(exc.status, exc.title, exc.detail, instance=request.url.path, **exc.extra)


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"location": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "")}
        for err in exc.errors()
    ]
    detail = "; ".join(f"{e['location']}: {e['message']}" for e in errors[:5])
    if wants_html(request):
        from liaison.web.templating import render_error

        return render_error(request, 422, "Invalid input", detail)
    return problem(422, "Invalid input", detail, instance=request.url.path, errors=errors)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Request refused")
    detail = str(exc.detail)
    if wants_html(request):
        from liaison.web.templating import render_error

        return render_error(request, exc.status_code, title, detail)
    return problem(exc.status_code, title, detail, instance=request.url.path)
