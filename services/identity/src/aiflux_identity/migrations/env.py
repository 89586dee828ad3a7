"""Alembic environment of the identity service."""

from aiflux_kit.migrations import run_env

from aiflux_identity.adapters.orm import Base

run_env(Base.metadata)
