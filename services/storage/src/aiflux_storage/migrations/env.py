"""Alembic environment of the storage service."""

from aiflux_kit.migrations import run_env
from aiflux_storage.adapters.orm import Base

run_env(Base.metadata)
