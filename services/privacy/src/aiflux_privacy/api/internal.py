"""Internal routes under /internal/privacy (service-token guarded).

Privacy offers none today: the other services talk to it only through events (receipts,
verifications, export parts). The router stays so every service has the same rooms.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/internal/privacy", tags=["internal: privacy"])
