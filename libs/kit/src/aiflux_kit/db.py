"""One async SQLAlchemy engine per service, each service in its own database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import MetaData, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext import asyncio as sqlalchemy_asyncio
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlalchemy.orm import DeclarativeBase

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
    """A service's engine and session factory."""

    def __init__(self, url: str, *, pool_size: int = 5) -> None:
        self.url = url
        # hide_parameters: a database error must never carry bound values (emails, prompts)
        # into logs or dead-letter headers.
        # Looked up when called, so OpenTelemetry's SQLAlchemy instrumentation (on when traces
        # are exported: aiflux_kit.tracing_export) can wrap it.
        self.engine: AsyncEngine = sqlalchemy_asyncio.create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            hide_parameters=True,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        """True when the database answers."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


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
