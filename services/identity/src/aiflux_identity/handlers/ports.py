"""What the privacy-facing handlers need from the outside, as protocols: the SQL adapters
implement them in production, in-memory fakes in the unit tests (handed to ``bootstrap.build``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from ..adapters.audit_log import SecurityEvent
from ..adapters.records import AccountRecord, SecurityLogSpan, SessionRecord


class UserData(Protocol):
    """What identity holds of one user, within the handled event's transaction."""

    async def guard(self, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
        """Mark the user erased (the kit's guard), first in every erasure."""

    async def is_erased(self, user_id: uuid.UUID) -> bool:
        """Whether an erasure of the user has started."""

    async def addresses(self, user_id: uuid.UUID) -> set[str]:
        """Every address identity mailed for the user."""

    async def delete_sessions(self, user_id: uuid.UUID) -> int:
        """Delete the user's sessions; how many."""

    async def delete_email_tokens(self, user_id: uuid.UUID) -> int:
        """Delete the user's mailed-link tokens; how many."""

    async def forget_messages(self, user_id: uuid.UUID) -> int:
        """Delete published messages naming the user; how many."""

    async def disabled_at(self, user_id: uuid.UUID) -> datetime | None:
        """When the account was disabled."""

    async def security_log_span(self, user_id: uuid.UUID) -> SecurityLogSpan:
        """The user's security-log rows: how many, the newest's time."""

    async def remaining(self, user_id: uuid.UUID) -> dict[str, int]:
        """Counts of what is left of the user (tables and messaging)."""

    async def account(self, user_id: uuid.UUID) -> AccountRecord | None:
        """The account without its password hash."""

    async def sessions(self, user_id: uuid.UUID) -> list[SessionRecord]:
        """The user's stored sessions."""

    async def security_log(self, user_id: uuid.UUID) -> list[SecurityEvent]:
        """The user's security-log rows, oldest first."""


class UserDataFactory(Protocol):
    """Binds :class:`UserData` to one transaction (the consumer's inbox session)."""

    def __call__(self, session: Any) -> UserData: ...


class ExportParts(Protocol):
    """Where a part of a user's export is written."""

    async def put(self, request_id: uuid.UUID, user_id: uuid.UUID, name: str, body: bytes) -> str | None:
        """The part's key, or None when the export was cancelled (the user was erased)."""
