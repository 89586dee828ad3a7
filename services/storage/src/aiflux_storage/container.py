"""What the storage handlers need, built once by ``bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiflux_kit.db import Database
from aiflux_kit.service import Platform

from .adapters.objects import ObjectStore
from .adapters.signing import UrlSigner
from .domain.content import FileType
from .settings import StorageSettings


@dataclass
class StorageContainer:
    """Settings, database, object store and URL signer of the storage service."""

    settings: StorageSettings
    database: Database
    platform: Platform
    store: ObjectStore
    signer: UrlSigner
    spool_dir: Path

    def limit_for(self, file_type: FileType) -> int:
        """The upload size limit of a type's kind."""
        return {"image": self.settings.max_image_bytes, "video": self.settings.max_video_bytes,
                "audio": self.settings.max_audio_bytes}[file_type.kind]

    @property
    def upload_ceiling(self) -> int:
        """The largest upload of any kind."""
        s = self.settings
        return max(s.max_image_bytes, s.max_video_bytes, s.max_audio_bytes)
