"""Test doubles that speak the real protocols billing talks: Stripe's Checkout Session API.

:class:`FakeStripe` is a small HTTP server answering the stripe SDK exactly where billing calls
Stripe (https://docs.stripe.com/api/checkout/sessions), in Stripe's JSON shapes and errors:

- ``POST /v1/checkout/sessions`` (form-encoded, nested ``a[b][0][c]`` keys, ``Idempotency-Key``)
- ``GET /v1/checkout/sessions/{id}``
- ``GET /v1/checkout/sessions`` (``created[gte]``, ``limit``, ``starting_after``,
  ``payment_intent``; newest first, ``has_more``)
- ``POST /v1/checkout/sessions/{id}/expire`` (400 unless the session is open)

What a customer does at Stripe (paying) is done with :meth:`FakeStripe.pay`.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiflux_kit.testing import serve_app
from starlette.applications import Starlette
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

WEBHOOK_SECRET = "whsec_test_billing"  # noqa: S105 - a test double's secret


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy, or fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s (last: {result!r})")
        await asyncio.sleep(0.05)


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``line_items[0][price_data][currency]=eur``) as nested dicts."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return root


def _error(status: int, message: str, code: str | None = None, param: str | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"type": "invalid_request_error", "message": message, "code": code, "param": param}},
        status_code=status,
    )


class FakeStripe:
    """A local Checkout Session API; ``sessions`` holds what Stripe would."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self._idempotent: dict[str, str] = {}
        self.requests: list[tuple[str, str]] = []
        self.fail_with: int | None = None  # answer every call with this 5xx (an outage)
        self.app = Starlette(
            routes=[
                Route("/v1/checkout/sessions", self._create, methods=["POST"]),
                Route("/v1/checkout/sessions", self._list, methods=["GET"]),
                Route("/v1/checkout/sessions/{sid}", self._retrieve, methods=["GET"]),
                Route("/v1/checkout/sessions/{sid}/expire", self._expire, methods=["POST"]),
            ]
        )
        self.app.add_middleware(BaseHTTPMiddleware, dispatch=self._gate)
        self.base_url = ""

    async def _gate(self, request: Request, call_next: Any) -> Any:
        self.requests.append((request.method, request.url.path))
        if not request.headers.get("authorization", "").startswith("Bearer sk_"):
            return JSONResponse(
                {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}},
                status_code=401,
            )
        if self.fail_with:
            return JSONResponse(
                {"error": {"type": "api_error", "message": "outage"}}, status_code=self.fail_with
            )
        return await call_next(request)

    async def _create(self, request: Request) -> JSONResponse:
        key = request.headers.get("idempotency-key")
        if key and key in self._idempotent:
            return JSONResponse(self.sessions[self._idempotent[key]])
        form = _nest(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        if form.get("mode") != "payment":
            return _error(400, "Missing required param: mode.", "parameter_missing", "mode")
        try:
            line = form["line_items"]["0"]
            amount = int(line["price_data"]["unit_amount"]) * int(line.get("quantity", 1))
            currency = line["price_data"]["currency"]
        except (KeyError, ValueError):
            return _error(400, "Invalid line_items.", "parameter_invalid", "line_items")
        sid = f"cs_test_{secrets.token_hex(16)}"
        now = int(time.time())
        self.sessions[sid] = {
            "id": sid,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "amount_subtotal": amount,
            "currency": currency,
            "created": now,
            "expires_at": now + 86400,
            "client_reference_id": form.get("client_reference_id"),
            "metadata": form.get("metadata", {}),
            "payment_intent": None,
            "livemode": False,
            "success_url": form.get("success_url"),
            "cancel_url": form.get("cancel_url"),
            "url": f"https://checkout.stripe.com/c/pay/{sid}",
        }
        if key:
            self._idempotent[key] = sid
        return JSONResponse(self.sessions[sid])

    async def _retrieve(self, request: Request) -> JSONResponse:
        sid = request.path_params["sid"]
        if sid not in self.sessions:
            return _error(404, f"No such checkout.session: '{sid}'", "resource_missing", "session")
        return JSONResponse(self.sessions[sid])

    async def _list(self, request: Request) -> JSONResponse:
        q = request.query_params
        items = sorted(self.sessions.values(), key=lambda s: (s["created"], s["id"]), reverse=True)
        if "created[gte]" in q:
            items = [s for s in items if s["created"] >= int(q["created[gte]"])]
        if "payment_intent" in q:
            items = [s for s in items if s["payment_intent"] == q["payment_intent"]]
        if "starting_after" in q:
            ids = [s["id"] for s in items]
            if q["starting_after"] not in ids:
                return _error(400, "Invalid starting_after", "parameter_invalid", "starting_after")
            items = items[ids.index(q["starting_after"]) + 1 :]
        limit = min(int(q.get("limit", 10)), 100)
        return JSONResponse(
            {
                "object": "list",
                "url": "/v1/checkout/sessions",
                "has_more": len(items) > limit,
                "data": items[:limit],
            }
        )

    async def _expire(self, request: Request) -> JSONResponse:
        sid = request.path_params["sid"]
        session = self.sessions.get(sid)
        if session is None:
            return _error(404, f"No such checkout.session: '{sid}'", "resource_missing", "session")
        if session["status"] != "open":
            return _error(400, 'Only Checkout Sessions with a status in ["open"] can be expired.', None, None)
        session["status"] = "expired"
        return JSONResponse(session)

    def pay(self, sid: str, *, delayed: bool = False) -> dict[str, Any]:
        """The customer pays (``delayed``: completes now, money arrives later)."""
        session = self.sessions[sid]
        session.update(
            status="complete",
            payment_status="unpaid" if delayed else "paid",
            payment_intent=f"pi_{secrets.token_hex(12)}",
        )
        return dict(session)

    def settle_delayed(self, sid: str) -> dict[str, Any]:
        """A delayed payment's money arrived."""
        self.sessions[sid]["payment_status"] = "paid"
        return dict(self.sessions[sid])


serve = serve_app
"""Serve an ASGI app on a free local port in this event loop; yields its base URL."""
