"""In-memory billing and storage with the internal routes' semantics, for unit tests and for
running generation alone (cosmicpython-style fakes, wired by ``bootstrap``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from ..domain.errors import InsufficientCredits
from .billing_client import PeerUnavailable
from .storage_client import Body, FileInfo, OutputRefused, kind_of


@dataclass
class Hold:
    """A credit hold as billing keeps it."""

    user_id: uuid.UUID
    credits: int
    status: str = "held"
    void_reason: str | None = None


@dataclass
class InMemoryBilling:
    """Balances and holds; ``down`` makes every call fail like an unreachable billing."""

    balances: dict[uuid.UUID, int] = field(default_factory=dict)
    holds: dict[uuid.UUID, Hold] = field(default_factory=dict)
    voids: dict[uuid.UUID, int] = field(default_factory=dict)
    down: bool = False

    def available(self, user_id: uuid.UUID) -> int:
        """Credits not spent nor held."""
        held = sum(h.credits for h in self.holds.values() if h.user_id == user_id and h.status == "held")
        return self.balances.get(user_id, 0) - held

    async def reserve(self, user_id: uuid.UUID, generation_id: uuid.UUID, credits: int) -> None:
        """Same generation id: the same hold; not enough credits: 402."""
        self._check()
        if generation_id in self.holds:
            return
        if self.available(user_id) < credits:
            raise InsufficientCredits("Buy a credit pack to run this model.")
        self.holds[generation_id] = Hold(user_id, credits)

    async def capture(self, generation_id: uuid.UUID) -> None:
        """Spend a held hold once."""
        self._check()
        hold = self.holds.get(generation_id)
        if hold and hold.status == "held":
            hold.status = "captured"
            self.balances[hold.user_id] = self.balances.get(hold.user_id, 0) - hold.credits

    async def void(self, generation_id: uuid.UUID, reason: str) -> None:
        """Release a held hold at most once (``voids`` counts effective voids)."""
        self._check()
        hold = self.holds.get(generation_id)
        if hold and hold.status == "held":
            hold.status, hold.void_reason = "voided", reason
            self.voids[generation_id] = self.voids.get(generation_id, 0) + 1

    def _check(self) -> None:
        if self.down:
            raise PeerUnavailable("billing is down")


@dataclass
class StoredFile:
    """A file as storage keeps it."""

    info: FileInfo
    data: bytes
    generation_id: uuid.UUID | None = None


@dataclass
class InMemoryStorage:
    """Files and export parts in memory; ``erased`` users are refused as storage's 410 does."""

    files: dict[uuid.UUID, StoredFile] = field(default_factory=dict)
    exports: dict[str, bytes] = field(default_factory=dict)
    erased: set[uuid.UUID] = field(default_factory=set)

    def add_input(self, user_id: uuid.UUID, content_type: str, data: bytes) -> uuid.UUID:
        """An uploaded input file (what ``POST /v1/files`` would make)."""
        file_id = uuid.uuid4()
        self.files[file_id] = StoredFile(
            FileInfo(file_id, user_id, content_type, kind_of(content_type)), data
        )
        return file_id

    async def file_info(self, file_id: uuid.UUID) -> FileInfo | None:
        """Metadata or None."""
        stored = self.files.get(file_id)
        return stored.info if stored else None

    async def content(self, file_id: uuid.UUID) -> bytes:
        """The bytes."""
        return self.files[file_id].data

    async def store_output(
        self, user_id: uuid.UUID, generation_id: uuid.UUID, filename: str, content_type: str, data: bytes
    ) -> uuid.UUID:
        """Keep an output (refused for an erased user)."""
        if user_id in self.erased:
            raise OutputRefused("storage refused an output (410)")
        file_id = uuid.uuid4()
        self.files[file_id] = StoredFile(
            FileInfo(file_id, user_id, content_type, kind_of(content_type)), data, generation_id
        )
        return file_id

    async def put_export(
        self, request_id: uuid.UUID, user_id: uuid.UUID, name: str, data: Body
    ) -> str | None:
        """Keep an export part; None for an erased user (as storage's 410)."""
        if user_id in self.erased:
            return None
        key = f"exports/{request_id}/{name}"
        self.exports[key] = data if isinstance(data, bytes) else b"".join([c async for c in data()])
        return key
