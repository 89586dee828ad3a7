"""Events published by the privacy service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Literal

from .base import Event


class _Privacy(Event):
    producer: ClassVar[str] = "privacy"


class ErasureRequested(_Privacy):
    """An erasure request was accepted: identity disables the account and publishes UserDeleted."""

    request_id: uuid.UUID
    user_id: uuid.UUID
    reason: Literal["privacy_request", "minor"] = "privacy_request"


class ProcessingRestricted(_Privacy):
    """Processing of the user's data is restricted (``restricted``) or the restriction lifted."""

    user_id: uuid.UUID
    restricted: bool


class ConsentChanged(_Privacy):
    """A consent was granted or withdrawn. ``subject_id`` is a user id or an anonymous consent id."""

    informational: ClassVar[bool] = True

    subject_id: uuid.UUID
    subject_kind: Literal["user", "anonymous"]
    purpose: str
    granted: bool


class PolicyPublished(_Privacy):
    """A new privacy-policy version is in force; substantial ones need re-acceptance."""

    version: str
    substantial: bool
    effective_at: datetime


class ExportRequested(_Privacy):
    """Every service writes what it holds about the user for an access/portability request."""

    request_id: uuid.UUID
    user_id: uuid.UUID


class ErasureVerificationRequested(_Privacy):
    """Every service checks that it holds nothing more of the user but declared retained items."""

    request_id: uuid.UUID
    user_id: uuid.UUID


class UserNotificationRequested(_Privacy):
    """Identity (which holds the address) mails the user. ``template`` names the message."""

    user_id: uuid.UUID
    template: str
    params: dict[str, Any] = {}
