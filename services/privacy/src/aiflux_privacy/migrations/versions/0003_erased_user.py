"""The erasure guard: users being erased, so late writes for them are refused.

Revision ID: privacy_0003
Revises: privacy_0002
Create Date: 2026-12-01
"""

from aiflux_kit.erasure import create_erased_user_table_v1, drop_erased_user_table_v1

revision = "privacy_0003"
down_revision = "privacy_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_erased_user_table_v1()


def downgrade() -> None:
    drop_erased_user_table_v1()
