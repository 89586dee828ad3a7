"""Helpers for end-to-end tests of any service: a real, verified, logged-in user.

    signed = await register_and_login(stack.client, stack.data_dir)
    await stack.client.post("/v1/...", headers=signed.headers)  # cookie already in the jar

The session cookie stays in ``client``'s cookie jar (so ``client`` acts as that user); for
several users on one client pass ``cookies=signed.cookies`` explicitly.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .settings import INITIAL_POLICY_VERSION

DEFAULT_PASSWORD = "correct horse battery staple 42"  # noqa: S105 - test users only
TOKEN = re.compile(r"[?&]token=([A-Za-z0-9_\-]+)")


@dataclass
class SignedIn:
    """A logged-in test user."""

    user_id: uuid.UUID
    csrf_token: str
    cookies: dict[str, str]
    username: str
    email: str
    password: str
    headers: dict[str, str] = field(default_factory=dict)


def mails_to(data_dir: Path, address: str) -> list[email.message.EmailMessage]:
    """Every ``.eml`` message under ``<data_dir>/mail/`` addressed to ``address``, oldest first."""
    out = []
    for path in sorted((data_dir / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if str(message["To"]).lower() == address.lower():
            out.append(message)
    return out


def mail_text(message: email.message.EmailMessage) -> str:
    """The plain-text part of ``message``."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


async def wait_for_mail(
    data_dir: Path, address: str, subject_contains: str, within_s: float = 10.0
) -> email.message.EmailMessage:
    """The newest mail to ``address`` whose subject contains ``subject_contains``."""
    deadline = time.monotonic() + within_s
    while True:
        found = [
            m for m in mails_to(data_dir, address) if subject_contains.lower() in str(m["Subject"]).lower()
        ]
        if found:
            return found[-1]
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail {subject_contains!r} arrived")
        await asyncio.sleep(0.05)


def link_token(message: email.message.EmailMessage) -> str:
    """The ``token`` query parameter of the link in ``message``."""
    match = TOKEN.search(mail_text(message))
    if not match:
        raise AssertionError("the mail carries no token link")
    return match.group(1)


async def register(
    client: httpx.AsyncClient,
    *,
    username: str,
    email: str,
    password: str,
    policy_version: str | None = None,
    marketing_opt_in: bool = False,
    birth_date: str = "2000-01-01",
) -> httpx.Response:
    """``POST /v1/auth/register`` (retries once with the current policy version if needed)."""
    body = {
        "username": username,
        "email": email,
        "password": password,
        "birth_date": birth_date,
        "marketing_opt_in": marketing_opt_in,
        "accept_privacy_policy_version": policy_version or INITIAL_POLICY_VERSION,
    }
    response = await client.post("/v1/auth/register", json=body)
    if response.status_code == 422 and policy_version is None and response.json().get("current_version"):
        body["accept_privacy_policy_version"] = response.json()["current_version"]
        response = await client.post("/v1/auth/register", json=body)
    return response


async def register_and_login(
    client: httpx.AsyncClient,
    data_dir: Path,
    *,
    username: str | None = None,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
) -> SignedIn:
    """Register, verify the address from the mailed link, log in."""
    suffix = uuid.uuid4().hex[:10]
    username = username or f"user_{suffix}"
    email = email or f"{username.lower()}@example.com"
    response = await register(client, username=username, email=email, password=password)
    assert response.status_code == 202, response.text
    token = link_token(await wait_for_mail(data_dir, email, "verify"))
    response = await client.post("/v1/auth/verify-email", json={"token": token})
    assert response.status_code == 200, response.text
    response = await client.post("/v1/auth/login", json={"login": username, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    cookies = {name: value for name, value in response.cookies.items()}
    return SignedIn(
        uuid.UUID(body["user_id"]),
        body["csrf_token"],
        cookies,
        username,
        email,
        password,
        {"X-CSRF-Token": body["csrf_token"]},
    )
