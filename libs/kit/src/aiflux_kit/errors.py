"""RFC 9457 problem details: one error type family for every service.

Raise :class:`Problem` (or a subclass) anywhere below a route; the handlers installed by
:func:`install_problem_handlers` turn it, validation errors and anything unexpected into
``application/problem+json`` with a stable ``type`` and a human ``detail``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .domain_errors import DomainError

PROBLEM_BASE = "urn:aiflux:problem:"
MEDIA_TYPE = "application/problem+json"

log = logging.getLogger(__name__)


class Problem(Exception):
    """An error a client can act on. ``slug`` becomes the stable ``type`` URN."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail or title
        self.headers = dict(headers or {})
        self.extensions = extensions

    @property
    def type(self) -> str:
        """The problem type URI."""
        return PROBLEM_BASE + self.slug

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        """The problem+json body."""
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


def not_found(what: str) -> Problem:
    """The 404 for something that does not exist or belongs to someone else."""
    return Problem(404, "not-found", "Not found", f"No such {what}.")


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    """Render ``problem`` as an ``application/problem+json`` response."""
    return JSONResponse(
        problem.to_dict(instance),
        status_code=problem.status,
        headers=problem.headers,
        media_type=MEDIA_TYPE,
    )


_STATUS_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
}


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Never echo the input back: it may be a password.
    return [
        {"loc": [str(p) for p in err.get("loc", ())], "msg": err.get("msg"), "type": err.get("type")}
        for err in exc.errors()
    ]


def _unstorable_text(exc: DBAPIError) -> bool:
    """Whether PostgreSQL refused the statement only because client text holds U+0000.

    psycopg refuses NUL in text parameters before sending; PostgreSQL refuses ``\\u0000``
    in ``jsonb``. Either way the statement (and so its transaction) changed nothing.
    """
    orig = exc.orig
    if isinstance(orig, psycopg.errors.UntranslatableCharacter):
        return True
    return type(orig) is psycopg.DataError and "NUL (0x00)" in str(orig)


RETRY_AFTER_S = 5
"""What a client is told to wait when a dependency of the service (its database) is down."""

# Errors that say the database is unreachable, overloaded or lost the connection: not the
# request's fault, and worth retrying.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def service_unavailable() -> Problem:
    """The 503 for a request that failed only because a dependency is down; safe to retry."""
    return Problem(
        503,
        "service-unavailable",
        "Service unavailable",
        "The service cannot reach its database right now; nothing was changed. Please retry shortly.",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` a problem+json response; nothing escapes as a bare 500."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(DomainError)
    async def _refused(request: Request, exc: DomainError) -> JSONResponse:
        problem = Problem(exc.status, exc.slug, exc.title, exc.detail, **exc.extensions)
        return problem_response(problem, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problem = Problem(
            422,
            "validation-error",
            "Invalid request",
            "The request body or parameters are invalid; see 'errors'.",
            errors=_validation_errors(exc),
        )
        return problem_response(problem, request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = _STATUS_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        problem = Problem(exc.status_code, slug, title, detail, headers=exc.headers)
        return problem_response(problem, request.url.path)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if not _unstorable_text(exc):
            return await _unexpected(request, exc)
        problem = Problem(
            422,
            "invalid-characters",
            "Invalid characters",
            "Text in the request must not contain NUL (U+0000) characters.",
        )
        return problem_response(problem, request.url.path)

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The type only: connection errors name hosts and users.
        log.warning("database unavailable", extra={"path": request.url.path, "error": type(exc).__qualname__})
        return problem_response(service_unavailable(), request.url.path)

    for error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error, _unavailable)

    @app.exception_handler(IntegrityError)
    async def _conflict(request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity conflict", extra={"path": request.url.path, "sqlstate": _sqlstate(exc)})
        problem = Problem(
            409, "conflict", "Conflict", "The request conflicts with the current state; nothing was changed."
        )
        return problem_response(problem, request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The type only: messages of driver errors can quote the input.
        log.error("unhandled error", extra={"path": request.url.path, "error": type(exc).__qualname__})
        problem = Problem(
            500,
            "internal-error",
            "Internal error",
            "Something went wrong on our side; nothing was changed. Please retry later.",
        )
        return problem_response(problem, request.url.path)
