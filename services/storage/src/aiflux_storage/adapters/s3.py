"""The object store on the S3 API, configured for Cloudflare R2.

R2 wants a custom endpoint, region ``auto`` and checksums only when the API requires them (it
rejects some of the newer default checksum headers). boto3 is synchronous, so every call runs in
a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from ..settings import StorageSettings
from .objects import CHUNK, DELETE_BATCH, ObjectInfo

PART_SIZE = 8 * 1024 * 1024
"""Multipart part size for streamed uploads (S3 and R2 need at least 5 MiB but the last)."""


class DeleteFailed(RuntimeError):
    """DeleteObjects reported keys it could not delete (the whole step is retried)."""


def s3_client(settings: StorageSettings) -> Any:
    """A boto3 S3 client for R2 (or any S3-compatible endpoint)."""
    config = Config(
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        signature_version="s3v4",
        s3={"addressing_style": settings.s3_addressing_style},
        retries={"max_attempts": 5, "mode": "standard"},
    )
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id.get_secret_value(),
        aws_secret_access_key=settings.s3_secret_access_key.get_secret_value(),
        config=config,
    )


class S3Store:
    """Objects in one bucket."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Upload a local file (boto3 switches to multipart for large ones)."""
        await asyncio.to_thread(
            self.client.upload_file, str(path), self.bucket, key, ExtraArgs={"ContentType": content_type}
        )

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> int:
        """Multipart upload in 8 MiB parts; aborted (nothing left) when the stream fails."""
        buffer = bytearray()
        size = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                buffer += chunk
                size += len(chunk)
                if len(buffer) >= PART_SIZE:
                    upload_id = upload_id or await self._start_multipart(key, content_type)
                    parts.append(await self._upload_part(key, upload_id, len(parts) + 1, bytes(buffer)))
                    buffer.clear()
            if upload_id is None:
                await asyncio.to_thread(
                    self.client.put_object,
                    Bucket=self.bucket,
                    Key=key,
                    Body=bytes(buffer),
                    ContentType=content_type,
                )
                return size
            if buffer:
                parts.append(await self._upload_part(key, upload_id, len(parts) + 1, bytes(buffer)))
            await asyncio.to_thread(
                self.client.complete_multipart_upload,
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
            return size
        except BaseException:
            if upload_id is not None:
                await asyncio.to_thread(
                    self.client.abort_multipart_upload, Bucket=self.bucket, Key=key, UploadId=upload_id
                )
            raise

    async def _start_multipart(self, key: str, content_type: str) -> str:
        response = await asyncio.to_thread(
            self.client.create_multipart_upload, Bucket=self.bucket, Key=key, ContentType=content_type
        )
        return str(response["UploadId"])

    async def _upload_part(self, key: str, upload_id: str, number: int, body: bytes) -> dict[str, Any]:
        response = await asyncio.to_thread(
            self.client.upload_part,
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=body,
        )
        return {"PartNumber": number, "ETag": response["ETag"]}

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """Stream the object's body, each read in a worker thread."""
        try:
            response = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            raise KeyError(key) from None
        body = response["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, CHUNK):
                yield chunk
        finally:
            body.close()

    async def exists(self, key: str) -> bool:
        """HEAD the object."""
        try:
            await asyncio.to_thread(self.client.head_object, Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    async def list_prefix(self, prefix: str, limit: int | None = None) -> list[ObjectInfo]:
        """ListObjectsV2 pages until ``limit`` objects or the end."""
        return await asyncio.to_thread(self._list, prefix, limit)

    def _list(self, prefix: str, limit: int | None) -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        while True:
            if limit is not None:
                kwargs["MaxKeys"] = min(1000, limit - len(found))
            page = self.client.list_objects_v2(**kwargs)
            found += [
                ObjectInfo(o["Key"], int(o["Size"]), o["LastModified"]) for o in page.get("Contents", [])
            ]
            if not page.get("IsTruncated") or (limit is not None and len(found) >= limit):
                return found
            kwargs["ContinuationToken"] = page["NextContinuationToken"]

    async def key_pages(self, prefix: str) -> AsyncIterator[list[str]]:
        """ListObjectsV2 page by page (1,000 keys each): continuation tokens are positions in
        key order, so deleting a page before asking for the next one skips nothing."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": DELETE_BATCH}
        while True:
            page = await asyncio.to_thread(self.client.list_objects_v2, **kwargs)
            found = [o["Key"] for o in page.get("Contents", [])]
            if found:
                yield found
            if not page.get("IsTruncated"):
                return
            kwargs["ContinuationToken"] = page["NextContinuationToken"]

    async def delete_batch(self, keys: list[str]) -> int:
        """One DeleteObjects call (quiet mode); raises when any key failed."""
        if not keys:
            return 0
        if len(keys) > DELETE_BATCH:
            raise ValueError("DeleteObjects takes at most 1,000 keys")
        response = await asyncio.to_thread(
            self.client.delete_objects,
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True},
        )
        if response.get("Errors"):
            raise DeleteFailed(f"{len(response['Errors'])} of {len(keys)} keys not deleted")
        return len(keys)

    async def signed_url(self, key: str, ttl_s: int, content_type: str, filename: str) -> str:
        """A presigned GET (R2 supports presigned GET and PUT, not POST)."""
        return await asyncio.to_thread(
            self.client.generate_presigned_url,
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=ttl_s,
        )
