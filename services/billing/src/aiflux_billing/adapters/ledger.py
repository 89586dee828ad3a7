"""The credit ledger's writes: balances, ledger entries and holds, answered as typed records.

Every balance change is a conditional UPDATE of the user's ``account`` row (which locks it) in
the caller's transaction, so concurrent movements serialise on that row. Never commits.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from aiflux_kit.erasure import is_erased
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.records import AccountBalance, HoldView
from ..domain.rules import EntryKind, HoldStatus
from .orm import Account, Hold, LedgerEntry

_HOLD_COLUMNS = (Hold.id, Hold.generation_id, Hold.user_id, Hold.credits, Hold.status)


class CreditLedger:
    """Balances, ledger entries and holds seen through one transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def is_erased(self, user_id: uuid.UUID) -> bool:
        """Whether the user is erased or being erased (takes the user's erasure lock shared)."""
        erased: bool = await is_erased(self.session, user_id)
        return erased

    # --- balances and entries -----------------------------------------------------------------

    async def credit(self, user_id: uuid.UUID, credits: int) -> None:
        """Add ``credits`` to the available balance (opening the account if needed)."""
        await self.session.execute(
            insert(Account)
            .values(user_id=user_id, available=credits)
            .on_conflict_do_update(
                index_elements=[Account.user_id],
                set_={"available": Account.available + credits, "updated_at": func.now()},
            )
        )

    async def available_locked(self, user_id: uuid.UUID) -> int:
        """The available credits, with the account row locked (0 without an account)."""
        available = await self.session.scalar(
            select(Account.available).where(Account.user_id == user_id).with_for_update()
        )
        return available or 0

    async def debit(self, user_id: uuid.UUID, credits: int) -> None:
        """Take ``credits`` off the available balance (the caller checked they are there)."""
        await self.session.execute(
            update(Account)
            .where(Account.user_id == user_id)
            .values(available=Account.available - credits, updated_at=func.now())
        )

    async def balance(self, user_id: uuid.UUID) -> AccountBalance:
        """The user's balance (zero for someone who never bought)."""
        account = (
            await self.session.execute(
                select(Account.available, Account.held, Account.open_disputes).where(
                    Account.user_id == user_id
                )
            )
        ).first()
        if account is None:
            return AccountBalance()
        return AccountBalance(account.available, account.held, account.open_disputes)

    async def change_disputes(self, user_id: uuid.UUID, delta: int) -> None:
        """Count a dispute opened (+1) or closed (-1); never below zero."""
        await self.session.execute(
            insert(Account)
            .values(user_id=user_id, open_disputes=max(delta, 0))
            .on_conflict_do_update(
                index_elements=[Account.user_id],
                set_={
                    "open_disputes": func.greatest(Account.open_disputes + delta, 0),
                    "updated_at": func.now(),
                },
            )
        )

    def add_entry(
        self,
        user_id: uuid.UUID,
        kind: EntryKind,
        credits: int,
        *,
        payment_id: uuid.UUID | None = None,
        hold_id: uuid.UUID | None = None,
        generation_id: uuid.UUID | None = None,
        note: str | None = None,
    ) -> None:
        """Append a ledger entry (written with the transaction)."""
        self.session.add(
            LedgerEntry(
                user_id=user_id,
                kind=kind.value,
                credits=credits,
                payment_id=payment_id,
                hold_id=hold_id,
                generation_id=generation_id,
                note=note,
            )
        )

    # --- holds ---------------------------------------------------------------------------------

    async def insert_hold(
        self, user_id: uuid.UUID, generation_id: uuid.UUID, credits: int, ttl: timedelta
    ) -> uuid.UUID | None:
        """A new held hold's id; None when the generation already has one."""
        inserted: uuid.UUID | None = await self.session.scalar(
            insert(Hold)
            .values(
                id=uuid.uuid4(),
                generation_id=generation_id,
                user_id=user_id,
                credits=credits,
                status=HoldStatus.HELD.value,
                expires_at=datetime.now(UTC) + ttl,
            )
            .on_conflict_do_nothing(index_elements=[Hold.generation_id])
            .returning(Hold.id)
        )
        return inserted

    async def debit_for_hold(self, user_id: uuid.UUID, credits: int) -> bool:
        """Move ``credits`` from available to held; False when unaffordable or frozen."""
        debited = await self.session.execute(
            update(Account)
            .where(Account.user_id == user_id, Account.available >= credits, Account.open_disputes == 0)
            .values(available=Account.available - credits, held=Account.held + credits, updated_at=func.now())
            .returning(Account.available)
        )
        return debited.first() is not None

    async def hold_owner(self, generation_id: uuid.UUID) -> uuid.UUID | None:
        """The user of a generation's hold (unlocked)."""
        owner: uuid.UUID | None = await self.session.scalar(
            select(Hold.user_id).where(Hold.generation_id == generation_id)
        )
        return owner

    async def hold(self, generation_id: uuid.UUID, *, lock: bool = False) -> HoldView | None:
        """The hold of a generation (row-locked when ``lock``)."""
        query = select(*_HOLD_COLUMNS).where(Hold.generation_id == generation_id)
        row = (await self.session.execute(query.with_for_update() if lock else query)).first()
        if row is None:
            return None
        return HoldView(row.id, row.generation_id, row.user_id, row.credits, row.status)

    async def capture_hold(self, hold: HoldView) -> None:
        """Mark a locked hold captured and drop its credits from the held balance."""
        await self.session.execute(
            update(Hold)
            .where(Hold.id == hold.hold_id)
            .values(status=HoldStatus.CAPTURED.value, settled_at=datetime.now(UTC))
        )
        await self.session.execute(
            update(Account)
            .where(Account.user_id == hold.user_id)
            .values(held=Account.held - hold.credits, updated_at=func.now())
        )

    async def void_hold(self, hold: HoldView, reason: str) -> None:
        """Mark a locked hold voided and give its credits back to the available balance."""
        await self.session.execute(
            update(Hold)
            .where(Hold.id == hold.hold_id)
            .values(status=HoldStatus.VOIDED.value, reason=reason, settled_at=datetime.now(UTC))
        )
        await self.session.execute(
            update(Account)
            .where(Account.user_id == hold.user_id)
            .values(
                available=Account.available + hold.credits,
                held=Account.held - hold.credits,
                updated_at=func.now(),
            )
        )

    async def expired_hold_ids(self, limit: int) -> list[uuid.UUID]:
        """Generation ids of held holds past their deadline, oldest deadline first."""
        return list(
            (
                await self.session.scalars(
                    select(Hold.generation_id)
                    .where(Hold.status == HoldStatus.HELD.value, Hold.expires_at < func.now())
                    .order_by(Hold.expires_at)
                    .limit(limit)
                )
            ).all()
        )

    async def outstanding(self) -> tuple[int, int]:
        """``(holds, credits)`` of holds not yet captured or voided (for ``/metrics``)."""
        row = (
            await self.session.execute(
                select(func.count(), func.coalesce(func.sum(Hold.credits), 0)).where(
                    Hold.status == HoldStatus.HELD.value
                )
            )
        ).one()
        return int(row[0]), int(row[1])
