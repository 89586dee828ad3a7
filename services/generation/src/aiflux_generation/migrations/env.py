"""Alembic environment of the generation service."""

from aiflux_generation.adapters.orm import Base
from aiflux_kit.migrations import run_env

run_env(Base.metadata)
