"""An erasure row forgets the user id once its receipt is out.

Revision ID: generation_0003
Revises: generation_0002
Create Date: 2026-11-28
"""

from alembic import op

revision = "generation_0003"
down_revision = "generation_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("generation_erasure", "user_id", nullable=True)
    op.execute("UPDATE generation_erasure SET user_id = NULL WHERE completed_at IS NOT NULL")


def downgrade() -> None:
    op.execute("DELETE FROM generation_erasure WHERE user_id IS NULL")
    op.alter_column("generation_erasure", "user_id", nullable=False)
