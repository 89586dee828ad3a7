"""HTTP routes of the privacy service, one room per audience: parse, call a handler, return."""

from __future__ import annotations

from fastapi import APIRouter

from ..settings import PrivacySettings
from . import internal, ops, public


def build_router(settings: PrivacySettings) -> APIRouter:
    """Every route of the privacy service (the routers are the same whatever the settings)."""
    router = APIRouter()
    router.include_router(public.router)
    router.include_router(internal.router)
    router.include_router(ops.router)
    return router
