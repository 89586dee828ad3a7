"""The erasure process manager's moves, without a database: receipts from every service, then
a verification, a re-drive of the services that kept residue, then the certificate."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiflux_privacy.domain.erasure import (
    PARTICIPANTS,
    Move,
    certificate,
    merged_counts,
    next_move,
    residue,
)
from aiflux_privacy.domain.records import RequestStep
from aiflux_privacy.domain.requests import Status

pytestmark = pytest.mark.unit

REQUEST = uuid.uuid4()
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def step(service: str, *, erased: bool = True, verified: bool | None = None) -> RequestStep:
    return RequestStep(
        REQUEST,
        service,
        {"deleted": {"rows": 1}, "retained": []},
        NOW if erased else None,
        {"remaining": {}} if verified is not None else None,
        NOW if verified is not None else None,
        verified,
    )


def all_steps(**overrides: RequestStep) -> dict[str, RequestStep]:
    steps = {s: step(s) for s in PARTICIPANTS}
    return {**steps, **overrides}


def test_the_erasure_waits_for_every_receipt_then_asks_for_verification() -> None:
    waiting = all_steps(storage=step("storage", erased=False))
    assert next_move(Status.IN_PROGRESS, waiting, 0, 3) is Move.WAIT
    assert next_move(Status.IN_PROGRESS, all_steps(), 0, 3) is Move.VERIFY


def test_residue_redrives_at_once_and_only_clean_answers_certify() -> None:
    clean = {s: step(s, verified=True) for s in PARTICIPANTS}
    assert next_move(Status.VERIFYING, clean, 0, 3) is Move.CERTIFY
    residue_found = {**clean, "billing": step("billing", verified=False)}
    assert next_move(Status.VERIFYING, residue_found, 0, 3) is Move.REDRIVE
    # Out of re-drives: it waits (the stall sweep and operators see it), never certifies.
    assert next_move(Status.VERIFYING, residue_found, 3, 3) is Move.WAIT
    one_silent = {s: v for s, v in clean.items() if s != "identity"}
    assert next_move(Status.VERIFYING, one_silent, 0, 3) is Move.WAIT


def test_receipts_carrying_their_verification_need_no_second_round() -> None:
    counted = {s: step(s, verified=True) for s in PARTICIPANTS}
    assert next_move(Status.IN_PROGRESS, counted, 0, 3) is Move.CERTIFY
    residue_found = {**counted, "storage": step("storage", verified=False)}
    assert next_move(Status.IN_PROGRESS, residue_found, 0, 3) is Move.REDRIVE
    assert next_move(Status.IN_PROGRESS, residue_found, 3, 3) is Move.WAIT
    # One receipt without its own count (an older service): everyone is asked, as before.
    assert next_move(Status.IN_PROGRESS, {**counted, "billing": step("billing")}, 0, 3) is Move.VERIFY


def test_a_verification_older_than_the_latest_receipt_does_not_count() -> None:
    stale = dataclasses.replace(step("billing", verified=True), receipt_at=NOW + timedelta(seconds=1))
    counted = {s: step(s, verified=True) for s in PARTICIPANTS}
    assert next_move(Status.IN_PROGRESS, {**counted, "billing": stale}, 0, 3) is Move.VERIFY


def test_a_closed_request_does_not_move() -> None:
    assert next_move(Status.COMPLETED, all_steps(), 0, 3) is Move.WAIT


def test_receipts_of_a_redrive_keep_the_larger_count() -> None:
    assert merged_counts({"a": 3, "b": 1}, {"a": 1, "c": 2}) == {"a": 3, "b": 1, "c": 2}


def test_only_what_exceeds_the_declared_retained_items_is_residue() -> None:
    receipt = {"retained": [{"category": "payments", "count": 2}]}
    assert residue(receipt, {"payments": 2, "files": 0}) == {}
    assert residue(receipt, {"payments": 3, "files": 1}) == {"payments": 3, "files": 1}


def test_the_certificate_names_no_user() -> None:
    user_id = uuid.uuid4()
    steps = {
        s: {
            "receipt": {"deleted": {"rows": 1}, "retained": []},
            "verification": {"remaining": {}},
            "receipt_at": NOW.isoformat(),
            "verified_at": NOW.isoformat(),
        }
        for s in PARTICIPANTS
    }
    issued = certificate(REQUEST, "f" * 64, steps, NOW)
    assert str(user_id) not in str(issued)
    assert set(issued["services"]) == set(PARTICIPANTS)
