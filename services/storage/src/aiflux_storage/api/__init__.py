"""The storage service's routes: public, internal (peer services) and ops."""

from __future__ import annotations

from fastapi import APIRouter

from ..settings import StorageSettings
from . import internal, ops, public


def build_router(settings: StorageSettings) -> APIRouter:
    """Every route of the storage service (guards read their keys from the container)."""
    del settings  # the routes read everything from the container at request time
    router = APIRouter()
    router.include_router(public.router)
    router.include_router(internal.router)
    router.include_router(ops.router)
    return router
