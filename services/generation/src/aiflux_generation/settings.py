"""Settings of the generation service (env prefix ``GENERATION_``; shared ones also from ``AIFLUX_``)."""

from __future__ import annotations

from typing import Any

from aiflux_kit.settings import ServiceSettings
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from .domain.catalog import DEFAULT_CATALOG


class GenerationSettings(ServiceSettings):
    """Everything the generation service reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="GENERATION_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/aiflux_generation"

    # The model catalog: a JSON list of {id, modality, provider, provider_model, credits,
    # accepted_inputs, max_inputs, params, fixed_params, outputs}. ``params`` is the full
    # allow-list of user params ({name: {type, choices|min+max, max_length, default, send_as,
    # credits_per_unit|credits_by_choice}}; anything else is refused), ``fixed_params`` pins
    # provider params (result counts) and ``outputs`` is how many results are priced and kept
    # (default 1); ``credits`` is the price with default params. ``offline`` maps every model
    # to the local provider (default: on in embedded mode, so the product works with no network).
    catalog: list[dict[str, Any]] = Field(default_factory=lambda: list(DEFAULT_CATALOG))
    offline: bool | None = None

    # Provider endpoints (defaults: the real API hosts) and credentials.
    wavespeed_base_url: str = "https://api.wavespeed.ai"
    wavespeed_api_key: SecretStr = SecretStr("change-me")
    wavespeed_webhook_secret: SecretStr = SecretStr("change-me")
    gemini_base_url: str = "https://generativelanguage.googleapis.com"
    gemini_api_key: SecretStr = SecretStr("change-me")
    runpod_base_url: str = "https://api.runpod.ai"
    runpod_api_key: SecretStr = SecretStr("change-me")
    runpod_webhook_secret: SecretStr = SecretStr("change-me")
    atlascloud_base_url: str = "https://api.atlascloud.ai"
    atlascloud_api_key: SecretStr = SecretStr("change-me")
    # Public base URL providers call back (webhooks); empty: no webhooks, polling only.
    webhook_base_url: str = ""

    # Resilience.
    provider_timeout_s: float = 30.0
    job_timeout_s: dict[str, float] = Field(
        default_factory=lambda: {
            "wavespeed": 900.0,
            "gemini": 900.0,
            "runpod": 1200.0,
            "atlascloud": 1800.0,
            "local": 120.0,
        }
    )
    poll_initial_s: float = 2.0
    poll_max_s: float = 30.0
    breaker_fail_max: int = 5
    breaker_reset_s: float = 60.0

    # Background work.
    worker_interval_s: float = 1.0
    worker_batch: int = 8
    lease_s: float = 120.0
    cleanup_initial_s: float = 10.0
    cleanup_max_s: float = 3600.0
    cleanup_max_attempts: int = 60
    stuck_sweep_interval_s: float = 60.0

    # Abuse limits.
    submit_rate_limit: str = "20/minute"
    max_prompt_chars: int = 4000

    # The local provider's simulated work time.
    local_delay_s: float = 3.0

    @model_validator(mode="after")
    def _local_webhook_secrets(self) -> GenerationSettings:
        # A placeholder would let anyone forge a provider's "job done" callback; local runs
        # derive per-install secrets from the service key instead (as billing does for Stripe).
        if self.is_local:
            self.local_secret("wavespeed_webhook_secret", "generation:wavespeed-webhook")
            self.local_secret("runpod_webhook_secret", "generation:runpod-webhook")
        return self

    @model_validator(mode="after")
    def _lease_outlasts_backoff(self) -> GenerationSettings:
        # Webhooks tell a leased job from one waiting out its backoff by this gap.
        if self.lease_s <= self.poll_max_s * 1.25:
            raise ValueError("lease_s must exceed 1.25 x poll_max_s")
        return self

    @property
    def is_offline(self) -> bool:
        """True when every model runs on the built-in local provider."""
        return self.env == "embedded" if self.offline is None else self.offline
