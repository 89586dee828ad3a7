"""Rules on account fields: usernames, addresses, the 16+ age gate."""

from __future__ import annotations

import re
from datetime import date

from email_validator import EmailNotValidError, validate_email

from .errors import InvalidBirthDate, InvalidEmail, InvalidUsername, UnderMinimumAge

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")


def normalise_username(username: str) -> str:
    """The username as stored, or :class:`InvalidUsername`."""
    username = username.strip()
    if not USERNAME.match(username):
        raise InvalidUsername
    return username


def normalise_email(email: str) -> str:
    """The address as stored (lower case), or :class:`InvalidEmail`."""
    try:
        info = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise InvalidEmail from None
    return info.normalized.lower()


def age_on(birth_date: date, today: date) -> int:
    """Completed years between ``birth_date`` and ``today``."""
    years = today.year - birth_date.year
    return years - ((today.month, today.day) < (birth_date.month, birth_date.day))


def check_minimum_age(birth_date: date, today: date, minimum: int) -> None:
    """Refuse anyone younger than ``minimum`` (§8); the birth date itself is never stored."""
    if birth_date > today:
        raise InvalidBirthDate
    if age_on(birth_date, today) < minimum:
        raise UnderMinimumAge(minimum)
