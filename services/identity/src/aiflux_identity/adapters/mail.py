"""Outgoing mail: SMTP (distributed) or ``.eml`` files under ``<data dir>/mail/`` (embedded)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

import aiosmtplib

from ..settings import IdentitySettings


@dataclass(frozen=True)
class Mail:
    """One message, in plain text and HTML."""

    subject: str
    text: str
    html: str
    unsubscribe_url: str | None = None
    """Marketing only: announced in ``List-Unsubscribe`` with RFC 8058 one-click POST."""


class MailNotSent(Exception):
    """A mail could not be handed over. Carries the SMTP reply code only: the SMTP client's own
    exceptions quote the recipient address, which must reach neither logs nor broker headers."""

    def __init__(self, code: int | None = None) -> None:
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return f"mail not sent (SMTP code {self.code})" if self.code else "mail not sent"


def smtp_code(exc: BaseException) -> int | None:
    """The SMTP reply code of a failed send, when the server gave one."""
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    for refused in getattr(exc, "recipients", None) or ():
        code = getattr(refused, "code", None)
        if isinstance(code, int):
            return code
    return None


class Mailer(Protocol):
    """Delivers a :class:`Mail` to one address."""

    async def send(self, to: str, mail: Mail) -> None:
        """Deliver ``mail`` to ``to`` (raises when it could not be handed over)."""


def build_message(sender: str, to: str, mail: Mail) -> EmailMessage:
    """The MIME message: text/plain with a text/html alternative."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="aiflux.local")
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


class FileMailer:
    """Writes each message as an ``.eml`` file (embedded mode and tests)."""

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self._sender = sender

    async def send(self, to: str, mail: Mail) -> None:
        """Write the message; the file name carries no personal data."""
        message = build_message(self._sender, to, mail)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        await asyncio.to_thread(self._write, path, message.as_bytes())

    def _write(self, path: Path, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.rename(path)  # readers never see half a message


class SmtpMailer:
    """Hands each message to an SMTP server (aiosmtplib)."""

    def __init__(self, settings: IdentitySettings) -> None:
        self._settings = settings

    async def send(self, to: str, mail: Mail) -> None:
        """Send through the configured server."""
        s = self._settings
        await aiosmtplib.send(
            build_message(s.mail_from, to, mail), hostname=s.smtp_host, port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_starttls and not s.smtp_use_tls, use_tls=s.smtp_use_tls,
            timeout=30)


def build_mailer(settings: IdentitySettings, data_dir: Path) -> Mailer:
    """SMTP when a server is configured, else ``.eml`` files."""
    if settings.smtp_host:
        return SmtpMailer(settings)
    return FileMailer(data_dir / "mail", settings.mail_from)
