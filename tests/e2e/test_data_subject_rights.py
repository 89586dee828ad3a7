"""The issue's "Must show", in the embedded mode (all five services in one process on the real
PostgreSQL and the in-process bus) and in the distributed mode (15 processes on RabbitMQ,
PostgreSQL and moto's S3 server, behind the gateway): register → buy credits → upload →
generate → access export → restriction stops generation → delete the account → the erasure
completes with every receipt, and a scan of every service database and of the object store finds
nothing of the user but what is declared retained (pseudonymised payments; identity's security
log, 12 months under Art. 6(1)(f))."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import struct
import zipfile
import zlib
from urllib.parse import urlparse

import httpx
import psycopg
import pytest
from aiflux_identity.testing import mail_text, mails_to, wait_for_mail
from aiflux_kit.db import psycopg_conninfo

SERVICES = ("identity", "billing", "generation", "storage", "privacy")
OVERRIDES = {
    "billing": {"checkout_backend": "simulated"},
    "generation": {"offline": True, "local_delay_s": 0.2},
    "privacy": {"export_poll_interval_s": 0.3},
}
# Kit tables: the outbox and inbox keep event bodies with user ids (see the report to the lead).
MESSAGING = {"outbox", "inbox", "sweep_run", "alembic_version"}
PAY_TOKEN = re.compile(r"name='token' value='([^']+)'")
PROMPT = "a red fox reading a privacy policy"


def png() -> bytes:
    """A real 8x8 RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + b"\xc8\x1e\x3c" * 8 for _ in range(8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def buy_credits(user, wait) -> None:
    checkout = await user.client.post(
        "/v1/billing/checkout", json={"plan_id": "starter"}, headers=user.headers
    )
    assert checkout.status_code in (200, 201), checkout.text
    path = urlparse(checkout.json()["checkout_url"]).path
    token = PAY_TOKEN.search((await user.client.get(path)).text).group(1)
    paid = await user.client.post(f"{path}/pay", data={"token": token})
    assert paid.status_code == 303, paid.text

    async def credited():
        return (await user.client.get("/v1/billing/balance")).json()["credits"] > 0

    await wait(credited)


async def generate(user, file_id: str, wait) -> dict:
    made = await user.client.post(
        "/v1/generations",
        headers=user.headers,
        json={"model": "local-image", "prompt": PROMPT, "input_file_ids": [file_id]},
    )
    assert made.status_code == 202, made.text

    async def finished():
        body = (await user.client.get(f"/v1/generations/{made.json()['id']}")).json()
        return body if body["status"] in ("completed", "failed") else None

    generation = await wait(finished)
    assert generation["status"] == "completed", generation
    return generation


async def export_zip(user, wait) -> zipfile.ZipFile:
    filed = await user.client.post("/v1/privacy/requests", json={"type": "access"}, headers=user.headers)
    assert filed.status_code == 202, filed.text
    request_id = filed.json()["id"]

    async def completed():
        body = (await user.client.get(f"/v1/privacy/requests/{request_id}")).json()
        return body if body["status"] == "completed" else None

    await wait(completed, timeout=60)
    redirect = await user.client.get(f"/v1/privacy/requests/{request_id}/download")
    assert redirect.status_code == 307, redirect.text
    async with httpx.AsyncClient() as browser:
        archive = await browser.get(redirect.headers["location"])
    assert archive.status_code == 200
    return zipfile.ZipFile(io.BytesIO(archive.content))


def generation_restricted(db_url: str, user_id: str) -> bool:
    """True once generation has recorded the user's restriction."""
    with psycopg.connect(psycopg_conninfo(db_url)) as conn:
        return (
            conn.execute("SELECT 1 FROM processing_restriction WHERE user_id = %s", [user_id]).fetchone()
            is not None
        )


async def restriction_stops_generation(user, admin, file_id: str, system, wait) -> None:
    filed = await user.client.post("/v1/privacy/requests", json={"type": "restriction"}, headers=user.headers)
    assert filed.status_code == 202, filed.text

    async def generation_knows():
        return await asyncio.to_thread(
            generation_restricted, system.db_urls["generation"], str(user.signed.user_id)
        )

    await wait(generation_knows)
    refused = await user.client.post(
        "/v1/generations",
        headers=user.headers,
        json={"model": "local-image", "prompt": PROMPT, "input_file_ids": [file_id]},
    )
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:aiflux:problem:processing-restricted"
    lifted = await admin.client.post(
        f"/v1/ops/privacy/requests/{filed.json()['id']}/lift-restriction",
        json={"reason": "the data was confirmed accurate"},
        headers=admin.headers,
    )
    assert lifted.status_code == 200, lifted.text


def scan_databases(db_urls: dict[str, str], needles: list[str]) -> dict[str, int]:
    """Rows of every service table (kit messaging aside) whose text holds any needle."""
    hits: dict[str, int] = {}
    for service in SERVICES:
        conninfo = psycopg_conninfo(db_urls[service])
        with psycopg.connect(conninfo) as conn:
            tables = [
                r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ]
            for table in tables:
                if table in MESSAGING:
                    continue
                clause = " OR ".join("t::text ILIKE %s" for _ in needles)
                count = conn.execute(
                    f'SELECT count(*) FROM "{table}" t WHERE {clause}', [f"%{n}%" for n in needles]
                ).fetchone()[0]
                if count:
                    hits[f"{service}.{table}"] = count
    return hits


def scan_objects(objects: list[tuple[str, bytes]], user_id: str, digests: set[str]) -> list[str]:
    """Objects whose key names the user or whose bytes are one of the user's files."""
    return [key for key, data in objects if user_id in key or hashlib.sha256(data).hexdigest() in digests]


async def test_every_right_end_to_end(stack_factory, people, as_system, wait):
    async with stack_factory(overrides=OVERRIDES) as stack:
        await every_right(as_system(stack), people, wait)


@pytest.mark.slow
async def test_every_right_end_to_end_distributed(distributed_system, people, wait):
    await every_right(distributed_system, people, wait)


async def every_right(system, people, wait) -> None:
    """The whole scenario against a running system (embedded or distributed)."""
    async with people(system) as new_person:
        admin = await new_person(admin=True)
        user = await new_person()
        user_id = str(user.signed.user_id)

        await buy_credits(user, wait)
        picture = png()
        uploaded = await user.client.post(
            "/v1/files",
            headers=user.headers,
            files={"file": ("me.png", picture, "image/png")},
            data={"purpose": "reference"},
        )
        assert uploaded.status_code == 201, uploaded.text
        file_id = uploaded.json()["file_id"]
        generation = await generate(user, file_id, wait)
        output_id = generation["outputs"][0]["file_id"]

        with await export_zip(user, wait) as zipped:
            names = set(zipped.namelist())
            for service in SERVICES:
                assert f"data/{service}.json" in names, names
            assert zipped.read(f"files/uploads/{file_id}.png") == picture
            generated = [n for n in names if n.startswith(f"files/generated/{output_id}")]
            assert generated and zipped.read(generated[0])
            assert PROMPT in zipped.read("data/generation.json").decode()
            assert user.signed.email in zipped.read("data/identity.json").decode()
            assert json.loads(zipped.read("data/billing.json"))
            manifest = json.loads(zipped.read("manifest.json"))
            digests = {hashlib.sha256(zipped.read(n)).hexdigest() for n in names if n.startswith("files/")}
        assert {"purposes", "recipients", "retention", "rights", "categories"} <= set(manifest)
        await wait_for_mail(system.data_dir, user.signed.email, "export is ready")

        await restriction_stops_generation(user, admin, file_id, system, wait)

        # The scan sees the user's objects while they exist (so its empty answer later counts).
        assert scan_objects(await asyncio.to_thread(system.objects), user_id, digests)

        deleted = await user.client.request(
            "DELETE", "/v1/account", headers=user.headers, json={"password": user.signed.password}
        )
        assert deleted.status_code == 202, deleted.text
        request_id = deleted.json()["request_id"]

        async def erased():
            shown = (await admin.client.get(f"/v1/ops/privacy/requests/{request_id}")).json()
            return shown if shown["status"] == "completed" else None

        shown = await wait(erased, timeout=90)
        certificate = shown["certificate"]
        assert set(certificate["services"]) == set(SERVICES)
        assert all(step["receipt_at"] and step["verified_at"] for step in certificate["services"].values())
        assert user_id not in json.dumps(certificate)
        retained = {(item["service"], item["category"]) for item in certificate["retained"]}
        assert ("billing", "payments") in retained
        # Besides the payments and identity's rows: every service's erasure guard and last
        # erasure message, and the confirmation mail identity sends after the certificate.
        by_erasure = {
            (service, category) for service in SERVICES for category in ("erasure_guard", "erasure_messages")
        }
        assert retained <= {
            ("billing", "payments"),
            ("identity", "disabled_account"),
            ("identity", "security_log"),
            ("identity", "erasure_confirmation_mail"),
            *by_erasure,
        }
        assert {(service, "erasure_guard") for service in SERVICES} <= retained
        farewell = mail_text(await wait_for_mail(system.data_dir, user.signed.email, "deleted"))
        catalog = {r["id"]: r for r in (await admin.client.get("/v1/privacy/retention")).json()["items"]}
        for item in certificate["retained"]:  # every item kept is told, with its rule's basis
            rule = catalog[item["retention_rule"]]
            assert item["legal_basis"] == rule["legal_basis"], item
            assert f"Legal basis: {item['legal_basis']}" in farewell
            assert (item.get("description") or item["category"].replace("_", " ")) in farewell
        account = next(i for i in certificate["retained"] if i["category"] == "disabled_account")
        assert (account["retention_rule"], account["legal_basis"]) == ("account-data", "Art. 6(1)(b)")
        # Every earlier mail to the user went with the erasure: the confirmation alone is left.
        assert len(mails_to(system.data_dir, user.signed.email)) == 1
        # The user follows the erasure through the 202's link, without a session.
        async with httpx.AsyncClient() as anon:  # no cookie, no session
            public = (await anon.get(deleted.json()["status_url"])).json()
        assert public["status"] == "completed" and public["outcome"] == "erased"
        assert set(public["progress"]) == set(SERVICES) and user_id not in json.dumps(public)

        # Identity's 30-day grace ends (its purge runs as if the period were over).
        assert await system.purge_identity() == 1
        # Ops see every retention rule with the last run its owner service reported.
        rules = (await admin.client.get("/v1/ops/privacy/retention")).json()["items"]
        assert {r["owner_service"] for r in rules} == set(SERVICES)
        assert all(r["reported"] for r in rules), [r["sweep"] for r in rules if not r["reported"]]
        purge_rule = next(r for r in rules if r["sweep"] == "account-purge")
        assert purge_rule["last_run"]["counts"] == {"purged": 1}

        needles = [user_id, user.signed.email, user.signed.username]
        hits = await asyncio.to_thread(scan_databases, system.db_urls, needles)
        assert set(hits) <= {"identity.security_log"}, hits
        if hits:  # kept for security (§5, at most 12 months) and declared as such
            assert ("identity", "security_log") in retained
        conninfo = psycopg_conninfo(system.db_urls["billing"])
        with psycopg.connect(conninfo) as conn:
            kept = conn.execute(
                "SELECT count(*) FROM payment WHERE user_id IS NULL AND pseudonymised_at IS NOT NULL"
            ).fetchone()[0]
        assert kept == 1
        objects = await asyncio.to_thread(system.objects)
        assert scan_objects(objects, user_id, digests) == []
