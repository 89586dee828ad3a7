"""Alembic environment of the billing service."""

from aiflux_kit.migrations import run_env

from aiflux_billing.adapters.orm import Base

run_env(Base.metadata)
