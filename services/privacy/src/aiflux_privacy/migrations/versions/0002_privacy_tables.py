"""Requests, steps, consent ledger, restrictions, policy versions, campaigns, minor reports.

Revision ID: privacy_0002
Revises: privacy_0001
Create Date: 2026-11-28
"""

from datetime import UTC, datetime
from importlib import resources

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "privacy_0002"
down_revision = "privacy_0001"
branch_labels = None
depends_on = None

INITIAL_VERSION = "2026-05-09"


def _ts(name: str, nullable: bool = True, default: bool = False) -> sa.Column:
    return sa.Column(
        name, sa.DateTime(timezone=True), nullable=nullable, server_default=sa.func.now() if default else None
    )


def upgrade() -> None:
    op.create_table(
        "privacy_request",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True)),
        sa.Column("subject_hash", sa.String(64)),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("source", sa.String(30), nullable=False, server_default="request"),
        sa.Column("details", sa.Text),
        _ts("received_at", False, True),
        _ts("due_at", False),
        _ts("extended_at"),
        sa.Column("extension_reason", sa.Text),
        sa.Column("outcome", sa.String(20)),
        sa.Column("answer", sa.Text),
        _ts("closed_at"),
        _ts("progress_at", False, True),
        sa.Column("redrives", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("certificate", JSONB),
        _ts("archive_expires_at"),
    )
    op.create_index("ix_privacy_request_user_id", "privacy_request", ["user_id"])
    op.create_index("ix_privacy_request_open_due", "privacy_request", ["status", "due_at"])
    op.create_table(
        "request_step",
        sa.Column("request_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("service", sa.String(20), primary_key=True),
        sa.Column("receipt", JSONB),
        _ts("receipt_at"),
        sa.Column("verification", JSONB),
        _ts("verified_at"),
        sa.Column("clean", sa.Boolean),
    )
    op.create_table(
        "consent_record",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("subject_id", UUID(as_uuid=True), nullable=False),
        sa.Column("subject_kind", sa.String(10), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("policy_version", sa.String(40)),
        sa.Column("source", sa.String(40), nullable=False),
        _ts("recorded_at", False, True),
    )
    op.create_index("ix_consent_record_subject", "consent_record", ["subject_id", "purpose", "id"])
    op.create_table(
        "consent_link",
        sa.Column("anonymous_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        _ts("linked_at", False, True),
    )
    op.create_index("ix_consent_link_user_id", "consent_link", ["user_id"])
    op.create_table(
        "restriction",
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("request_id", UUID(as_uuid=True), nullable=False),
        _ts("since", False, True),
    )
    versions = op.create_table(
        "policy_version",
        sa.Column("version", sa.String(40), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("substantial", sa.Boolean, nullable=False),
        _ts("effective_at", False),
        _ts("published_at", False, True),
        sa.Column("published_by", UUID(as_uuid=True)),
    )
    op.create_table(
        "marketing_campaign",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("recipients", sa.Integer, nullable=False),
        sa.Column("sent_by", UUID(as_uuid=True), nullable=False),
        _ts("created_at", False, True),
    )
    op.create_table(
        "minor_report",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("details", sa.Text),
        sa.Column("status", sa.String(20), nullable=False, server_default="open"),
        sa.Column("user_id", UUID(as_uuid=True)),
        sa.Column("decision_reason", sa.Text),
        _ts("decided_at"),
        sa.Column("erasure_request_id", UUID(as_uuid=True)),
        _ts("created_at", False, True),
    )
    text = resources.files("aiflux_privacy.domain.data").joinpath(f"policy-{INITIAL_VERSION}.txt").read_text()
    op.bulk_insert(
        versions,
        [
            {
                "version": INITIAL_VERSION,
                "text": text,
                "substantial": True,
                "effective_at": datetime(2026, 5, 9, tzinfo=UTC),
                "published_at": datetime(2026, 5, 9, tzinfo=UTC),
            }
        ],
    )


def downgrade() -> None:
    for table in (
        "minor_report",
        "marketing_campaign",
        "policy_version",
        "restriction",
        "consent_link",
        "consent_record",
        "request_step",
        "privacy_request",
    ):
        op.drop_table(table)
