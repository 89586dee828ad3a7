"""Password rules (§2 of the policy) and bcrypt hashing off the event loop."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib import resources

import bcrypt
from aiflux_kit.errors import Problem

MIN_LENGTH = 8
MAX_BYTES = 72  # bcrypt reads at most 72 bytes; longer input is refused, never truncated


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case)."""
    text = resources.files("aiflux_identity.domain").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def check_password_rules(password: str) -> None:
    """Refuse a password that is too short, too long for bcrypt, or too common."""
    if len(password) < MIN_LENGTH:
        raise Problem(422, "password-too-short", "Password too short",
                      f"Choose a password of at least {MIN_LENGTH} characters.")
    if len(password.encode()) > MAX_BYTES:
        raise Problem(422, "password-too-long", "Password too long",
                      f"Passwords may be at most {MAX_BYTES} bytes in UTF-8 (64 plain "
                      f"letters or digits always fit); it is never shortened silently.")
    if password.lower() in common_passwords():
        raise Problem(422, "password-too-common", "Password too common",
                      "This password is on a list of commonly used passwords; choose another.")


class PasswordHasher:
    """bcrypt in a bounded thread pool, so hashing never blocks the event loop."""

    def __init__(self, rounds: int, workers: int) -> None:
        self.rounds = rounds
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bcrypt")
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        """A salted bcrypt hash of ``password`` (rules already checked)."""
        rounds = self.rounds
        return await self._run(
            lambda: bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode())

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """True when ``password`` matches; an unknown account (None) costs the same time."""
        if password_hash is None:
            password_hash = await self._dummy_hash()
            await self._check(password, password_hash)
            return False
        return await self._check(password, password_hash)

    async def _check(self, password: str, password_hash: str) -> bool:
        raw = password.encode()
        if len(raw) > MAX_BYTES:
            raw = raw[:0]  # cannot match a stored hash; still spend the same time
        return await self._run(lambda: bcrypt.checkpw(raw, password_hash.encode()))

    async def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = await self.hash("timing-equaliser-not-a-password")
        return self._dummy

    async def _run(self, fn):
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    def close(self) -> None:
        """Stop the worker threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)
