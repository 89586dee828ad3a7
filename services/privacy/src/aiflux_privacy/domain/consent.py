"""The consent ledger's rules: purposes a subject can grant or withdraw, and the current state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Purpose(StrEnum):
    """What a consent is for. ``privacy_policy`` is recorded from identity, never PUT."""

    MARKETING = "marketing"
    ANALYTICS = "analytics"
    PRIVACY_POLICY = "privacy_policy"


TOGGLEABLE = frozenset({Purpose.MARKETING, Purpose.ANALYTICS})


@dataclass(frozen=True)
class ConsentState:
    """The latest ledger entry of one purpose for one subject."""

    purpose: str
    granted: bool
    recorded_at: datetime
    policy_version: str | None = None
    source: str = ""


def current_state(entries: list[ConsentState]) -> dict[str, ConsentState]:
    """The standing consent per purpose: the newest entry wins (the ledger is append-only)."""
    state: dict[str, ConsentState] = {}
    for entry in sorted(entries, key=lambda e: e.recorded_at):
        state[entry.purpose] = entry
    return state


def allowed(state: dict[str, ConsentState], purpose: Purpose) -> bool:
    """True only after an explicit grant that was not withdrawn since: off until consent."""
    entry = state.get(purpose)
    return bool(entry and entry.granted)
