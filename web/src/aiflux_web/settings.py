"""Settings of the web client's server (``WEB_`` environment prefix)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    """Where the APIs are, and the optional analytics processor (PostHog, §6)."""

    model_config = SettingsConfigDict(env_prefix="WEB_", extra="ignore")

    # The one public base URL (the gateway / Ingress host) the pages and API share.
    public_url: str = "http://localhost:8000"
    # PostHog, loaded only after the visitor consents to analytics, and only when configured.
    posthog_key: str | None = None
    posthog_host: str | None = None
