"""Formulas at their edges, the rule engine, answer parsing and the domain.md §2 golden example."""

from decimal import Decimal

import pytest

from app.core.errors import ValidationFailed
from app.models import ProductKind
from app.services import catalogue
from app.services.simulator import formulas, rules, simulations


def compute(code: str, **inputs) -> Decimal | None:
    formula = formulas.latest(code)
    constants = {k: v for k, (v, _label) in formula.constants.items()}
    return formula.compute(inputs, constants).amount


@pytest.mark.parametrize(
    ("code", "inputs", "expected"),
    [
        ("ticpe_quick", {"litres_per_month": 8000}, Decimal("19200.00")),
        ("ticpe_quick", {"litres_per_month": 0}, Decimal("0.00")),
        ("ticpe_quick", {"litres_per_month": 1}, Decimal("2.40")),
        ("urssaf", {"employees": 35}, Decimal("122500.00")),
        ("urssaf", {"employees": 0}, Decimal("0.00")),
        ("urssaf", {"employees": 1}, Decimal("3500.00")),
        ("dfs", {"drivers": 5}, Decimal("9000.00")),
        ("dfs", {"drivers": 1}, Decimal("1800.00")),
        ("foncier", {"property_tax": 12000}, Decimal("2400.00")),
        ("foncier", {"property_tax": 0.05}, Decimal("0.01")),
        ("msa", {"turnover": 2500000}, Decimal("162500.00")),
        ("msa", {"turnover": 0}, Decimal("0.00")),
        ("recouvrement", {"unpaid_level": "Non"}, Decimal("0.00")),
        ("recouvrement", {"unpaid_level": "Oui, montant faible (< 10 000€)"}, Decimal("5000.00")),
        (
            "recouvrement",
            {"unpaid_level": "Oui, montant modéré (10 000€ - 50 000€)"},
            Decimal("30000.00"),
        ),
        (
            "recouvrement",
            {"unpaid_level": "Oui, montant important (> 50 000€)"},
            Decimal("75000.00"),
        ),
        ("electricity_supplier", {"electricity_per_month": 3000}, Decimal("7200.00")),
        ("gas_supplier", {"gas_per_month": 1500.5}, Decimal("3601.20")),
        ("qualitative", {}, None),
    ],
)
def test_formulas(code, inputs, expected):
    assert compute(code, **inputs) == expected


def test_every_seeded_product_names_a_formula_and_its_constants():
    for spec in catalogue.PRODUCTS:
        formula = formulas.latest(spec["formula_code"])
        assert formula.version >= 1


class Q:
    def __init__(self, code, kind, options=(), brackets=None, max_value=None, step=None):
        self.code, self.kind, self.options = code, kind, list(options)
        self.brackets, self.max_value, self.step = brackets or {}, max_value, step


QUESTIONS = {
    "S": Q("S", "single", ["a", "b"]),
    "M": Q("M", "multiple", ["x", "y", "z"]),
    "N": Q("N", "number", max_value=100, step=1),
}


@pytest.mark.parametrize(
    ("rule", "answers", "expected"),
    [
        ({"question": "S", "operator": "equals", "value": "a"}, {"S": "a"}, True),
        ({"question": "S", "operator": "equals", "value": "a"}, {"S": "b"}, False),
        ({"question": "S", "operator": "not_equals", "value": "a"}, {"S": "b"}, True),
        ({"question": "S", "operator": "not_equals", "value": "a"}, {}, False),
        ({"question": "M", "operator": "includes", "value": "y"}, {"M": ["x", "y"]}, True),
        ({"question": "M", "operator": "includes", "value": "z"}, {"M": ["x", "y"]}, False),
        ({"question": "N", "operator": "greater_than", "value": 0}, {"N": 1}, True),
        ({"question": "N", "operator": "greater_than", "value": 0}, {"N": 0}, False),
        ({"question": "N", "operator": "greater_than", "value": 0}, {}, False),
        (
            {
                "operator": "AND",
                "rules": [
                    {"question": "S", "operator": "equals", "value": "a"},
                    {
                        "operator": "OR",
                        "rules": [
                            {"question": "M", "operator": "includes", "value": "z"},
                            {"question": "N", "operator": "greater_than", "value": 5},
                        ],
                    },
                ],
            },
            {"S": "a", "M": ["x"], "N": 6},
            True,
        ),
        (
            {
                "operator": "OR",
                "rules": [
                    {"question": "S", "operator": "equals", "value": "b"},
                    {"question": "N", "operator": "greater_than", "value": 5},
                ],
            },
            {"S": "a", "N": 5},
            False,
        ),
    ],
)
def test_rule_engine(rule, answers, expected):
    assert rules.evaluate(rule, answers) is expected


def test_greater_than_reads_the_resolved_bracket_number():
    rule = {"question": "N", "operator": "greater_than", "value": 10}
    assert rules.evaluate(rule, {"N": "21 à 50"}, {"N": 35})


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"question": "NOPE", "operator": "equals", "value": "a"}, "NOPE"),
        ({"question": "S", "operator": "equals", "value": "c"}, "« c »"),
        ({"question": "S", "operator": "includes", "value": "a"}, "« contient »"),
        ({"question": "S", "operator": "greater_than", "value": 1}, "« supérieur à »"),
        ({"question": "N", "operator": "greater_than", "value": "lots"}, "lots"),
        ({"question": "N", "operator": "equals", "value": 3}, "N"),
        ({"question": "S", "operator": "between", "value": 3}, "between"),
        ({"operator": "AND", "rules": []}, "AND"),
        (
            {"operator": "OR", "rules": [{"question": "M", "operator": "includes", "value": "w"}]},
            "« w »",
        ),
    ],
)
def test_rule_problems_name_the_fault(app, rule, message):
    with app.test_request_context():
        found = rules.problems(rule, QUESTIONS)
    assert found and message in found[0]


def test_sound_rules_have_no_problems(app):
    with app.test_request_context():
        qs = catalogue.questions_by_code()
        for spec in catalogue.PRODUCTS:
            assert rules.problems(spec["rule"], qs) == [], spec["code"]
        for q in qs.values():
            if q.condition:
                assert rules.problems(q.condition, qs) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1 500,50", 1500.5),
        ("12 000", 12000),
        ("12\u202f000", 12000),
        ("12\u00a0000 €", 12000),
        (2500000, 2500000),
        ("0", 0),
    ],
)
def test_french_numbers(app, raw, expected):
    with app.test_request_context():
        q = catalogue.questions_by_code()["GENERAL_002"]
        assert simulations.parse_answer(q, raw) == expected


@pytest.mark.parametrize("raw", ["-5", "abc", "1e9", "", [], True, "999999999999999"])
def test_bad_numbers_are_refused(app, raw):
    with app.test_request_context():
        q = catalogue.questions_by_code()["GENERAL_002"]
        with pytest.raises(ValueError):
            simulations.parse_answer(q, raw)


def test_headcount_must_be_whole_and_brackets_map_to_midpoints(app):
    with app.test_request_context():
        qs = catalogue.questions_by_code()
        with pytest.raises(ValueError):
            simulations.parse_answer(qs["GENERAL_003"], "3,5")
        assert simulations.parse_answer(qs["GENERAL_003"], "21 à 50") == "21 à 50"
        numbers = simulations.numbers_of({"GENERAL_003": "21 à 50"}, qs)
        assert numbers == {"GENERAL_003": 35}
        result = simulations.quick_estimate(_base_answers(GENERAL_003="6 à 20"))
        urssaf = next(p for p in result["products"] if p.code == "URSSAF")
        assert urssaf.amount == Decimal("45500.00")  # 13 × 35 000 × 10 %


def _base_answers(**overrides):
    answers = {
        "GENERAL_001": "Commerce et Distribution",
        "GENERAL_002": 500000,
        "GENERAL_003": 0,
        "GENERAL_004": "Non",
        "RECOUVR_001": "Non",
        "ENERGIE_ELEC_FACTURES": "Non",
        "ENERGIE_GAZ_FACTURES": "Non",
        "TICPE_001": "Non",
    }
    answers.update(overrides)
    return answers


GOLDEN = {
    "GENERAL_001": "Transport et Logistique",
    "GENERAL_002": "1 000 000€ - 5 000 000€",
    "GENERAL_003": 35,
    "GENERAL_004": "Oui",
    "FONCIER_001": 12000,
    "RECOUVR_001": "Oui, montant modéré (10 000€ - 50 000€)",
    "ENERGIE_ELEC_FACTURES": "Oui",
    "ENERGIE_ELEC_MONTANT": 2000,
    "ENERGIE_GAZ_FACTURES": "Oui",
    "ENERGIE_GAZ_MONTANT": 1000,
    "TICPE_001": "Oui",
    "TICPE_003": ["Camions de plus de 7,5 tonnes"],
    "TICPE_002": 8000,
    "DFS_001": 5,
}


def test_golden_example_of_domain_b_2_4(app):
    """§2, our rules: MSA does not apply to transport, energy is split in two at 20 %."""
    with app.test_request_context():
        result = simulations.quick_estimate(GOLDEN)
    amounts = {p.code: p.amount for p in result["products"] if p.eligible}
    assert amounts == {
        "URSSAF": Decimal("122500.00"),
        "RECOUVREMENT": Decimal("30000.00"),
        "TICPE": Decimal("19200.00"),
        "DFS": Decimal("9000.00"),
        "ELEC": Decimal("4800.00"),
        "FONCIER": Decimal("2400.00"),
        "GAZ": Decimal("2400.00"),
        "CHRONO": None,
        "SOLID": None,
    }
    assert result["total"] == Decimal("190300.00")
    msa = next(p for p in result["products"] if p.code == "MSA")
    assert not msa.eligible and "Agriculture" in msa.reason
    codes = [p.code for p in result["products"]]
    assert "TVA" not in codes and "CEE" not in codes  # inactive
    assert codes[:3] == ["URSSAF", "RECOUVREMENT", "TICPE"]  # sorted by amount


def test_hidden_answers_are_ignored_and_missing_ones_reported(app):
    with app.test_request_context():
        answers = simulations.validate_all(
            _base_answers(TICPE_002=9000, DFS_001=3), catalogue.questions()
        )
        assert "TICPE_002" not in answers and "DFS_001" not in answers  # their conditions fail
        with pytest.raises(ValidationFailed) as exc:
            simulations.validate_all(
                {"GENERAL_001": "Nope", "BOGUS": 1, "GENERAL_002": "-3", "TICPE_001": "Oui"},
                catalogue.questions(),
            )
    fields = exc.value.fields
    assert set(fields) >= {"GENERAL_001", "BOGUS", "GENERAL_002", "GENERAL_003", "TICPE_003"}


def test_the_seed_file_agrees_with_the_code_it_names():
    """The seed is data (catalogue/seed.json); what it shares with code must still match."""
    by_code = {q["code"]: q for q in catalogue.SEED["questions"]}
    assert by_code["RECOUVR_001"]["options"] == list(formulas.UNPAID_BRACKETS)
    assert by_code["GENERAL_001"]["options_from"] in catalogue.OPTION_LISTS
    kinds = {k.value for k in ProductKind}
    assert all(spec["kind"] in kinds for spec in catalogue.PRODUCTS)
