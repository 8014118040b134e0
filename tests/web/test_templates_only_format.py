"""Templates format what the view gives them and decide nothing (docs/architecture.md): money
leaves through filters, permissions arrive as booleans from the policy module, every
hand-written form carries the one CSRF field."""

import re
from pathlib import Path

import pytest
from flask_babel import force_locale

from app.web import templating

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


def _every_template():
    return sorted(TEMPLATES.rglob("*.html"))


# what the rules forbid, each with the reason a reader gets when one comes back
FORBIDDEN = [
    (
        re.compile(r"_(cents|bp)\s*/\s*100"),
        "cents or basis points divided in a template: use |money or |percent",
    ),
    (re.compile(r"size_bytes\s*/"), "a size computed in a template: use |kilobytes"),
    (
        re.compile(r"\bin v\.relations\b"),
        "a permission re-derived from relations: add it to DossierView.may",
    ),
    (re.compile(r'name="csrf_token"'), "a hand-written CSRF input: use {{ csrf_field() }}"),
    (
        re.compile(r"from:body|X-Live-Refresh"),
        "a live fragment written by hand: use {{ live(...) }}",
    ),
]


@pytest.mark.parametrize("path", _every_template(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_decides_nothing(path):
    text = path.read_text(encoding="utf-8")
    found = [reason for rule, reason in FORBIDDEN if rule.search(text)]
    assert not found, found


@pytest.mark.parametrize(
    "value, locale, expected",
    [
        (1_234_550, "fr", "12 345,50 €"),
        (1_000_000, "fr", "10 000 €"),
        (5, "fr", "0,05 €"),
        (None, "fr", "0 €"),
        (1_234_550, "en", "€12,345.50"),
    ],
)
def test_money_is_cents_in_the_readers_locale(app, value, locale, expected):
    with app.test_request_context(), force_locale(locale):
        assert templating.money(value).translate(SPACES) == expected


def test_rates_sizes_and_inputs_read_back_as_typed(app):
    with app.test_request_context(), force_locale("fr"):
        assert templating.percent(1250) == "12,5"
        assert templating.percent(3000) == "30"
        assert templating.cents_input(150_050).translate(SPACES) == "1 500,5"
        assert templating.cents_input("1 500,5 typed") == "1 500,5 typed"
        assert templating.cents_input(None) == ""
        assert templating.kilobytes(2_048_000).translate(SPACES) == "2 000 Ko"


def test_a_live_fragment_listens_polls_and_says_it_is_live(app):
    attrs = templating.live("/x?a=1&b=2", "message:new", "message:read", poll=True)
    assert attrs == (
        'hx-get="/x?a=1&amp;b=2" hx-trigger="message:new from:body, message:read from:body, '
        'poll from:body" hx-swap="outerHTML" hx-headers=\'{"X-Live-Refresh": "1"}\''
    )
    first = templating.live("/e", "export:progress", first="every 1s", swap="none")
    assert 'hx-trigger="every 1s, export:progress from:body" hx-swap="none"' in first


def test_one_place_registers_every_filter(app):
    for name in templating.FILTERS:
        assert app.jinja_env.filters[name] is templating.FILTERS[name]
    for name in templating.GLOBALS:
        assert app.jinja_env.globals[name] is templating.GLOBALS[name]
