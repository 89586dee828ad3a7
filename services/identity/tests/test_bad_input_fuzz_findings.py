"""Inputs schemathesis found answered with a 500, each now a clear problem."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

from aiflux_identity.commands import set_admin
from aiflux_identity.testing import register_and_login


def _problem(response, status):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


async def test_security_log_cursor_out_of_range_and_nul_in_a_login(identity_stack) -> None:
    async with identity_stack() as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        assert set_admin(stack.unit("identity").settings.database_url, signed.username, True)
        # ?cursor=99999999999999999999999 was a 500 (bigint overflow)
        for cursor in ("99999999999999999999999", str(2**63), "0", "-5"):
            body = _problem(
                await stack.client.get("/v1/ops/identity/security-log", params={"cursor": cursor}), 422
            )
            assert body["type"] == "urn:aiflux:problem:validation-error"
            assert ["query", "cursor"] in [e["loc"] for e in body["errors"]]
        last = await stack.client.get(
            "/v1/ops/identity/security-log", params={"cursor": str(2**63 - 1), "limit": 1}
        )
        assert last.status_code == 200, last.text
        # {"login": "a\u0000b"} was a 500 (PostgreSQL text cannot hold NUL)
        body = _problem(
            await stack.client.post(
                "/v1/auth/login", json={"login": "a\u0000b", "password": "whatever it is"}
            ),
            422,
        )
        assert "a\u0000b" not in str(body)


BODY_LIMIT = 64 * 1024
HUGE = 256 * 1024 * 1024


async def _post_partly(base_url: str, head: str, body_parts: list[bytes]) -> tuple[int, dict]:
    """Send request headers and only ``body_parts`` of the body, then read the answer.

    The body is never finished: an answer proves the server refused it without reading it all.
    """
    url = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(head.encode())
        for part in body_parts:
            writer.write(part)
            await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 30)
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers["content-length"]))
    finally:
        writer.close()
    assert headers["content-type"] == "application/problem+json"
    return int(status_line.split()[1]), json.loads(body)


async def test_oversized_bodies_are_refused_before_they_are_read(identity_stack) -> None:
    # A 256 MiB body to /v1/auth/login was read whole (RSS +760 MB) before a 422.
    async with identity_stack(max_body_bytes=BODY_LIMIT) as stack:
        start = '{"login": "someone", "password": "' + "x" * 1024
        declared = (
            f"POST /v1/auth/login HTTP/1.1\r\nHost: test\r\n"
            f"Content-Type: application/json\r\nContent-Length: {HUGE}\r\n\r\n"
        )
        status, problem = await _post_partly(stack.base_url, declared, [start.encode()])
        assert status == 413
        assert problem["type"] == "urn:aiflux:problem:payload-too-large"
        assert str(BODY_LIMIT) in problem["detail"]

        # Without a Content-Length the bytes are counted as they come (chunked encoding).
        chunk = b"x" * 16 * 1024
        chunked = (
            "POST /v1/auth/login HTTP/1.1\r\nHost: test\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        # Just past the limit, then silence: the server must answer without the end chunk.
        parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * (BODY_LIMIT // len(chunk) + 1)
        status, problem = await _post_partly(stack.base_url, chunked, parts)
        assert status == 413
        assert problem["type"] == "urn:aiflux:problem:payload-too-large"

        # A body under the limit is still read and judged as before.
        fine = await stack.client.post("/v1/auth/login", json={"login": "someone", "password": "x" * 1024})
        assert fine.status_code in (401, 422), fine.text
