"""Identity's export part, on fakes: what ``identity.json`` holds and hides, and when no part
is written."""

from __future__ import annotations

import json
import uuid

import pytest
from aiflux_contracts import ExportRequested
from aiflux_identity.adapters.audit_log import SecurityEvent
from aiflux_identity.adapters.records import SessionRecord
from aiflux_identity.handlers import export

from .conftest import NOW, Published, account

pytestmark = pytest.mark.unit

USER = uuid.uuid4()


def export_event() -> ExportRequested:
    return ExportRequested(request_id=uuid.uuid4(), user_id=USER)


async def test_the_part_holds_profile_sessions_and_log_and_is_announced(identity, fakes) -> None:
    fakes.data.accounts[USER] = account(USER)
    fakes.data.session_rows.append(SessionRecord(uuid.uuid4(), USER, NOW, NOW, None, "10.0.0.1", "Firefox"))
    fakes.data.log.append(SecurityEvent(7, USER, "registered", "10.0.0.1", None, {}, NOW))
    ctx, event = Published(), export_event()

    await export.on_export_requested(identity, ctx, event)  # type: ignore[arg-type]

    body = json.loads(fakes.parts.parts[f"exports/{event.request_id}/identity.json"])
    assert body["profile"]["email"] == "ada@example.com"
    assert "password_hash" not in body["profile"]
    assert body["sessions"][0]["user_agent"] == "Firefox"
    assert not {"token_hash", "csrf_token_hash"} & set(body["sessions"][0])
    assert body["security_log"][0]["event"] == "registered"
    [ready] = ctx.events
    assert (ready.prefix, ready.objects) == (f"exports/{event.request_id}", ["identity.json"])


async def test_no_part_for_an_erased_user(identity, fakes) -> None:
    fakes.data.accounts[USER] = account(USER)
    fakes.data.erased.add(USER)
    ctx = Published()
    await export.on_export_requested(identity, ctx, export_event())  # type: ignore[arg-type]
    assert fakes.parts.parts == {} and ctx.events == []


async def test_a_cancelled_export_finishes_without_announcing(identity, fakes) -> None:
    fakes.data.accounts[USER] = account(USER)
    fakes.parts.cancelled = True  # storage's 410: erased meanwhile
    ctx = Published()
    await export.on_export_requested(identity, ctx, export_event())  # type: ignore[arg-type]
    assert ctx.events == []
