"""``/internal/generation/...``: none today (peers reach generation through events only)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/internal/generation", tags=["internal: generation"])
