"""Outgoing mail: SMTP (distributed) or ``.eml`` files under ``<data dir>/mail/`` (embedded).

The ``.eml`` spool holds addresses, so it is personal data like any table: a user's erasure
deletes the files addressed to them (found by a hash of the address in the file name), and the
``mail-spool-retention`` sweep deletes files older than ``mail_spool_keep_days``.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path
from typing import Protocol

import aiosmtplib

from ..domain.mail import Mail
from ..settings import IdentitySettings

__all__ = ["FileMailer", "Mail", "MailNotSent", "Mailer", "SmtpMailer", "build_mailer"]


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
    """Delivers a :class:`Mail` to one address, and answers for the copies it keeps."""

    keeps_copies: bool
    """True when sent mails stay on this machine (the embedded ``.eml`` spool)."""

    async def send(self, to: str, mail: Mail) -> None:
        """Deliver ``mail`` to ``to`` (raises when it could not be handed over)."""

    async def forget_recipient(self, to: str) -> int:
        """Delete the kept copies of mails to ``to``; return how many."""

    async def count_for(self, to: str) -> int:
        """How many kept copies of mails to ``to`` exist."""

    async def forget_older_than(self, age: timedelta) -> int:
        """Delete kept copies older than ``age``; return how many."""


def recipient_tag(address: str) -> str:
    """How a spool file name names its recipient: a short sha256 of the address."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]


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

    keeps_copies = True

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self._sender = sender

    async def send(self, to: str, mail: Mail) -> None:
        """Write the message; the file name names the recipient only by :func:`recipient_tag`."""
        message = build_message(self._sender, to, mail)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.directory / f"{stamp}-{recipient_tag(to)}-{uuid.uuid4().hex[:8]}.eml"
        await asyncio.to_thread(self._write, path, message.as_bytes())

    def _write(self, path: Path, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.rename(path)  # readers never see half a message

    async def forget_recipient(self, to: str) -> int:
        """Delete every file addressed to ``to``."""
        return await asyncio.to_thread(self._remove, self._addressed_to(to))

    async def count_for(self, to: str) -> int:
        """How many files are addressed to ``to``."""
        return len(await asyncio.to_thread(self._addressed_to, to))

    async def forget_older_than(self, age: timedelta) -> int:
        """Delete files written more than ``age`` ago."""
        cutoff = time.time() - age.total_seconds()

        def stale() -> list[Path]:
            return [p for p in self._files() if p.stat().st_mtime < cutoff]

        return await asyncio.to_thread(lambda: self._remove(stale()))

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("*.eml")) if self.directory.is_dir() else []

    def _addressed_to(self, to: str) -> list[Path]:
        tag = recipient_tag(to)
        found = []
        for path in self._files():
            parts = path.stem.split("-")
            if len(parts) == 3:
                if parts[1] == tag:
                    found.append(path)
            elif _legacy_recipient(path) == to.strip().lower():
                found.append(path)  # written before file names carried the tag
        return found

    @staticmethod
    def _remove(paths: list[Path]) -> int:
        removed = 0
        for path in paths:
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass  # removed meanwhile (the sweep and an erasure may overlap)
        return removed


def _legacy_recipient(path: Path) -> str:
    with path.open("rb") as handle:
        headers = BytesHeaderParser().parse(handle)
    addresses = getaddresses([str(headers.get("To", ""))])
    return addresses[0][1].strip().lower() if addresses else ""


class SmtpMailer:
    """Hands each message to an SMTP server (aiosmtplib); keeps no copy."""

    keeps_copies = False

    def __init__(self, settings: IdentitySettings) -> None:
        self._settings = settings

    async def send(self, to: str, mail: Mail) -> None:
        """Send through the configured server."""
        s = self._settings
        await aiosmtplib.send(
            build_message(s.mail_from, to, mail),
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_starttls and not s.smtp_use_tls,
            use_tls=s.smtp_use_tls,
            timeout=30,
        )

    async def forget_recipient(self, to: str) -> int:
        """Nothing is kept here."""
        return 0

    async def count_for(self, to: str) -> int:
        """Nothing is kept here."""
        return 0

    async def forget_older_than(self, age: timedelta) -> int:
        """Nothing is kept here."""
        return 0


def build_mailer(settings: IdentitySettings, data_dir: Path) -> Mailer:
    """SMTP when a server is configured, else ``.eml`` files."""
    if settings.smtp_host:
        return SmtpMailer(settings)
    return FileMailer(data_dir / "mail", settings.mail_from)
