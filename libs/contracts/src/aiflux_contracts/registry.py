"""The catalog of every event, keyed by routing key, and decoding of envelopes."""

from __future__ import annotations

from . import billing, generation, identity, privacy, receipts, storage
from .base import Envelope, Event


class UnknownEvent(LookupError):
    """An envelope names an event type/version/producer that is not in the catalog."""


def _collect() -> dict[str, type[Event]]:
    catalog: dict[str, type[Event]] = {}
    for module in (identity, billing, generation, storage, privacy):
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, Event)
                and obj.__module__ == module.__name__
                and not obj.__name__.startswith("_")
            ):
                catalog[obj.routing_key()] = obj
    for per_service in (receipts.ErasureCompleted, receipts.ErasureVerified, receipts.ExportPartReady):
        for cls in per_service.values():
            catalog[cls.routing_key()] = cls
    return dict(sorted(catalog.items()))


CATALOG: dict[str, type[Event]] = _collect()
"""Every event class by routing key ``<service>.<event>.v<N>``."""


def event_class(routing_key: str) -> type[Event]:
    """The event class for ``routing_key``; raises :class:`UnknownEvent`."""
    try:
        return CATALOG[routing_key]
    except KeyError:
        raise UnknownEvent(routing_key) from None


def decode(raw: bytes | str) -> tuple[Envelope, Event]:
    """Parse and validate an envelope and its payload.

    Raises pydantic's ``ValidationError`` for malformed data and :class:`UnknownEvent` for a type
    the catalog does not know: both are poison for a consumer (parked, never silently acked).
    """
    envelope = Envelope.model_validate_json(raw)
    cls = event_class(envelope.routing_key)
    return envelope, cls.model_validate(envelope.payload)
