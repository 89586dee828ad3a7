"""One async SQLAlchemy engine per service, each service in its own database."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from sqlalchemy import Executable, MetaData, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Row, make_url
from sqlalchemy.ext import asyncio as sqlalchemy_asyncio
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlalchemy.orm import DeclarativeBase

T = TypeVar("T")

IDLE_PING_S = 10.0
"""A pooled connection unused for this long is pinged before it is handed out again (a busy
pool never pings: see :class:`Database`)."""

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_base() -> type[DeclarativeBase]:
    """A fresh declarative base for one service, with the kit's tables on it (outbox, inbox,
    sweep runs, the erasure guard)."""
    from .erasure import add_erased_user_table
    from .messaging_tables import add_messaging_tables

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)

    add_messaging_tables(Base.metadata)
    add_erased_user_table(Base.metadata)
    return Base


def psycopg_conninfo(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://...``) as a libpq connection string."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Database:
    """A service's engine and session factories: transactions for writes, autocommit
    sessions for pure reads.

    No pre-ping on every checkout (a round trip per transaction): a connection is pinged only
    when it sat unused in the pool for :data:`IDLE_PING_S` (where a restart or an idle timeout
    could have dropped it). A connection lost while the pool is busy fails its statement once;
    SQLAlchemy then renews every older pooled connection, the request answers the usual 503
    (``aiflux_kit.errors``), and :meth:`run_read` retries a read once by itself.
    """

    def __init__(self, url: str, *, pool_size: int = 5) -> None:
        self.url = url
        # At most 2 * pool_size connections for transactions, each kept once opened: SQLAlchemy
        # closes an "overflow" connection at every return, so a process busier than pool_size
        # opened and closed a PostgreSQL backend (a fork on the server) for nearly every request.
        self.engine: AsyncEngine = _pooled_engine(url, 2 * pool_size)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads have a pool of their own whose connections stay in autocommit: switching a
        # pooled connection to autocommit and back at every checkout cost ~100 us of CPU per
        # read (a third of a simple query), on the hottest path (session checks, balances).
        self.reader: AsyncEngine = _pooled_engine(url, pool_size, isolation_level="AUTOCOMMIT")
        self.read_sessions = async_sessionmaker(self.reader, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for pure reads on an autocommit connection: no BEGIN/COMMIT round trips,
        each statement sees the latest committed data. Never write through it (nothing would
        be atomic); a read that needs one snapshot across statements uses :meth:`transaction`.
        """
        async with self.read_sessions() as session:
            yield session

    async def run_read(self, read: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``read`` in a :meth:`read` session, run again once if the connection turned out to
        be dropped (a database restart): the pool has renewed its connections by then."""

        async def attempt() -> T:
            async with self.read() as session:
                return await read(session)

        return await _once_more_if_dropped(attempt)

    async def first_row(self, statement: Executable, params: Mapping[str, Any]) -> Row[Any] | None:
        """The first row of a Core read on an autocommit connection, without an ORM session (the
        hottest reads: a session costs more than the query), retried once like
        :meth:`run_read`."""

        async def attempt() -> Row[Any] | None:
            async with self.reader.connect() as conn:
                return (await conn.execute(statement, params)).first()

        return await _once_more_if_dropped(attempt)

    async def ping(self) -> bool:
        """True when the database answers (one round trip: no transaction)."""
        try:
            async with self.reader.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        await self.reader.dispose()


def _pooled_engine(url: str, size: int, **options: Any) -> AsyncEngine:
    """An engine keeping up to ``size`` connections, pinged only after sitting idle."""
    # hide_parameters: a database error must never carry bound values (emails, prompts) into
    # logs or dead-letter headers. Looked up when called, so OpenTelemetry's SQLAlchemy
    # instrumentation (on when traces are exported: aiflux_kit.tracing_export) can wrap it.
    engine = sqlalchemy_asyncio.create_async_engine(
        url, pool_size=size, max_overflow=0, pool_pre_ping=False, hide_parameters=True, **options
    )
    _ping_when_idle(engine)
    return engine


async def _once_more_if_dropped(attempt: Callable[[], Awaitable[T]]) -> T:
    """``attempt()``, run again once if its connection turned out to be dropped (a database
    restart): the pool has renewed its connections by then."""
    try:
        return await attempt()
    except sa_exc.DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    return await attempt()


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection before reuse only when it has been idle for a while."""
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _idle_since(dbapi_connection: Any, record: Any) -> None:
        record.info["aiflux_idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop("aiflux_idle_since", None)
        if since is None or time.monotonic() - since < IDLE_PING_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # Renew this and every older pooled connection (the database probably restarted).
            raise sa_exc.InvalidatePoolError() from exc


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` if it does not exist (connects to ``postgres``)."""
    target = make_url(url)
    assert target.database, f"no database named in {target!r}"
    admin = psycopg_conninfo(str(target.set(database="postgres").render_as_string(False)))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target.database,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.database)))


def drop_database(url: str) -> None:
    """Drop the database named in ``url`` (tests only), ending its connections first."""
    target = make_url(url)
    assert target.database, f"no database named in {target!r}"
    admin = psycopg_conninfo(str(target.set(database="postgres").render_as_string(False)))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target.database))
        )


def run_migrations(script_location: Path, url: str) -> None:
    """Upgrade the service database at ``url`` to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    ensure_database(url)
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
