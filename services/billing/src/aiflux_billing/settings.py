"""Settings of the billing service (env prefix ``BILLING_``; shared ones also from ``AIFLUX_``)."""

from __future__ import annotations

from typing import Literal

from aiflux_kit.settings import ServiceSettings
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from .domain.packs import CreditPack, default_packs


class BillingSettings(ServiceSettings):
    """Everything the billing service reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="BILLING_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/aiflux_billing"
    credit_packs: list[CreditPack] = Field(default_factory=default_packs)
    # "stripe" talks to Stripe's API; "simulated" is the local stand-in of the embedded mode.
    checkout_backend: Literal["stripe", "simulated"] | None = None
    stripe_api_key: SecretStr = SecretStr("change-me")
    stripe_api_base: str = "https://api.stripe.com"
    stripe_webhook_secret: SecretStr = SecretStr("")
    webhook_tolerance_s: int = 300
    success_url: str | None = None
    cancel_url: str | None = None
    checkout_rate_limit: str = "10/minute"
    hold_ttl_s: int = 6 * 3600
    hold_expiry_interval_s: float = 300
    reconciliation_interval_s: float = 900
    reconciliation_lookback_s: int = 3 * 24 * 3600
    retention_interval_s: float = 24 * 3600
    payment_retention_years: int = 10

    @model_validator(mode="after")
    def _local_defaults(self) -> BillingSettings:
        if self.checkout_backend is None:
            self.checkout_backend = "simulated" if self.env == "embedded" else "stripe"
        # Local runs sign their simulated webhooks with a secret derived from the service key,
        # so nobody has to configure one; elsewhere the placeholder check refuses an empty one.
        configured = self.stripe_webhook_secret
        if self.is_local:
            self.local_secret("stripe_webhook_secret", "stripe-webhook")
            if self.stripe_webhook_secret is not configured:
                derived = self.stripe_webhook_secret.get_secret_value()
                self.stripe_webhook_secret = SecretStr(f"whsec_{derived}")
        self.success_url = self.success_url or (
            f"{self.public_url}/billing/success?session_id={{CHECKOUT_SESSION_ID}}"
        )
        self.cancel_url = self.cancel_url or f"{self.public_url}/billing/cancelled"
        return self

    def pack(self, pack_id: str) -> CreditPack | None:
        """The credit pack called ``pack_id``, if it is on sale."""
        return next((p for p in self.credit_packs if p.id == pack_id), None)
