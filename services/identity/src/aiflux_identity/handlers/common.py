"""Pieces every identity handler uses: the clock, the caller, scrubbed mail-failure logs."""

from __future__ import annotations

import logging
import uuid

from ..adapters.credentials import utcnow
from ..adapters.mail import smtp_code
from ..domain.client import SYSTEM, ClientInfo

log = logging.getLogger(__name__)


def log_mail_failure(exc: BaseException, *, user_id: uuid.UUID | None, subject: str) -> None:
    """Log a failed send by exception type and SMTP code only: no message, no traceback (the
    SMTP client's exceptions quote the recipient address)."""
    log.warning(
        "mail not sent",
        extra={
            "user_id": str(user_id) if user_id else None,
            "subject": subject,
            "error": type(exc).__name__,
            "smtp_code": smtp_code(exc),
        },
    )


__all__ = ["SYSTEM", "ClientInfo", "log_mail_failure", "utcnow"]
