"""Uploads and downloads, the same suite on local disk and on the S3 server (moto over HTTP)."""

from __future__ import annotations

import hashlib
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx

from .helpers import objects_under, upload
from .samples import HTML, jpeg, mp4, png, wav


async def _nothing_stored(stack, headers, user_id) -> None:
    listing = await stack.client.get("/v1/files", headers=headers)
    assert listing.json()["items"] == []
    assert await objects_under(stack, f"users/{user_id}/") == []
    spool = stack.container("storage").spool_dir
    assert not spool.exists() or list(spool.iterdir()) == []


async def test_png_is_accepted_and_downloaded_by_its_owner(stack, sessions):
    user_id, headers = sessions.sign_in()
    data = png()
    created = await upload(stack, headers, data, "cat.png", "image/png")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["content_type"] == "image/png" and body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()

    shown = (await stack.client.get(f"/v1/files/{body['file_id']}", headers=headers)).json()
    assert shown["purpose"] == "reference" and shown["kind"] == "image"
    async with httpx.AsyncClient() as anyone:
        download = await anyone.get(shown["download_url"])
    assert download.status_code == 200 and download.content == data
    assert await objects_under(stack, f"users/{user_id}/") == [f"users/{user_id}/files/{body['file_id']}"]


async def test_other_media_types_are_recognised_by_content(stack, sessions):
    _, headers = sessions.sign_in()
    for data, name, expected in [
        (jpeg(), "a.jpg", "image/jpeg"),
        (mp4(), "b.mp4", "video/mp4"),
        (wav(), "c", "audio/wav"),
    ]:
        response = await upload(stack, headers, data, name)
        assert response.status_code == 201, response.text
        assert response.json()["content_type"] == expected


async def test_png_renamed_mp4_is_refused(stack, sessions):
    user_id, headers = sessions.sign_in()
    response = await upload(stack, headers, png(), "holiday.mp4", "video/mp4")
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:aiflux:problem:file-type-mismatch"
    assert ".mp4" in problem["detail"] and "image/png" in problem["detail"]
    await _nothing_stored(stack, headers, user_id)


async def test_html_sent_as_png_is_refused(stack, sessions):
    user_id, headers = sessions.sign_in()
    response = await upload(stack, headers, HTML, "pic.png", "image/png")
    assert response.status_code == 415
    assert response.json()["type"] == "urn:aiflux:problem:unsupported-file-type"
    await _nothing_stored(stack, headers, user_id)


async def test_truncated_png_is_refused(stack, sessions):
    user_id, headers = sessions.sign_in()
    response = await upload(stack, headers, png()[:-20], "cut.png", "image/png")
    assert response.status_code == 422
    assert response.json()["type"] == "urn:aiflux:problem:file-truncated"
    await _nothing_stored(stack, headers, user_id)


async def test_oversized_upload_is_refused_with_nothing_left(stack, sessions):
    user_id, headers = sessions.sign_in()
    assert (await upload(stack, headers, png(), "small.png")).status_code == 201
    small = (await stack.client.get("/v1/files", headers=headers)).json()["items"]

    response = await upload(stack, headers, png(extra=200_000), "big.png", "image/png")
    assert response.status_code == 413
    problem = response.json()
    assert problem["type"] == "urn:aiflux:problem:file-too-large"
    assert problem["limit"] == 64 * 1024

    listing = (await stack.client.get("/v1/files", headers=headers)).json()["items"]
    assert [f["file_id"] for f in listing] == [f["file_id"] for f in small]
    assert len(await objects_under(stack, f"users/{user_id}/")) == 1
    spool = stack.container("storage").spool_dir
    assert list(spool.iterdir()) == []


async def test_upload_without_length_is_stopped_at_the_limit(stack, sessions):
    user_id, headers = sessions.sign_in()
    boundary = "aifluxtestboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="big.png"\r\nContent-Type: image/png\r\n\r\n'
    ).encode()

    async def body():  # chunked, without Content-Length: only the running count can stop it
        yield head + png()[:64]
        for _ in range(64):  # 64 x 16 KiB = 1 MiB, far over the 64 KiB image limit
            yield bytes(16 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await stack.client.post(
        "/v1/files",
        content=body(),
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert response.json()["type"] == "urn:aiflux:problem:file-too-large"
    await _nothing_stored(stack, headers, user_id)


async def test_another_users_file_is_404(stack, sessions):
    _, owner = sessions.sign_in()
    _, stranger = sessions.sign_in()
    file_id = (await upload(stack, owner, png(), "mine.png")).json()["file_id"]
    for method in ("GET", "DELETE"):
        response = await stack.client.request(method, f"/v1/files/{file_id}", headers=stranger)
        assert response.status_code == 404
        assert response.json()["type"] == "urn:aiflux:problem:not-found"
    assert (await stack.client.get("/v1/files", headers=stranger)).json()["items"] == []
    assert (await stack.client.get(f"/v1/files/{file_id}", headers=owner)).status_code == 200


async def test_owner_deletes_a_file_and_it_is_gone(stack, sessions):
    user_id, headers = sessions.sign_in()
    file_id = (await upload(stack, headers, png(), "x.png")).json()["file_id"]
    url = (await stack.client.get(f"/v1/files/{file_id}", headers=headers)).json()["download_url"]
    assert (await stack.client.delete(f"/v1/files/{file_id}", headers=headers)).status_code == 204
    assert (await stack.client.get(f"/v1/files/{file_id}", headers=headers)).status_code == 404
    assert await objects_under(stack, f"users/{user_id}/") == []
    async with httpx.AsyncClient() as anyone:
        assert (await anyone.get(url)).status_code in (403, 404)


async def test_files_are_listed_in_pages(stack, sessions):
    _, headers = sessions.sign_in()
    ids = [(await upload(stack, headers, png(), f"{n}.png")).json()["file_id"] for n in range(3)]
    first = (await stack.client.get("/v1/files?limit=2", headers=headers)).json()
    second = (
        await stack.client.get(f"/v1/files?limit=2&cursor={first['next_cursor']}", headers=headers)
    ).json()
    seen = [f["file_id"] for f in first["items"] + second["items"]]
    assert sorted(seen) == sorted(ids) and second["next_cursor"] is None


async def test_uploads_need_a_session_and_a_file(stack, sessions):
    _, headers = sessions.sign_in()
    anonymous = await stack.client.post("/v1/files", files={"file": ("a.png", png())})
    assert anonymous.status_code == 401
    no_file = await stack.client.post(
        "/v1/files", headers=headers, data={"purpose": "x"}, files={"other": ("a.png", png())}
    )
    assert no_file.status_code == 422
    not_multipart = await stack.client.post("/v1/files", headers=headers, content=png())
    assert not_multipart.status_code == 415
    bad_purpose = await upload(stack, headers, png(), "a.png", purpose="weird")
    assert bad_purpose.json()["type"] == "urn:aiflux:problem:invalid-purpose"


async def test_download_links_are_signed_and_short_lived(stack, sessions):
    _, headers = sessions.sign_in()
    file_id = (await upload(stack, headers, png(), "x.png")).json()["file_id"]
    url = (await stack.client.get(f"/v1/files/{file_id}", headers=headers)).json()["download_url"]
    assert uuid.UUID(file_id)
    if stack.container("storage").settings.backend == "local":
        mac = url.rsplit(".", 1)[1]  # the token's signature comes last
        forged = url[: -len(mac)] + mac[::-1]
        assert (await stack.client.get(forged)).status_code == 403
        return
    # S3 / R2: a presigned GET, valid for minutes, for this one object only.
    query = parse_qs(urlsplit(url).query)
    assert int(query["X-Amz-Expires"][0]) <= 3600
    assert "X-Amz-Signature" in query
    assert file_id in urlsplit(url).path
