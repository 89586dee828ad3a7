"""A mail as the domain writes it (the adapters deliver it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mail:
    """One message, in plain text and HTML."""

    subject: str
    text: str
    html: str
    unsubscribe_url: str | None = None
    """Marketing only: announced in ``List-Unsubscribe`` with RFC 8058 one-click POST."""
