"""HTTP routes of the billing service: parse, call a handler, return."""

from __future__ import annotations

from fastapi import APIRouter

from .routes.internal import add_internal_routes
from .routes.local_checkout import add_local_checkout_routes
from .routes.ops import ops_routes
from .routes.public import add_public_routes
from .settings import BillingSettings


def build_router(settings: BillingSettings) -> APIRouter:
    """Every route of the billing service."""
    router = APIRouter(tags=["billing"])
    add_public_routes(router)
    add_local_checkout_routes(router)
    add_internal_routes(router, settings)
    router.include_router(ops_routes())
    return router
