"""Rules on account fields: usernames, addresses, the 16+ age gate."""

from __future__ import annotations

import re
from datetime import date

from aiflux_kit.errors import Problem
from email_validator import EmailNotValidError, validate_email

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")


def normalise_username(username: str) -> str:
    """The username as stored, or a 422 problem when it breaks the rules."""
    username = username.strip()
    if not USERNAME.match(username):
        raise Problem(422, "invalid-username", "Invalid username",
                      "Usernames have 3 to 32 characters: letters, digits, '.', '_' or '-', "
                      "starting with a letter or digit.")
    return username


def normalise_email(email: str) -> str:
    """The address as stored (lower case), or a 422 problem when it is not an address."""
    try:
        info = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise Problem(422, "invalid-email", "Invalid email address",
                      "Enter a valid email address.") from None
    return info.normalized.lower()


def age_on(birth_date: date, today: date) -> int:
    """Completed years between ``birth_date`` and ``today``."""
    years = today.year - birth_date.year
    return years - ((today.month, today.day) < (birth_date.month, birth_date.day))


def check_minimum_age(birth_date: date, today: date, minimum: int) -> None:
    """Refuse anyone younger than ``minimum`` (§8); the birth date itself is never stored."""
    if birth_date > today:
        raise Problem(422, "invalid-birth-date", "Invalid birth date",
                      "The birth date lies in the future.")
    if age_on(birth_date, today) < minimum:
        raise Problem(403, "under-minimum-age", "Too young",
                      f"AIFLUX is not available to people under {minimum}.")
