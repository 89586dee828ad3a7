"""HTTP routes of the identity service: public ``/v1/...``, ``/internal/identity/...`` and
``/v1/ops/identity/...``, each in its own module with a module-level router."""

from __future__ import annotations

from fastapi import APIRouter

from ..settings import IdentitySettings
from . import internal, ops, public


def build_router(settings: IdentitySettings) -> APIRouter:
    """Every route of the identity service (``settings`` is read per request, not here)."""
    router = APIRouter()
    router.include_router(public.router)
    router.include_router(ops.router)
    router.include_router(internal.router)
    return router
