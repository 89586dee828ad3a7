"""Reads outside transactions, and what happens when PostgreSQL drops a pooled connection now
that the pool no longer pings on every checkout."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest
from aiflux_kit import db as kit_db
from aiflux_kit.db import Database, psycopg_conninfo
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

pytestmark = [pytest.mark.needs_postgres]


@pytest.fixture
async def database(pg_database) -> AsyncIterator[Database]:  # type: ignore[no-untyped-def]
    made = Database(pg_database("reads"), pool_size=1)
    yield made
    await made.dispose()


async def _pid(session: AsyncSession) -> int:
    pid: int = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    return pid


def _terminate(database: Database, pid: int) -> None:
    """End a backend as a PostgreSQL restart (or an operator) would."""
    with psycopg.connect(psycopg_conninfo(database.url), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


async def test_a_read_runs_each_statement_on_its_own(database: Database) -> None:
    async with database.read() as session:
        first = (await session.execute(text("SELECT now()"))).scalar_one()
        await session.execute(text("SELECT pg_sleep(0.01)"))
        second = (await session.execute(text("SELECT now()"))).scalar_one()
    assert second > first  # now() is the transaction's start: each statement was one
    async with database.transaction() as session:
        first = (await session.execute(text("SELECT now()"))).scalar_one()
        await session.execute(text("SELECT pg_sleep(0.01)"))
        second = (await session.execute(text("SELECT now()"))).scalar_one()
    assert second == first  # and a transaction is still one


async def test_a_read_on_a_dropped_connection_is_retried_once(database: Database) -> None:
    async with database.read() as session:
        dropped = await _pid(session)
    _terminate(database, dropped)  # the pooled connection is dead; nothing pings it now

    pid = await database.run_read(_pid)

    assert pid != dropped


async def test_a_first_row_read_answers_without_a_transaction_and_survives_a_dropped_connection(
    database: Database,
) -> None:
    statement = text("SELECT pg_backend_pid() AS pid, now() = statement_timestamp() AS alone")
    row = await database.first_row(statement, {})
    assert row is not None and row.alone, "no transaction around it: now() is the statement's time"
    _terminate(database, row.pid)

    again = await database.first_row(statement, {})

    assert again is not None and again.pid != row.pid
    assert await database.first_row(text("SELECT 1 WHERE false"), {}) is None


async def test_a_write_on_a_dropped_connection_fails_once_then_the_pool_is_renewed(
    database: Database,
) -> None:
    async with database.transaction() as session:
        dropped = await _pid(session)
    _terminate(database, dropped)

    with pytest.raises(sa_exc.OperationalError):  # answered as a 503 by the problem handlers
        async with database.transaction() as session:
            await _pid(session)
    async with database.transaction() as session:
        assert await _pid(session) != dropped


async def test_a_connection_idle_long_enough_is_pinged_and_replaced(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.transaction() as session:
        dropped = await _pid(session)
    _terminate(database, dropped)
    monkeypatch.setattr(kit_db, "IDLE_PING_S", 0.0)  # it has sat in the pool long enough

    async with database.transaction() as session:  # no error: the ping found it dead
        assert await _pid(session) != dropped
