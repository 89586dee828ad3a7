"""The event catalog matches the code: every event that must reach someone has a subscriber."""

from __future__ import annotations

from pathlib import Path

from aiflux_contracts import CATALOG
from aiflux_kit.bus.local import LocalBroker
from aiflux_kit.ratelimit import RateLimiter
from aiflux_kit.service import Platform
from aiflux_runner.services import SERVICES, builder, settings_class


def subscribed_routing_keys(tmp_path: Path) -> dict[str, set[str]]:
    platform = Platform(
        mode="embedded",
        broker=LocalBroker("postgresql+psycopg:///unused"),
        limiter=RateLimiter.from_url(None),
        data_dir=tmp_path,
    )
    consumers: dict[str, set[str]] = {}
    for service in SERVICES:
        unit = builder(service)(platform, settings_class(service)(env="test"))
        for subscription in unit.subscriptions:
            for event in subscription.events:
                consumers.setdefault(event.routing_key(), set()).add(service)
    return consumers


def test_every_event_that_must_be_delivered_has_a_subscriber(tmp_path: Path):
    consumers = subscribed_routing_keys(tmp_path)
    orphans = sorted(key for key, cls in CATALOG.items() if not cls.informational and key not in consumers)
    assert orphans == [], (
        "no service subscribes to these events; subscribe or mark them informational in libs/contracts"
    )


def test_subscriptions_only_name_events_of_the_catalog(tmp_path: Path):
    assert set(subscribed_routing_keys(tmp_path)) <= set(CATALOG)
