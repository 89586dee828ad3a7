"""Settings of the web client's server (``WEB_`` environment prefix)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    """Where the APIs are, and the optional analytics processor (PostHog, §6)."""

    model_config = SettingsConfigDict(env_prefix="WEB_", extra="ignore")

    # The one public base URL (the gateway / Ingress host) the pages and API share.
    public_url: str = "http://localhost:8000"
    # Each service's API, for the ops console's relay (/ops/api/<service>/...) and the
    # server-rendered policy page; empty → ``public_url`` (one process serving everything).
    identity_url: str | None = None
    billing_url: str | None = None
    generation_url: str | None = None
    storage_url: str | None = None
    privacy_url: str | None = None
    # PostHog, loaded only after the visitor consents to analytics, and only when configured.
    posthog_key: str | None = None
    posthog_host: str | None = None

    def upstream(self, service: str) -> str:
        """The base URL of ``service``'s API."""
        url: str | None = getattr(self, f"{service}_url")
        return (url or self.public_url).rstrip("/")
