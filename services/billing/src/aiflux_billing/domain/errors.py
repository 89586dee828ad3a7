"""Refusals of the billing domain (the kit answers each kind with its HTTP status)."""

from __future__ import annotations

from aiflux_kit.domain_errors import DomainError, Kind


class NotFound(DomainError):
    """Something that does not exist (or belongs to someone else)."""

    kind, slug, title = Kind.NOT_FOUND, "not-found", "Not found"


class UnknownPlan(DomainError):
    """No credit pack of that id is on sale."""

    kind, slug, title = Kind.INVALID, "unknown-plan", "Unknown plan"


class AccountErased(DomainError):
    """The user is erased (or being erased): nothing more is bought, held or stored for them."""

    kind, slug, title = Kind.GONE, "account-erased", "Account deleted"


class InsufficientCredits(DomainError):
    """The balance cannot cover a hold."""

    kind, slug, title = Kind.PAYMENT_REQUIRED, "insufficient-credits", "Not enough credits"


class SpendingFrozen(DomainError):
    """A payment of the account is disputed: no credits are spent until it is resolved."""

    kind, slug, title = Kind.FORBIDDEN, "spending-frozen", "Spending frozen"


class HoldConflict(DomainError):
    """The generation already holds credits with different terms."""

    kind, slug, title = Kind.CONFLICT, "hold-conflict", "Hold conflict"


class HoldVoided(DomainError):
    """A voided hold cannot be captured."""

    kind, slug, title = Kind.CONFLICT, "hold-voided", "Hold voided"


class HoldCaptured(DomainError):
    """A captured hold cannot be voided."""

    kind, slug, title = Kind.CONFLICT, "hold-captured", "Hold captured"


class CheckoutNotPayable(DomainError):
    """The simulated checkout is closed or its page is stale."""

    kind, slug, title = Kind.CONFLICT, "checkout-not-payable", "Cannot pay"


class InvalidSignature(DomainError):
    """A webhook whose ``Stripe-Signature`` is missing, malformed, stale or wrong."""

    kind, slug, title = Kind.MALFORMED, "invalid-signature", "Invalid signature"


class InvalidPayload(DomainError):
    """A webhook body that is not a Stripe event."""

    kind, slug, title = Kind.MALFORMED, "invalid-payload", "Invalid payload"


class PaymentProviderUnavailable(DomainError):
    """Stripe cannot be reached right now; the caller retries (``RETRY_AFTER_S``)."""

    kind, slug, title = Kind.UNAVAILABLE, "payment-provider-unavailable", "Payments unavailable"


class StripeLookupUnavailable(PaymentProviderUnavailable):
    """Stripe could not be asked about a webhook's event; Stripe redelivers it."""

    title = "Try again"


RETRY_AFTER_S = 30
"""What a client is told to wait when Stripe is unavailable."""
