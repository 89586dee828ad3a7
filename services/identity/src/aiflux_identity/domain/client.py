"""Who is on the other end of a request (an IP, a user agent): for the security log and rate
limits only."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClientInfo:
    """Who is on the other end of a request, for the security log and rate limits only."""

    ip: str | None = None
    user_agent: str | None = None


SYSTEM = ClientInfo()
