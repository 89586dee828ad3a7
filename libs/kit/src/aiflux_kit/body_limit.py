"""A request body limit enforced while the body streams in, before anything buffers it.

FastAPI reads a JSON body whole before validating it, so a 256 MiB body to a login route cost
the process its size in memory before the 422. :class:`BodyLimitMiddleware` refuses a body
whose ``Content-Length`` is over the limit without reading it, and stops a body sent without
one (chunked) as soon as the bytes received pass the limit: 413 ``payload-too-large``.

Routes that stream large bodies and enforce their own limits while doing so (uploads, export
parts and archives) are marked with :func:`streams_own_body` and left alone. Errors raised
while FastAPI reads a body are answered by the app's problem handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .constant_time import ascii_int

DEFAULT_BODY_LIMIT = 1024 * 1024
"""Bytes a JSON route accepts unless the service's ``max_body_bytes`` says otherwise."""

_OWN_LIMIT = "__aiflux_streams_own_body__"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def streams_own_body(endpoint: Endpoint) -> Endpoint:
    """Mark a route whose handler reads its body as a stream under its own (larger) limit."""
    setattr(endpoint, _OWN_LIMIT, True)
    return endpoint


class BodyLimitMiddleware:
    """Refuse request bodies over ``limit`` bytes, counting them as they arrive.

    The decision waits for the route's first read of the body: by then routing has put the
    endpoint in the scope, so a route marked :func:`streams_own_body` is left alone, and a route
    that never reads its body costs nothing.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        await self.app(scope, self._limited(scope, receive), send)

    def _limited(self, scope: Scope, receive: Receive) -> Receive:
        received = 0
        checked = exempt = False

        async def limited() -> Message:
            nonlocal received, checked, exempt
            if not checked:
                checked = True
                exempt = getattr(scope.get("endpoint"), _OWN_LIMIT, False)
                declared = _content_length(scope)
                if not exempt and declared is not None and declared > self.limit:
                    raise self._too_large()  # before a single byte of the body is read
            message = await receive()
            if not exempt and message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise self._too_large()
            return message

        return limited

    def _too_large(self) -> HTTPException:
        # An HTTPException, not a Problem: FastAPI turns any other error raised while it reads
        # a body into a 400; the kit's handler renders this one as problem+json.
        return HTTPException(
            413, f"The request body may be at most {self.limit} bytes.", headers={"Connection": "close"}
        )  # the rest is never read


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return ascii_int(value.decode("latin-1"), max_digits=20)
    return None
