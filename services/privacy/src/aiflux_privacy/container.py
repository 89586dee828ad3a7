"""The privacy service's container: what handlers and routes need, built once by bootstrap."""

from __future__ import annotations

from dataclasses import dataclass

from aiflux_kit.db import Database
from aiflux_kit.service import Platform

from .adapters.peers import IdentityClient, StorageClient
from .settings import PrivacySettings


@dataclass
class PrivacyContainer:
    """What the privacy handlers need, built once."""

    settings: PrivacySettings
    database: Database
    platform: Platform
    storage: StorageClient
    identity: IdentityClient

    @property
    def pepper(self) -> str:
        """The secret pepper of certificate subject hashes."""
        return self.settings.secret("pseudonym_pepper")

    @property
    def link_secret(self) -> str:
        """The key that signs one-click withdrawal links."""
        return self.settings.secret("link_secret")

    @property
    def consent_id_secret(self) -> str:
        """The key that signs the anonymous consent ids privacy issues."""
        return self.settings.secret("consent_id_secret")
