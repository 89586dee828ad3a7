"""HTTP routes of the privacy service: parse, call a handler, return."""

from __future__ import annotations

from fastapi import APIRouter


def build_router() -> APIRouter:
    """Every route of the privacy service."""
    return APIRouter(tags=["privacy"])
