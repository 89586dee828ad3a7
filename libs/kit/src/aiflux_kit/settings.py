"""The settings base every service extends: one pydantic-settings class, env prefix ``<SVC>_``.

Settings shared by all services (broker, Redis, public URL, peer URLs) may also come from the
``AIFLUX_`` prefix, so one ``.env`` can configure a whole distributed run.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from .body_limit import DEFAULT_BODY_LIMIT

Environment = Literal["dev", "test", "embedded", "production"]

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "placeholder", "secret", "dev"})
"""Values that mark a secret as not configured: refused outside dev, test and embedded."""


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclasses set ``model_config`` with their env prefix."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_nested_delimiter="__")

    env: Environment = "dev"
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/aiflux"
    db_pool_size: int = Field(
        default=5,
        description=(
            "a process keeps up to twice this many PostgreSQL connections per service for"
            " transactions, and this many more for reads"
        ),
    )
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    bus_namespace: str = Field(
        default="", description="prefix of the exchange and queue names (one broker, several installs)"
    )
    redis_url: str | None = None
    public_url: str = "http://localhost:8000"
    identity_url: str = "http://127.0.0.1:8000"
    billing_url: str = "http://127.0.0.1:8000"
    storage_url: str = "http://127.0.0.1:8000"
    generation_url: str = "http://127.0.0.1:8000"
    privacy_url: str = "http://127.0.0.1:8000"
    service_key: SecretStr = SecretStr("change-me")
    trusted_callers: dict[str, SecretStr] = Field(default_factory=dict)
    consumer_prefetch: int = 16
    retry_delays_ms: list[int] = Field(default_factory=lambda: [1_000, 10_000, 60_000, 300_000])
    outbox_batch_size: int = 500
    outbox_poll_interval_s: float = 1.0
    session_cache_ttl_s: float = 5.0
    outbox_keep_days: float = Field(
        default=7, description="published outbox rows (they name users by id) are deleted after this"
    )
    inbox_keep_days: float = Field(
        default=30, description="how long handled event ids are remembered to drop redeliveries"
    )
    log_level: str = "INFO"
    max_body_bytes: int = Field(
        default=DEFAULT_BODY_LIMIT,
        description="largest request body of a route; uploads and exports have their own limits",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        shared = EnvSettingsSource(settings_cls, env_prefix="AIFLUX_", env_nested_delimiter="__")
        return init_settings, env_settings, dotenv_settings, shared, file_secret_settings

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        if self.env in ("dev", "test", "embedded"):
            return self
        if "//guest:guest@" in self.amqp_url:
            raise ValueError(f"amqp_url uses RabbitMQ's default guest account (env={self.env})")
        for name, value in self:
            secrets = value.values() if isinstance(value, dict) else [value]
            for secret in secrets:
                if isinstance(secret, SecretStr) and _is_placeholder(secret):
                    raise ValueError(f"{name} must be set to a real secret when env={self.env}")
        return self

    def local_secret(self, name: str, purpose: str) -> None:
        """Replace the placeholder secret setting ``name`` by one derived from the service key
        (``purpose`` keeps derived secrets apart), as local runs need no configured one.

        Refused where the result would be guessable: outside tests, a placeholder service key
        derives a secret anyone can compute (``make up`` and the embedded mode always set a
        real one); outside local runs the placeholder refusal above applies.
        """
        value: SecretStr = getattr(self, name)
        if not _is_placeholder(value):
            return
        key = self.service_key
        if self.env == "test" or (self.is_local and not _is_placeholder(key)):
            setattr(self, name, SecretStr(derive_secret(key.get_secret_value(), purpose)))
            return
        raise ValueError(
            f"{name} must be set to a real secret when env={self.env} "
            "(or set a real service_key to derive it from)"
        )

    @property
    def is_local(self) -> bool:
        """True in dev, test and embedded runs (placeholder secrets allowed, local peers)."""
        return self.env in ("dev", "test", "embedded")


def _is_placeholder(secret: SecretStr) -> bool:
    return secret.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS


def derive_secret(master: str, purpose: str) -> str:
    """A per-purpose secret derived from one master secret (embedded mode and tests only)."""
    return hmac.new(master.encode(), purpose.encode(), hashlib.sha256).hexdigest()
