"""Refusals of the storage domain, without HTTP: the kit answers each by its kind.

Slugs are the stable problem types clients already rely on (``urn:aiflux:problem:<slug>``).
"""

from __future__ import annotations

from aiflux_kit.domain_errors import DomainError, Kind

ALLOWED_TYPES = "Allowed: PNG, JPEG, WebP, GIF images; MP4, MOV, WebM videos; WAV, MP3, OGG, FLAC audio."


class NotFound(DomainError):
    """Missing, expired, or another user's (the same answer for all three)."""

    kind, slug, title = Kind.NOT_FOUND, "not-found", "Not found"

    @classmethod
    def of(cls, what: str) -> NotFound:
        """``No such <what>.``"""
        return cls(f"No such {what}.")


class AccountErased(DomainError):
    """The owner is erased or being erased: nothing more is stored for them."""

    kind, slug, title = Kind.GONE, "account-erased", "Account deleted"

    def __init__(self) -> None:
        super().__init__("This account has been deleted; nothing more can be stored for it.")


class ExportOwnerMismatch(DomainError):
    """An export part named for a user other than the export's owner."""

    kind, slug, title = Kind.CONFLICT, "export-owner-mismatch", "Export of another user"

    def __init__(self) -> None:
        super().__init__("This export request belongs to another user.")


class InvalidPartName(DomainError):
    """An export part name that is not a safe relative path."""

    kind, slug, title = Kind.INVALID, "invalid-part-name", "Invalid export part name"

    def __init__(self) -> None:
        super().__init__(
            "Part names are 1-128 letters, digits, '.', '_' or '-' per folder, and may not start with '.'."
        )


class InvalidPurpose(DomainError):
    """A purpose the route does not store files for."""

    kind, slug, title = Kind.INVALID, "invalid-purpose", "Invalid purpose"


class FileTruncated(DomainError):
    """The file's structure ends early."""

    kind, slug, title = Kind.INVALID, "file-truncated", "File is incomplete"


class ImageTooLarge(DomainError):
    """An image whose header declares more pixels (or a longer side) than allowed."""

    kind, slug, title = Kind.INVALID, "image-too-large", "Image too large"


class UnsupportedFileType(DomainError):
    """Content that is not an allowed image, video or audio type."""

    kind, slug, title = Kind.UNSUPPORTED, "unsupported-file-type", "Unsupported file type"

    def __init__(self, detail: str) -> None:
        super().__init__(f"{detail} {ALLOWED_TYPES}")


class FileTypeMismatch(DomainError):
    """A name or declared type naming a different allowed type than the content."""

    kind = Kind.UNSUPPORTED
    slug, title = "file-type-mismatch", "File type does not match its content"


class FileTooLarge(DomainError):
    """An upload over its kind's size limit."""

    kind, slug, title = Kind.TOO_LARGE, "file-too-large", "File too large"


class InvalidDownloadLink(DomainError):
    """A download token that was not signed by storage (or was altered)."""

    kind, slug, title = Kind.FORBIDDEN, "invalid-download-link", "Invalid download link"

    def __init__(self) -> None:
        super().__init__("This download link is not valid.")


class DownloadLinkExpired(DomainError):
    """A genuine download token past its expiry."""

    kind, slug, title = Kind.GONE, "download-link-expired", "Download link expired"

    def __init__(self) -> None:
        super().__init__("This download link has expired; ask for a new one.")


class InvalidCursor(DomainError):
    """A page cursor that storage did not hand out."""

    kind, slug, title = Kind.MALFORMED, "invalid-cursor", "Invalid cursor"

    def __init__(self) -> None:
        super().__init__("Use the next_cursor value of the previous page.")


class MultipartRequired(DomainError):
    """An upload that is not ``multipart/form-data``."""

    kind, slug, title = Kind.UNSUPPORTED, "multipart-required", "Multipart form required"

    def __init__(self) -> None:
        super().__init__("Send the file as multipart/form-data with a 'file' part.")


class MalformedMultipart(DomainError):
    """A multipart body that cannot be parsed."""

    kind, slug, title = Kind.MALFORMED, "malformed-multipart", "Malformed upload"

    def __init__(self) -> None:
        super().__init__("The multipart body could not be parsed.")


class UploadInterrupted(DomainError):
    """The client went away before the whole body arrived."""

    kind, slug, title = Kind.MALFORMED, "upload-interrupted", "Upload interrupted"

    def __init__(self) -> None:
        super().__init__("The connection closed before the whole file arrived; nothing was stored.")


class OneFileOnly(DomainError):
    """More than one ``file`` part."""

    kind, slug, title = Kind.INVALID, "one-file-only", "One file per upload"

    def __init__(self) -> None:
        super().__init__("Send exactly one 'file' part per request.")


class FieldTooLong(DomainError):
    """A form field longer than any the upload takes."""

    kind, slug, title = Kind.INVALID, "field-too-long", "Form field too long"


class FileMissing(DomainError):
    """A form without a ``file`` part."""

    kind, slug, title = Kind.INVALID, "file-missing", "No file"

    def __init__(self) -> None:
        super().__init__("The form has no 'file' part.")


class BodyTooLarge(DomainError):
    """A raw body (an export part) over its limit."""

    kind, slug, title = Kind.TOO_LARGE, "body-too-large", "Body too large"
