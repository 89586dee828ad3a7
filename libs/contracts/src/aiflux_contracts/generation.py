"""Events published by the generation service."""

from __future__ import annotations

import uuid
from typing import ClassVar

from .base import Event


class _Generation(Event):
    producer: ClassVar[str] = "generation"


class GenerationRequested(_Generation):
    """A job was accepted and its credits are held; a worker will submit it."""

    generation_id: uuid.UUID
    user_id: uuid.UUID
    model: str
    credits: int
    input_file_ids: list[uuid.UUID] = []


class GenerationCompleted(_Generation):
    """Outputs are in storage and the credits are captured."""

    generation_id: uuid.UUID
    user_id: uuid.UUID
    output_file_ids: list[uuid.UUID]
    credits: int


class GenerationFailed(_Generation):
    """The job failed, timed out or was cancelled; its hold is voided. ``reason`` is user-readable."""

    generation_id: uuid.UUID
    user_id: uuid.UUID
    reason: str


class GenerationDeleted(_Generation):
    """The user deleted a generation: storage removes its inputs and outputs."""

    generation_id: uuid.UUID
    user_id: uuid.UUID
    input_file_ids: list[uuid.UUID]
    output_file_ids: list[uuid.UUID]


class ProviderCleanupRequested(_Generation):
    """Provider-side data of one job must be removed (predictions, uploaded files, running jobs)."""

    cleanup_id: uuid.UUID
    provider: str
    provider_job_id: str | None = None
    provider_file_ids: list[str] = []
    generation_id: uuid.UUID
    user_id: uuid.UUID | None = None


class ProviderCleanupCompleted(_Generation):
    """Receipt of one provider cleanup."""

    informational: ClassVar[bool] = True

    cleanup_id: uuid.UUID
    provider: str
    generation_id: uuid.UUID
    strategy: str
