"""Every request and response body of the identity service's routes.

Requests refuse unknown members (``extra="forbid"``); responses describe exactly what is
returned, so the OpenAPI document gives a client the real shape of every 2xx answer.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

Secret = Annotated[str, Field(min_length=1, max_length=1024)]


class RequestBody(BaseModel):
    """A request body: unknown members are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


# --- requests -------------------------------------------------------------------------------


class RegisterBody(RequestBody):
    """``POST /v1/auth/register``."""

    username: str = Field(max_length=64)
    email: str = Field(max_length=320)
    password: Secret
    birth_date: date
    accept_privacy_policy_version: str = Field(max_length=64)
    marketing_opt_in: bool = False
    anonymous_consent_id: uuid.UUID | None = None


class TokenBody(RequestBody):
    """A token from a mailed link."""

    token: Secret


class LoginBody(RequestBody):
    """``POST /v1/auth/login``: username or email."""

    login: str = Field(min_length=1, max_length=320)
    password: Secret


class EmailBody(RequestBody):
    """``POST /v1/auth/password/forgot`` and ``/verify-email/resend``."""

    email: str = Field(max_length=320)


class ResetBody(RequestBody):
    """``POST /v1/auth/password/reset``."""

    token: Secret
    new_password: Secret


class RectifyBody(RequestBody):
    """``PATCH /v1/account``."""

    username: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=320)
    current_password: Secret


class PasswordChangeBody(RequestBody):
    """``POST /v1/account/password``."""

    current_password: Secret
    new_password: Secret


class PasswordBody(RequestBody):
    """``DELETE /v1/account``."""

    password: Secret


class PolicyAcceptanceBody(RequestBody):
    """``POST /v1/account/policy-acceptance``."""

    version: str = Field(max_length=64)


class IntrospectBody(RequestBody):
    """The session token a service was shown."""

    session_token: str = Field(min_length=1, max_length=1024)


class SuspendBody(RequestBody):
    """Why the account is suspended (no personal data)."""

    reason: str = Field(min_length=1, max_length=200)


# --- responses ------------------------------------------------------------------------------


class Answer(BaseModel):
    """A response body; built from the handlers' typed records too."""

    model_config = ConfigDict(from_attributes=True)


class Accepted(Answer):
    """A 202 that never tells whether an address has an account."""

    status: str = Field(examples=["accepted"])
    detail: str


class StatusAnswer(Answer):
    """The new state of the thing the request changed."""

    status: str = Field(examples=["verified", "password-changed", "suspended"])


class LoginAnswer(Answer):
    """A new session (the session token itself is in the cookie)."""

    user_id: uuid.UUID
    csrf_token: str


class Profile(Answer):
    """What the account holds about the user; ``pending_email`` awaits confirmation."""

    user_id: uuid.UUID
    username: str
    email: str
    email_verified: bool
    pending_email: str | None
    created_at: datetime
    accepted_policy_version: str
    accepted_policy_at: datetime
    marketing_opt_in_at_registration: bool
    age_confirmed_on: date
    roles: list[str]


class ErasureStarted(Answer):
    """The 202 of an account deletion: the erasure's id and its private status link."""

    request_id: uuid.UUID
    status_url: str


class PolicyAcceptance(Answer):
    """The version the user has now accepted."""

    accepted_policy_version: str


class SessionView(Answer):
    """One live session of the caller's account."""

    id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool


class SessionList(Answer):
    """The caller's live sessions, newest first (one page)."""

    items: list[SessionView]
    next_cursor: str | None = None


class Introspection(Answer):
    """Who owns a session token, for another service."""

    user_id: uuid.UUID
    csrf_token_hash: str
    roles: list[str]
    policy_accepted: bool


class PolicyNoticeRun(Answer):
    """Progress of the mails announcing one substantial policy change."""

    version: str
    total: int
    sent: int
    started_at: datetime
    finished_at: datetime | None
    done: bool


class PolicyNoticeList(Answer):
    """Every notice run, newest first."""

    items: list[PolicyNoticeRun]
    next_cursor: str | None = None


class SecurityLogEntry(Answer):
    """One security-log row (ids and outcomes, never a password or a token)."""

    id: int
    user_id: uuid.UUID | None
    event: str
    ip: str | None
    user_agent: str | None
    detail: dict[str, Any]
    created_at: datetime


class SecurityLogPage(Answer):
    """Security-log rows, newest first; ``next_cursor`` fetches the older ones."""

    items: list[SecurityLogEntry]
    next_cursor: str | None = None
