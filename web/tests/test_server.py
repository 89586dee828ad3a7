"""The web server's own answers: pages, assets, security headers, 404 problems."""

from __future__ import annotations

import httpx
from aiflux_web.app import create_web_app


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_web_app()), base_url="http://web")


async def test_pages_are_the_shell_with_a_strict_policy() -> None:
    async with _client() as client:
        for path in ("/", "/signup", "/verify-email", "/privacy/requests/abc", "/ops/", "/ops/requests"):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-type"].startswith("text/html")
            csp = response.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
            assert "unsafe-inline" not in csp
            assert response.headers["referrer-policy"] == "no-referrer"


async def test_unknown_paths_and_methods_are_404_problems() -> None:
    async with _client() as client:
        for method, path in (
            ("GET", "/v1/nothing"),
            ("POST", "/v1/auth/nothing"),
            ("POST", "/signup"),
            ("GET", "/internal/x"),
        ):
            response = await client.request(method, path)
            assert response.status_code == 404, (method, path)
            assert response.headers["content-type"] == "application/problem+json"


async def test_ops_without_slash_redirects() -> None:
    async with _client() as client:
        response = await client.get("/ops")
        assert response.status_code == 308 and response.headers["location"] == "/ops/"


async def test_ops_relay_refuses_unknown_services_and_reports_unreachable_ones() -> None:
    from aiflux_web.settings import WebSettings

    app = create_web_app(WebSettings(public_url="http://127.0.0.1:9"))  # nothing listens on port 9
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web") as client:
        unknown = await client.get("/ops/api/internal/x")
        assert unknown.status_code == 404
        down = await client.get("/ops/api/privacy/requests")
        assert down.status_code == 503 and down.headers["retry-after"] == "5"
        assert down.json()["detail"].startswith("The privacy service could not be reached")
