"""Event subscriptions of the privacy service: decode (done by the kit), call a handler."""

from __future__ import annotations

from typing import Any

from aiflux_kit.consumers import Subscription


def subscriptions(container: Any) -> list[Subscription[Any]]:
    """What the privacy service consumes."""
    return []
