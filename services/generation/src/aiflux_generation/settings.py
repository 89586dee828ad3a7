"""Settings of the generation service (env prefix ``GENERATION_``; shared ones also from ``AIFLUX_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from aiflux_kit.settings import ServiceSettings


class GenerationSettings(ServiceSettings):
    """Everything the generation service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="GENERATION_", env_file=".env", extra="ignore",
                                      env_nested_delimiter="__")

    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/aiflux_generation"
