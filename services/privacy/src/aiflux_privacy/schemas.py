"""Every request and response body of the privacy service's routes.

Requests forbid unknown fields; responses describe exactly what the routes return. Optional
members that only some answers carry (an export's download fields, an erasure's status link)
are left out of the others: those routes answer with ``response_model_exclude_unset``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .domain.requests import RequestType


class RequestBody(BaseModel):
    """A request body: unknown fields are refused (422), not silently dropped."""

    model_config = ConfigDict(extra="forbid")


Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """A list answer: the items and the cursor of the next page (None on the last)."""

    items: list[Item]
    next_cursor: str | None = None


# --- public: catalog ----------------------------------------------------------------------

PolicyStatus = Literal["scheduled", "in_force", "superseded"]


class PolicySummary(BaseModel):
    """A published privacy-policy version without its text."""

    version: str
    effective_at: datetime
    substantial: bool
    published_at: datetime
    status: PolicyStatus


class PolicyDocument(PolicySummary):
    """The privacy-policy version in force, with its text."""

    text: str


class Processor(BaseModel):
    """A processor of §6: who, where, for what, and on which transfer basis."""

    id: str
    name: str
    country: str
    purpose: str
    data_categories: list[str]
    transfer_basis: str


class RetentionRule(BaseModel):
    """A retention rule of §5 and the sweep of its owner service that applies it."""

    id: str
    category: str
    owner_service: str
    period: str
    period_text: str
    trigger: str
    action: str
    legal_basis: str
    sweep: str


class RetentionRun(RetentionRule):
    """A retention rule with the last run its owner service reports."""

    last_run: Any = Field(None, description="the owner service's last run of the sweep")
    reported: bool


# --- public: consents ---------------------------------------------------------------------


class ConsentBody(RequestBody):
    """A consent decision."""

    granted: bool


class PurposeConsent(BaseModel):
    """The standing consent of one purpose."""

    granted: bool
    recorded_at: datetime | None


class ConsentState(BaseModel):
    """The caller's consents; ``analytics_allowed`` says whether analytics may load."""

    subject_kind: Literal["user", "anonymous"]
    consents: dict[str, PurposeConsent]
    accepted_policy_version: str | None
    analytics_allowed: bool


class LinkedConsentState(ConsentState):
    """The user's consents after linking this browser's anonymous consent id."""

    linked_purposes: int


class MarketingWithdrawn(BaseModel):
    """The answer of a one-click marketing withdrawal."""

    purpose: Literal["marketing"]
    granted: Literal[False]
    changed: bool


# --- public: requests and minor reports ---------------------------------------------------


class FileRequestBody(RequestBody):
    """A data-subject request."""

    type: RequestType
    details: str | None = Field(default=None, max_length=5000)


class RequestFiled(BaseModel):
    """A filed request; an erasure's answer also carries its status link."""

    id: uuid.UUID
    status: str
    due_at: datetime
    type: RequestType
    status_url: str | None = Field(None, description="erasures only: the status link")


class ErasureStep(BaseModel):
    """One service's part of an erasure: its receipt and its verification."""

    receipt: dict[str, Any] | None
    receipt_at: datetime | None
    verification: dict[str, Any] | None
    verified_at: datetime | None
    clean: bool | None


class ExportStep(BaseModel):
    """One service's part of an export."""

    part: dict[str, Any] | None
    ready_at: datetime | None


class RequestView(BaseModel):
    """A request as its owner sees it: status, due date, per-service progress, outcome."""

    id: uuid.UUID
    type: str
    status: str
    received_at: datetime
    due_at: datetime
    extended: bool
    extension_reason: str | None
    outcome: str | None
    answer: str | None
    closed_at: datetime | None
    details: str | None
    download_available: bool | None = Field(None, description="exports only")
    download_expires_at: datetime | None = Field(None, description="exports only")
    progress: dict[str, ErasureStep | ExportStep] | None = Field(
        None, description="one request only: each service's step"
    )


class OpsRequestView(RequestView):
    """A request as operators see it, with days left and whether it is overdue."""

    user_id: uuid.UUID | None
    days_left: int | None
    overdue: bool
    redrives: int


class OpsRequestDetail(OpsRequestView):
    """One request for operators, with its certificate once erased."""

    certificate: dict[str, Any] | None


class StepProgress(BaseModel):
    """A service's progress on an erasure, as the status link shows it."""

    erased: bool
    erased_at: datetime | None
    verified: bool
    verified_at: datetime | None


class CertificateSummary(BaseModel):
    """The certificate without the subject hash: counts, retained items, dates."""

    issued_at: str | None
    deleted: dict[str, dict[str, int]]
    retained: list[dict[str, Any]]
    identity_purged_at: str | None


class ErasureStatus(BaseModel):
    """What an erasure's status link shows (counts and dates only, no personal data)."""

    request_id: uuid.UUID
    type: str
    status: str
    received_at: datetime | None
    due_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    progress: dict[str, StepProgress]
    certificate: CertificateSummary | None


class MinorReportBody(RequestBody):
    """A report that an account belongs to someone under 16."""

    account: str = Field(min_length=1, max_length=200, description="username or user id")
    details: str | None = Field(default=None, max_length=2000)


class MinorReportFiled(BaseModel):
    """A recorded minor report."""

    id: uuid.UUID
    status: Literal["open"]


# --- ops ----------------------------------------------------------------------------------


class ExtensionBody(RequestBody):
    """Extend a deadline once, by up to two months, with a reason the user is told."""

    days: int = Field(ge=1, le=62)
    reason: str = Field(min_length=3, max_length=2000)


class DecisionBody(RequestBody):
    """An operator's decision on a rectification or objection."""

    granted: bool
    answer: str = Field(min_length=3, max_length=5000)


class LiftBody(RequestBody):
    """Why a restriction ends."""

    reason: str = Field(min_length=3, max_length=2000)


class PolicyBody(RequestBody):
    """A new privacy-policy version."""

    version: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
    text: str = Field(min_length=20)
    substantial: bool
    effective_at: AwareDatetime | None = Field(
        None,
        description="When it takes effect (with a time zone; now or later, default now). "
        "Until then the version in force does not change; users are mailed at once.",
    )


class CampaignBody(RequestBody):
    """A marketing mail to every user whose consent stands at send time."""

    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20000)


class CampaignSent(BaseModel):
    """A campaign handed to identity for mailing."""

    id: uuid.UUID
    recipients: int


class MinorReportView(BaseModel):
    """A minor report waiting for review."""

    id: uuid.UUID
    account: str
    details: str | None
    created_at: datetime


class MinorDecisionBody(RequestBody):
    """The review of a minor report."""

    confirmed: bool
    reason: str = Field(min_length=3, max_length=2000)
    user_id: uuid.UUID | None = None


class MinorDecision(BaseModel):
    """The decided report and, when confirmed, the erasure it started."""

    id: uuid.UUID
    status: Literal["confirmed", "dismissed"]
    erasure_request_id: uuid.UUID | None
