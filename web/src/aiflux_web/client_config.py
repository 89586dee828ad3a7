"""What the client's pages need to know from the server's settings (nothing secret).

PostHog's project key is public by design (it is sent from every browser that loads it); the
client asks for it only after the visitor has consented to analytics, and loads nothing when it
is not configured.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter()


@router.get("/client-config.json", include_in_schema=False)
async def client_config(request: Request) -> JSONResponse:
    """``{"analytics": {"posthog_key", "posthog_host"} | null}`` for the web client."""
    settings = request.app.state.settings
    analytics = (
        {"posthog_key": settings.posthog_key, "posthog_host": settings.posthog_host.rstrip("/")}
        if settings.posthog_key and settings.posthog_host
        else None
    )
    return JSONResponse({"analytics": analytics}, headers={"Cache-Control": "no-cache"})
