"""The erasure guard: a write for a user that races the user's erasure either lands before the
erasure (which then deletes it) or is refused; the erasure forgets the user's published events."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiflux_contracts import UserDeleted
from aiflux_kit.db import Database
from aiflux_kit.erasure import (
    forget_expired_guards,
    guard_user,
    is_erased,
    messaging_residue,
    refuse_if_erased,
)
from aiflux_kit.errors import Problem
from aiflux_kit.outbox import add_event
from sqlalchemy import text

pytestmark = pytest.mark.needs_postgres


async def _make_notes(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE IF NOT EXISTS note (user_id uuid, body text)"))


async def _notes_of(db: Database, user_id: uuid.UUID) -> int:
    async with db.transaction() as session:
        return int(
            (
                await session.execute(text("SELECT count(*) FROM note WHERE user_id = :u"), {"u": user_id})
            ).scalar_one()
        )


async def test_a_write_past_its_check_finishes_before_the_erasure_deletes(service_db: Database):
    await _make_notes(service_db)
    user_id = uuid.uuid4()
    checked, erasure_started = asyncio.Event(), asyncio.Event()

    async def late_upload() -> None:
        async with service_db.transaction() as session:
            await refuse_if_erased(session, user_id)
            checked.set()
            await erasure_started.wait()
            await asyncio.sleep(0.3)  # the erasure is waiting on the lock meanwhile
            await session.execute(text("INSERT INTO note VALUES (:u, 'late')"), {"u": user_id})

    async def erase() -> int:
        await checked.wait()
        async with service_db.transaction() as session:
            erasure_started.set()
            await guard_user(session, user_id, uuid.uuid4())
            result = await session.execute(text("DELETE FROM note WHERE user_id = :u"), {"u": user_id})
            return int(result.rowcount)

    _, deleted = await asyncio.gather(late_upload(), erase())
    assert deleted == 1, "the erasure ran before the write it raced had committed"
    assert await _notes_of(service_db, user_id) == 0


async def test_writes_after_the_guard_are_refused_with_410(service_db: Database):
    user_id, other = uuid.uuid4(), uuid.uuid4()
    async with service_db.transaction() as session:
        await guard_user(session, user_id, uuid.uuid4())
        await guard_user(session, user_id, uuid.uuid4())  # a re-drive guards again: no error
    async with service_db.transaction() as session:
        with pytest.raises(Problem) as refused:
            await refuse_if_erased(session, user_id)
        assert not await is_erased(session, other)
    assert refused.value.status == 410
    assert refused.value.slug == "account-erased"


async def test_published_events_naming_the_user_are_forgotten_unsent_ones_counted(service_db: Database):
    user_id, other = uuid.uuid4(), uuid.uuid4()
    async with service_db.transaction() as session:
        for who in (user_id, user_id, other):
            await add_event(session, UserDeleted(user_id=who, request_id=uuid.uuid4(), reason="user_request"))
        await session.execute(
            text("UPDATE outbox SET sent_at = now() WHERE id IN (SELECT min(id) FROM outbox)")
        )  # one of the user's is sent
        await guard_user(session, user_id, uuid.uuid4())
    async with service_db.transaction() as session:
        residue = await messaging_residue(session, user_id)
    assert residue == {"outbox_events": 1, "erasure_guard": 1}
    async with service_db.transaction() as session:
        left = (await session.execute(text("SELECT count(*) FROM outbox"))).scalar_one()
    assert left == 2, "the other user's event or the unsent one was deleted"


async def test_guards_expire(service_db: Database):
    user_id = uuid.uuid4()
    async with service_db.transaction() as session:
        await guard_user(session, user_id, uuid.uuid4())
        await session.execute(text("UPDATE erased_user SET erased_at = now() - interval '31 days'"))
    async with service_db.transaction() as session:
        assert await forget_expired_guards(session) == 1
        assert not await is_erased(session, user_id)
