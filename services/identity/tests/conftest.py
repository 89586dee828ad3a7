"""Identity test helpers: a stack with fast bcrypt."""

from __future__ import annotations

from typing import Any

import pytest

FAST = {"bcrypt_rounds": 4}


@pytest.fixture
def identity_stack(stack_factory):  # type: ignore[no-untyped-def]
    """``async with identity_stack(**identity_overrides) as stack`` (identity only)."""

    def make(services: tuple[str, ...] = ("identity",), platform_overrides: Any = None,
             **overrides: Any):  # type: ignore[no-untyped-def]
        return stack_factory(services=list(services),
                             overrides={"identity": {**FAST, **overrides}},
                             platform_overrides=platform_overrides)

    return make
