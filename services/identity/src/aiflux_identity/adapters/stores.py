"""SQL repositories of the erasure and export handlers, each bound to one transaction (the
consumer's inbox session), returning typed records."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from aiflux_kit import erasure as kit_erasure
from sqlalchemy import Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .audit_log import SecurityEvent
from .orm import email_tokens, security_log, sessions, users
from .records import AccountRecord, SecurityLogSpan, SessionRecord

ACCOUNT_COLUMNS = [column for column in users.c if column.name != "password_hash"]
SESSION_COLUMNS = [column for column in sessions.c if column.name not in ("token_hash", "csrf_token_hash")]


class SqlUserData:
    """What identity holds of one user, in PostgreSQL, within ``session``'s transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def guard(self, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
        """The kit's erasure guard (first in every ``UserDeleted`` delivery)."""
        await kit_erasure.guard_user(self.session, user_id, request_id)

    async def is_erased(self, user_id: uuid.UUID) -> bool:
        """Whether an erasure of the user has started."""
        erased: bool = await kit_erasure.is_erased(self.session, user_id)
        return erased

    async def addresses(self, user_id: uuid.UUID) -> set[str]:
        """Every address identity mailed for the user: the account's and pending new ones."""
        found = set(
            (await self.session.execute(select(users.c.email).where(users.c.id == user_id))).scalars()
        )
        found |= set(
            (
                await self.session.execute(
                    select(email_tokens.c.new_email).where(
                        email_tokens.c.user_id == user_id, email_tokens.c.new_email.is_not(None)
                    )
                )
            ).scalars()
        )
        return {address for address in found if address}

    async def delete_sessions(self, user_id: uuid.UUID) -> int:
        """Delete every session of the user; how many."""
        return await self._delete(sessions, user_id)

    async def delete_email_tokens(self, user_id: uuid.UUID) -> int:
        """Delete every mailed-link token of the user; how many."""
        return await self._delete(email_tokens, user_id)

    async def _delete(self, table: Table, user_id: uuid.UUID) -> int:
        result = await self.session.execute(delete(table).where(table.c.user_id == user_id))
        return int(getattr(result, "rowcount", 0) or 0)

    async def forget_messages(self, user_id: uuid.UUID) -> int:
        """Delete the published outbox rows naming the user; how many."""
        forgotten: int = await kit_erasure.forget_user_messages(self.session, user_id)
        return forgotten

    async def disabled_at(self, user_id: uuid.UUID) -> datetime | None:
        """When the account was disabled (None: not disabled, or purged)."""
        value: datetime | None = (
            await self.session.execute(select(users.c.deleted_at).where(users.c.id == user_id))
        ).scalar()
        return value

    async def security_log_span(self, user_id: uuid.UUID) -> SecurityLogSpan:
        """How many security-log rows name the user, and the newest one's time."""
        newest, rows = (
            await self.session.execute(
                select(func.max(security_log.c.created_at), func.count()).where(
                    security_log.c.user_id == user_id
                )
            )
        ).one()
        return SecurityLogSpan(rows=int(rows), newest=newest)

    async def remaining(self, user_id: uuid.UUID) -> dict[str, int]:
        """What is left of the user in identity's tables (and its messaging residue)."""
        return {
            "disabled_account": await self._count(users, users.c.id == user_id),
            "sessions": await self._count(sessions, sessions.c.user_id == user_id),
            "email_tokens": await self._count(email_tokens, email_tokens.c.user_id == user_id),
            "security_log": await self._count(security_log, security_log.c.user_id == user_id),
            **await self._messaging_residue(user_id),
        }

    async def _messaging_residue(self, user_id: uuid.UUID) -> dict[str, int]:
        residue: dict[str, int] = await kit_erasure.messaging_residue(self.session, user_id)
        return residue

    async def _count(self, table: Table, where: Any) -> int:
        return int(
            (await self.session.execute(select(func.count()).select_from(table).where(where))).scalar_one()
        )

    async def account(self, user_id: uuid.UUID) -> AccountRecord | None:
        """The account without its password hash."""
        row = (await self.session.execute(select(*ACCOUNT_COLUMNS).where(users.c.id == user_id))).first()
        return None if row is None else AccountRecord(**row._asdict())

    async def sessions(self, user_id: uuid.UUID) -> list[SessionRecord]:
        """Every stored session of the user (without token hashes)."""
        rows = (
            await self.session.execute(select(*SESSION_COLUMNS).where(sessions.c.user_id == user_id))
        ).all()
        return [SessionRecord(**row._asdict()) for row in rows]

    async def security_log(self, user_id: uuid.UUID) -> list[SecurityEvent]:
        """The user's security-log rows, oldest first."""
        rows = (
            await self.session.execute(
                select(security_log)
                .where(security_log.c.user_id == user_id)
                .order_by(security_log.c.created_at)
            )
        ).all()
        return [
            SecurityEvent(r.id, r.user_id, r.event, r.ip, r.user_agent, dict(r.detail or {}), r.created_at)
            for r in rows
        ]
