"""Event subscriptions of the generation service: decode (done by the kit), call a handler."""

from __future__ import annotations

from typing import Any

from aiflux_kit.consumers import Subscription


def subscriptions(container: Any) -> list[Subscription[Any]]:
    """What the generation service consumes."""
    return []
