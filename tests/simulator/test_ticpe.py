"""The detailed TICPE engine against every benchmark of docs/domain.md §2, and at its edges."""

from decimal import Decimal

import pytest

from app.services.simulator.ticpe import TicpeInputs, estimate

FULL_TIME = {"professional_use": "100"}

# (case, inputs, benchmark average in euros): companies described by their fleet only
BENCHMARKS = [
    ("road freight, 5 trucks > 7.5 t", TicpeInputs("trm", 5, ("heavy",), **FULL_TIME), 9_000),
    ("taxi / VTC, 1 vehicle", TicpeInputs("taxi", 1, ("car",), **FULL_TIME), 1_300),
    (
        "agricultural cooperative, 10 tractors on GNR",
        TicpeInputs("agri", 10, ("tractor",), fuels=("gnr",), **FULL_TIME),
        7_500,
    ),
    (
        "BTP SME, 15 heavy machines on GNR",
        TicpeInputs("btp", 15, ("machinery",), fuels=("gnr",), **FULL_TIME),
        12_000,
    ),
    ("regional coach operator, 3 coaches", TicpeInputs("trv", 3, ("heavy",), **FULL_TIME), 8_500),
    ("individual farm, 3 tractors", TicpeInputs("agri", 3, ("tractor",), **FULL_TIME), 2_500),
    ("individual farm, 4 tractors", TicpeInputs("agri", 4, ("tractor",), **FULL_TIME), 2_500),
    ("school transport, 6 coaches", TicpeInputs("trv", 6, ("heavy",), **FULL_TIME), 13_000),
]


@pytest.mark.parametrize(
    ("case", "inputs", "benchmark"), BENCHMARKS, ids=[b[0] for b in BENCHMARKS]
)
def test_every_benchmark_within_30_percent(case, inputs, benchmark):
    result = estimate(inputs)
    assert result.eligible
    assert abs(float(result.amount) - benchmark) <= 0.30 * benchmark, (case, result.amount)


def test_a_shop_without_vehicles_gets_nothing():
    result = estimate(TicpeInputs("other", 0, ()))
    assert result.amount == 0 and not result.eligible
    assert set(result.reasons) == {"activity", "no_vehicles", "consumption"}
    # even an eligible activity gets 0 € without vehicles (no 500 € floor)
    assert estimate(TicpeInputs("trm", 0, ())).amount == 0


def test_given_litres_win_and_the_formula_is_the_product_of_its_factors():
    result = estimate(
        TicpeInputs(
            "trm",
            12,
            ("heavy", "light"),
            fuels=("gazole",),
            litres_per_year=80_000,
            professional_use="80",
            turnover=6_000_000,
        )
    )
    # 80 000 × 0.177 × 1.0 (heaviest type) × 0.9 × 1.05 (> 10 vehicles) × 1.1 (> 5 M€)
    assert result.litres_source == "given"
    assert result.amount == Decimal("14719")  # 14 719,32
    assert result.size_correction == Decimal("1.155")


def test_mileage_then_sector_default():
    by_km = estimate(TicpeInputs("trm", 2, ("medium",), km_per_vehicle=50_000, **FULL_TIME))
    assert by_km.litres_source == "mileage" and by_km.litres == 2 * 50_000 * 20 // 100
    assert (
        estimate(TicpeInputs("trm", 2, ("machinery",), km_per_vehicle=50_000)).litres_source
        == "default"
    )


def test_caps_and_thresholds():
    tiny = estimate(TicpeInputs("trm", 1, ("light",), litres_per_year=1_000, **FULL_TIME))
    assert tiny.eligible and tiny.amount == 500  # floor
    assert not estimate(TicpeInputs("trm", 1, ("light",), litres_per_year=999)).eligible
    huge = estimate(TicpeInputs("trm", 400, ("heavy",), litres_per_year=5_000_000, **FULL_TIME))
    assert huge.amount == 100_000  # ceiling
    below = estimate(TicpeInputs("trm", 5, ("heavy",), professional_use="below"))
    assert below.amount == 0 and below.reasons == ["professional_use"]


def test_scores_confidence_and_risks():
    mature = estimate(
        TicpeInputs(
            "trm",
            30,
            ("heavy",),
            fuels=("gazole",),
            litres_per_year=60_000,
            professional_use="100",
            fuel_invoices="all",
            fuel_cards="all",
            plate_on_invoices="all",
            registered_to_company="all",
            claims_already="regularly",
        )
    )
    assert mature.eligibility_score == 100  # 30 + 25 + 20 + 15 + 10
    assert mature.maturity_score == 80 and mature.maturity_band == "optimal"
    assert mature.confidence_score == 32 + 15 + 15 + 30 and mature.confidence == "high"
    assert mature.risks == []
    novice = estimate(TicpeInputs("btp", 15, ("machinery",), professional_use="60"))
    assert novice.maturity_band == "training" and novice.confidence == "low"
    assert set(novice.risks) == {
        "low_maturity",
        "professional_use",
        "no_invoices",
        "sector_controls",
    }
    assert novice.benchmark["average"] == 12_000
