"""Schemathesis over every operation of the running system: no input is a server error, and
(``VALIDATE_RESPONSES``) every answer's body matches the schema the OpenAPI document gives it.

All five services run in one test stack. Schemathesis reads the served OpenAPI document and
generates valid and invalid requests for every operation (positive and negative data), sent as
an anonymous caller, as a signed-in user (session cookie and CSRF header) and as an admin; any
5xx fails the test, listing the request that caused it, and so does a body its documented
schema does not describe (schemathesis's ``response_schema_conformance``: a typed 2xx model, the
ProblemDetails of a documented problem status). The cost is fixed: ``EXAMPLES`` examples per
operation, mode and caller (1 by default, so every operation still gets a valid and an invalid
request from each caller; ``AIFLUX_FUZZ_EXAMPLES`` draws more), derandomized (the same requests
on every run), no example database. Requests go out from a worker thread, so the stack keeps
serving in this event loop.

Operations that end the caller's session or account (logout, account deletion, data-subject
requests, which may be erasures) run last, with users of their own, so they do not turn the
rest of the run into 401s.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from aiflux_identity.commands import set_admin
from aiflux_identity.testing import SignedIn, register_and_login
from aiflux_kit.testing import serve_app
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from pydantic import BaseModel
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = [
    pytest.mark.slow,  # schemathesis draws with `random` inside a strategy:
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

EXAMPLES = int(os.environ.get("AIFLUX_FUZZ_EXAMPLES", "1"))
# Answers checked against the document, not only for 5xx. Off only to bisect a failure.
VALIDATE_RESPONSES = True
CHECKS = [not_a_server_error, *([response_schema_conformance] if VALIDATE_RESPONSES else [])]
SESSION_ENDING = [re.compile(p) for p in (r"^/v1/account$", r"^/v1/privacy/requests$", r"^/v1/auth/logout$")]


@dataclass
class Caller:
    """Who sends the requests, and which operations they get."""

    name: str
    headers: dict[str, str]
    takes: Callable[[str], bool]


def _headers(signed: SignedIn | None) -> dict[str, str]:
    if signed is None:
        return {}
    cookie = "; ".join(f"{name}={value}" for name, value in signed.cookies.items())
    return {"Cookie": cookie, "X-CSRF-Token": signed.csrf_token}


def _failures(strategy: Any, caller: Caller, session: requests.Session) -> list[str]:
    """The first request drawn from ``strategy`` that failed a check in ``CHECKS``, if any."""

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case: Any) -> None:
        response = case.call(session=session, headers=caller.headers, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup) as failed:  # a Failure or a FailureGroup
            raise AssertionError(
                f"{case.method} {case.path} as {caller.name}: {response.status_code}, "
                f"{failed}\n{case.as_curl_command()}\n{response.text[:500]}"
            ) from None

    try:
        answers_as_documented()
    except AssertionError as failure:
        return [str(failure)]
    except Unsatisfiable:
        pass  # no invalid request exists for an operation without inputs
    return []


def _fuzz(schema_url: str, callers: list[Caller]) -> list[str]:
    schema = schemathesis.openapi.from_url(schema_url)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50, "the served OpenAPI document lost its operations"
    sessions = {caller.name: requests.Session() for caller in callers}  # kept alive
    failures: list[str] = []
    try:
        for operation in operations:
            # Valid requests reach the logic; invalid ones the parsing. Built once, for everyone.
            strategies = [operation.as_strategy(mode) for mode in GenerationMode]
            for caller in callers:
                if caller.takes(operation.path):
                    for strategy in strategies:
                        failures += _failures(strategy, caller, sessions[caller.name])
    finally:
        for session in sessions.values():
            session.close()
    return failures


async def _signed_in(stack: Any, admin: bool = False) -> SignedIn:
    signed = await register_and_login(stack.client, stack.data_dir)
    if admin:
        url = stack.unit("identity").settings.database_url
        assert await asyncio.to_thread(set_admin, url, signed.username, True)
    stack.client.cookies.clear()
    return signed


def _ordinary(path: str) -> bool:
    return not any(pattern.match(path) for pattern in SESSION_ENDING)


async def _callers(stack: Any) -> list[Caller]:
    user, admin = await _signed_in(stack), await _signed_in(stack, admin=True)
    callers = [
        Caller("anonymous", {}, lambda _: True),
        Caller("user", _headers(user), _ordinary),
        Caller("admin", _headers(admin), _ordinary),
    ]
    for role, is_admin in (("user", False), ("admin", True)):
        for pattern in SESSION_ENDING:  # one fresh session each: the last ones end it
            signed = await _signed_in(stack, admin=is_admin)
            callers.append(
                Caller(
                    f"{role} ({pattern.pattern})",
                    _headers(signed),
                    lambda path, p=pattern: bool(p.match(path)),
                )
            )
    return callers


async def test_no_operation_answers_with_a_server_error(stack_factory: Any) -> None:
    # Cheap password hashing (several users sign in; bcrypt's cost is not under test) and the
    # local checkout page instead of Stripe's API.
    overrides = {
        "identity": {"bcrypt_rounds": 4, "limit_register_ip": "100/hour"},
        "billing": {"checkout_backend": "simulated"},
    }
    async with stack_factory(overrides=overrides) as stack:
        callers = await _callers(stack)
        failures = await asyncio.to_thread(_fuzz, f"{stack.base_url}/openapi.json", callers)
    assert not failures, "\n\n".join(failures)


class Page(BaseModel):
    items: list[str]
    next_cursor: str | None


def _lying_app() -> FastAPI:
    """One operation whose answer is not what its document promises."""
    app = FastAPI()

    @app.get("/v1/things", response_model=Page)
    async def things() -> JSONResponse:
        return JSONResponse({"things": ["a"]})  # documented as {items, next_cursor}

    return app


async def test_a_body_its_document_does_not_describe_is_a_failure() -> None:
    # The run above passes only if this one catches a lie: a 200 outside its response model.
    async with serve_app(_lying_app()) as base_url:
        # Requests from a thread, so the server keeps serving in this loop.
        schema = await asyncio.to_thread(schemathesis.openapi.from_url, f"{base_url}/openapi.json")
        operation = schema["/v1/things"]["GET"]
        with requests.Session() as session:
            failures = await asyncio.to_thread(
                _failures,
                operation.as_strategy(GenerationMode.POSITIVE),
                Caller("anonymous", {}, lambda _: True),
                session,
            )
    assert len(failures) == 1, failures
    assert "GET /v1/things as anonymous: 200" in failures[0]
    assert "items" in failures[0]  # the schema's complaint names what is missing
