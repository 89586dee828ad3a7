"""Download links: standard JWTs with a key of their own; forged, foreign, expired refused."""

from __future__ import annotations

import jwt
import pytest
from aiflux_storage.adapters.signing import AUDIENCE, UrlSigner
from aiflux_storage.domain.errors import DownloadLinkExpired, InvalidDownloadLink

pytestmark = pytest.mark.unit

KEY = b"k" * 64
signer = UrlSigner(KEY, "http://aiflux.test/")


def test_a_link_is_a_standard_jwt_for_one_object() -> None:
    token = signer.token("users/u/files/f", 60, "image/png", "f.png")
    claims = jwt.decode(token, KEY, algorithms=["HS256"], audience=AUDIENCE)
    assert (claims["k"], claims["t"], claims["n"]) == ("users/u/files/f", "image/png", "f.png")
    grant = signer.verify(token)
    assert (grant.key, grant.content_type, grant.filename) == ("users/u/files/f", "image/png", "f.png")
    assert signer.url("users/u/files/f", 60, "image/png", "f.png").startswith(
        "http://aiflux.test/v1/files/download/ey"
    )


def test_expired_links_are_gone() -> None:
    with pytest.raises(DownloadLinkExpired):
        signer.verify(signer.token("users/u/files/f", -10, "image/png", "f.png"))


@pytest.mark.parametrize(
    "token",
    [
        UrlSigner(b"o" * 64, "http://x").token("users/u/files/f", 60, "image/png", "f.png"),
        jwt.encode(
            {"k": "users/u/files/f", "t": "t", "n": "n", "aud": AUDIENCE, "exp": 2**40},
            KEY,
            algorithm="HS512",
        ),
        jwt.encode(
            {"k": "users/u/files/f", "t": "t", "n": "n", "aud": "other", "exp": 2**40}, KEY, algorithm="HS256"
        ),
        jwt.encode({"k": "users/u/files/f", "t": "t", "n": "n", "aud": AUDIENCE}, KEY, algorithm="HS256"),
        "eyJhbGciOiJub25lIn0.eyJrIjoieCJ9.",
        "eyJrIjoxfQ.é",
        "",
        "a.b.c",
    ],
)
def test_forged_foreign_or_unbounded_links_are_invalid(token: str) -> None:
    with pytest.raises(InvalidDownloadLink):
        signer.verify(token)
