"""Alembic environment of the billing service."""

from aiflux_billing.adapters.orm import Base
from aiflux_kit.migrations import run_env

run_env(Base.metadata)
