"""HTTP routes of the generation service: parse, call a handler, return."""

from __future__ import annotations

from fastapi import APIRouter


def build_router() -> APIRouter:
    """Every route of the generation service."""
    return APIRouter(tags=["generation"])
