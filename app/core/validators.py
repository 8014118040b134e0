"""Pure input rules shared by forms, services and the API (each returns a message or None)."""

import re

from flask_babel import gettext as _
from stdnum import luhn
from stdnum.fr import siren as siren_number

from app.models import SECTORS

PASSWORD_MIN_LENGTH = 10
# the few passwords every cracking list starts with; the length rule catches most of the others
COMMON_PASSWORDS = frozenset(
    {
        "motdepasse",
        "motdepasse1",
        "motdepasse123",
        "password",
        "password1",
        "password123",
        "azertyuiop",
        "azerty1234",
        "qwertyuiop",
        "qwerty1234",
        "1234567890",
        "0123456789",
        "financialtracker",
        "bonjour1234",
        "soleil1234",
        "iloveyou12",
    }
)


def normalize_siren(value: str | None) -> str:
    return re.sub(r"[\s.\-]", "", value or "")


def siren_problem(value: str | None) -> str | None:
    siren = normalize_siren(value)
    if not re.fullmatch(r"\d{9}", siren):
        return _("A SIREN number has exactly 9 digits.")
    if not siren_number.is_valid(siren):
        return _("This SIREN number is not valid (its check digit does not match).")
    return None


def sector_problem(value: str | None) -> str | None:
    if value not in SECTORS:
        return _("Choose a sector from the list.")
    return None


def password_problem(password: str, email: str = "") -> str | None:
    """The first rule the password breaks, said plainly."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return _(
            "The password must be at least %(n)d characters long.",
            n=PASSWORD_MIN_LENGTH,
        )
    if len(password) > 128:
        return _("The password must be at most 128 characters long.")
    if not re.search(r"[^\W\d_]", password) or not re.search(r"\d", password):
        return _("The password must contain at least one letter and one digit.")
    if password.lower() in COMMON_PASSWORDS:
        return _("This password is too common; choose another one.")
    local = email.split("@", 1)[0].lower()
    if len(local) >= 4 and local in password.lower():
        return _("The password must not contain your email address.")
    return None


def normalize_email(value: str | None) -> str:
    return (value or "").strip().lower()


def with_luhn_key(prefix: str) -> str:
    """`prefix` and the digit that makes it a valid SIREN (for generated demo companies)."""
    return prefix + luhn.calc_check_digit(prefix)


# the largest id every database here stores (PostgreSQL `integer`): a bigger number in a URL or
# a form is no row, never a query that fails
MAX_ID = 2**31 - 1


def parse_id(value) -> int | None:
    """An object id from a form, a query string or JSON, or None when it cannot be one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value or "").strip()
        if not text.isascii() or not text.isdigit() or len(text) > 10:
            return None
        number = int(text)
    return number if 0 < number <= MAX_ID else None
