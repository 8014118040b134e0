"""The detailed TICPE estimate (docs/domain.md §2): an expert-grade refund estimate with
eligibility and administrative-maturity scores, confidence and risk flags. Pure: inputs in,
result out; `VERSION` is stored with every result.

final = litres per year × fuel rate × vehicle coefficient × professional-use coefficient
        × size correction, capped to [500 €, 100 000 €]; 0 € when not eligible.

When the yearly consumption is not given it is derived, in this order, from the mileage
(vehicles × km × litres per 100 km of the heaviest type) or from a per-vehicle default for the
activity. Those per-vehicle defaults are calibrated on the domain.md §2 benchmarks (a heavy truck in
road freight ≈ 10 000 L/year refundable, a coach ≈ 14 000 L, a taxi ≈ 8 000 L, a construction
machine ≈ 5 600 L, a tractor ≈ 5 000 L), so a company described only by its fleet lands on the
benchmark of companies like it.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

VERSION = 1

ACTIVITIES = {  # code: (label, eligible, per-vehicle default litres/year, performance 1-5)
    "trm": ("Transport routier de marchandises", True, 10_000, 5),
    "trv": ("Transport routier de voyageurs", True, 14_000, 5),
    "taxi": ("Taxi / VTC", True, 8_000, 4),
    "btp": ("BTP / Travaux publics", True, 5_600, 2),
    "agri": ("Secteur agricole", True, 5_000, 3),
    "other": ("Autre activité", False, 4_000, 1),
}
SECTOR_SCORE = {"trm": 30, "trv": 30, "taxi": 25, "btp": 20, "agri": 15, "other": 0}

VEHICLES = {  # code: (label, coefficient, type score, litres per 100 km or None)
    "heavy": ("Poids lourds de plus de 7,5 t (camions, cars)", Decimal("1.0"), 20, 32),
    "medium": ("Camions de 3,5 à 7,5 t", Decimal("0.8"), 15, 20),
    "light": ("Véhicules utilitaires légers (VUL)", Decimal("0.6"), 10, 9),
    # docs/domain.md §2 has no car type: a taxi or VTC car takes its "other vehicle" default of 0.8
    "car": ("Voitures (taxi, VTC)", Decimal("0.8"), 10, 7),
    "machinery": ("Engins de chantier", Decimal("0.9"), 15, None),
    "tractor": ("Tracteurs agricoles", Decimal("1.0"), 15, None),
}
DEFAULT_VEHICLE_COEF = Decimal("0.8")

FUELS = {  # code: (label, €/L refund rate, "2024")
    "gazole": ("Gazole professionnel", Decimal("0.177")),
    "gnr": ("Gazole non routier (GNR)", Decimal("0.150")),
    "essence": ("Essence", Decimal("0.150")),
    "gpl": ("GPL", Decimal("0.080")),
}
TAXI_RATE = Decimal("0.213")
DEFAULT_RATE = Decimal("0.177")

USAGE = {  # professional use: (label, coefficient)
    "100": ("100 %", Decimal("1.0")),
    "80": ("80 à 99 %", Decimal("0.9")),
    "60": ("60 à 79 %", Decimal("0.7")),
    "below": ("Moins de 60 %", Decimal("0")),
    "unknown": ("Je ne sais pas", Decimal("0.8")),
}
LEVELS3 = ("all", "partial", "none")
CLAIMS = ("regularly", "occasionally", "never")
MIN_LITRES = 1_000
CAP_LOW, CAP_HIGH = Decimal(500), Decimal(100_000)

# docs/domain.md §2 benchmarks: (activity, vehicle type) -> (average €, min, max, confidence, label)
BENCHMARKS = {
    ("trm", "heavy"): (9_000, 7_000, 12_000, 0.95, "Transport routier, 5 camions > 7,5 t"),
    ("taxi", "car"): (1_300, 1_000, 1_800, 0.90, "Taxi / VTC, 1 véhicule"),
    ("agri", "tractor"): (7_500, 5_000, 10_000, 0.85, "Coopérative agricole, 10 tracteurs"),
    ("btp", "machinery"): (12_000, 8_000, 18_000, 0.80, "PME du BTP, 15 engins"),
    ("trv", "heavy"): (8_500, 6_000, 11_000, 0.90, "Autocariste régional, 3 cars"),
}


@dataclass(frozen=True)
class TicpeInputs:
    activity: str
    vehicles: int
    vehicle_types: tuple[str, ...]
    fuels: tuple[str, ...] = ()
    litres_per_year: int | None = None
    km_per_vehicle: int | None = None
    professional_use: str = "unknown"
    turnover: int | None = None
    fuel_invoices: str = "none"  # all | partial | none
    fuel_cards: str = "none"
    plate_on_invoices: str = "none"
    registered_to_company: str = "none"  # all (100 %) | partial (mostly) | none
    claims_already: str = "never"


@dataclass
class TicpeResult:
    amount: Decimal
    eligible: bool
    reasons: list[str]
    litres: int
    litres_source: str  # given | mileage | default
    rate: Decimal
    vehicle_coef: Decimal
    usage_coef: Decimal
    size_correction: Decimal
    uncapped: Decimal
    eligibility_score: int
    maturity_score: int
    maturity_band: str
    confidence_score: int
    confidence: str
    risks: list[str] = field(default_factory=list)
    benchmark: dict | None = None
    performance: int = 1
    version: int = VERSION

    def as_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items()}
        for k, v in out.items():
            if isinstance(v, Decimal):
                out[k] = float(v)
        return out


def _litres(i: TicpeInputs) -> tuple[int, str]:
    if i.litres_per_year:
        return i.litres_per_year, "given"
    per_100 = [VEHICLES[t][3] for t in i.vehicle_types if VEHICLES[t][3] is not None]
    if i.km_per_vehicle and per_100:
        return round(i.vehicles * i.km_per_vehicle * max(per_100) / 100), "mileage"
    return i.vehicles * ACTIVITIES[i.activity][2], "default"


def _rate(i: TicpeInputs) -> Decimal:
    if i.activity == "taxi":
        return TAXI_RATE
    fuels = list(i.fuels)
    if not fuels:
        off_road = i.activity in ("btp", "agri") and set(i.vehicle_types) & {"machinery", "tractor"}
        return FUELS["gnr"][1] if off_road else DEFAULT_RATE
    # litres are not split by fuel: each declared fuel is taken as an equal share
    return sum((FUELS[f][1] for f in fuels), Decimal(0)) / len(fuels)


def _size(i: TicpeInputs) -> Decimal:
    factor = Decimal(1)
    if i.vehicles > 25:
        factor *= Decimal("1.1")
    elif i.vehicles > 10:
        factor *= Decimal("1.05")
    elif i.vehicles < 3:
        factor *= Decimal("0.9")
    if i.turnover is not None:
        if i.turnover > 5_000_000:
            factor *= Decimal("1.1")
        elif i.turnover < 100_000:
            factor *= Decimal("0.9")
    return factor


def _maturity(i: TicpeInputs) -> int:
    score = {"all": 20, "partial": 10}.get(i.fuel_cards, 0)
    score += {"all": 20, "partial": 10}.get(i.plate_on_invoices, 0)
    score += {"all": 15, "partial": 10}.get(i.registered_to_company, 0)
    score += {"regularly": 25, "occasionally": 15}.get(i.claims_already, 0)
    return score


def _band(score: int) -> str:
    if score >= 80:
        return "optimal"
    if score >= 60:
        return "partial"
    if score >= 40:
        return "support"
    return "training"


def _benchmark(i: TicpeInputs) -> dict | None:
    for vehicle in sorted(i.vehicle_types, key=lambda t: -VEHICLES[t][1]):
        found = BENCHMARKS.get((i.activity, vehicle))
        if found:
            avg, low, high, confidence, label = found
            return {
                "average": avg,
                "min": low,
                "max": high,
                "confidence": confidence,
                "label": label,
            }
    return None


def estimate(i: TicpeInputs) -> TicpeResult:
    litres, source = _litres(i)
    rate = _rate(i)
    coef = max((VEHICLES[t][1] for t in i.vehicle_types), default=DEFAULT_VEHICLE_COEF)
    usage = USAGE[i.professional_use][1]
    size = _size(i)
    reasons = []
    if not ACTIVITIES[i.activity][1]:
        reasons.append("activity")
    if i.vehicles <= 0:
        reasons.append("no_vehicles")
    if litres < MIN_LITRES:
        reasons.append("consumption")
    if usage == 0:
        reasons.append("professional_use")
    eligible = not reasons
    uncapped = Decimal(litres) * rate * coef * usage * size if eligible else Decimal(0)
    amount = min(max(uncapped, CAP_LOW), CAP_HIGH) if eligible else Decimal(0)
    amount = amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)

    score = SECTOR_SCORE[i.activity] + (25 if i.vehicles > 0 else 0)
    score += max((VEHICLES[t][2] for t in i.vehicle_types), default=0)
    score += 15 if litres > 50_000 else 10 if litres > 15_000 else 5 if litres > 5_000 else 0
    score += 10 if i.fuel_invoices == "all" else 0
    maturity = _maturity(i)
    benchmark = _benchmark(i)
    confidence = maturity * 40 // 100
    confidence += 15 if i.litres_per_year else 0
    confidence += 15 if i.fuels else 0
    confidence += 30 if benchmark and benchmark["confidence"] > 0.8 else 15
    risks = []
    if maturity < 40:
        risks.append("low_maturity")
    if i.professional_use in ("60", "below"):
        risks.append("professional_use")
    if i.fuel_invoices == "none":
        risks.append("no_invoices")
    if i.activity in ("btp", "agri"):
        risks.append("sector_controls")
    return TicpeResult(
        amount=amount,
        eligible=eligible,
        reasons=reasons,
        litres=litres,
        litres_source=source,
        rate=rate.quantize(Decimal("0.0001")),
        vehicle_coef=coef,
        usage_coef=usage,
        size_correction=size,
        uncapped=uncapped.quantize(Decimal("0.01")),
        eligibility_score=min(score, 100),
        maturity_score=maturity,
        maturity_band=_band(maturity),
        confidence_score=min(confidence, 100),
        confidence="high" if confidence >= 70 else "medium" if confidence >= 40 else "low",
        risks=risks,
        benchmark=benchmark,
        performance=ACTIVITIES[i.activity][3],
    )
