"""The one pricing function (docs/domain.md A9): a plan and a client's parameters give an amount.
The plans page's live calculator, the checkout and the subscription invoice all call `quote`, so
what a client is shown is what they are charged. Pure: no query, integer cents throughout."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core.numbers import parse_whole
from app.models import Cycle, Plan

VAT_BP = 2000  # A5: 20 % on what the platform invoices

# what a price can depend on, the bounds a client may ask for, and how each is labelled
PARAMETERS: dict[str, dict] = {
    "sites": {"label": _l("Sites"), "min": 1, "max": 500, "default": 1},
    "employees": {"label": _l("Employees"), "min": 0, "max": 100_000, "default": 10},
    "vehicles": {"label": _l("Vehicles"), "min": 0, "max": 10_000, "default": 0},
    "products": {"label": _l("Products watched"), "min": 1, "max": 50, "default": 3},
}


@dataclass(frozen=True)
class Line:
    parameter: str  # "" for the base price
    quantity: int  # units charged (above the included count)
    unit_cents: int
    cents: int


@dataclass(frozen=True)
class Quote:
    plan_code: str
    cycle: Cycle
    lines: tuple[Line, ...]
    monthly_cents: int  # before VAT, before the yearly discount
    discount_cents: int  # per cycle
    net_cents: int  # per cycle, before VAT: what a subscription is charged
    vat_cents: int
    total_cents: int
    on_request: bool = False


def default_params() -> dict[str, int]:
    return {code: spec["default"] for code, spec in PARAMETERS.items()}


def read_params(raw) -> tuple[dict[str, int], dict[str, str]]:
    """A client's parameters as typed ("12 000" is fine) → (values, errors per parameter).
    A parameter left empty takes its default; one out of bounds is an error, never clamped
    (a quote for other numbers than asked would be a wrong quote)."""
    values, errors = default_params(), {}
    for code, spec in PARAMETERS.items():
        text = raw.get(code) if hasattr(raw, "get") else None
        if text is None or str(text).strip() == "":
            continue
        try:
            value = parse_whole(text)
        except ValueError:
            errors[code] = _("Enter a whole number, for example 12.")
            continue
        if not spec["min"] <= value <= spec["max"]:
            errors[code] = _(
                "Enter a number from %(min)s to %(max)s.",
                min=format_decimal(spec["min"]),
                max=format_decimal(spec["max"]),
            )
            continue
        values[code] = value
    return values, errors


def read_cycle(raw) -> Cycle:
    try:
        return Cycle(raw)
    except ValueError:
        return Cycle.MONTH


def quote(plan: Plan, params: dict[str, int], cycle: Cycle = Cycle.MONTH) -> Quote:
    """What `plan` costs per `cycle` for `params` (already read by `read_params`)."""
    if plan.on_request:
        return Quote(plan.code, cycle, (), 0, 0, 0, 0, 0, on_request=True)
    lines = [Line("", 1, plan.base_cents, plan.base_cents)] if plan.base_cents else []
    for code in PARAMETERS:
        price = (plan.prices or {}).get(code) or {}
        unit = int(price.get("unit_cents") or 0)
        extra = max(0, int(params.get(code, 0)) - int(price.get("included") or 0))
        if unit and extra:
            lines.append(Line(code, extra, unit, unit * extra))
    monthly = sum(line.cents for line in lines)
    months = 12 if cycle == Cycle.YEAR else 1
    gross = monthly * months
    discount = gross * plan.yearly_discount_bp // 10_000 if cycle == Cycle.YEAR else 0
    net = gross - discount
    vat = vat_of(net)
    return Quote(plan.code, cycle, tuple(lines), monthly, discount, net, vat, net + vat)


def vat_of(net_cents: int) -> int:
    return _round_half_up(net_cents * VAT_BP, 10_000)


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)
