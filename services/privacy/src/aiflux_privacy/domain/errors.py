"""The privacy service's refusals, without HTTP: the kit answers each kind with its status and
the slug as the problem type (``urn:aiflux:problem:<slug>``)."""

from __future__ import annotations

from aiflux_kit.domain_errors import DomainError, Kind


class NotFound(DomainError):
    """Something that does not exist, or belongs to someone else."""

    kind = Kind.NOT_FOUND
    slug = "not-found"
    title = "Not found"

    def __init__(self, what: str) -> None:
        super().__init__(f"No such {what}.")


class AccountErased(DomainError):
    """The account is erased or being erased: nothing more may be stored for it."""

    kind = Kind.GONE
    slug = "account-erased"
    title = "Account deleted"

    def __init__(self) -> None:
        super().__init__("This account has been deleted; nothing more can be stored for it.")


# --- consents -----------------------------------------------------------------------------


class UnknownPurpose(DomainError):
    """Only some purposes are granted or withdrawn by their subject."""

    kind = Kind.NOT_FOUND
    slug = "unknown-purpose"
    title = "Unknown purpose"


class NoConsentCookie(DomainError):
    """Linking needs an anonymous consent id this service issued."""

    kind = Kind.INVALID
    slug = "no-consent-cookie"
    title = "No consent cookie"


class InvalidLink(DomainError):
    """A withdrawal link this service did not sign for the user."""

    kind = Kind.FORBIDDEN
    slug = "invalid-link"
    title = "Invalid link"


# --- requests -----------------------------------------------------------------------------


class DetailsRequired(DomainError):
    """Rectifications and objections must say what they are about."""

    kind = Kind.INVALID
    slug = "details-required"
    title = "Details required"


class RequestAlreadyOpen(DomainError):
    """One open request of each type per user."""

    kind = Kind.CONFLICT
    slug = "request-already-open"
    title = "Request already open"


class RequestClosed(DomainError):
    """The request is already answered."""

    kind = Kind.CONFLICT
    slug = "request-closed"
    title = "Request closed"

    def __init__(self) -> None:
        super().__init__("This request is already answered.")


class ExtensionAlreadyUsed(DomainError):
    """A deadline is extended once only."""

    kind = Kind.CONFLICT
    slug = "extension-refused"
    title = "Extension refused"


class ExtensionTooLong(DomainError):
    """A deadline is extended by at most two months."""

    kind = Kind.INVALID
    slug = "extension-refused"
    title = "Extension refused"


class NotDecidable(DomainError):
    """Only rectifications and objections are decided by operators."""

    kind = Kind.CONFLICT
    slug = "not-decidable"
    title = "Not decided by operators"


class NotInEffect(DomainError):
    """Only a restriction in effect can be lifted."""

    kind = Kind.CONFLICT
    slug = "not-in-effect"
    title = "No restriction in effect"


class NotAnExport(DomainError):
    """Only access and portability requests have an archive."""

    kind = Kind.CONFLICT
    slug = "not-an-export"
    title = "No archive"


class ExportNotReady(DomainError):
    """The archive is still being prepared."""

    kind = Kind.CONFLICT
    slug = "export-not-ready"
    title = "Export not ready"


class ExportExpired(DomainError):
    """The archive is no longer kept."""

    kind = Kind.GONE
    slug = "export-expired"
    title = "Export expired"


# --- policy -------------------------------------------------------------------------------


class NoPolicy(DomainError):
    """No version has taken effect yet."""

    kind = Kind.NOT_FOUND
    slug = "no-policy"
    title = "No policy in force"


class EffectiveDateInPast(DomainError):
    """A version takes effect now or later, never in the past."""

    kind = Kind.INVALID
    slug = "effective-date-in-past"
    title = "Effective date in the past"


class VersionExists(DomainError):
    """Published versions never change."""

    kind = Kind.CONFLICT
    slug = "version-exists"
    title = "Version exists"


# --- minor reports ------------------------------------------------------------------------


class ReportDecided(DomainError):
    """A report is decided once."""

    kind = Kind.CONFLICT
    slug = "report-decided"
    title = "Already decided"


class UserIdRequired(DomainError):
    """Confirming a report needs the account it is about."""

    kind = Kind.INVALID
    slug = "user-id-required"
    title = "Account required"


# --- peers --------------------------------------------------------------------------------


class StorageUnavailable(DomainError):
    """Storage cannot be reached right now."""

    kind = Kind.UNAVAILABLE
    slug = "storage-unavailable"
    title = "Service unavailable"


class IdentityUnavailable(DomainError):
    """Identity cannot be reached right now."""

    kind = Kind.UNAVAILABLE
    slug = "identity-unavailable"
    title = "Service unavailable"
