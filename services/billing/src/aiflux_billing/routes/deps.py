"""Dependencies shared by the billing routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Query, Request

if TYPE_CHECKING:
    from ..bootstrap import BillingContainer



def _container(request: Request) -> BillingContainer:
    container: BillingContainer = request.app.state.services["billing"]
    return container


if TYPE_CHECKING:
    Container = Annotated[BillingContainer, Depends(_container)]
else:  # the container type is only needed by the type checker (no import cycle at runtime)
    Container = Annotated[Any, Depends(_container)]
"""The billing service's container (settings, database, checkout gateway)."""

Limit = Annotated[int, Query(ge=1, le=200)]
"""Page size of list routes."""

BIGINT_MAX = 2**63 - 1
"""The largest sequence number PostgreSQL's ``bigint`` holds: a larger cursor names no row."""

Cursor = Annotated[int | None, Query(ge=1, le=BIGINT_MAX,
                                     description="next_cursor of the previous page")]
"""Opaque position in a list (the last item's sequence number)."""


def page(items: list[dict[str, object]], cursors: list[int], limit: int) -> dict[str, object]:
    """``{items, next_cursor}`` from ``limit + 1`` fetched rows."""
    more = len(items) > limit
    return {"items": items[:limit], "next_cursor": str(cursors[limit - 1]) if more else None}
