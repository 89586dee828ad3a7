"""Forgot-password and resend-verification answer before any mail goes out, known address or
not: the account-dependent work (lookup, token, SMTP) is one background job on every branch, so
the response time cannot tell whether an address has an account."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiflux_identity.adapters.mail import SmtpMailer
from aiflux_identity.settings import IdentitySettings
from aiflux_identity.testing import DEFAULT_PASSWORD, register, register_and_login
from aiosmtpd.controller import Controller

AT = "@example.com"
LIMITS = {
    "limit_forgot_ip": "1000/hour",
    "limit_forgot_account": "1000/hour",
    "limit_verify_ip": "1000/hour",
    "limit_register_account": "1000/hour",
}


class GatedInbox:
    """An SMTP server that holds every message until the test opens the gate."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()
        self.received: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.started.set()
        while not self.gate.is_set():
            await asyncio.sleep(0.01)
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.received.append(str(message["To"]).lower())
        return "250 OK"


@pytest.fixture
def gated_smtp() -> Iterator[tuple[GatedInbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = GatedInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        inbox.gate.set()
        controller.stop()


def use_smtp(stack: Any, port: int) -> Any:
    c = stack.container("identity")
    c.mailer = SmtpMailer(IdentitySettings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False))
    return c


def count_jobs(c: Any) -> list[Any]:
    submitted: list[Any] = []
    real = c.jobs.submit

    def spy(job: Any) -> bool:
        submitted.append(job)
        return bool(real(job))

    c.jobs.submit = spy
    return submitted


async def until(check: Any, within_s: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not check():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(
    ("path", "unverified"), [("/v1/auth/password/forgot", False), ("/v1/auth/verify-email/resend", True)]
)
async def test_the_answer_comes_before_the_mail_on_both_branches(
    identity_stack: Any, gated_smtp: tuple[GatedInbox, int], path: str, unverified: bool
) -> None:
    inbox, port = gated_smtp
    async with identity_stack(**LIMITS) as stack:
        address = "known" + AT
        if unverified:
            assert (
                await register(stack.client, username="known", email=address, password=DEFAULT_PASSWORD)
            ).status_code == 202
        else:
            await register_and_login(stack.client, stack.data_dir, username="known", email=address)
        stack.client.cookies.clear()
        c = use_smtp(stack, port)
        jobs = count_jobs(c)

        known = await asyncio.wait_for(stack.client.post(path, json={"email": address}), 5)
        # Answered while the SMTP server has received nothing (it holds the transaction).
        assert known.status_code == 202
        assert inbox.received == []
        unknown = await asyncio.wait_for(stack.client.post(path, json={"email": "nobody" + AT}), 5)
        assert unknown.status_code == 202
        # The same mechanism on both branches: one background job each, nothing inline.
        assert len(jobs) == 2
        # The known address still gets its mail, after the answers.
        inbox.gate.set()
        await until(lambda: inbox.received == [address])
        await asyncio.sleep(0.2)
        assert inbox.received == [address]  # and the unknown one sent nothing
