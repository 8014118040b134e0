"""The one reader of numbers and amounts as people in France type them, used by every form,
the JSON API, simulator answers and workflow actions alike (so "12.000" means the same
everywhere). It says only whether the text is a number; each caller says what range it accepts
and words its own message.

Accepted (see tests/unit/test_numbers.py for the whole table):
- spaces of any kind between digit groups: "12 000", "12 000" (no-break), "12 000" (narrow);
- a comma as the decimal mark: "12,5", "1 234,56";
- a dot as the thousands mark when it separates groups of exactly three digits after a first
  group that does not start with 0: "12.000", "1.234.567", "1.234,56";
- otherwise a dot as the decimal mark (as phones' numeric keypads type it): "12.5", "0.065";
- a euro sign or "EUR" before or after, and a leading minus.
Refused: letters, digits other than 0–9 (full-width, Arabic-Indic…), exponents, "nan"/"inf",
two decimal marks, groups of the wrong size after a thousands mark ("1.23.456"), and anything
empty.
"""

import re
from decimal import Decimal, InvalidOperation

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_CURRENCY = re.compile(r"^(?:€|eur)|(?:€|eur)$", re.IGNORECASE)
_PLAIN = re.compile(r"-?\d+(?:[.,]\d+)?", re.ASCII)
_DOT_GROUPS = re.compile(r"-?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?", re.ASCII)
# "1,234.56", as a spreadsheet copies it
_COMMA_GROUPS = re.compile(r"-?[1-9]\d{0,2}(?:,\d{3})+\.\d+", re.ASCII)


def parse_number(raw) -> Decimal:
    """The number `raw` spells; ValueError when it spells none."""
    if isinstance(raw, bool) or raw is None:
        raise ValueError("not a number")
    if isinstance(raw, int | Decimal):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(str(raw))
    elif isinstance(raw, str):
        value = _parse_text(raw)
    else:
        raise ValueError("not a number")
    if not value.is_finite():
        raise ValueError("not a finite number")
    return value


def _parse_text(raw: str) -> Decimal:
    text = _SPACES.sub("", raw)
    text = _CURRENCY.sub("", text)
    if len(text) > 40:  # no amount is that long: a paste of something else
        raise ValueError("too long")
    if _DOT_GROUPS.fullmatch(text):
        text = text.replace(".", "").replace(",", ".")
    elif _COMMA_GROUPS.fullmatch(text):
        text = text.replace(",", "")
    elif _PLAIN.fullmatch(text):
        text = text.replace(",", ".")
    else:
        raise ValueError("not a number")
    try:
        return Decimal(text)
    except InvalidOperation:  # (the patterns above let only digits through)
        raise ValueError("not a number") from None


def parse_whole(raw) -> int:
    """A whole number ("12 000", "12.000"); ValueError for "12,5" as for "abc"."""
    value = parse_number(raw)
    if value != value.to_integral_value():
        raise ValueError("not a whole number")
    return int(value)


def to_cents(value: Decimal) -> int:
    """Euros to cents, rounded half away from zero to the cent."""
    return int((value * 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def parse_percent_bp(raw) -> int:
    """A percentage as typed ("12,5", "12.5 %") in basis points (1 250); ValueError if none."""
    text = raw.strip().removesuffix("%") if isinstance(raw, str) else raw
    return to_cents(parse_number(text))
