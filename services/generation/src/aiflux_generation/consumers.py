"""Event subscriptions of the generation service: decode (done by the kit), call a handler."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from aiflux_contracts import (
    ErasureVerificationRequested,
    ExportRequested,
    ProcessingRestricted,
    ProviderCleanupCompleted,
    ProviderCleanupRequested,
    UserDeleted,
)
from aiflux_kit.consumers import Subscription

from .handlers import erasure, export, restriction
from .handlers.cleanup import on_cleanup_completed, on_cleanup_requested

if TYPE_CHECKING:
    from .bootstrap import GenerationContainer


def subscriptions(container: GenerationContainer) -> list[Subscription[Any]]:
    """What the generation service consumes."""
    return [
        Subscription("user-deleted", (UserDeleted,), partial(erasure.on_user_deleted, container)),
        Subscription(
            "processing-restricted",
            (ProcessingRestricted,),
            partial(restriction.on_processing_restricted, container),
        ),
        Subscription("export-requested", (ExportRequested,), partial(export.on_export_requested, container)),
        Subscription(
            "erasure-verification",
            (ErasureVerificationRequested,),
            partial(erasure.on_erasure_verification, container),
        ),
        Subscription("provider-cleanup", (ProviderCleanupRequested,), on_cleanup_requested),
        # Our own receipts: the last one of an erased user's cleanups sends the erasure receipt.
        Subscription(
            "cleanup-receipts", (ProviderCleanupCompleted,), partial(on_cleanup_completed, container)
        ),
    ]
