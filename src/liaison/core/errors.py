"""Domain errors. The web layer maps each to one HTTP status and a problem-details body."""

from __future__ import annotations

from typing import Any


class LiaisonError(Exception):
    """Base of every error a user may see; ``title`` is short, ``detail`` says what to do."""

    status = 400
    title = "Request refused"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ValidationFailed(LiaisonError):
    status = 422
    title = "Invalid input"


class NotFound(LiaisonError):
    status = 404
    title = "Not found"


class PermissionDenied(LiaisonError):
    """A policy decision said no; ``detail`` carries the policy's reason."""

    status = 403
    title = "Not allowed"


class NotAuthenticated(LiaisonError):
    status = 401
    title = "Authentication required"


class Conflict(LiaisonError):
    status = 409
    title = "Conflict"


class TooManyRequests(LiaisonError):
    status = 429
    title = "Too many attempts"


class PayloadTooLarge(LiaisonError):
    status = 413
    title = "Too large"


class UnsupportedType(LiaisonError):
    status = 415
    title = "Type not accepted"
