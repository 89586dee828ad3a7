"""Password rules (§2 of the policy)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from .errors import PasswordTooCommon, PasswordTooLong, PasswordTooShort

MIN_LENGTH = 8
MAX_BYTES = 72  # bcrypt reads at most 72 bytes; longer input is refused, never truncated


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case)."""
    text = resources.files("aiflux_identity.domain").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password_rules(password: str) -> None:
    """Refuse a password that is too short, too long for bcrypt, or too common."""
    if len(password) < MIN_LENGTH:
        raise PasswordTooShort(MIN_LENGTH)
    if len(password.encode()) > MAX_BYTES:
        raise PasswordTooLong(MAX_BYTES)
    if password.lower() in common_passwords():
        raise PasswordTooCommon
