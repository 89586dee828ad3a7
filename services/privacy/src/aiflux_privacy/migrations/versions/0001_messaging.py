"""Outbox, inbox and sweep runs.

Revision ID: privacy_0001
Revises:
Create Date: 2026-11-27
"""

from aiflux_kit.messaging_tables import create_messaging_tables_v1, drop_messaging_tables_v1

revision = "privacy_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1()


def downgrade() -> None:
    drop_messaging_tables_v1()
