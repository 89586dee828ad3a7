"""The outbox and inbox tables every service database has."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID


def add_messaging_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    """Declare ``outbox``, ``inbox`` and ``sweep_run`` on a service's metadata."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("routing_key", String(200), nullable=False),
        Column("body", Text, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("available_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text),
        Column("sent_at", DateTime(timezone=True)),
    )
    Index(
        "ix_outbox_pending",
        outbox.c.available_at,
        outbox.c.id,
        postgresql_where=outbox.c.sent_at.is_(None),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(200), nullable=False),
        Column("event_id", UUID(as_uuid=True), nullable=False),
        Column("routing_key", String(200), nullable=False),
        Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
    )
    sweep_run = Table(
        "sweep_run",
        metadata,
        Column("name", String(100), primary_key=True),
        Column("started_at", DateTime(timezone=True), nullable=False),
        Column("finished_at", DateTime(timezone=True)),
        Column("counts", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("error", Text),
    )
    return outbox, inbox, sweep_run


def create_messaging_tables_v1() -> None:
    """Create outbox, inbox and sweep_run (shape v1) inside a service's Alembic migration.

    Written out rather than derived from :func:`add_messaging_tables`, so an old migration keeps
    creating the shape it was written for.
    """
    from alembic import op

    op.create_table(
        "outbox",
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=True), nullable=False),
        Column("routing_key", String(200), nullable=False),
        Column("body", Text, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("available_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text),
        Column("sent_at", DateTime(timezone=True)),
    )
    op.create_unique_constraint("uq_outbox_event_id", "outbox", ["event_id"])
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["available_at", "id"],
        postgresql_where=text("sent_at IS NULL"),
    )
    op.create_table(
        "inbox",
        Column("consumer", String(200), nullable=False),
        Column("event_id", UUID(as_uuid=True), nullable=False),
        Column("routing_key", String(200), nullable=False),
        Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
    )
    op.create_table(
        "sweep_run",
        Column("name", String(100), primary_key=True),
        Column("started_at", DateTime(timezone=True), nullable=False),
        Column("finished_at", DateTime(timezone=True)),
        Column("counts", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("error", Text),
    )


def drop_messaging_tables_v1() -> None:
    """Drop outbox and inbox in an Alembic downgrade."""
    from alembic import op

    op.drop_table("sweep_run")
    op.drop_table("inbox")
    op.drop_table("outbox")
