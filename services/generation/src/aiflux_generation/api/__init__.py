"""The generation service's HTTP routes: public (/v1), internal and ops rooms."""

from __future__ import annotations

from fastapi import APIRouter

from ..settings import GenerationSettings
from . import internal, ops, public


def build_router(settings: GenerationSettings) -> APIRouter:
    """Every route of the generation service (the same for every settings today)."""
    del settings  # no route depends on settings; the signature is every service's
    router = APIRouter()
    router.include_router(public.router)
    router.include_router(internal.router)
    router.include_router(ops.router)
    return router
