"""Signed, expiring download URLs for the local-disk store (S3 presigns its own).

A token is a standard JWT (HS256, PyJWT) with its own key and audience: the object key, the
expiry, and the type and name to serve it with. It grants nothing else.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt
from aiflux_kit.constant_time import ascii_token

from ..domain.errors import DownloadLinkExpired, InvalidDownloadLink

DOWNLOAD_PATH = "/v1/files/download/"
AUDIENCE = "aiflux-storage-download"
ALGORITHM = "HS256"


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

    def token(self, key: str, ttl_s: int, content_type: str, filename: str) -> str:
        """A token for ``key`` valid for ``ttl_s`` seconds."""
        claims = {
            "k": key,
            "t": content_type,
            "n": filename,
            "aud": AUDIENCE,
            "exp": int(time.time()) + ttl_s,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def url(self, key: str, ttl_s: int, content_type: str, filename: str) -> str:
        """The full download URL of ``key``."""
        return f"{self._base_url}{DOWNLOAD_PATH}{self.token(key, ttl_s, content_type, filename)}"

    def verify(self, token: str) -> DownloadGrant:
        """The grant of a valid, unexpired token; a refusal otherwise."""
        ascii_only = ascii_token(token)  # a forged 'é' is "no match", never an exception
        if ascii_only is None:
            raise InvalidDownloadLink()
        try:
            claims = jwt.decode(
                ascii_only,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": ["exp", "aud", "k", "t", "n"]},
            )
        except jwt.ExpiredSignatureError:
            raise DownloadLinkExpired() from None
        except jwt.PyJWTError:
            raise InvalidDownloadLink() from None
        return DownloadGrant(str(claims["k"]), str(claims["t"]), str(claims["n"]))
