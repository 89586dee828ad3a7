"""Stored files, generation links, export objects and erasure receipts.

Revision ID: storage_0002
Revises: storage_0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "storage_0002"
down_revision = "storage_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stored_file",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(30), nullable=False),
        sa.Column("generation_id", UUID(as_uuid=True)),
        sa.Column("object_key", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("object_key", name="uq_stored_file_object_key"),
    )
    op.create_index("ix_stored_file_user_id", "stored_file", ["user_id", "created_at"])
    op.create_index("ix_stored_file_generation_id", "stored_file", ["generation_id"])
    op.create_table(
        "file_link",
        sa.Column(
            "file_id",
            UUID(as_uuid=True),
            sa.ForeignKey("stored_file.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("generation_id", UUID(as_uuid=True), primary_key=True),
    )
    op.create_index("ix_file_link_generation", "file_link", ["generation_id"])
    op.create_table(
        "export_object",
        sa.Column("object_key", sa.String(700), primary_key=True),
        sa.Column("request_id", UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(600), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_export_object_request_id", "export_object", ["request_id"])
    op.create_index("ix_export_object_expires_at", "export_object", ["expires_at"])
    op.create_table(
        "export_request",
        sa.Column("request_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_export_request_user_id", "export_request", ["user_id"])
    op.create_table(
        "user_erasure",
        sa.Column("request_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("objects_deleted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("files_deleted", sa.Integer),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("user_erasure")
    op.drop_table("export_request")
    op.drop_table("export_object")
    op.drop_table("file_link")
    op.drop_table("stored_file")
