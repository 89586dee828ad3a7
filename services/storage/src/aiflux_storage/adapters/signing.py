"""Signed, expiring download URLs for the local-disk store (S3 presigns its own).

A token is ``<base64url(json payload)>.<base64url(HMAC-SHA256)>``; the payload holds the object
key, the expiry, and the type and name to serve it with. It grants nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from aiflux_kit.constant_time import equal

from ..domain.errors import DownloadLinkExpired, InvalidDownloadLink

DOWNLOAD_PATH = "/v1/files/download/"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class DownloadGrant:
    """What a valid token allows: one object, served with this type and name."""

    key: str
    content_type: str
    filename: str


class UrlSigner:
    """Makes and checks download tokens with one secret key."""

    def __init__(self, key: bytes, base_url: str) -> None:
        self._key = key
        self._base_url = base_url.rstrip("/")

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def token(self, key: str, ttl_s: int, content_type: str, filename: str) -> str:
        """A token for ``key`` valid for ``ttl_s`` seconds."""
        body: dict[str, Any] = {"k": key, "e": int(time.time()) + ttl_s, "t": content_type,
                                "n": filename}
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{self._mac(payload)}"

    def url(self, key: str, ttl_s: int, content_type: str, filename: str) -> str:
        """The full download URL of ``key``."""
        return f"{self._base_url}{DOWNLOAD_PATH}{self.token(key, ttl_s, content_type, filename)}"

    def verify(self, token: str) -> DownloadGrant:
        """The grant of a valid, unexpired token; a 403/410 problem otherwise."""
        payload, _, mac = token.partition(".")
        if not payload or not equal(self._mac(payload), mac):
            raise InvalidDownloadLink()
        body = json.loads(_unb64(payload))
        if int(body["e"]) < time.time():
            raise DownloadLinkExpired()
        return DownloadGrant(str(body["k"]), str(body["t"]), str(body["n"]))
