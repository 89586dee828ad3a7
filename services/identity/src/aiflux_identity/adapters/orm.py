"""Tables of the identity service."""

from __future__ import annotations

from aiflux_kit.db import make_base
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

Base = make_base()
metadata = Base.metadata

users = Table(
    "users",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("username", String(32), nullable=False),
    Column("email", String(320), nullable=False),
    Column("email_verified", Boolean, nullable=False, server_default=text("false")),
    Column("password_hash", String(100), nullable=False),
    Column("roles", ARRAY(String(32)), nullable=False, server_default=text("'{}'")),
    Column("accepted_policy_version", String(64), nullable=False),
    Column("accepted_policy_at", DateTime(timezone=True), nullable=False),
    Column("marketing_opt_in", Boolean, nullable=False),
    Column("age_confirmed_on", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("suspended_at", DateTime(timezone=True)),
    Column("deleted_at", DateTime(timezone=True)),
    Column("deletion_request_id", UUID(as_uuid=True)),
)
# Disabled (deleted) rows wait for the purge; their names and addresses may be reused meanwhile.
Index(
    "uq_users_username_active",
    func.lower(users.c.username),
    unique=True,
    postgresql_where=users.c.deleted_at.is_(None),
)
Index("uq_users_email_active", users.c.email, unique=True, postgresql_where=users.c.deleted_at.is_(None))

sessions = Table(
    "sessions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "user_id", UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("csrf_token_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_seen_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True)),
    Column("ip", String(64)),
    Column("user_agent", String(512)),
)

email_tokens = Table(
    "email_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column(
        "user_id", UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("purpose", String(16), nullable=False),  # verify | reset | email_change
    Column("new_email", String(320)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)

# No foreign key: the log outlives the account row (kept 12 months for security, §5).
security_log = Table(
    "security_log",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", UUID(as_uuid=True), index=True),
    Column("event", String(40), nullable=False),
    Column("ip", String(64)),
    Column("user_agent", String(512)),
    Column("detail", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("substantial", Boolean, nullable=False),
    Column("effective_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

policy_notices = Table(
    "policy_notices",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("total", Integer, nullable=False),
    Column("sent", Integer, nullable=False, server_default=text("0")),
    Column("last_user_id", UUID(as_uuid=True)),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
)
