"""The mails identity sends. Links come from the configured public URL, never a Host header."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from html import escape
from typing import Any

from .mail import Mail


def _mail(subject: str, lines: list[str], link: tuple[str, str] | None = None) -> Mail:
    text = "\n\n".join(lines)
    html = "".join(f"<p>{escape(line)}</p>" for line in lines)
    if link:
        label, url = link
        text += f"\n\n{label}: {url}"
        html += f'<p><a href="{escape(url, quote=True)}">{escape(label)}</a></p>'
    text += "\n\n-- AIFLUX\n"
    html = f"<html><body>{html}<p>-- AIFLUX</p></body></html>"
    return Mail(subject, text, html)


def duration(seconds: float) -> str:
    """A validity period in words: 24 hours, 30 minutes, 7 days."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{max(1, round(seconds / 60))} minutes"


def verify_email(url: str, valid_s: float) -> Mail:
    """Confirm a new account's address."""
    return _mail(
        "Verify your email address",
        [
            "Welcome to AIFLUX. Please confirm your email address to finish creating your account. "
            f"The link works once and expires in {duration(valid_s)}; after that, ask for a new "
            "one from the login page.",
            "If you did not sign up, ignore this message.",
        ],
        ("Verify your email", url),
    )


def address_already_registered(reset_url: str) -> Mail:
    """Someone tried to register with an address that has an account."""
    return _mail(
        "Someone tried to register with your address",
        [
            "Someone tried to create an AIFLUX account with this email address, which already "
            "has an account. If it was you, log in instead, or reset your password.",
            "If it was not you, you can ignore this message.",
        ],
        ("Reset your password", reset_url),
    )


def confirm_new_email(url: str, valid_s: float) -> Mail:
    """Confirm an address change (sent to the new address)."""
    return _mail(
        "Confirm your new email address",
        [
            "You asked to change the email address of your AIFLUX account to this one.",
            f"The change takes effect once you confirm it; the link expires in {duration(valid_s)}.",
            "If you did not ask for this, ignore this message: nothing changes.",
        ],
        ("Confirm the new address", url),
    )


def email_changed_notice() -> Mail:
    """Tell the old address that the account's address changed."""
    return _mail(
        "Your email address was changed",
        [
            "The email address of your AIFLUX account was changed. From now on we write to the new address.",
            "If you did not make this change, reset your password and write to "
            "the contact address in our privacy policy.",
        ],
    )


def password_reset(url: str, valid_s: float) -> Mail:
    """A password-reset link."""
    return _mail(
        "Reset your password",
        [
            "Someone asked to reset the password of your AIFLUX account. The link works once and "
            f"expires in {duration(valid_s)}. Resetting ends every session of your account.",
            "If you did not ask for this, ignore this message.",
        ],
        ("Choose a new password", url),
    )


def policy_changed(version: str, effective_at: datetime, now: datetime, url: str) -> Mail:
    """A substantial privacy-policy change (§9), told before or when it takes effect."""
    subject = "Our privacy policy changed"
    if effective_at > now:
        subject = f"Our privacy policy changes on {day(effective_at)}"
        when = (
            f"The new version takes effect on {day(effective_at)} (UTC); until then the "
            "current version applies. From that day on we will ask you to accept the new "
            "version when you next use AIFLUX; you may also accept it before."
        )
    else:
        when = (
            f"The new version is in force since {day(effective_at)} (UTC), so we will ask "
            "you to accept it the next time you use AIFLUX."
        )
    return _mail(
        subject,
        [
            f"We updated our privacy policy (version {version}). The changes are substantial.",
            when,
            "If you do not agree, you can delete your account in your account settings at any time.",
        ],
        ("Read the new privacy policy", url),
    )


def day(moment: date) -> str:
    """A date as people read it in a mail: 8 December 2026 (a moment is shown in UTC)."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC)
    return f"{moment.day} {moment.strftime('%B %Y')}"


def export_ready(url: str, expires_at: datetime | None) -> Mail:
    """The user's data export can be downloaded, until when."""
    until = (
        f"You can download it until {day(expires_at)} (UTC); after that it is deleted "
        "and you can ask for a new one."
        if expires_at
        else "It is kept for a short time only, then deleted."
    )
    return _mail(
        "Your data export is ready",
        [
            "The copy of your personal data you asked for is ready (a ZIP of JSON files and your "
            "files). Download it while logged in.",
            until,
        ],
        ("Download your data", url),
    )


def erasure_confirmation(retained: list[dict[str, Any]]) -> Mail:
    """The erasure is complete: everything still kept, each with its period and legal basis."""
    lines = ["Your AIFLUX account was deleted and your personal data erased."]
    if retained:
        lines.append(
            "We keep only the following, each for the period and on the legal basis "
            "shown, and delete it then:"
        )
        lines += [_retained_line(item) for item in retained[:50]]
    else:
        lines.append("We keep nothing of your personal data.")
    lines.append("This is the last message we send to this address.")
    return _mail("Your account and data were deleted", lines)


def _retained_line(item: dict[str, Any]) -> str:
    what = str(item.get("description") or str(item.get("category", "data")).replace("_", " "))
    count = int(item.get("count") or 0)
    try:
        until = f"kept until {day(date.fromisoformat(str(item.get('retained_until'))))}"
    except ValueError:
        until = "kept for a limited time"
    period = f" ({item['period']})" if item.get("period") else ""
    basis = str(item.get("legal_basis", ""))
    basis = basis if "GDPR" in basis or not basis else f"{basis} GDPR"
    return (
        f"- {what[:200]}: {count} record{'s' if count != 1 else ''}, {until}{period[:300]}. "
        f"Legal basis: {basis[:200]}."
    )


COMPLAINT = (
    "If you disagree, you can lodge a complaint with the Italian Data Protection "
    "Authority (Garante per la Protezione dei Dati Personali, www.garanteprivacy.it)."
)


def request_decided(kind: str, granted: bool, answer: str, url: str) -> Mail:
    """An operator decided a rectification or objection: the outcome and the answer."""
    outcome = "granted" if granted else "rejected"
    lines = [f"We have answered your {kind} request: it is {outcome}.", f"Our answer: {answer}"]
    if not granted:
        lines.append(COMPLAINT)
    return _mail(f"Your {kind} request was {outcome}", lines, ("See your request", url))


def request_extended(kind: str, due_at: datetime, reason: str, url: str) -> Mail:
    """The deadline of a request was extended (once, Art. 12(3) GDPR): until when and why."""
    return _mail(
        f"We need more time for your {kind} request: deadline extended",
        [
            f"We need more time to answer your {kind} request. We will answer by {day(due_at)} (UTC).",
            f"The reason: {reason}",
            COMPLAINT,
        ],
        ("See your request", url),
    )


def restriction_lifted(reason: str, url: str) -> Mail:
    """A restriction of processing ends (Art. 18(3) GDPR): the user is told why."""
    return _mail(
        "The restriction of processing of your data was lifted",
        [
            "The restriction of processing you asked for has ended: we process your data again "
            "as our privacy policy describes.",
            f"The reason: {reason}",
            COMPLAINT,
        ],
        ("See your request", url),
    )


def request_update(kind: str, what: str, url: str) -> Mail:
    """Any other change of a privacy request, in words."""
    return _mail(
        f"Update on your {kind} request", [f"Your {kind} request: {what}."], ("See your request", url)
    )


def marketing(subject: str, body: str, withdraw_url: str) -> Mail:
    """A marketing message; always carries the one-click consent withdrawal link."""
    mail = _mail(
        subject,
        [body, "You receive this because you agreed to marketing mails."],
        ("Unsubscribe with one click", withdraw_url),
    )
    return replace(mail, unsubscribe_url=withdraw_url)
