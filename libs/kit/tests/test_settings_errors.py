"""Settings refuse placeholder secrets outside dev; every error is a problem document."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from aiflux_kit.db import Database
from aiflux_kit.errors import Problem, install_problem_handlers
from aiflux_kit.settings import ServiceSettings
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from sqlalchemy import text

PRODUCTION = ServiceSettings(
    env="production", service_key="k" * 40, amqp_url="amqp://svc:from-the-vault@rabbit:5672/aiflux"
)


def test_production_refuses_placeholder_secrets():
    amqp = "amqp://svc:from-the-vault@rabbit:5672/aiflux"
    with pytest.raises(ValidationError, match="service_key"):
        ServiceSettings(env="production", service_key="change-me", amqp_url=amqp)
    with pytest.raises(ValidationError, match="trusted_callers"):
        ServiceSettings(
            env="production", service_key="a" * 40, amqp_url=amqp, trusted_callers={"billing": "change-me"}
        )
    with pytest.raises(ValidationError, match="guest"):
        ServiceSettings(env="production", service_key="a" * 40)
    production = ServiceSettings(
        env="production", service_key="a" * 40, amqp_url="amqp://billing:s3cr3t-from-vault@rabbit:5672/aiflux"
    )
    assert production.env == "production"
    assert ServiceSettings(env="dev").service_key.get_secret_value() == "change-me"


def test_shared_settings_come_from_the_aiflux_prefix(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIFLUX_AMQP_URL", "amqp://shared/")
    assert ServiceSettings().amqp_url == "amqp://shared/"


class Body(BaseModel):
    password: str
    age: int


def app() -> FastAPI:
    application = FastAPI()
    install_problem_handlers(application)

    @application.post("/things")
    async def create(body: Body) -> dict[str, str]:
        raise Problem(409, "thing-exists", "Conflict", "That thing exists already.")

    @application.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    return application


async def test_errors_are_problem_documents_without_echoing_input():
    transport = httpx.ASGITransport(app=app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        invalid = await client.post("/things", json={"password": "hunter22", "age": "old"})
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"
        assert invalid.json()["type"] == "urn:aiflux:problem:validation-error"
        assert "hunter22" not in invalid.text

        conflict = await client.post("/things", json={"password": "x", "age": 3})
        assert conflict.status_code == 409
        assert conflict.json()["detail"] == "That thing exists already."

        crash = await client.get("/boom")
        assert crash.status_code == 500
        assert crash.json()["type"] == "urn:aiflux:problem:internal-error"
        assert "secret internals" not in crash.text

        missing = await client.get("/nowhere")
        assert missing.status_code == 404
        assert missing.json()["type"] == "urn:aiflux:problem:not-found"


async def test_result_downloads_refuse_private_networks_and_non_https():
    from aiflux_kit.http import UnsafeDownload, result_download_client

    client = result_download_client(PRODUCTION)
    async with client:
        for url in (
            "https://127.0.0.1/output.png",
            "https://10.0.0.8/x.png",
            "https://169.254.169.254/latest/meta-data",
            "http://cdn.example.com/x.png",
        ):
            with pytest.raises(UnsafeDownload):
                await client.get(url)


async def test_the_processor_guard_refuses_unregistered_hosts_before_sending():
    from aiflux_kit.http import UnregisteredProcessor, processor_client

    client = processor_client("wavespeed", PRODUCTION)
    async with client:
        with pytest.raises(UnregisteredProcessor):
            await client.post("https://collector.example.net/v1/upload", json={"prompt": "x"})
        with pytest.raises(UnregisteredProcessor):  # another processor's host is refused too
            await client.post("https://api.stripe.com/v1/charges", json={})


async def test_nul_characters_postgresql_cannot_store_are_a_422_and_change_nothing(
    pg_database: Callable[[str], str],
):
    """Fuzzing found U+0000 in a body or query string reaching PostgreSQL as a 500."""
    database = Database(pg_database("kit_nul"))
    async with database.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE note (body text, extra jsonb)"))
    application = FastAPI()
    install_problem_handlers(application)

    @application.post("/notes")
    async def add(body: dict[str, Any]) -> dict[str, str]:
        async with database.transaction() as session:
            await session.execute(text("INSERT INTO note (body) VALUES ('kept')"))
            await session.execute(
                text("INSERT INTO note (body, extra) VALUES (:b, CAST(:e AS jsonb))"),
                {"b": body.get("text", ""), "e": json.dumps(body.get("extra", {}))},
            )
        return {"ok": "yes"}

    @application.get("/bad-sql")
    async def bad_sql() -> None:
        async with database.transaction() as session:
            await session.execute(text("SELECT * FROM no_such_table"))

    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for body in ({"text": "a\u0000b"}, {"extra": {"k": "a\u0000b"}}):
                refused = await client.post("/notes", json=body)
                assert refused.status_code == 422, refused.text
                assert refused.headers["content-type"] == "application/problem+json"
                assert refused.json()["type"] == "urn:aiflux:problem:invalid-characters"
            # other database errors are still ours: a 500, not blamed on the client
            crash = await client.get("/bad-sql")
            assert crash.status_code == 500
            assert crash.json()["type"] == "urn:aiflux:problem:internal-error"
            assert (await client.post("/notes", json={"text": "fine"})).status_code == 200
        async with database.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT body FROM note ORDER BY body"))).scalars()
            assert list(rows) == ["fine", "kept"]
    finally:
        await database.dispose()


async def test_conflicts_are_409_problems_and_database_errors_never_log_the_values(
    pg_database, caplog: pytest.LogCaptureFixture
):
    from aiflux_kit.db import Database
    from sqlalchemy import text

    db = Database(pg_database("errors"))
    application = FastAPI()
    install_problem_handlers(application)

    @application.post("/notes")
    async def store(body: Body) -> dict[str, str]:
        async with db.transaction() as session:
            await session.execute(text("CREATE TABLE IF NOT EXISTS notes (t text UNIQUE)"))
            await session.execute(text("INSERT INTO notes (t) VALUES (:t)"), {"t": body.password})
        return {"ok": "yes"}

    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        nul = await client.post("/notes", json={"password": "anna@example.com\u0000", "age": 1})
        assert nul.status_code == 422
        assert (await client.post("/notes", json={"password": "x", "age": 1})).status_code == 200
        duplicate = await client.post("/notes", json={"password": "x", "age": 1})
        assert duplicate.status_code == 409
    await db.dispose()
    assert "anna@example.com" not in caplog.text


async def test_internal_routes_admit_only_listed_callers_with_their_pair_key():
    import time

    import jwt
    from aiflux_kit.auth import InternalAuth, ServiceTokenAuth, mint_service_token, pair_key

    generation_key, identity_key = "g" * 40, "i" * 40
    application = FastAPI()
    install_problem_handlers(application)
    guard = InternalAuth(
        "billing",
        {"generation": pair_key(generation_key, "billing"), "identity": pair_key(identity_key, "billing")},
    )

    @application.post("/internal/billing/holds", dependencies=[guard.require("generation")])
    async def hold() -> dict[str, str]:
        return {"ok": "yes"}

    transport = httpx.ASGITransport(app=application)

    def client(auth: httpx.Auth | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transport, base_url="http://t", auth=auth)

    async with client(ServiceTokenAuth("generation", "billing", generation_key)) as generation:
        assert (await generation.post("/internal/billing/holds")).status_code == 200
    async with client(ServiceTokenAuth("identity", "billing", identity_key)) as identity:
        assert (await identity.post("/internal/billing/holds")).status_code == 403  # not listed
    # A callee holds only pair keys *for itself*: with billing's copy of generation's key one
    # cannot reach storage as generation, and a token meant for storage is refused here.
    for_storage = mint_service_token("generation", "storage", pair_key(generation_key, "storage"))
    async with client() as anyone:
        refused = await anyone.post(
            "/internal/billing/holds", headers={"Authorization": f"Bearer {for_storage}"}
        )
        assert refused.status_code == 403
        now = int(time.time())
        forever = jwt.encode(
            {"iss": "generation", "aud": "billing", "iat": now},
            pair_key(generation_key, "billing"),
            algorithm="HS256",
        )
        no_expiry = await anyone.post(
            "/internal/billing/holds", headers={"Authorization": f"Bearer {forever}"}
        )
        assert no_expiry.status_code == 403
