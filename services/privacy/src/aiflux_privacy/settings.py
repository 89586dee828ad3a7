"""Settings of the privacy service (env prefix ``PRIVACY_``; shared ones also from ``AIFLUX_``)."""

from __future__ import annotations

from aiflux_kit.settings import ServiceSettings
from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

LOCAL_SECRETS = ("pseudonym_pepper", "link_secret", "consent_id_secret")


class PrivacySettings(ServiceSettings):
    """Everything the privacy service reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="PRIVACY_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/aiflux_privacy"
    # Pepper of the erasure certificates' subject hash, and key of the one-click links.
    pseudonym_pepper: SecretStr = SecretStr("change-me")
    link_secret: SecretStr = SecretStr("change-me")
    # Key that signs the anonymous consent ids this service issues (the consent cookie): an id
    # privacy did not issue is refused, so a visitor cannot claim someone else's consents.
    consent_id_secret: SecretStr = SecretStr("change-me")
    # An erasure or export step with no progress for this long is re-driven.
    stall_after_s: float = 3600.0
    redrive_interval_s: float = 300.0
    max_redrives: int = 10
    deadline_sweep_interval_s: float = 3600.0
    # An archive is built as soon as its last part is recorded; this pass only retries failed
    # builds (and catches up after a restart).
    export_poll_interval_s: float = 30.0
    export_retention_days: int = 7
    consent_cookie: str = "aiflux_consent_id"

    @model_validator(mode="after")
    def _local_secrets(self) -> PrivacySettings:
        # Local runs derive each placeholder from the service key (an embedded install still has
        # its own secrets); dev refuses a placeholder service key, since anyone could derive
        # from it, and outside local runs the placeholder check refuses them all.
        if self.is_local:
            for name in LOCAL_SECRETS:
                self.local_secret(name, f"privacy:{name}")
        return self

    def secret(self, name: str) -> str:
        """The value of a secret setting."""
        value: str = getattr(self, name).get_secret_value()
        return value
