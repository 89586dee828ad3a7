"""HTTP routes of the billing service: parse, call a handler, return."""

from __future__ import annotations

from fastapi import APIRouter


def build_router() -> APIRouter:
    """Every route of the billing service."""
    return APIRouter(tags=["billing"])
