"""Typed records the repositories hand to handlers (never ORM rows)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class AccountRecord:
    """An account as stored, without its password hash (the export's ``profile``)."""

    id: uuid.UUID
    username: str
    email: str
    email_verified: bool
    roles: list[str]
    accepted_policy_version: str
    accepted_policy_at: datetime
    marketing_opt_in: bool
    age_confirmed_on: date
    created_at: datetime
    suspended_at: datetime | None
    deleted_at: datetime | None
    deletion_request_id: uuid.UUID | None


@dataclass(frozen=True)
class SessionRecord:
    """A session as stored, without its token and CSRF hashes."""

    id: uuid.UUID
    user_id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class SecurityLogSpan:
    """How many security-log rows name a user, and when the newest was written."""

    rows: int
    newest: datetime | None


@dataclass(frozen=True)
class LoginCandidate:
    """The account a login string names, with what the login decision needs."""

    id: uuid.UUID
    password_hash: str
    email_verified: bool
    suspended_at: datetime | None


@dataclass(frozen=True)
class SessionSummary:
    """One live session as its owner sees it (``current``: the one making the request)."""

    id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool


@dataclass(frozen=True)
class AccountProfile:
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
