"""The erasure process manager's handler on an in-memory ledger: a complete round ends in a
certificate that no longer names the user and a confirmation mail; residue sends only the
services that kept something back to erasing."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest
from aiflux_contracts import (
    ErasureRequested,
    ErasureVerificationRequested,
    Event,
    UserNotificationRequested,
)
from aiflux_privacy.bootstrap import PrivacyContainer
from aiflux_privacy.domain.erasure import PARTICIPANTS
from aiflux_privacy.domain.records import PrivacyRequest, RequestStep
from aiflux_privacy.domain.requests import Status
from aiflux_privacy.handlers.erasure import advance

from .conftest import NOW, a_request

pytestmark = pytest.mark.unit


class MemoryLedger:
    """The erasure ledger in dictionaries, with the events it would put in the outbox."""

    def __init__(self, request: PrivacyRequest) -> None:
        self.requests = {request.id: request}
        self.step_of: dict[str, RequestStep] = {}
        self.events: list[Event] = []

    def answer(self, service: str, *, clean: bool | None = None) -> None:
        self.step_of[service] = RequestStep(
            next(iter(self.requests)),
            service,
            {"deleted": {"rows": 1}, "retained": []},
            NOW,
            None if clean is None else {"remaining": {}},
            None if clean is None else NOW,
            clean,
        )

    async def load(self, request_id: uuid.UUID) -> PrivacyRequest | None:
        return self.requests.get(request_id)

    async def steps(self, request_id: uuid.UUID) -> list[RequestStep]:
        return [self.step_of[s] for s in sorted(self.step_of)]

    async def set(self, request_id: uuid.UUID, **values: Any) -> None:
        self.requests[request_id] = dataclasses.replace(self.requests[request_id], **values)

    async def clear_verifications(self, request_id: uuid.UUID) -> None:
        for service, step in self.step_of.items():
            self.step_of[service] = dataclasses.replace(step, verification=None, verified_at=None, clean=None)

    async def reopen_steps(self, request_id: uuid.UUID, *, only_unclean: bool) -> None:
        for service, step in self.step_of.items():
            if step.clean is False or (step.clean is None and not only_unclean):
                self.step_of[service] = dataclasses.replace(step, receipt_at=None)

    async def publish(self, event: Event) -> None:
        self.events.append(event)


def erasure(user_id: uuid.UUID) -> PrivacyRequest:
    return a_request(user_id, "erasure", Status.IN_PROGRESS, "account_deletion")


async def test_a_clean_round_ends_in_a_certificate_without_the_user(container: PrivacyContainer) -> None:
    user_id = uuid.uuid4()
    request = erasure(user_id)
    ledger = MemoryLedger(request)
    for service in PARTICIPANTS:
        ledger.answer(service)
    await advance(ledger, request.id, container.pepper, max_redrives=3)
    assert ledger.requests[request.id].status == Status.VERIFYING
    assert [type(e) for e in ledger.events] == [ErasureVerificationRequested]

    for service in PARTICIPANTS:
        ledger.answer(service, clean=True)
    await advance(ledger, request.id, container.pepper, max_redrives=3)

    done = ledger.requests[request.id]
    assert done.status == Status.COMPLETED and done.outcome == "erased"
    assert done.user_id is None and done.certificate is not None
    assert str(user_id) not in str(done.certificate)
    mail = ledger.events[-1]
    assert isinstance(mail, UserNotificationRequested)
    assert mail.template == "erasure_confirmation" and mail.user_id == user_id


async def test_residue_sends_only_its_service_back_to_erasing(container: PrivacyContainer) -> None:
    request = erasure(uuid.uuid4())
    ledger = MemoryLedger(dataclasses.replace(request, status=Status.VERIFYING))
    for service in PARTICIPANTS:
        ledger.answer(service, clean=service != "generation")
    await advance(ledger, request.id, container.pepper, max_redrives=3)

    redriven = ledger.requests[request.id]
    assert redriven.status == Status.IN_PROGRESS and redriven.redrives == 1
    assert [type(e) for e in ledger.events] == [ErasureRequested]
    reopened = [s for s, step in ledger.step_of.items() if step.receipt_at is None]
    assert reopened == ["generation"]


async def test_receipts_that_count_what_remains_certify_without_a_verification_round(
    container: PrivacyContainer,
) -> None:
    request = erasure(uuid.uuid4())
    ledger = MemoryLedger(request)
    for service in PARTICIPANTS:
        ledger.answer(service, clean=True)  # the receipt carried its service's verification
    await advance(ledger, request.id, container.pepper, max_redrives=3)

    done = ledger.requests[request.id]
    assert done.status == Status.COMPLETED and done.certificate is not None
    assert ErasureVerificationRequested not in [type(e) for e in ledger.events]
    assert all(s["verified_at"] for s in done.certificate["services"].values())


async def test_a_receipt_that_counted_residue_sends_its_service_back_to_erasing(
    container: PrivacyContainer,
) -> None:
    request = erasure(uuid.uuid4())
    ledger = MemoryLedger(request)
    for service in PARTICIPANTS:
        ledger.answer(service, clean=service != "storage")
    await advance(ledger, request.id, container.pepper, max_redrives=3)

    redriven = ledger.requests[request.id]
    assert redriven.status == Status.IN_PROGRESS and redriven.redrives == 1
    assert redriven.certificate is None
    assert [type(e) for e in ledger.events] == [ErasureRequested]
    assert [s for s, step in ledger.step_of.items() if step.receipt_at is None] == ["storage"]
