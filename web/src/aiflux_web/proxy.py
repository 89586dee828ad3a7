"""The ops console's relay to the ops API: ``/ops/api/<service>/<rest>`` → ``/v1/ops/<service>/<rest>``.

The ops API is not on the public edge (the Ingress and the dev gateway route only the public
table), so the console, served at ``/ops/``, reaches it through this relay of the web server.
It adds no authority of its own: it forwards only the session cookie, the CSRF header and the
content headers, and every service still requires an admin session and audits the call
(``aiflux_kit.auth.current_admin``). Nothing else (no ``/internal`` route, no other header)
passes, except what the audit records of the caller: the operator's ``User-Agent`` and the
``X-Forwarded-For`` the edge set (the relay is transparent to it, so identity's
``trusted_proxy_hops`` picks the same address as for a call through the edge), so the security
log names the operator's browser, not the relay.
"""

from __future__ import annotations

from http.cookiejar import Cookie, CookieJar
from typing import Any
from urllib.parse import quote

import httpx
from aiflux_kit.errors import Problem, not_found
from fastapi import APIRouter, Request
from fastapi.responses import Response

from .settings import WebSettings

SERVICES = ("identity", "billing", "generation", "storage", "privacy")
REQUEST_HEADERS = ("cookie", "x-csrf-token", "content-type", "accept", "user-agent", "x-forwarded-for")
RESPONSE_HEADERS = ("content-type", "retry-after", "cache-control")
# Ops requests are small JSON documents (a reason, an answer).
MAX_BODY_BYTES = 64 * 1024

# Characters a forwarded path keeps unescaped (RFC 3986 pchar and "/").
PATH_SAFE = "/:@!$&'()*+,;=-._~"

router = APIRouter()


class _NoCookies(CookieJar):
    """A cookie jar that keeps nothing: a Set-Cookie belongs to the caller it answered."""

    def set_cookie(self, cookie: Cookie) -> None:
        return None

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


def _plain(rest: str) -> bool:
    """True when ``rest`` (already percent-decoded once) stays under ``/v1/ops/<service>/``:
    no dot segment, empty segment, backslash or control character that a client or the
    upstream could resolve to another route (``/internal/...``, another service's ops API)."""
    if not rest or "\\" in rest or any(ord(c) < 0x20 or c == "\x7f" for c in rest):
        return False
    return all(segment not in ("", ".", "..") for segment in rest.split("/"))


def upstream_client(request: Request) -> httpx.AsyncClient:
    """One pooled client per app for the services' APIs, made on first use (mounted apps get
    no lifespan). It keeps no cookies: each request carries only its own caller's."""
    client: httpx.AsyncClient | None = getattr(request.app.state, "ops_client", None)
    if client is None:
        client = httpx.AsyncClient(
            timeout=30.0, follow_redirects=False, trust_env=False, cookies=_NoCookies()
        )
        request.app.state.ops_client = client
    return client


@router.api_route("/ops/api/{service}/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
async def relay(service: str, rest: str, request: Request) -> Response:
    settings: WebSettings = request.app.state.settings
    if service not in SERVICES or not _plain(rest):
        raise not_found("ops API")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise Problem(413, "payload-too-large", "Payload too large", "Ops requests are at most 64 KiB.")
    headers = {k: v for k, v in request.headers.items() if k.lower() in REQUEST_HEADERS}
    target = f"{settings.upstream(service)}/v1/ops/{service}/{quote(rest, safe=PATH_SAFE)}"
    try:
        answer = await upstream_client(request).request(
            request.method, target, params=request.query_params, content=body, headers=headers
        )
    except httpx.HTTPError as exc:
        raise Problem(
            503,
            "service-unavailable",
            "Service unavailable",
            f"The {service} service could not be reached; try again shortly.",
            headers={"Retry-After": "5"},
        ) from exc
    kept = {k: v for k, v in answer.headers.items() if k.lower() in RESPONSE_HEADERS}
    return Response(answer.content, status_code=answer.status_code, headers=kept)
