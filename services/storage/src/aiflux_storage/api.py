"""HTTP routes of the storage service: parse, call a handler, return."""

from __future__ import annotations

from fastapi import APIRouter


def build_router() -> APIRouter:
    """Every route of the storage service."""
    return APIRouter(tags=["storage"])
