"""A failed send names neither the recipient in the logs nor in what the broker records: the
SMTP client's exceptions quote the address (e.g. a refused recipient)."""

from __future__ import annotations

import logging
import socket
import traceback
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aiflux_contracts import UserNotificationRequested
from aiflux_identity.adapters.mail import Mail, MailNotSent, SmtpMailer
from aiflux_identity.bootstrap import IdentityContainer
from aiflux_identity.handlers.notifications import on_notification_requested
from aiflux_identity.settings import IdentitySettings
from aiosmtpd.controller import Controller

ADDRESS = "secret.person" + "@example.com"


class RefusingServer:
    """Refuses every recipient (550), as a real relay does for an unknown mailbox."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        return "550 5.1.1 mailbox unavailable"


@pytest.fixture
def refusing_smtp() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(RefusingServer(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def container(port: int) -> IdentityContainer:
    settings = IdentitySettings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    return IdentityContainer(
        settings=settings,
        database=None,
        platform=None,  # type: ignore[arg-type]
        hasher=None,
        mailer=SmtpMailer(settings),  # type: ignore[arg-type]
        export_parts=None,
    )  # type: ignore[arg-type]


def logged_text(records: list[logging.LogRecord]) -> str:
    parts = []
    for record in records:
        if record.name.startswith("mail.log"):
            continue  # the test SMTP server's own log (aiosmtpd), not ours
        parts.append(record.getMessage())
        parts.append(repr(record.__dict__))
        if record.exc_info:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(parts)


async def test_send_mail_failure_logs_type_and_code_only(
    refusing_smtp: int, caplog: pytest.LogCaptureFixture
) -> None:
    c = container(refusing_smtp)
    with caplog.at_level(logging.DEBUG):
        sent = await c.send_mail(ADDRESS, Mail("Hello", "text", "<p>html</p>"), user_id=uuid.uuid4())
    assert sent is False
    failures = [r for r in caplog.records if r.getMessage() == "mail not sent"]
    assert failures and all(r.exc_info is None for r in failures)
    assert failures[0].__dict__["error"] == "SMTPRecipientsRefused"
    assert failures[0].__dict__["smtp_code"] == 550
    assert "secret.person" not in logged_text(caplog.records)


class _Result:
    def __init__(self, value: Any) -> None:
        self._value = value

    def scalar(self) -> Any:
        return self._value


class _Session:
    async def execute(self, query: Any) -> _Result:
        return _Result(ADDRESS)


class _Ctx:
    session = _Session()


async def test_notification_consumer_raises_a_scrubbed_error(
    refusing_smtp: int, caplog: pytest.LogCaptureFixture
) -> None:
    c = container(refusing_smtp)
    event = UserNotificationRequested(user_id=uuid.uuid4(), template="erasure_confirmation", params={})
    with caplog.at_level(logging.DEBUG), pytest.raises(MailNotSent) as raised:
        await on_notification_requested(c, _Ctx(), event)  # type: ignore[arg-type]
    error = raised.value
    assert error.code == 550
    # What the kit retries, parks and logs: no address in the error, its cause or its context.
    assert error.__cause__ is None and error.__suppress_context__
    rendered = "".join(traceback.format_exception(error))
    assert "secret.person" not in repr(error) + str(error) + rendered
    assert "secret.person" not in logged_text(caplog.records)
