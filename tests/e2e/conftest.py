"""Helpers of the cross-service end-to-end tests: users with their own cookie jars, operators,
and the mails identity writes under ``<data dir>/mail/``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiflux_identity.commands import set_admin
from aiflux_identity.testing import SignedIn, register_and_login


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
    """``async with people(stack) as new_person:`` makes users, closing their clients after."""

    @contextlib.asynccontextmanager
    async def factory(stack: Any) -> AsyncIterator[Callable[..., Awaitable[Person]]]:
        clients: list[httpx.AsyncClient] = []

        async def new_person(*, admin: bool = False) -> Person:
            client = httpx.AsyncClient(base_url=stack.base_url, timeout=30)
            clients.append(client)
            signed = await register_and_login(client, stack.data_dir)
            if admin:
                url = stack.unit("identity").settings.database_url
                assert await asyncio.to_thread(set_admin, url, signed.username, True)
            return Person(signed, client)

        try:
            yield new_person
        finally:
            for client in clients:
                await client.aclose()

    return factory
