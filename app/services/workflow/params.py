"""What a person sends with an action: only the fields the action declared (`takes`), read with
helpers that raise ValidationFailed per field."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _

from app.core import clock
from app.core.errors import ValidationFailed
from app.core.numbers import parse_number, parse_whole, to_cents
from app.models import PARIS


def takes(*names: str):
    """Declare the fields a person may send with an action (everything else is dropped before
    the action runs, so a form can never set what the action decides itself)."""

    def mark(apply):
        apply.fields = frozenset(names)
        return apply

    return mark


class Params(dict):
    """The submitted values of the action's declared fields, read with helpers that raise
    ValidationFailed per field. What the action decides (its timeline note and data, who is
    waited on, whether an invoice follows) goes to `out`, which no request can reach."""

    def __init__(self, values=(), /) -> None:
        super().__init__(values)
        self.out: dict = {}

    def text(self, name: str, message, max_len: int = 2000, required: bool = True) -> str:
        value = str(self.get(name) or "").strip()
        if required and not value:
            raise ValidationFailed(str(message), **{name: str(message)})
        if len(value) > max_len:
            error = _("At most %(n)d characters.", n=max_len)
            raise ValidationFailed(error, **{name: error})
        return value

    def cents(self, name: str) -> int:
        try:
            value = parse_number(self.get(name))
        except ValueError:
            value = None
        if value is None or value <= 0 or value > Decimal("1e10"):
            error = _("Enter an amount in euros greater than zero, for example 12 500.")
            raise ValidationFailed(error, **{name: error})
        return to_cents(value)

    def whole(self, name: str, at_most: int = 10**9) -> int:
        try:
            value = parse_whole(self.get(name))
        except ValueError:
            value = -1
        if not 0 <= value <= at_most:
            error = _("Enter a whole number, 0 or more.")
            raise ValidationFailed(error, **{name: error})
        return value

    def day(self, name: str) -> date:
        try:
            value = date.fromisoformat(str(self.get(name) or ""))
        except ValueError:
            value = None
        if value is None or value > clock.today(PARIS) + timedelta(days=1):
            error = _("Enter a date that is not in the future (day/month/year).")
            raise ValidationFailed(error, **{name: error})
        return value
