"""The identity service's refusals, without HTTP: each names its kind, and the kit answers it as
problem+json (``urn:aiflux:problem:<slug>``) with that kind's status."""

from __future__ import annotations

from aiflux_kit.domain_errors import DomainError, Kind


class NotFound(DomainError):
    """It does not exist, or belongs to someone else (``detail`` names what)."""

    kind, slug, title = Kind.NOT_FOUND, "not-found", "Not found"

    def __init__(self, what: str) -> None:
        super().__init__(f"No such {what}.")


class InvalidUsername(DomainError):
    kind, slug, title = Kind.INVALID, "invalid-username", "Invalid username"

    def __init__(self) -> None:
        super().__init__(
            "Usernames have 3 to 32 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )


class InvalidEmail(DomainError):
    kind, slug, title = Kind.INVALID, "invalid-email", "Invalid email address"

    def __init__(self) -> None:
        super().__init__("Enter a valid email address.")


class InvalidBirthDate(DomainError):
    kind, slug, title = Kind.INVALID, "invalid-birth-date", "Invalid birth date"

    def __init__(self) -> None:
        super().__init__("The birth date lies in the future.")


class UnderMinimumAge(DomainError):
    """§8: nobody under the minimum age gets an account."""

    kind, slug, title = Kind.FORBIDDEN, "under-minimum-age", "Too young"

    def __init__(self, minimum: int) -> None:
        super().__init__(f"AIFLUX is not available to people under {minimum}.")


class PasswordTooShort(DomainError):
    kind, slug, title = Kind.INVALID, "password-too-short", "Password too short"

    def __init__(self, minimum: int) -> None:
        super().__init__(f"Choose a password of at least {minimum} characters.")


class PasswordTooLong(DomainError):
    """bcrypt reads 72 bytes; a longer password is refused, never shortened."""

    kind, slug, title = Kind.INVALID, "password-too-long", "Password too long"

    def __init__(self, maximum: int) -> None:
        super().__init__(
            f"Passwords may be at most {maximum} bytes in UTF-8 (64 plain "
            f"letters or digits always fit); it is never shortened silently."
        )


class PasswordTooCommon(DomainError):
    kind, slug, title = Kind.INVALID, "password-too-common", "Password too common"

    def __init__(self) -> None:
        super().__init__("This password is on a list of commonly used passwords; choose another.")


class UsernameTaken(DomainError):
    kind, slug, title = Kind.CONFLICT, "username-taken", "Username taken"

    def __init__(self) -> None:
        super().__init__("This username is already taken; choose another.")


class EmailTaken(DomainError):
    kind, slug, title = Kind.CONFLICT, "email-taken", "Address in use"

    def __init__(self) -> None:
        super().__init__("Another account uses this address now; choose another.")


class InvalidToken(DomainError):
    """A mailed link that is unknown, used or expired (one answer for all three)."""

    kind, slug, title = Kind.MALFORMED, "invalid-token", "Invalid or expired link"


VERIFY_LINK_REFUSED = "This link is invalid, was already used, or has expired; ask for a new one."
RESET_LINK_REFUSED = "This reset link is invalid, was already used, or has expired; ask for a new one."


class InvalidCredentials(DomainError):
    """One answer for an unknown login and a wrong password."""

    kind, slug, title = Kind.UNAUTHENTICATED, "invalid-credentials", "Login failed"

    def __init__(self) -> None:
        super().__init__("The login or the password is wrong.")


class AccountSuspended(DomainError):
    kind, slug, title = Kind.FORBIDDEN, "account-suspended", "Account suspended"

    def __init__(self) -> None:
        super().__init__(
            "This account is suspended; contact us through the privacy policy's contact address."
        )


class EmailNotVerified(DomainError):
    kind, slug, title = Kind.FORBIDDEN, "email-not-verified", "Email not verified"

    def __init__(self) -> None:
        super().__init__("Confirm your email address with the link we sent, then log in.")


class WrongPassword(DomainError):
    kind, slug, title = Kind.FORBIDDEN, "wrong-password", "Wrong password"

    def __init__(self) -> None:
        super().__init__("The current password is wrong.")


class PolicyVersionMismatch(DomainError):
    """The version offered is neither in force nor scheduled; names the acceptable ones."""

    kind, slug, title = Kind.INVALID, "policy-version-mismatch", "Privacy policy version"

    def __init__(self, in_force: str, scheduled: list[str], purpose: str) -> None:
        coming = (
            f" (version {', '.join(scheduled)} is scheduled and may be accepted too)" if scheduled else ""
        )
        super().__init__(
            f"Accept the privacy policy in force (version {in_force}) {purpose}{coming}.",
            current_version=in_force,
            scheduled_versions=scheduled,
        )
