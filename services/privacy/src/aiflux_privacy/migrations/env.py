"""Alembic environment of the privacy service."""

from aiflux_kit.migrations import run_env
from aiflux_privacy.adapters.orm import Base

run_env(Base.metadata)
