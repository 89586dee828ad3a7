"""Refusals of the domain, without HTTP: domain code raises a :class:`DomainError` whose ``kind``
says what sort of refusal it is; the kit answers it as problem+json with the status of that kind.

So ``domain/`` never names an HTTP status, and every service maps the same kind of refusal to the
same status.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar


class Kind(Enum):
    """What sort of refusal a domain error is (each answered with one HTTP status)."""

    MALFORMED = "malformed"  # the input cannot be understood
    INVALID = "invalid"  # understood, but breaks a rule of the domain
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not-found"  # also: it belongs to someone else
    CONFLICT = "conflict"
    GONE = "gone"  # it existed and never will again (an erased account)
    TOO_LARGE = "too-large"
    UNSUPPORTED = "unsupported"  # a media type the domain does not take
    PAYMENT_REQUIRED = "payment-required"  # not enough credits
    TOO_MANY = "too-many"  # a rate limit
    UNAVAILABLE = "unavailable"  # a dependency is down; retry later


STATUS_OF_KIND: dict[Kind, int] = {
    Kind.MALFORMED: 400,
    Kind.INVALID: 422,
    Kind.UNAUTHENTICATED: 401,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.CONFLICT: 409,
    Kind.GONE: 410,
    Kind.TOO_LARGE: 413,
    Kind.UNSUPPORTED: 415,
    Kind.PAYMENT_REQUIRED: 402,
    Kind.TOO_MANY: 429,
    Kind.UNAVAILABLE: 503,
}


class DomainError(Exception):
    """A rule of the domain said no. Subclasses set ``kind``, ``slug`` and ``title``.

    ``slug`` becomes the stable problem type ``urn:aiflux:problem:<slug>``; ``detail`` is for a
    person and must not quote personal data; ``extensions`` are extra members of the problem.
    """

    kind: ClassVar[Kind]
    slug: ClassVar[str]
    title: ClassVar[str]

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions

    @property
    def status(self) -> int:
        """The HTTP status the kit answers this refusal with."""
        return STATUS_OF_KIND[self.kind]
