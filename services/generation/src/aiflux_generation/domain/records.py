"""What the generation service keeps, as typed records (the repositories hand these out)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

GenerationStatus = Literal["queued", "running", "completed", "failed"]


@dataclass(frozen=True)
class Generation:
    """One job: what the user asked for, where it runs, what came out."""

    id: uuid.UUID
    user_id: uuid.UUID
    model: str
    modality: str
    provider: str
    provider_model: str
    prompt: str
    params: dict[str, Any]
    input_file_ids: tuple[str, ...]
    credits: int
    status: GenerationStatus
    deadline_at: datetime
    next_check_at: datetime
    created_at: datetime
    provider_job_id: str | None = None
    provider_file_ids: tuple[str, ...] = ()
    output_file_ids: tuple[str, ...] = ()
    outputs_stored: bool = False
    output_text: str | None = None
    failure_reason: str | None = None
    submit_started_at: datetime | None = None
    poll_count: int = 0
    repeat_of: uuid.UUID | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class ProviderCleanup:
    """A provider-side cleanup of one job, retried until done (or parked for ops)."""

    cleanup_id: uuid.UUID
    generation_id: uuid.UUID
    user_id: uuid.UUID | None
    provider: str
    provider_job_id: str | None
    provider_file_ids: tuple[str, ...]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    strategy: str | None
    created_at: datetime
    done_at: datetime | None


@dataclass(frozen=True)
class ErasureRun:
    """An erasure request here: its totals and the cleanups its receipt waits for."""

    request_id: uuid.UUID
    user_id: uuid.UUID | None
    deleted: dict[str, int]
    cleanup_ids: tuple[str, ...]
    completed_at: datetime | None = None
