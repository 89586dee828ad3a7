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


HARDENING = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
EVERY_KIND_OF_ANSWER = (
    ("GET", "/", 200),  # the client's shell
    ("GET", "/privacy/requests/abc", 200),  # a deep link of the client
    ("GET", "/ops/", 200),  # the console's shell
    ("GET", "/ops", 308),  # a redirect
    ("GET", "/assets/style.css", 200),  # an asset
    ("GET", "/assets/api.js", 200),
    ("GET", "/privacy/policy", 503),  # the server-rendered policy (privacy unreachable here)
    ("GET", "/healthz", 200),
    ("GET", "/v1/nothing", 404),  # a problem
    ("POST", "/ops/api/privacy/requests", 503),  # the relay's own problem
    ("GET", "/ops/api/internal/x", 404),
)


async def test_every_answer_carries_the_security_headers_and_hsts_only_over_https() -> None:
    from aiflux_web.settings import WebSettings

    for public_url, hsts in (("http://localhost:8000", False), ("https://aiflux.example", True)):
        settings = WebSettings(public_url=public_url, privacy_url="http://127.0.0.1:9")
        app = create_web_app(settings)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web") as client:
            for method, path, status in EVERY_KIND_OF_ANSWER:
                response = await client.request(method, path)
                assert response.status_code == status, (public_url, method, path, response.text)
                csp = response.headers["content-security-policy"]
                for directive in (
                    "default-src 'self'",
                    "script-src 'self'",
                    "style-src 'self'",
                    "object-src 'none'",
                    "base-uri 'none'",
                    "frame-ancestors 'none'",
                ):
                    assert directive in csp, (path, directive)
                assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp
                for name, value in HARDENING.items():
                    assert response.headers[name] == value, (path, name)
                if hsts:
                    assert response.headers["strict-transport-security"].startswith("max-age=31536000"), path
                else:
                    assert "strict-transport-security" not in response.headers, path


async def test_posthog_is_allowed_only_when_configured() -> None:
    from aiflux_web.security import content_security_policy
    from aiflux_web.settings import WebSettings

    assert "posthog" not in content_security_policy(WebSettings())
    configured = content_security_policy(WebSettings(posthog_host="https://eu.i.posthog.com"))
    assert "connect-src 'self' https://eu.i.posthog.com" in configured
