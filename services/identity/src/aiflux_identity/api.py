"""HTTP routes of the identity service: parse, call a handler, return."""

from __future__ import annotations

from fastapi import APIRouter


def build_router() -> APIRouter:
    """Every route of the identity service."""
    return APIRouter(tags=["identity"])
