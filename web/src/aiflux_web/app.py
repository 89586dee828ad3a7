"""The web server: the client's pages at ``/``, the ops console at ``/ops/``, their assets.

Pages are single HTML shells whose ES modules render each view from the public (and, for the
console, ops) API. A path that is neither a page nor an asset answers a problem+json 404, so
mounting this app under the API's base URL never hides an API error.
"""

from __future__ import annotations

from pathlib import Path

from aiflux_kit.errors import install_problem_handlers, not_found
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from .client_config import router as client_config
from .policy import router as policy_pages
from .proxy import router as ops_relay
from .security import SecurityHeaders
from .settings import WebSettings

STATIC = Path(__file__).parent / "static"

# First path segment of every page of the client (the shell routes the rest in the browser).
CLIENT_SECTIONS = frozenset(
    {
        "",
        "signup",
        "login",
        "verify-email",
        "forgot-password",
        "reset-password",
        "account",
        "billing",
        "files",
        "models",
        "generate",
        "gallery",
        "privacy",
    }
)


ANY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def create_web_app(settings: WebSettings | None = None) -> FastAPI:
    """The web client's ASGI app (mounted at ``/`` by the embedded mode and the dev gateway)."""
    settings = settings or WebSettings()
    app = FastAPI(title="AIFLUX web", docs_url=None, redoc_url=None, openapi_url=None)
    install_problem_handlers(app)
    app.state.settings = settings
    app.mount("/assets", StaticFiles(directory=STATIC / "assets"), name="assets")

    # Liveness and readiness: the server holds no connection it could lose (each page's API
    # call reports its own service's outage).
    @app.get("/healthz", include_in_schema=False)
    @app.get("/readyz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(ops_relay)
    # Server-rendered (no JavaScript needed to read the policy); before the client's shell.
    app.include_router(policy_pages)
    app.include_router(client_config)

    @app.get("/ops", include_in_schema=False)
    async def ops_root() -> Response:
        return RedirectResponse("/ops/", status_code=308)

    @app.get("/ops/{path:path}", include_in_schema=False)
    async def ops_page(path: str) -> Response:
        return _shell(STATIC / "ops" / "index.html")

    # Every method: under the API's base URL an unknown POST must stay a 404, not become a 405.
    @app.api_route("/{path:path}", methods=list(ANY_METHOD), include_in_schema=False)
    async def client_page(path: str, request: Request) -> Response:
        if request.method not in ("GET", "HEAD") or path.split("/", 1)[0] not in CLIENT_SECTIONS:
            raise not_found("page or API route")
        return _shell(STATIC / "app" / "index.html")

    app.add_middleware(SecurityHeaders, settings=settings)
    return app


def _shell(path: Path) -> FileResponse:
    # The shell is tiny and changes with each release: always revalidate it.
    return FileResponse(path, media_type="text/html", headers={"Cache-Control": "no-cache"})
