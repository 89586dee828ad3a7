"""HTTP routes of the privacy service: parse, call a handler, return."""

from __future__ import annotations

from fastapi import APIRouter

from .routes import ops, public


def build_router() -> APIRouter:
    """Every route of the privacy service."""
    router = APIRouter()
    router.include_router(public.router())
    router.include_router(ops.router())
    return router
