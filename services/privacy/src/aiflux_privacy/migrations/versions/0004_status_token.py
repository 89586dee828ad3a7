"""The status link of an erasure: only the sha256 of its token is stored.

Revision ID: privacy_0004
Revises: privacy_0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "privacy_0004"
down_revision = "privacy_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("privacy_request", sa.Column("status_token_sha256", sa.String(64)))


def downgrade() -> None:
    op.drop_column("privacy_request", "status_token_sha256")
