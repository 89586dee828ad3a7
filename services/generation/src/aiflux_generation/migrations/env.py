"""Alembic environment of the generation service."""

from aiflux_kit.migrations import run_env

from aiflux_generation.adapters.orm import Base

run_env(Base.metadata)
