"""Text results are kept on the generation row (storage keeps media files only).

Revision ID: generation_0004
Revises: generation_0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "generation_0004"
down_revision = "generation_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("generation", sa.Column("output_text", sa.Text))


def downgrade() -> None:
    op.drop_column("generation", "output_text")
