"""Events published by the identity service."""

from __future__ import annotations

import uuid
from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from .base import Event


class _Identity(Event):
    producer: ClassVar[str] = "identity"


class UserRegistered(_Identity):
    """A new account exists. Carries the consents given at registration, no contact data."""

    user_id: uuid.UUID
    accepted_policy_version: str
    marketing_opt_in: bool
    age_confirmed_on: date
    anonymous_consent_id: uuid.UUID | None = None


class UserUpdated(_Identity):
    """Profile fields changed (names of the fields only, never their values)."""

    informational: ClassVar[bool] = True

    user_id: uuid.UUID
    fields: list[str]


class PolicyAccepted(_Identity):
    """The user accepted a privacy-policy version (consent under §4)."""

    user_id: uuid.UUID
    version: str


class SessionRevoked(_Identity):
    """One session (or all of a user's sessions) ended: services drop cached authentications."""

    user_id: uuid.UUID
    session_id_hash: str | None = Field(
        default=None, description="sha256 of the session id; null means every session of the user"
    )


class UserDeleted(_Identity):
    """The account is disabled and its erasure cascade starts."""

    user_id: uuid.UUID
    request_id: uuid.UUID
    reason: Literal["user_request", "privacy_request", "minor"] = "user_request"
    status_token_sha256: str | None = Field(
        default=None,
        pattern="^[0-9a-f]{64}$",
        description="sha256 (hex) of the token of the erasure's status link, which identity "
        "gave the user in the 202 of DELETE /v1/account; privacy keeps it with the "
        "request. Absent on re-drives and on erasures privacy started itself.",
    )
    account_name_sha256: str | None = Field(
        default=None,
        pattern="^[0-9a-f]{64}$",
        description="sha256 (hex) of the account's username, lower-cased: privacy erases the "
        "minor reports that name the account by username with the user.",
    )


class UserSuspended(_Identity):
    """The account may no longer be used (e.g. under review as a minor's)."""

    informational: ClassVar[bool] = True

    user_id: uuid.UUID
    reason: str


class UserPurged(_Identity):
    """Identity removed its last record of the user (after the 30-day grace period)."""

    user_id: uuid.UUID
