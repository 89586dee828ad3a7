"""Object keys: opaque, grouped by owner, so one prefix holds everything of a user.

- ``users/<user_id>/files/<file_id>``: uploads and generated outputs
- ``exports/<request_id>/parts/<name>``: parts of an access export (written by every service)
- ``exports/<request_id>/archive.zip``: the finished export archive (expires after 7 days)
"""

from __future__ import annotations

import re
import uuid

from .errors import InvalidPartName

USERS_PREFIX = "users/"
EXPORTS_PREFIX = "exports/"
_PART_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def user_prefix(user_id: uuid.UUID) -> str:
    """Every object of one user lives under this prefix."""
    return f"{USERS_PREFIX}{user_id}/"


def file_key(user_id: uuid.UUID, file_id: uuid.UUID) -> str:
    """The key of one stored file (upload or output)."""
    return f"{user_prefix(user_id)}files/{file_id}"


def file_id_of(key: str) -> uuid.UUID | None:
    """The file id in a ``users/<u>/files/<f>`` key, or None for any other key."""
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != "users" or parts[2] != "files":
        return None
    try:
        return uuid.UUID(parts[3])
    except ValueError:
        return None


def export_prefix(request_id: uuid.UUID) -> str:
    """Every object of one export request lives under this prefix."""
    return f"{EXPORTS_PREFIX}{request_id}/"


def export_part_key(request_id: uuid.UUID, name: str) -> str:
    """The key of one export part; ``name`` may have folders (``files/x.png``), never ``..``."""
    segments = name.split("/")
    if len(name) > 512 or not all(_PART_SEGMENT.match(s) for s in segments):
        raise InvalidPartName()
    return f"{export_prefix(request_id)}parts/{name}"


def export_archive_key(request_id: uuid.UUID) -> str:
    """The key of an export's archive."""
    return f"{export_prefix(request_id)}archive.zip"
