"""Balances, ledger, holds, payments, disputes, Stripe events, simulated sessions, receipts.

Revision ID: billing_0002
Revises: billing_0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "billing_0002"
down_revision = "billing_0001"
branch_labels = None
depends_on = None


def _now() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("user_id", sa.Uuid(), primary_key=True),
        sa.Column("available", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("held", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("open_disputes", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("available >= 0", name="available_not_negative"),
        sa.CheckConstraint("held >= 0", name="held_not_negative"),
        sa.CheckConstraint("open_disputes >= 0", name="open_disputes_not_negative"),
    )
    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Uuid()),
        sa.Column("hold_id", sa.Uuid()),
        sa.Column("generation_id", sa.Uuid()),
        sa.Column("note", sa.Text()),
        _now(),
    )
    op.create_index(
        "uq_ledger_entry_purchase",
        "ledger_entry",
        ["payment_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'purchase'"),
    )
    op.create_index(
        "uq_ledger_entry_spend",
        "ledger_entry",
        ["hold_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'spend'"),
    )
    op.create_index("ix_ledger_entry_user", "ledger_entry", ["user_id", "id"])
    op.create_table(
        "hold",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("generation_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("user_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _now(),
        sa.Column("settled_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("credits > 0", name="credits_positive"),
    )
    op.create_index("ix_hold_expiry", "hold", ["expires_at"], postgresql_where=sa.text("status = 'held'"))
    op.create_table(
        "payment",
        sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False, unique=True),
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), index=True),
        sa.Column("stripe_session_id", sa.String(255), unique=True),
        sa.Column("plan_id", sa.String(40), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("fulfilled_via", sa.String(20)),
        sa.Column("refunded_amount", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("credits_reversed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("credits_unrecovered", sa.Integer(), nullable=False, server_default="0"),
        _now(),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True)),
        sa.Column("pseudonymised_at", sa.DateTime(timezone=True)),
        sa.Column("retain_until", sa.Date(), nullable=False, index=True),
    )
    op.create_table(
        "dispute",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("payment_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("credits_reversed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("credits_unrecovered", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "stripe_event",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "simulated_checkout_session",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("created", sa.BigInteger(), nullable=False, index=True),
        sa.Column("payment_intent", sa.String(255), index=True),
        sa.Column("body", JSONB(), nullable=False),
        sa.Column("pay_token_hash", sa.String(64)),
    )
    op.create_table(
        "erasure_receipt",
        sa.Column("request_id", sa.Uuid(), primary_key=True),
        sa.Column("deleted", JSONB(), nullable=False),
        sa.Column("retained", JSONB(), nullable=False),
        _now(),
    )


def downgrade() -> None:
    for table in (
        "erasure_receipt",
        "simulated_checkout_session",
        "stripe_event",
        "dispute",
        "payment",
        "hold",
        "ledger_entry",
        "account",
    ):
        op.drop_table(table)
