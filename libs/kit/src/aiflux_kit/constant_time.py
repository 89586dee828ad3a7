"""Comparisons of client-supplied secrets (tokens, signatures, MACs) in constant time.

Every secret a client sends is compared here, never with ``hmac.compare_digest`` directly:
``compare_digest`` raises ``TypeError`` on a ``str`` holding non-ASCII characters, so a forged
``é`` in a header or URL became an unauthenticated 500. Real secrets are ASCII (hex, base64url,
decimal timestamps), so anything else is simply "does not match", and the caller answers with
its usual 400/401/403/404.
"""

from __future__ import annotations

import hmac

MAX_TIMESTAMP_DIGITS = 12  # seconds since 1970 stay below 10**12 for another 30,000 years


def ascii_token(value: str | bytes | None) -> bytes | None:
    """``value`` as ASCII bytes, or None when it is missing, empty or not pure ASCII."""
    if not value:
        return None
    if isinstance(value, bytes):
        return value if value.isascii() else None
    return value.encode("ascii") if value.isascii() else None


def equal(expected: str | bytes, supplied: str | bytes | None) -> bool:
    """Whether the client's ``supplied`` secret is ``expected``, in constant time.

    False (never an exception) for a missing, empty or non-ASCII ``supplied`` value.
    """
    known = ascii_token(expected)
    given = ascii_token(supplied)
    if known is None or given is None:
        return False
    return hmac.compare_digest(known, given)


def ascii_int(value: str | None, max_digits: int = MAX_TIMESTAMP_DIGITS) -> int | None:
    """A non-negative decimal integer sent by a client (e.g. a signed timestamp), or None.

    ``str.isdigit`` accepts ``"²"`` and other Unicode digits that ``int`` refuses, and ``int``
    accepts ``" 1_0 "``; only ASCII ``0-9`` up to ``max_digits`` long is taken here.
    """
    if not value or len(value) > max_digits or not (value.isascii() and value.isdigit()):
        return None
    return int(value)
