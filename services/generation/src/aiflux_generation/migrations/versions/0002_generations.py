"""Generations, processing restrictions, provider cleanups and erasure receipts.

Revision ID: generation_0002
Revises: generation_0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "generation_0002"
down_revision = "generation_0001"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "generation",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("modality", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("provider_model", sa.Text, nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("params", JSONB, nullable=False, server_default="{}"),
        sa.Column("input_file_ids", JSONB, nullable=False, server_default="[]"),
        sa.Column("credits", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("provider_job_id", sa.Text),
        sa.Column("provider_file_ids", JSONB, nullable=False, server_default="[]"),
        sa.Column("output_file_ids", JSONB, nullable=False, server_default="[]"),
        sa.Column("outputs_stored", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("failure_reason", sa.Text),
        sa.Column("submit_started_at", sa.DateTime(timezone=True)),
        sa.Column("poll_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("repeat_of", UUID(as_uuid=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('queued', 'running', 'completed', 'failed')", name="status"),
        sa.CheckConstraint("credits >= 0", name="credits"),
    )
    op.create_index("ix_generation_user_id", "generation", ["user_id", "created_at"])
    op.create_index(
        "ix_generation_due",
        "generation",
        ["next_check_at"],
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.create_table(
        "processing_restriction",
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("restricted_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_table(
        "provider_cleanup",
        sa.Column("cleanup_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("generation_id", UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", UUID(as_uuid=True)),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("provider_job_id", sa.Text),
        sa.Column("provider_file_ids", JSONB, nullable=False, server_default="[]"),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("last_error", sa.Text),
        sa.Column("strategy", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('pending', 'done', 'parked')", name="status"),
    )
    op.create_index("ix_provider_cleanup_user_id", "provider_cleanup", ["user_id"])
    op.create_index(
        "ix_provider_cleanup_due",
        "provider_cleanup",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "generation_erasure",
        sa.Column("request_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("deleted", JSONB, nullable=False),
        sa.Column("cleanup_ids", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("generation_erasure")
    op.drop_table("provider_cleanup")
    op.drop_table("processing_restriction")
    op.drop_table("generation")
