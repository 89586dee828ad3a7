"""An erasure that stays true while other things happen to the same user: an access export in
flight, an upload that was authenticated before the deletion and finishes after it, a late
request with the old cookie, and a report that the user is a minor. The certificate is issued,
and a scan of every service database (outbox included), the object store and the mail folder
finds nothing of the user beyond what the certificate declares."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import json
from collections import Counter
from pathlib import Path

import psycopg
from aiflux_kit.db import psycopg_conninfo

from .test_data_subject_rights import OVERRIDES, SERVICES, buy_credits, generate, png, scan_objects

# Tables that name nobody: handled event ids, sweep runs, schema versions.
NAMELESS = {"inbox", "sweep_run", "alembic_version"}


def rows_naming(db_urls: dict[str, str], needles: list[str]) -> Counter[str]:
    """``service.table`` → rows whose text holds any needle, in every service database."""
    hits: Counter[str] = Counter()
    for service in SERVICES:
        with psycopg.connect(psycopg_conninfo(db_urls[service])) as conn:
            tables = [
                r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ]
            for table in (t for t in tables if t not in NAMELESS):
                clause = " OR ".join("t::text ILIKE %s" for _ in needles)
                count = conn.execute(
                    f'SELECT count(*) FROM "{table}" t WHERE {clause}', [f"%{n}%" for n in needles]
                ).fetchone()[0]
                if count:
                    hits[f"{service}.{table}"] = count
    return hits


def mails_naming(data_dir: Path, needles: list[str]) -> list[str]:
    """Subjects of the spooled mails whose bytes name the user."""
    found = []
    for path in sorted((data_dir / "mail").glob("*.eml")):
        raw = path.read_bytes()
        if any(n.lower().encode() in raw.lower() for n in needles):
            message = email.message_from_bytes(raw, policy=email.policy.default)
            found.append(str(message["Subject"]))
    return found


async def slow_body(boundary: str, picture: bytes, hold: asyncio.Event):
    """A multipart upload that sends its first bytes, then waits until ``hold`` is set."""
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n'
        f'reference\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="late.png"\r\nContent-Type: image/png\r\n\r\n'
    ).encode()
    yield picture[:16]
    await hold.wait()
    yield picture[16:] + f"\r\n--{boundary}--\r\n".encode()


async def test_erasure_under_races_leaves_only_what_the_certificate_declares(
    stack_factory, people, as_system, wait
):
    async with stack_factory(overrides=OVERRIDES) as stack:
        system = as_system(stack)
        async with people(system) as new_person:
            admin = await new_person(admin=True)
            user = await new_person()
            user_id = str(user.signed.user_id)
            needles = [user_id, user.signed.email, user.signed.username]
            picture = png()

            await buy_credits(user, wait)
            uploaded = await user.client.post(
                "/v1/files",
                headers=user.headers,
                data={"purpose": "reference"},
                files={"file": ("me.png", picture, "image/png")},
            )
            assert uploaded.status_code == 201, uploaded.text
            await generate(user, uploaded.json()["file_id"], wait)
            reported = await admin.client.post(
                "/v1/privacy/minor-reports",
                json={"account": user.signed.username, "details": f"{user.signed.username} is 14"},
            )
            assert reported.status_code == 202, reported.text

            # Two uploads authenticated now, whose bodies end after the deletion was accepted:
            # one right after, one once storage has erased the user.
            early, late = asyncio.Event(), asyncio.Event()
            early_upload, late_upload = (
                asyncio.create_task(
                    user.client.post(
                        "/v1/files",
                        content=slow_body("aifluxrace", picture, hold),
                        headers={**user.headers, "Content-Type": "multipart/form-data; boundary=aifluxrace"},
                    )
                )
                for hold in (early, late)
            )
            export = await user.client.post(
                "/v1/privacy/requests", json={"type": "access"}, headers=user.headers
            )
            assert export.status_code == 202, export.text
            deleted = await user.client.request(
                "DELETE", "/v1/account", headers=user.headers, json={"password": user.signed.password}
            )
            assert deleted.status_code == 202, deleted.text
            request_id = deleted.json()["request_id"]
            early.set()
            # Stored before storage's erasure (then erased by it) or refused: nothing survives.
            assert (await early_upload).status_code in (201, 401, 410)

            async def storage_erased():
                shown = (await admin.client.get(f"/v1/ops/privacy/requests/{request_id}")).json()
                return (shown.get("progress") or {}).get("storage", {}).get("receipt_at")

            # The upload's body ends only after storage has erased the user: its write comes
            # too late and must be refused, leaving no object behind.
            await wait(storage_erased)
            late.set()
            finished = await late_upload
            assert finished.status_code in (401, 410), finished.text
            # A late request with the old cookie stores nothing.
            again = await user.client.post(
                "/v1/files",
                headers=user.headers,
                data={"purpose": "reference"},
                files={"file": ("again.png", picture, "image/png")},
            )
            assert again.status_code in (401, 410), again.text

            async def erased():
                shown = (await admin.client.get(f"/v1/ops/privacy/requests/{request_id}")).json()
                return shown if shown["status"] == "completed" else None

            certificate = (await wait(erased, timeout=120))["certificate"]
            assert user_id not in json.dumps(certificate)
            exported = await admin.client.get(f"/v1/ops/privacy/requests/{export.json()['id']}")
            # The erasure cancelled the export (and then erased the request with the user's).
            assert exported.status_code == 404 or exported.json()["status"] == "cancelled", exported.text
            declared = Counter()
            for item in certificate["retained"]:
                declared[(item["service"], item["category"])] += item["count"]

            await asyncio.sleep(1.0)  # anything still in flight lands before the scan
            hits = await asyncio.to_thread(rows_naming, system.db_urls, needles)
            undeclared = {table: n for table, n in hits.items() if not _declared(table, n, declared)}
            assert undeclared == {}, (undeclared, declared)
            objects = await asyncio.to_thread(system.objects)
            digests = {hashlib.sha256(picture).hexdigest()}
            assert scan_objects(objects, user_id, digests) == []
            mails = await asyncio.to_thread(mails_naming, system.data_dir, needles)
            assert len(mails) <= declared[("identity", "erasure_confirmation_mail")], mails


# What a table may still hold, and the certificate category that must declare it.
DECLARED_AS = {
    "identity.users": ("identity", "disabled_account"),
    "identity.security_log": ("identity", "security_log"),
    "identity.outbox": ("identity", "erasure_messages"),
    "billing.outbox": ("billing", "erasure_messages"),
    "generation.outbox": ("generation", "erasure_messages"),
    "storage.outbox": ("storage", "erasure_messages"),
    "privacy.outbox": ("privacy", "erasure_messages"),
}


def _declared(table: str, rows: int, declared: Counter) -> bool:
    category = DECLARED_AS.get(table)
    if category is None:
        return False
    if table == "identity.users":
        return rows <= declared[category]
    # Log entries and in-flight events about the erasure vary in number: the certificate must
    # declare the category (with its period and basis), not guess the count.
    return declared[category] > 0
