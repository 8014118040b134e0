"""The spellings of numbers French users type, read the same by every form, the API, simulator
answers and workflow actions (one parser: app.core.numbers)."""

from decimal import Decimal

import pytest
import wtforms
from werkzeug.datastructures import MultiDict

from app.core.numbers import parse_number, parse_percent_bp, parse_whole, to_cents
from app.models import Question, QuestionKind
from app.services.simulator.simulations import parse_answer
from app.services.workflow.params import Params
from app.web.forms import LocalizedIntegerField

NBSP, NNBSP = "\u00a0", "\u202f"

ACCEPTED = [
    ("12000", "12000"),
    ("12 000", "12000"),
    (f"12{NBSP}000", "12000"),
    (f"12{NNBSP}000", "12000"),
    ("12.000", "12000"),
    ("1.234.567", "1234567"),
    ("12 000,50", "12000.50"),
    (f"12{NNBSP}000,50", "12000.50"),
    ("12,5", "12.5"),
    ("12.5", "12.5"),
    ("0,065", "0.065"),
    ("0.065", "0.065"),
    ("1 234,56 €", "1234.56"),
    (f"1{NBSP}234,56{NBSP}€", "1234.56"),
    ("€1234", "1234"),
    ("1234 EUR", "1234"),
    ("1.234,56", "1234.56"),
    ("1,234.56", "1234.56"),
    ("12,000", "12.000"),  # a comma is the decimal mark in France, even before three digits
    (" 42 ", "42"),
    ("-5", "-5"),
    ("0", "0"),
]

REFUSED = [
    "",
    "   ",
    "€",
    "abc",
    "12abc",
    "1e5",
    "nan",
    "inf",
    "12,5,3",
    "1.23.456",
    "12..5",
    "1,5.3",
    "0.065.000",
    "--5",
    "１２",  # full-width digits
    "٣",
    "12 000 000 000 000 000 000 000 000 000 000 000 000 000",
]


@pytest.mark.parametrize(("typed", "expected"), ACCEPTED)
def test_accepted_spellings(typed, expected):
    assert parse_number(typed) == Decimal(expected)


@pytest.mark.parametrize("typed", REFUSED)
def test_refused_spellings(typed):
    with pytest.raises(ValueError):
        parse_number(typed)


def test_json_numbers_pass_through_and_others_do_not():
    assert parse_number(12) == 12 and parse_number(12.5) == Decimal("12.5")
    for value in (True, None, [1], {"a": 1}, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            parse_number(value)


def test_whole_numbers_and_cents():
    assert parse_whole("12.000") == 12000 and parse_whole("12 000") == 12000
    with pytest.raises(ValueError):
        parse_whole("12,5")
    assert to_cents(parse_number("12 000,505")) == 1200051
    assert to_cents(parse_number("0,1")) == 10


def test_percentages_in_basis_points():
    assert parse_percent_bp("12,5") == 1250 and parse_percent_bp("12.5 %") == 1250
    assert parse_percent_bp("30") == 3000
    with pytest.raises(ValueError):
        parse_percent_bp("douze")


def test_every_reader_agrees_on_12_000(app):
    """Forms, simulator answers and workflow amounts once disagreed: "12.000" was 12 000 in a
    form and 12,00 € in a quote or audit amount."""

    class Form(wtforms.Form):
        n = LocalizedIntegerField()

    with app.test_request_context():
        field = Form(MultiDict({"n": "12.000"})).n
        question = Question(code="Q", kind=QuestionKind.NUMBER, options=[], brackets={})
        for typed in ("12.000", "12 000", f"12{NNBSP}000", "12 000,00 €"):
            assert Params({"a": typed}).cents("a") == 1_200_000
            assert parse_answer(question, typed) == 12000
        assert field.data == 12000
        assert Params({"n": "12.000"}).whole("n") == 12000
