"""HTTP routes of the billing service: parse, call a handler, return."""

from __future__ import annotations

from fastapi import APIRouter

from ..settings import BillingSettings
from . import internal, ops, public


def build_router(settings: BillingSettings) -> APIRouter:
    """Every route of the billing service (the settings are read per request, from the
    container)."""
    router = APIRouter(tags=["billing"])
    router.include_router(public.router)
    router.include_router(internal.router)
    router.include_router(ops.router)
    return router
