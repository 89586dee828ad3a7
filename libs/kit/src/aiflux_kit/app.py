"""The FastAPI application of a process: one service (distributed) or all of them (embedded)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from .auth import session_cookie_name
from .body_limit import DEFAULT_BODY_LIMIT, BodyLimitMiddleware
from .docs import install_offline_docs
from .errors import install_problem_handlers
from .metrics import install_metrics
from .openapi import add_problem_schema
from .ops import ops_router
from .runtime import Runtime
from .tracing_export import install_trace_middleware


def create_app(runtime: Runtime, *, title: str, version: str = "0.1.0") -> FastAPI:
    """An app serving every unit of ``runtime``: its routes, health, and generic ops routes.

    Starting the app starts the runtime; stopping it drains the runtime.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    # /docs and /redoc come from install_offline_docs: FastAPI's own pages load a CDN.
    app = FastAPI(title=title, version=version, lifespan=lifespan, docs_url=None, redoc_url=None)
    install_offline_docs(app)
    install_problem_handlers(app)
    app.state.runtime = runtime
    app.state.services = {name: unit.container for name, unit in runtime.units.items()}
    app.state.session_verifier = runtime.platform.session_verifier
    app.state.limiter = runtime.platform.limiter
    public_urls = {unit.settings.public_url for unit in runtime.units.values()}
    if len(public_urls) == 1:
        app.state.session_cookie = session_cookie_name(public_urls.pop())
    app.state.admin_audit_sinks = {
        name: unit.admin_audit for name, unit in runtime.units.items() if unit.admin_audit is not None
    }
    for unit in runtime.units.values():
        app.include_router(unit.router)
        app.include_router(ops_router(unit.name))
    _health_routes(app, runtime)
    install_metrics(app, runtime)
    # One limit per process: in the embedded app the largest of the services' settings.
    app.add_middleware(
        BodyLimitMiddleware,
        limit=max((u.settings.max_body_bytes for u in runtime.units.values()), default=DEFAULT_BODY_LIMIT),
    )
    install_trace_middleware(app)
    _document_problems(app)
    return app


def _document_problems(app: FastAPI) -> None:
    """The OpenAPI document carries ``ProblemDetails``, which every route's errors refer to."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return add_problem_schema(generate())

    app.openapi = openapi  # type: ignore[method-assign]


class ServiceHealth(BaseModel):
    """One service's readiness and the checks behind it."""

    status: str
    checks: dict[str, bool]


class Health(BaseModel):
    """The process is alive; each service says whether it is ready."""

    status: str
    services: dict[str, ServiceHealth]


class Readiness(BaseModel):
    """Whether every service of the process is ready, with each one's checks."""

    status: str
    services: dict[str, dict[str, bool]]


def _health_routes(app: FastAPI, runtime: Runtime) -> None:
    @app.get("/healthz", tags=["health"], response_model=Health)
    async def healthz() -> JSONResponse:
        """Liveness, plus each service's readiness (the embedded runner lists them all)."""
        services: dict[str, Any] = {}
        for name in runtime.units:
            checks = await runtime.readiness(name)
            services[name] = {"status": "ready" if checks["ready"] else "not-ready", "checks": checks}
        return JSONResponse({"status": "ok", "services": services})

    @app.get(
        "/readyz",
        tags=["health"],
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "Not ready yet"}},
    )
    async def readyz() -> JSONResponse:
        """503 until every service of this process is ready (database, bus, consumers)."""
        services = {name: await runtime.readiness(name) for name in runtime.units}
        ready = all(c["ready"] for c in services.values())
        return JSONResponse(
            {"status": "ready" if ready else "not-ready", "services": services},
            status_code=200 if ready else 503,
        )
