"""Settings of the storage service (env prefix ``STORAGE_``; shared ones also from ``AIFLUX_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from aiflux_kit.settings import ServiceSettings
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

MiB = 1024 * 1024


class StorageSettings(ServiceSettings):
    """Everything the storage service reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="STORAGE_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/aiflux_storage"

    # Object store: local disk in dev/test/embedded unless set, the S3 API (R2) in production.
    backend: Literal["local", "s3"] | None = None
    local_root: Path | None = None  # default: <platform data dir>/objects
    spool_dir: Path | None = None  # default: <platform data dir>/spool (uploads being checked)
    s3_endpoint_url: str | None = None  # e.g. https://<account>.r2.cloudflarestorage.com
    s3_bucket: str = "aiflux"
    s3_region: str = "auto"
    s3_access_key_id: SecretStr = SecretStr("change-me")
    s3_secret_access_key: SecretStr = SecretStr("change-me")
    s3_addressing_style: Literal["path", "virtual", "auto"] = "path"

    # Upload limits per kind of file, in bytes.
    max_image_bytes: int = 25 * MiB
    max_video_bytes: int = 500 * MiB
    max_audio_bytes: int = 100 * MiB
    max_export_part_bytes: int = 200 * MiB
    # Pixel bounds of images (read from the header): small files may declare huge images.
    max_image_pixels: int = 50_000_000
    max_image_side: int = 16_384
    upload_rate: str = "60/minute"

    # Signed download URLs.
    download_url_ttl_s: int = 300
    url_signing_key: SecretStr | None = None  # default: derived from service_key

    # Retention and sweeps.
    export_ttl_days: int = 7
    orphan_grace_s: int = 3600
    orphan_sweep_interval_s: float = 3600.0
    archive_sweep_interval_s: float = 3600.0

    def resolved_backend(self) -> Literal["local", "s3"]:
        """The object store to use: the configured one, else local disk except in production."""
        if self.backend is not None:
            return self.backend
        return "s3" if self.env == "production" else "local"
