"""The event catalog is versioned, decodable and frozen by checked-in snapshots."""

import json
import re
import uuid

import pytest
from aiflux_contracts import CATALOG, Envelope, UnknownEvent, UserDeleted, decode
from aiflux_contracts.snapshots import asyncapi_document, stale
from pydantic import ValidationError


def test_snapshots_match_the_models():
    assert stale() == [], "event schemas changed: run `make contracts` and review the diff"


def test_every_routing_key_is_service_event_version():
    for key in CATALOG:
        assert re.fullmatch(r"(identity|billing|generation|storage|privacy)\.[a-z_]+\.v\d+", key)


def test_catalog_covers_the_product_brief():
    names = {cls.event_type() for cls in CATALOG.values()}
    for required in (
        "UserRegistered",
        "UserUpdated",
        "UserDeleted",
        "UserPurged",
        "SessionRevoked",
        "CreditsPurchased",
        "CreditsReserved",
        "CreditsRefunded",
        "PaymentDisputed",
        "GenerationRequested",
        "GenerationCompleted",
        "GenerationFailed",
        "GenerationDeleted",
        "ProviderCleanupRequested",
        "FileStored",
        "FilesErased",
        "ErasureRequested",
        "ProcessingRestricted",
        "ConsentChanged",
        "PolicyPublished",
        "ExportRequested",
        "ErasureCompleted",
        "ExportPartReady",
    ):
        assert required in names


def test_an_envelope_round_trips():
    event = UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4())
    envelope = Envelope.wrap(event, correlation_id=uuid.uuid4())
    decoded_envelope, decoded = decode(envelope.model_dump_json())
    assert decoded == event
    assert decoded_envelope.routing_key == "identity.user_deleted.v1"


def test_unknown_and_malformed_events_are_refused():
    envelope = Envelope(type="NoSuchThing", version=1, producer="identity", payload={})
    with pytest.raises(UnknownEvent):
        decode(envelope.model_dump_json())
    bad = Envelope.wrap(UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4()))
    body = json.loads(bad.model_dump_json())
    body["payload"]["user_id"] = "not-a-uuid"
    with pytest.raises(ValidationError):
        decode(json.dumps(body))
    with pytest.raises(ValidationError):
        decode(b"\x00not json")


def test_asyncapi_lists_every_event():
    document = asyncapi_document()
    assert document["asyncapi"].startswith("3.")
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == set(CATALOG)
