"""Every request and response body of the generation service's routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .domain.records import GenerationStatus

Number = int | float
ParamValue = bool | int | float | str


class GenerationRequest(BaseModel):
    """``POST /v1/generations``."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=100)
    prompt: str = Field(max_length=20_000)
    input_file_ids: list[uuid.UUID] = Field(default_factory=list, max_length=16)
    # Any: unknown keys and wrong types are refused by the model's rules (422 invalid-params).
    params: dict[str, Any] = Field(default_factory=dict)


class ParamSpecOut(BaseModel):
    """One parameter a model accepts (absent members do not apply)."""

    type: Literal["bool", "int", "number", "string"]
    choices: list[ParamValue] | None = None
    min: Number | None = None
    max: Number | None = None
    max_length: int | None = None
    default: ParamValue | None = None
    credits_per_unit: int | None = None
    credits_by_choice: dict[str, int] | None = None


class ModelOut(BaseModel):
    """A catalog entry; ``credits`` is the price with default params."""

    id: str
    modality: str
    provider: str
    credits: int
    accepted_inputs: list[str]
    max_inputs: int
    outputs: int
    params: dict[str, ParamSpecOut]


class ModelPage(BaseModel):
    """``GET /v1/models``."""

    items: list[ModelOut]
    next_cursor: str | None = None


class GenerationAccepted(BaseModel):
    """202 of a new (or repeated) generation."""

    id: uuid.UUID
    status: Literal["queued"]


class OutputOut(BaseModel):
    """One stored result and where its owner downloads it."""

    file_id: str
    url: str


class GenerationOut(BaseModel):
    """A generation as its owner sees it (no provider internals)."""

    id: uuid.UUID
    model: str
    modality: str
    prompt: str
    status: GenerationStatus
    credits: int
    input_file_ids: list[str]
    params: dict[str, ParamValue]
    outputs: list[OutputOut]
    text: str | None
    failure_reason: str | None
    repeat_of: uuid.UUID | None
    created_at: datetime
    finished_at: datetime | None


class GenerationPage(BaseModel):
    """``GET /v1/generations``: newest first; ``next_cursor`` is the last id of the page."""

    items: list[GenerationOut]
    next_cursor: str | None


class WebhookReceived(BaseModel):
    """A provider webhook was taken as a signal to re-read the job."""

    received: bool


class FailedJobOut(BaseModel):
    """A failed generation for operators (no prompt)."""

    id: uuid.UUID
    user_id: uuid.UUID
    model: str
    provider: str
    provider_job_id: str | None
    failure_reason: str | None
    created_at: datetime
    finished_at: datetime | None


class FailedJobPage(BaseModel):
    """``GET /v1/ops/generation/failed-jobs``."""

    items: list[FailedJobOut]
    next_cursor: str | None = None


CleanupStatus = Literal["pending", "parked", "done"]


class CleanupOut(BaseModel):
    """A provider cleanup for operators."""

    cleanup_id: uuid.UUID
    generation_id: uuid.UUID
    provider: str
    status: CleanupStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    strategy: str | None
    created_at: datetime
    done_at: datetime | None


class CleanupPage(BaseModel):
    """``GET /v1/ops/generation/cleanups``."""

    items: list[CleanupOut]
    next_cursor: str | None = None


class CleanupRetried(BaseModel):
    """A cleanup put back to run now."""

    cleanup_id: uuid.UUID
    status: Literal["pending"]


class ProviderBreakerOut(BaseModel):
    """A provider and its circuit breaker's state in this process."""

    provider: str
    breaker: str


class ProviderBreakerPage(BaseModel):
    """``GET /v1/ops/generation/providers``."""

    items: list[ProviderBreakerOut]
    next_cursor: str | None = None
