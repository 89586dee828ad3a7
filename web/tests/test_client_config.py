"""What the client learns from the server: PostHog only when it is configured (§6)."""

from __future__ import annotations

import httpx
from aiflux_web.app import create_web_app
from aiflux_web.settings import WebSettings


async def _config(settings: WebSettings) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_web_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
        return await client.get("/client-config.json")


async def test_no_analytics_unless_configured() -> None:
    for settings in (
        WebSettings(),
        WebSettings(posthog_key="phc_x"),
        WebSettings(posthog_host="https://eu.i.posthog.com"),
    ):
        response = await _config(settings)
        assert response.status_code == 200
        assert response.json() == {"analytics": None}
    assert "posthog" not in (await _config(WebSettings())).headers["content-security-policy"]


async def test_the_configured_analytics_host_is_named_and_allowed() -> None:
    settings = WebSettings(posthog_key="phc_public", posthog_host="https://eu.i.posthog.com/")
    response = await _config(settings)
    assert response.json() == {
        "analytics": {"posthog_key": "phc_public", "posthog_host": "https://eu.i.posthog.com"}
    }
    assert "script-src 'self' https://eu.i.posthog.com" in response.headers["content-security-policy"]
