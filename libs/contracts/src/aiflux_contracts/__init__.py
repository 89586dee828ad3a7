"""AIFLUX event contracts: every event as a versioned pydantic model, and the envelope.

Depends on pydantic only and never imports a service.
"""

from __future__ import annotations

from .base import Envelope, Event
from .billing import (
    CreditsCaptured,
    CreditsPurchased,
    CreditsRefunded,
    CreditsReleased,
    CreditsReserved,
    PaymentDisputed,
)
from .generation import (
    GenerationCompleted,
    GenerationDeleted,
    GenerationFailed,
    GenerationRequested,
    ProviderCleanupCompleted,
    ProviderCleanupRequested,
)
from .identity import (
    PolicyAccepted,
    SessionRevoked,
    UserDeleted,
    UserPurged,
    UserRegistered,
    UserSuspended,
    UserUpdated,
)
from .privacy import (
    ConsentChanged,
    ErasureRequested,
    ErasureVerificationRequested,
    ExportRequested,
    PolicyPublished,
    ProcessingRestricted,
    UserNotificationRequested,
)
from .receipts import ErasureCompleted, ErasureVerified, ExportPartReady, RetainedItem
from .registry import CATALOG, UnknownEvent, decode, event_class
from .storage import FilesErased, FileStored

__all__ = [
    "CATALOG",
    "ConsentChanged",
    "CreditsCaptured",
    "CreditsPurchased",
    "CreditsRefunded",
    "CreditsReleased",
    "CreditsReserved",
    "Envelope",
    "ErasureCompleted",
    "ErasureRequested",
    "ErasureVerificationRequested",
    "ErasureVerified",
    "Event",
    "ExportPartReady",
    "ExportRequested",
    "FileStored",
    "FilesErased",
    "GenerationCompleted",
    "GenerationDeleted",
    "GenerationFailed",
    "GenerationRequested",
    "PaymentDisputed",
    "PolicyAccepted",
    "PolicyPublished",
    "ProcessingRestricted",
    "ProviderCleanupCompleted",
    "ProviderCleanupRequested",
    "RetainedItem",
    "SessionRevoked",
    "UnknownEvent",
    "UserDeleted",
    "UserNotificationRequested",
    "UserPurged",
    "UserRegistered",
    "UserSuspended",
    "UserUpdated",
    "decode",
    "event_class",
]
