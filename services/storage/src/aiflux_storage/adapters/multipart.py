"""Streams a ``multipart/form-data`` upload to a spool file, checking it while it arrives.

Starlette's form parser reads the whole body before the route runs; this one decides the type
from the first bytes of the file part and stops reading the moment the body breaks a rule (not
an allowed type, name or declared type contradicting the content, over the size limit). The
spool file is removed whatever happens, so a refused upload leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from aiflux_kit.constant_time import ascii_int
from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from ..domain import content
from ..domain.content import FileType
from ..domain.errors import (
    BodyTooLarge,
    FieldTooLong,
    FileMissing,
    FileTooLarge,
    FileTypeMismatch,
    MalformedMultipart,
    MultipartRequired,
    OneFileOnly,
    UnsupportedFileType,
    UploadInterrupted,
)

MAX_FIELD_BYTES = 1024
FILE_FIELD = "file"


@dataclass
class SpooledUpload:
    """A received file part, on local disk until it is stored."""

    path: Path
    size: int
    sha256: str
    file_type: FileType
    filename: str | None


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    declared: str | None = None
    is_file: bool = False
    value: bytearray = field(default_factory=bytearray)


class _Receiver:
    """State of one upload being parsed."""

    def __init__(self, out: BinaryIO, limit_for: Callable[[FileType], int]) -> None:
        self.out = out
        self.limit_for = limit_for
        self.fields: dict[str, str] = {}
        self.part = _Part()
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[str, str] = {}
        self.file_seen = False
        self.pending = bytearray()
        self.head = bytearray()
        self.size = 0
        self.digest = hashlib.sha256()
        self.file_type: FileType | None = None
        self.file_part: _Part | None = None

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self.part, self.headers = _Part(), {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def _header_end(self) -> None:
        self.headers[self.header_field.decode("latin-1").lower()] = self.header_value.decode(
            "utf-8", "replace"
        )
        self.header_field, self.header_value = bytearray(), bytearray()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get("content-disposition", ""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        raw_name = options.get(b"filename")
        self.part.filename = raw_name.decode("utf-8", "replace") if raw_name is not None else None
        self.part.declared = self.headers.get("content-type")
        self.part.is_file = self.part.name == FILE_FIELD
        if self.part.is_file:
            if self.file_seen:
                raise OneFileOnly()
            self.file_seen, self.file_part = True, self.part

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part.is_file:
            self.pending += data[start:end]
            return
        self.part.value += data[start:end]
        if len(self.part.value) > MAX_FIELD_BYTES:
            raise FieldTooLong(f"The form field '{self.part.name}' is longer than allowed.")

    def _part_end(self) -> None:
        if not self.part.is_file:
            self.fields[self.part.name] = self.part.value.decode("utf-8", "replace")

    def take_pending(self, final: bool) -> bytes:
        """File bytes parsed since the last call, after the checks that need only them."""
        chunk, self.pending = bytes(self.pending), bytearray()
        if self.file_type is None and len(self.head) < content.HEAD_BYTES:
            self.head += chunk[: content.HEAD_BYTES - len(self.head)]
            if len(self.head) >= content.HEAD_BYTES or (final and self.file_seen):
                self._decide_type()
        self.size += len(chunk)
        if self.file_type is not None and self.size > self.limit_for(self.file_type):
            limit = self.limit_for(self.file_type)
            raise FileTooLarge(
                f"{self.file_type.kind.capitalize()} files may be at most "
                f"{limit} bytes; the upload was stopped.",
                limit=limit,
            )
        return chunk

    def _decide_type(self) -> None:
        detected = content.sniff(bytes(self.head))
        if detected is None:
            raise UnsupportedFileType("The file's content is not an allowed type.")
        assert self.file_part is not None
        reason = content.mismatch(detected, self.file_part.filename, self.file_part.declared)
        if reason:
            raise FileTypeMismatch(f"Refused: {reason}.", detected_type=detected.media_type)
        self.file_type = detected

    def write(self, chunk: bytes) -> None:
        """Append to the spool file and the running hash (in a worker thread)."""
        self.out.write(chunk)
        self.digest.update(chunk)


def _boundary(request: Request) -> bytes:
    ctype, options = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or not options.get(b"boundary"):
        raise MultipartRequired()
    return options[b"boundary"]


def _check_declared_length(request: Request, ceiling: int) -> None:
    length = ascii_int(request.headers.get("content-length"), max_digits=20)
    if length is not None and length > ceiling + 64 * 1024:
        raise FileTooLarge(f"Uploads may be at most {ceiling} bytes.", limit=ceiling)


@asynccontextmanager
async def receive_upload(
    request: Request,
    spool_dir: Path,
    limit_for: Callable[[FileType], int],
    ceiling: int,
) -> AsyncIterator[tuple[dict[str, str], SpooledUpload]]:
    """Parse the upload into (form fields, spooled file); the spool file is gone afterwards."""
    boundary = _boundary(request)
    _check_declared_length(request, ceiling)
    await asyncio.to_thread(spool_dir.mkdir, parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=spool_dir, prefix="upload-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            receiver = _Receiver(out, limit_for)
            parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
            async for data in _body(request):
                _feed(parser, data)
                await asyncio.to_thread(receiver.write, receiver.take_pending(final=False))
            _feed(parser, None)
            await asyncio.to_thread(receiver.write, receiver.take_pending(final=True))
        yield receiver.fields, _spooled(receiver, path)
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


async def _body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for data in request.stream():
            yield data
    except ClientDisconnect:
        raise UploadInterrupted() from None


def _feed(parser: MultipartParser, data: bytes | None) -> None:
    try:
        if data is None:
            parser.finalize()
        else:
            parser.write(data)
    except MultipartParseError:
        raise MalformedMultipart() from None


def _spooled(receiver: _Receiver, path: Path) -> SpooledUpload:
    if not receiver.file_seen or receiver.file_part is None:
        raise FileMissing()
    if receiver.file_type is None or receiver.size == 0:
        raise UnsupportedFileType("The file is empty.")
    return SpooledUpload(
        path, receiver.size, receiver.digest.hexdigest(), receiver.file_type, receiver.file_part.filename
    )


async def limited_body(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The raw request body in chunks; a 413 problem once it grows beyond ``limit`` bytes."""
    size = 0
    async for chunk in _body(request):
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"The body may be at most {limit} bytes.", limit=limit)
        if chunk:
            yield chunk


async def unlimited_body(request: Request) -> AsyncIterator[bytes]:
    """The raw request body in chunks (a trusted peer's stream, e.g. an export archive)."""
    async for chunk in _body(request):
        if chunk:
            yield chunk
