"""Settings of the identity service (env prefix ``IDENTITY_``; shared ones also from ``AIFLUX_``)."""

from __future__ import annotations

from typing import Literal

from aiflux_kit.settings import ServiceSettings
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

INITIAL_POLICY_VERSION = "2026-05-09"
"""The privacy policy in force before any PolicyPublished ("Last updated: 9 May 2026")."""


class IdentitySettings(ServiceSettings):
    """Everything the identity service reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="IDENTITY_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/aiflux_identity"

    # Passwords: bcrypt cost (tests lower it), and the most worker threads that hash off the
    # loop (never more than the cores: more threads only take CPU from the event loop).
    bcrypt_rounds: int = 12
    hash_workers: int = 4
    minimum_age: int = 16

    # Sessions and tokens.
    session_idle_timeout_s: int = 2 * 3600
    session_absolute_timeout_s: int = 7 * 24 * 3600
    session_touch_interval_s: int = 60
    cookie_samesite: Literal["lax", "strict"] = "lax"
    cookie_secure: bool | None = None  # None: Secure exactly when public_url is https
    verification_token_ttl_s: int = 24 * 3600
    reset_token_ttl_s: int = 3600
    trusted_proxy_hops: int = 0  # how many X-Forwarded-For hops the gateway adds

    # Rate limits (limits-library syntax), per client IP and per account.
    limit_register_ip: str = "10/hour"
    limit_register_account: str = "5/hour"
    limit_login_ip: str = "30/minute"
    limit_login_account: str = "10/15minutes"
    limit_verify_ip: str = "30/hour"
    limit_forgot_ip: str = "10/hour"
    limit_forgot_account: str = "3/hour"
    limit_reset_ip: str = "20/hour"
    limit_reset_account: str = "5/hour"

    # Retention (privacy policy §5) and sweeps.
    purge_after_days: int = 30
    security_log_retention_days: int = 365
    sweep_interval_s: float = 3600.0

    # Policy-change notices, and how long after a new version takes effect a registration
    # may still accept the one it replaced (a form loaded just before the switch).
    policy_switch_grace_s: int = Field(
        default=3600,
        ge=0,
        description=(
            "after a policy version takes effect, registration still accepts the one it "
            "replaced for this long; such accounts accept the new one on first use"
        ),
    )
    policy_notice_batch_size: int = 200
    policy_notice_interval_s: float = 5.0

    # Mail: SMTP when smtp_host is set, else .eml files under <data dir>/mail/.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_use_tls: bool = False
    mail_from: str = "AIFLUX <no-reply@aiflux.local>"
    # The embedded .eml spool (no SMTP server) keeps each mail this long (retention rule
    # "mail-spool"); a user's erasure deletes theirs at once.
    mail_spool_keep_days: int = 7

    @model_validator(mode="after")
    def _production_needs_smtp(self) -> IdentitySettings:
        if self.env == "production" and not self.smtp_host:
            raise ValueError("smtp_host must be set when env=production")
        return self

    @property
    def secure_cookies(self) -> bool:
        """Whether the session cookie carries ``Secure`` (and so the ``__Host-`` prefix)."""
        if self.cookie_secure is not None:
            return bool(self.cookie_secure)
        return bool(self.public_url.startswith("https://"))
