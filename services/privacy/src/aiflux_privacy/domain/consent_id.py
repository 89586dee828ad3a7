"""Anonymous consent ids that privacy issues itself, and recognises without a table.

An anonymous visitor's consent id (the consent cookie, and ``UserRegistered``'s
``anonymous_consent_id`` that identity forwards from it) must be one privacy issued: otherwise a
client could name any UUID, e.g. another user's id, and read, forge or take over that subject's
consents. The id stays a plain UUID (identity and the event contract parse it as one) but is
self-authenticating: a version-8 UUID whose first 8 bytes are a random nonce and whose last 8
bytes are an HMAC of the nonce under ``consent_id_secret`` (62 bits once the RFC 9562 version
and variant bits are set). A user id (version 4) or any id not signed with the key is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from aiflux_kit.constant_time import equal

_CONTEXT = b"aiflux-privacy:anonymous-consent-id:"


def _mac(nonce: bytes, secret: str) -> bytes:
    mac = bytearray(hmac.new(secret.encode(), _CONTEXT + nonce, hashlib.sha256).digest()[:8])
    mac[0] = (mac[0] & 0x3F) | 0x80  # RFC 9562 variant bits
    return bytes(mac)


def issue_consent_id(secret: str) -> uuid.UUID:
    """A fresh anonymous consent id signed with ``secret``."""
    nonce = bytearray(secrets.token_bytes(8))
    nonce[6] = (nonce[6] & 0x0F) | 0x80  # version 8 (custom layout)
    return uuid.UUID(bytes=bytes(nonce) + _mac(bytes(nonce), secret))


def is_issued_consent_id(candidate: uuid.UUID, secret: str) -> bool:
    """True when ``candidate`` is an anonymous consent id this service issued."""
    raw = candidate.bytes
    return candidate.version == 8 and equal(_mac(raw[:8], secret).hex(), raw[8:].hex())


def parse_consent_id(raw: str | None, secret: str) -> uuid.UUID | None:
    """The issued consent id in ``raw`` (a cookie value), or None for anything else."""
    if not raw:
        return None
    try:
        candidate = uuid.UUID(raw)
    except ValueError:
        return None
    return candidate if is_issued_consent_id(candidate, secret) else None
