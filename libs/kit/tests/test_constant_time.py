"""Client-supplied secrets are compared without ever raising on what a client can send."""

from __future__ import annotations

import pytest
from aiflux_kit.constant_time import ascii_int, ascii_token, equal


@pytest.mark.parametrize("supplied", ["é", "abc\u200b", "\udcff", "", None, b"\xff", "ab"])
def test_anything_but_the_secret_is_no_match(supplied: str | bytes | None) -> None:
    assert equal("abcdef", supplied) is False


def test_the_secret_matches_as_text_or_bytes() -> None:
    assert equal("abcdef", "abcdef") and equal(b"abcdef", "abcdef") and equal("abcdef", b"abcdef")
    assert ascii_token("t=1,v1=é") is None and ascii_token("t=1,v1=00") == b"t=1,v1=00"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1700000000", 1700000000),
        ("0", 0),
        ("²", None),
        ("١٢٣", None),
        (" 12", None),
        ("1_000", None),
        ("-1", None),
        ("1" * 13, None),
        ("", None),
        (None, None),
    ],
)
def test_only_ascii_digits_are_a_timestamp(text: str | None, value: int | None) -> None:
    assert ascii_int(text) == value
