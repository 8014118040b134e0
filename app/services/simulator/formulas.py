"""Quick-estimate formulas (docs/domain.md §2): small pure functions keyed by (code, version).

A formula reads resolved inputs (numbers, choices) and the product's constants and returns an
`Estimate` that keeps everything needed to show "how we computed this" later: the inputs read,
the constants used and the intermediate values. A formula never changes once released: a new
behaviour is a new version, so a stored estimate can always be explained by its own version.
Amounts are euros as `Decimal`, rounded to the cent.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Estimate:
    amount: Decimal | None  # None: a qualitative product
    inputs: dict = field(default_factory=dict)
    intermediate: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Formula:
    code: str
    version: int
    # the formula in words, shown under "how we computed this"
    words: object
    # constant name -> default value (the seed) and a label for the admin form
    constants: dict[str, tuple[float, object]]
    inputs: tuple[str, ...]
    compute: Callable[[dict, dict], Estimate]


def _d(value) -> Decimal:
    return Decimal(str(value or 0))


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _ticpe_quick(inp: dict, c: dict) -> Estimate:
    litres_month = _d(inp.get("litres_per_month"))
    litres_year = litres_month * 12
    return Estimate(
        _money(litres_year * _d(c["rate_per_litre"])),
        {"litres_per_month": litres_month},
        {"litres_per_year": litres_year},
    )


def _urssaf(inp: dict, c: dict) -> Estimate:
    employees = _d(inp.get("employees"))
    payroll = employees * _d(c["average_salary"])
    return Estimate(
        _money(payroll * _d(c["reduction_rate"])),
        {"employees": employees},
        {"payroll": payroll},
    )


def _dfs(inp: dict, c: dict) -> Estimate:
    drivers = _d(inp.get("drivers"))
    per_year = _d(c["per_driver_per_month"]) * 12
    return Estimate(
        _money(drivers * per_year), {"drivers": drivers}, {"per_driver_per_year": per_year}
    )


def _foncier(inp: dict, c: dict) -> Estimate:
    tax = _d(inp.get("property_tax"))
    annual = _money(tax * _d(c["recovery_rate"]))
    years = _d(c["years_recoverable"])
    return Estimate(annual, {"property_tax": tax}, {"over_recoverable_years": annual * years})


def _msa(inp: dict, c: dict) -> Estimate:
    turnover = _d(inp.get("turnover"))
    return Estimate(_money(turnover * _d(c["rate"])), {"turnover": turnover}, {})


# RECOUVR_001 options (docs/domain.md §2) -> constant holding the amount for that bracket
UNPAID_BRACKETS = {
    "Non": None,
    "Oui, montant faible (< 10 000€)": "amount_low",
    "Oui, montant modéré (10 000€ - 50 000€)": "amount_moderate",
    "Oui, montant important (> 50 000€)": "amount_high",
}


def _recouvrement(inp: dict, c: dict) -> Estimate:
    level = inp.get("unpaid_level")
    key = UNPAID_BRACKETS.get(level)
    amount = _d(c[key]) if key else Decimal(0)
    return Estimate(_money(amount), {"unpaid_level": level}, {})


def _supplier(input_name: str) -> Callable[[dict, dict], Estimate]:
    def compute(inp: dict, c: dict) -> Estimate:
        monthly = _d(inp.get(input_name))
        annual = monthly * 12
        return Estimate(
            _money(annual * _d(c["saving_rate"])), {input_name: monthly}, {"annual_bill": annual}
        )

    return compute


def _qualitative(inp: dict, c: dict) -> Estimate:
    return Estimate(None)


def _unavailable(inp: dict, c: dict) -> Estimate:
    # CEE and TVA: no question of the simulator feeds them yet, so they can only estimate 0
    return Estimate(Decimal(0))


FORMULAS: dict[tuple[str, int], Formula] = {
    (f.code, f.version): f
    for f in (
        Formula(
            "ticpe_quick",
            1,
            _l("litres per month × 12 × refund rate per litre"),
            {"rate_per_litre": (0.20, _l("Refund rate (€ per litre)"))},
            ("litres_per_month",),
            _ticpe_quick,
        ),
        Formula(
            "urssaf",
            1,
            _l("employees × average gross salary × reduction rate"),
            {
                "average_salary": (35000, _l("Average gross annual salary (€)")),
                "reduction_rate": (0.10, _l("Reduction rate")),
            },
            ("employees",),
            _urssaf,
        ),
        Formula(
            "dfs",
            1,
            _l("drivers × amount per driver per month × 12"),
            {"per_driver_per_month": (150, _l("Amount per driver per month (€)"))},
            ("drivers",),
            _dfs,
        ),
        Formula(
            "foncier",
            1,
            _l("annual property tax × recovery rate"),
            {
                "recovery_rate": (0.20, _l("Recovery rate")),
                "years_recoverable": (6, _l("Years that can be claimed back")),
            },
            ("property_tax",),
            _foncier,
        ),
        Formula(
            "msa",
            1,
            _l("annual turnover × rate"),
            {"rate": (0.065, _l("Rate"))},
            ("turnover",),
            _msa,
        ),
        Formula(
            "recouvrement",
            1,
            _l("amount typical of the declared level of unpaid invoices"),
            {
                "amount_low": (5000, _l("Amount for a low level (€)")),
                "amount_moderate": (30000, _l("Amount for a moderate level (€)")),
                "amount_high": (75000, _l("Amount for a high level (€)")),
            },
            ("unpaid_level",),
            _recouvrement,
        ),
        Formula(
            "electricity_supplier",
            1,
            _l("monthly electricity bill × 12 × expected saving"),
            {"saving_rate": (0.20, _l("Expected saving rate"))},
            ("electricity_per_month",),
            _supplier("electricity_per_month"),
        ),
        Formula(
            "gas_supplier",
            1,
            _l("monthly gas bill × 12 × expected saving"),
            {"saving_rate": (0.20, _l("Expected saving rate"))},
            ("gas_per_month",),
            _supplier("gas_per_month"),
        ),
        Formula("qualitative", 1, _l("benefits, no amount"), {}, (), _qualitative),
        Formula(
            "unavailable",
            1,
            _l("no formula yet: the simulator cannot estimate this product"),
            {},
            (),
            _unavailable,
        ),
    )
}


def get(code: str, version: int) -> Formula:
    return FORMULAS[(code, version)]


def latest(code: str) -> Formula:
    return max((f for (c, _v), f in FORMULAS.items() if c == code), key=lambda f: f.version)


def codes() -> list[str]:
    return sorted({code for code, _v in FORMULAS})


INTERMEDIATE_LABELS = {
    "litres_per_year": _l("Litres per year"),
    "payroll": _l("Estimated payroll (€)"),
    "per_driver_per_year": _l("Amount per driver per year (€)"),
    "over_recoverable_years": _l("Over all recoverable years (€)"),
    "annual_bill": _l("Annual bill (€)"),
}


def label(code: str, version: int, name: str) -> str:
    """The display label of a constant or intermediate value of a formula."""
    formula = FORMULAS.get((code, version))
    if formula is not None and name in formula.constants:
        return str(formula.constants[name][1])
    return str(INTERMEDIATE_LABELS.get(name, name))
