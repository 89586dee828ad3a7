"""Helpers of the cross-service end-to-end tests: the system under test (embedded or
distributed), users with their own cookie jars, operators, and the mails identity writes under
``<data dir>/mail/``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiflux_identity.commands import set_admin
from aiflux_identity.testing import SignedIn, register_and_login

SERVICES = ("identity", "billing", "generation", "storage", "privacy")


@dataclass
class System:
    """What a scenario needs of a running system, whatever the mode."""

    base_url: str
    data_dir: Path
    db_urls: dict[str, str]
    purge_identity: Callable[[], Awaitable[int]]
    objects: Callable[[], list[tuple[str, bytes]]]


def embedded_system(stack: Any) -> System:
    """The in-process test stack as a :class:`System` (objects on local disk)."""

    async def purge() -> int:
        # As if identity's 30-day grace period were over.
        stack.unit("identity").settings.purge_after_days = -1
        return int((await stack.runtime.run_sweep("identity", "account-purge")).counts["purged"])

    def objects() -> list[tuple[str, bytes]]:
        root = stack.data_dir / "objects"
        return [(str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*")
                if p.is_file()]

    return System(stack.base_url, stack.data_dir,
                  {s: stack.unit(s).settings.database_url for s in stack.runtime.units},
                  purge, objects)


@pytest.fixture
def as_system():
    """``as_system(stack)``: the in-process stack as a :class:`System`."""
    return embedded_system


@dataclass
class Person:
    """A registered, logged-in user with a client of their own (cookie + CSRF header)."""

    signed: SignedIn
    client: httpx.AsyncClient

    @property
    def headers(self) -> dict[str, str]:
        """The CSRF header every cookie-authenticated state change carries."""
        return self.signed.headers


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy (or fail at the deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.2)


@pytest.fixture
def wait():
    """``await wait(check)`` polls an async check until it is truthy."""
    return eventually


@pytest.fixture
def people():
    """``async with people(system) as new_person:`` makes users, closing their clients after."""

    @contextlib.asynccontextmanager
    async def factory(system: System) -> AsyncIterator[Callable[..., Awaitable[Person]]]:
        clients: list[httpx.AsyncClient] = []

        async def new_person(*, admin: bool = False) -> Person:
            client = httpx.AsyncClient(base_url=system.base_url, timeout=30)
            clients.append(client)
            signed = await register_and_login(client, system.data_dir)
            if admin:
                url = system.db_urls["identity"]
                assert await asyncio.to_thread(set_admin, url, signed.username, True)
            return Person(signed, client)

        try:
            yield new_person
        finally:
            for client in clients:
                await client.aclose()

    return factory
