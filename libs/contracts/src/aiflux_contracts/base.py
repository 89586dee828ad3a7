"""The event envelope and the base class every event derives from."""

from __future__ import annotations

import functools
import re
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


@functools.cache
def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Event(BaseModel):
    """A fact that happened in one service, published for the others.

    Subclasses declare ``producer`` (the owning service) and ``event_version``; the event type is the
    class name. A breaking change is a new class with a higher version, published beside the old.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    producer: ClassVar[str]
    event_version: ClassVar[int] = 1
    informational: ClassVar[bool] = False
    """True for a fact announced to whoever cares: with no subscriber bound it is dropped.
    Every other event must reach at least one subscriber; unroutable, it stays in the outbox."""

    @classmethod
    def event_type(cls) -> str:
        """The stable event type name, e.g. ``UserDeleted``."""
        return cls.__name__.removesuffix(f"V{cls.event_version}") if cls.event_version > 1 else cls.__name__

    @classmethod
    def routing_key(cls) -> str:
        """The AMQP routing key, ``<service>.<event>.v<N>``."""
        return f"{cls.producer}.{_snake(cls.event_type())}.v{cls.event_version}"


class Envelope(BaseModel):
    """What travels on the bus: metadata around one event payload."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    producer: str
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None
    traceparent: str | None = None
    tracestate: str | None = None
    payload: dict[str, Any]

    @property
    def routing_key(self) -> str:
        """The routing key this envelope is published under."""
        return f"{self.producer}.{_snake(self.type)}.v{self.version}"

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        traceparent: str | None = None,
        tracestate: str | None = None,
    ) -> Envelope:
        """Put ``event`` in a new envelope with a fresh event id."""
        return cls(
            type=event.event_type(),
            version=event.event_version,
            producer=event.producer,
            correlation_id=correlation_id,
            causation_id=causation_id,
            traceparent=traceparent,
            tracestate=tracestate,
            payload=event.model_dump(mode="json"),
        )
