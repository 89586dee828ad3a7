"""Operator routes of the storage service (``/v1/ops/storage/...``).

Storage has none of its own yet: the kit serves its outbox, dead letters and sweeps under the
same prefix for every service.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/ops/storage", tags=["storage: ops"])
