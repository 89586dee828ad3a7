"""Tables of the generation service (created by Alembic revisions, never ``create_all``)."""

from __future__ import annotations

import sqlalchemy as sa
from aiflux_kit.db import make_base
from sqlalchemy.dialects.postgresql import JSONB, UUID

Base = make_base()
metadata = Base.metadata

NOW = sa.text("now()")

generation = sa.Table(
    "generation",
    metadata,
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
    sa.Column("output_text", sa.Text),
    sa.Column("failure_reason", sa.Text),
    sa.Column("submit_started_at", sa.DateTime(timezone=True)),
    sa.Column("poll_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("repeat_of", UUID(as_uuid=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
)

processing_restriction = sa.Table(
    "processing_restriction",
    metadata,
    sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("restricted_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
)

provider_cleanup = sa.Table(
    "provider_cleanup",
    metadata,
    sa.Column("cleanup_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("generation_id", UUID(as_uuid=True), nullable=False),
    sa.Column("user_id", UUID(as_uuid=True), index=True),
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
)

generation_erasure = sa.Table(
    "generation_erasure",
    metadata,
    sa.Column("request_id", UUID(as_uuid=True), primary_key=True),
    # Cleared once the receipt is published: the request id alone proves the erasure.
    sa.Column("user_id", UUID(as_uuid=True)),
    sa.Column("deleted", JSONB, nullable=False),
    sa.Column("cleanup_ids", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("completed_at", sa.DateTime(timezone=True)),
)
