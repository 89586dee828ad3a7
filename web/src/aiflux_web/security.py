"""Security headers of every page and asset: a strict CSP with no inline script."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .settings import WebSettings


def content_security_policy(settings: WebSettings) -> str:
    """Only this origin, no inline script or style, never framed; PostHog only when configured."""
    connect = "'self'" + (f" {settings.posthog_host}" if settings.posthog_host else "")
    script = "'self'" + (f" {settings.posthog_host}" if settings.posthog_host else "")
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {script}",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "media-src 'self' blob:",
            f"connect-src {connect}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class SecurityHeaders:
    """Adds the CSP and the other hardening headers to every HTTP response of the web app."""

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", content_security_policy(settings).encode()),
            (b"x-content-type-options", b"nosniff"),
            # Verification and reset links carry a token in the URL: never send it onwards.
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]
        if settings.public_url.lower().startswith("https://"):
            # Served over HTTPS: browsers must never fall back to plain HTTP (a year, as the
            # session cookie's __Host- prefix already requires HTTPS).
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + self.headers
            await send(message)

        await self.app(scope, receive, with_headers)
