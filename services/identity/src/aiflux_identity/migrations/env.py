"""Alembic environment of the identity service."""

from aiflux_identity.adapters.orm import Base
from aiflux_kit.migrations import run_env

run_env(Base.metadata)
