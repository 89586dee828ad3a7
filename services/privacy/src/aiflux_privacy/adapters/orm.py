"""Tables of the privacy service.

No table holds an email address or a name: those live only in identity. ``user_id`` columns are
erased (rows deleted, or set to NULL with only a peppered hash kept) by the erasure cascade.
"""

from __future__ import annotations

from typing import Any

from aiflux_kit.db import make_base
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

Base = make_base()
metadata = Base.metadata


def _now() -> Column[Any]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


privacy_request = Table(
    "privacy_request",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    # NULL once an erasure completed: only ``subject_hash`` (peppered sha256) remains.
    Column("user_id", UUID(as_uuid=True), index=True),
    Column("subject_hash", String(64)),
    Column("type", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("source", String(30), nullable=False, server_default="request"),
    Column("details", Text),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("extended_at", DateTime(timezone=True)),
    Column("extension_reason", Text),
    Column("outcome", String(20)),
    Column("answer", Text),
    Column("closed_at", DateTime(timezone=True)),
    Column("progress_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("redrives", Integer, nullable=False, server_default=text("0")),
    Column("certificate", JSONB(none_as_null=True)),
    Column("archive_expires_at", DateTime(timezone=True)),
    # sha256 of the token of the erasure's status link (the token itself is only the user's).
    Column("status_token_sha256", String(64)),
)
Index("ix_privacy_request_open_due", privacy_request.c.status, privacy_request.c.due_at)

# One row per (request, service): the erasure receipt, the verification, or the export part.
request_step = Table(
    "request_step",
    metadata,
    Column("request_id", UUID(as_uuid=True), primary_key=True),
    Column("service", String(20), primary_key=True),
    Column("receipt", JSONB(none_as_null=True)),
    Column("receipt_at", DateTime(timezone=True)),
    Column("verification", JSONB(none_as_null=True)),
    Column("verified_at", DateTime(timezone=True)),
    Column("clean", Boolean),
)

consent_record = Table(
    "consent_record",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("subject_id", UUID(as_uuid=True), nullable=False),
    Column("subject_kind", String(10), nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("policy_version", String(40)),
    Column("source", String(40), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_consent_record_subject", consent_record.c.subject_id, consent_record.c.purpose, consent_record.c.id)

consent_link = Table(
    "consent_link",
    metadata,
    Column("anonymous_id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("linked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

restriction = Table(
    "restriction",
    metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("request_id", UUID(as_uuid=True), nullable=False),
    Column("since", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

policy_version = Table(
    "policy_version",
    metadata,
    Column("version", String(40), primary_key=True),
    Column("text", Text, nullable=False),
    Column("substantial", Boolean, nullable=False),
    Column("effective_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_by", UUID(as_uuid=True)),
)

marketing_campaign = Table(
    "marketing_campaign",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("subject", Text, nullable=False),
    Column("recipients", Integer, nullable=False),
    Column("sent_by", UUID(as_uuid=True), nullable=False),
    _now(),
)

minor_report = Table(
    "minor_report",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("account", String(200), nullable=False),
    Column("details", Text),
    Column("status", String(20), nullable=False, server_default="open"),
    Column("user_id", UUID(as_uuid=True)),
    Column("decision_reason", Text),
    Column("decided_at", DateTime(timezone=True)),
    Column("erasure_request_id", UUID(as_uuid=True)),
    _now(),
)
