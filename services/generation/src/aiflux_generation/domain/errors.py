"""Refusals of the generation domain (the kit answers each kind with its HTTP status)."""

from __future__ import annotations

from aiflux_kit.domain_errors import DomainError, Kind


class UnknownModel(DomainError):
    """No such model in the catalog."""

    kind, slug, title = Kind.INVALID, "unknown-model", "Unknown model"


class InvalidPrompt(DomainError):
    """The prompt is empty, too long or holds NUL characters."""

    kind, slug, title = Kind.INVALID, "invalid-prompt", "Invalid prompt"


class InvalidParams(DomainError):
    """A param the model does not accept (``param`` names it when known)."""

    kind, slug, title = Kind.INVALID, "invalid-params", "Invalid parameters"


class TooManyInputs(DomainError):
    """More (or repeated) input files than the model takes."""

    kind, slug, title = Kind.INVALID, "too-many-inputs", "Too many input files"


class InputFileNotFound(DomainError):
    """An input file that does not exist or is someone else's."""

    kind, slug, title = Kind.INVALID, "input-file-not-found", "Input file not found"


class InputTypeNotAccepted(DomainError):
    """An input file of a kind the model does not take."""

    kind, slug, title = Kind.INVALID, "input-type-not-accepted", "Input type not accepted"


class ProcessingRestricted(DomainError):
    """The user restricted the processing of their data."""

    kind, slug, title = Kind.FORBIDDEN, "processing-restricted", "Processing restricted"


class GenerationNotFound(DomainError):
    """No such generation of the caller's."""

    kind, slug, title = Kind.NOT_FOUND, "not-found", "Not found"


class CleanupNotFound(DomainError):
    """No open provider cleanup with that id."""

    kind, slug, title = Kind.NOT_FOUND, "not-found", "Not found"


class WebhookNotFound(DomainError):
    """A webhook URL whose token does not match (answered like an unknown URL)."""

    kind, slug, title = Kind.NOT_FOUND, "not-found", "Not found"


class WebhookSignatureInvalid(DomainError):
    """A WaveSpeed webhook whose signature is missing, stale or wrong."""

    kind, slug, title = Kind.UNAUTHENTICATED, "webhook-signature-invalid", "Invalid signature"


class WebhookMalformed(DomainError):
    """A webhook body without the prediction id."""

    kind, slug, title = Kind.MALFORMED, "webhook-malformed", "Malformed webhook"


class ProviderDown(DomainError):
    """The model's provider is behind an open circuit breaker."""

    kind, slug, title = Kind.UNAVAILABLE, "provider-unavailable", "Provider unavailable"


class BillingUnavailable(DomainError):
    """Billing did not answer: credits could not be held or a hold released."""

    kind, slug, title = Kind.UNAVAILABLE, "billing-unavailable", "Service unavailable"


class StorageUnavailable(DomainError):
    """Storage did not answer: input files could not be checked."""

    kind, slug, title = Kind.UNAVAILABLE, "storage-unavailable", "Service unavailable"


class InsufficientCredits(DomainError):
    """Billing refused the hold: not enough credits."""

    kind, slug, title = Kind.PAYMENT_REQUIRED, "insufficient-credits", "Not enough credits"


class SpendingFrozen(DomainError):
    """Billing refused the hold: the account's spending is frozen."""

    kind, slug, title = Kind.FORBIDDEN, "spending-frozen", "Spending frozen"


class AccountErased(DomainError):
    """The account is deleted (or being deleted): nothing more is made for it."""

    kind, slug, title = Kind.GONE, "account-erased", "Account deleted"
