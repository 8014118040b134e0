"""The public request form (docs/domain.md A11): what admins configure (fields, options,
conditions, order), how a configuration is checked before it is saved, which fields a visitor
sees for their answers so far, how answers are read, and the live estimate, priced by the plans'
one pricing function so that the price shown is the price charged.

A configuration is a list of field specs, saved as a new `RequestFormVersion` each time:
`{key, label, kind, required, options: [{value, label}], show_if: {field, value} | None,
pricing: a pricing parameter | None, min, max, help}`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core import audit
from app.core.errors import ValidationFailed
from app.core.numbers import parse_whole
from app.extensions import cache, db
from app.models import Plan, RequestFormVersion, User
from app.security import can_configure_request_form, require
from app.services.plans import pricing

KINDS = {
    "text": _l("Text"),
    "number": _l("Number"),
    "choice": _l("Choice (one answer)"),
    "multi": _l("Choice (several answers)"),
    "yesno": _l("Yes or no"),
}
YESNO = ("yes", "no")
# a priced field gives the pricing function a count: a number as typed, or how many were ticked
PRICED_KINDS = ("number", "multi")
# the contact block every submission has, outside the configurable questions
RESERVED = frozenset({"company", "contact_name", "email", "phone", "siren", "message", "website"})
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_FIELDS = 40
MAX_OPTIONS = 30
MAX_TEXT = 1000

DEFAULT_PLAN = "enterprise"
DEFAULT_FIELDS: list[dict] = [
    {
        "key": "need",
        "label": "Que souhaitez-vous ?",
        "kind": "choice",
        "required": True,
        "options": [
            {"value": "custom_plan", "label": "Une offre sur mesure"},
            {"value": "callback", "label": "Être rappelé"},
        ],
    },
    {
        "key": "sites",
        "label": "Nombre de sites",
        "kind": "number",
        "required": True,
        "min": 1,
        "max": 500,
        "pricing": "sites",
        "show_if": {"field": "need", "value": "custom_plan"},
    },
    {
        "key": "employees",
        "label": "Nombre de salariés",
        "kind": "number",
        "required": True,
        "min": 0,
        "max": 100000,
        "pricing": "employees",
        "show_if": {"field": "need", "value": "custom_plan"},
    },
    {
        "key": "fleet",
        "label": "Avez-vous des véhicules ?",
        "kind": "yesno",
        "required": False,
        "show_if": {"field": "need", "value": "custom_plan"},
    },
    {
        "key": "vehicles",
        "label": "Nombre de véhicules",
        "kind": "number",
        "required": True,
        "min": 1,
        "max": 10000,
        "pricing": "vehicles",
        "show_if": {"field": "fleet", "value": "yes"},
    },
    {
        "key": "products",
        "label": "Quels sujets vous intéressent ?",
        "kind": "multi",
        "required": False,
        "pricing": "products",
        "options": [
            {"value": "ticpe", "label": "Remboursement de TICPE"},
            {"value": "urssaf", "label": "Cotisations sociales (URSSAF, DFS, MSA)"},
            {"value": "foncier", "label": "Taxe foncière"},
            {"value": "energie", "label": "Contrats d'énergie"},
            {"value": "recouvrement", "label": "Factures impayées"},
        ],
        "show_if": {"field": "need", "value": "custom_plan"},
    },
    {
        "key": "callback_slot",
        "label": "Quand pouvons-nous vous appeler ?",
        "kind": "choice",
        "required": True,
        "options": [
            {"value": "morning", "label": "Le matin"},
            {"value": "afternoon", "label": "L'après-midi"},
        ],
        "show_if": {"field": "need", "value": "callback"},
    },
]


# -- the current version -------------------------------------------------------------------------


def install_default() -> RequestFormVersion:
    """The first version, when there is none (the demo, `flask seed catalogue`)."""
    current = db.session.scalar(
        db.select(RequestFormVersion).order_by(RequestFormVersion.id.desc()).limit(1)
    )
    if current is None:
        current = RequestFormVersion(fields=DEFAULT_FIELDS, plan_code=DEFAULT_PLAN)
        db.session.add(current)
        db.session.commit()
    return current


@dataclass(frozen=True)
class FormSpec:
    """A version as plain values: cached between requests (the live price runs on every key)."""

    version_id: int
    plan_code: str
    fields: tuple[dict, ...]


@cache.cache_on_arguments()
def _current_spec() -> dict | None:
    row = db.session.execute(
        db.select(RequestFormVersion.id, RequestFormVersion.plan_code, RequestFormVersion.fields)
        .order_by(RequestFormVersion.id.desc())
        .limit(1)
    ).first()
    return None if row is None else {"id": row.id, "plan": row.plan_code, "fields": row.fields}


def current() -> FormSpec:
    spec = _current_spec()
    if spec is None:
        row = install_default()
        spec = {"id": row.id, "plan": row.plan_code, "fields": row.fields}
    return FormSpec(spec["id"], spec["plan"], tuple(spec["fields"]))


def version(version_id: int) -> FormSpec | None:
    row = db.session.get(RequestFormVersion, version_id)
    return None if row is None else FormSpec(row.id, row.plan_code, tuple(row.fields))


def history(limit: int = 20) -> list[RequestFormVersion]:
    return db.session.scalars(
        db.select(RequestFormVersion).order_by(RequestFormVersion.id.desc()).limit(limit)
    ).all()


# -- checking a configuration --------------------------------------------------------------------


def _possible_values(field: dict) -> set[str] | None:
    """The values a field can take, or None when any typed value is possible."""
    if field["kind"] in ("choice", "multi"):
        return {o["value"] for o in field.get("options") or []}
    if field["kind"] == "yesno":
        return set(YESNO)
    return None


def problems(fields: list[dict], plan_code: str) -> dict[str, str]:
    """What is wrong with a configuration, per field key ("" for the form as a whole). A field
    is checked against the ones above it only: a condition can only look up, so no loop and no
    field shown by an answer given after it."""
    found: dict[str, str] = {}
    plans = set(db.session.scalars(db.select(Plan.code)))
    if plan_code not in plans:
        found[""] = _("Choose the plan the estimate is priced on.")
    if len(fields) > MAX_FIELDS:
        found[""] = _("A form has at most %(n)s fields.", n=MAX_FIELDS)
    above: dict[str, dict] = {}
    priced: set[str] = set()
    for field in fields:
        key = field.get("key", "")
        problem = _field_problem(field, above, priced)
        if problem:
            found.setdefault(key, problem)
        if field.get("pricing"):
            priced.add(field["pricing"])
        above[key] = field
    return found


def _field_problem(field: dict, above: dict[str, dict], priced: set[str]) -> str | None:
    key = field.get("key", "")
    if not _KEY.match(key):
        return _("A field's code is lower-case letters, digits and _, starting with a letter.")
    if key in RESERVED:
        return _("“%(key)s” is kept for the contact details: choose another code.", key=key)
    if key in above:
        return _("Two fields have the code “%(key)s”.", key=key)
    if not (field.get("label") or "").strip():
        return _("Give the field a label.")
    kind = field.get("kind")
    if kind not in KINDS:
        return _("Choose the kind of field.")
    options = field.get("options") or []
    if kind in ("choice", "multi"):
        values = [o.get("value") for o in options]
        if not options:
            return _("A choice needs at least one option.")
        if len(options) > MAX_OPTIONS:
            return _("A choice has at most %(n)s options.", n=MAX_OPTIONS)
        if len(set(values)) != len(values) or not all(values):
            return _("Each option needs its own value.")
    low, high = field.get("min"), field.get("max")
    if kind == "number" and low is not None and high is not None and low > high:
        return _("The smallest number allowed is above the largest.")
    if (parameter := field.get("pricing")) is not None:
        if parameter not in pricing.PARAMETERS:
            return _("This price parameter does not exist.")
        if kind not in PRICED_KINDS:
            return _("Only a number or a several-answer choice can set a price parameter.")
        if parameter in priced:
            return _("Another field already sets this price parameter.")
    return _condition_problem(field, above)


def _condition_problem(field: dict, above: dict[str, dict]) -> str | None:
    condition = field.get("show_if")
    if not condition:
        return None
    target = condition.get("field")
    if target == field["key"]:
        return _("A field cannot depend on its own answer.")
    if target not in above:
        # would be asked before the answer it depends on: never shown, unreachable if required
        return _(
            "“%(label)s” depends on a field that is not above it: move it below that field.",
            label=field["label"],
        )
    possible = _possible_values(above[target])
    if not str(condition.get("value") or "").strip():
        return _("Say which answer shows this field.")
    if possible is not None and condition["value"] not in possible:
        return _(
            "“%(label)s” would never be shown: “%(value)s” is not an answer of “%(other)s”.",
            label=field["label"],
            value=condition["value"],
            other=above[target]["label"],
        )
    return None


def save(actor: User, fields: list[dict], plan_code: str, ip: str | None = None) -> FormSpec:
    """A new version, if the configuration holds; the previous ones stay for their
    submissions."""
    require(can_configure_request_form(actor))
    if found := problems(fields, plan_code):
        raise ValidationFailed(next(iter(found.values())), **found)
    row = RequestFormVersion(fields=fields, plan_code=plan_code, created_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "request_form.save", "request_form", row.id, ip)
    db.session.commit()
    _current_spec.invalidate()
    return FormSpec(row.id, row.plan_code, tuple(row.fields))


# -- a visitor's answers -------------------------------------------------------------------------


def _matches(answer, value: str) -> bool:
    if isinstance(answer, list):
        return value in answer
    return answer is not None and str(answer) == value


def visible_keys(spec: FormSpec, answers: dict) -> set[str]:
    """The fields shown for these answers: a field whose condition's field is hidden is hidden
    too (fields only look up, so one pass in order settles it)."""
    shown: set[str] = set()
    for field in spec.fields:
        condition = field.get("show_if")
        if not condition or (
            condition["field"] in shown
            and _matches(answers.get(condition["field"]), condition["value"])
        ):
            shown.add(field["key"])
    return shown


def _raw(raw, field: dict):
    if field["kind"] == "multi":
        return raw.getlist(field["key"]) if hasattr(raw, "getlist") else raw.get(field["key"], [])
    return (raw.get(field["key"]) or "").strip()


def read_answers(spec: FormSpec, raw, check_required: bool = True) -> tuple[dict, dict, dict]:
    """The visitor's input → (answers of the visible fields, what they typed, errors per key).
    Hidden fields are dropped, so a stale answer never prices or reaches the lead. While they
    type (`check_required` off) an empty field is not yet an error."""
    typed = {f["key"]: _raw(raw, f) for f in spec.fields}
    answers: dict = {}
    errors: dict[str, str] = {}
    for field in spec.fields:
        key = field["key"]
        value, problem = _read_one(field, typed[key])
        if problem is None and value is not None:
            answers[key] = value
        elif problem:
            errors[key] = problem
    shown = visible_keys(spec, answers)
    answers = {k: v for k, v in answers.items() if k in shown}
    errors = {k: v for k, v in errors.items() if k in shown}
    if check_required:
        for field in spec.fields:
            key = field["key"]
            if field.get("required") and key in shown and key not in answers and key not in errors:
                errors[key] = _("This field is required.")
    return answers, typed, errors


def _read_one(field: dict, text):
    kind = field["kind"]
    if kind == "multi":
        allowed = _possible_values(field)
        picked = [v for v in dict.fromkeys(text or []) if v]
        if any(v not in allowed for v in picked):
            return None, _("Choose from the list.")
        return (picked or None), None
    if not text:
        return None, None
    if kind == "number":
        try:
            value = parse_whole(text)
        except ValueError:
            return None, _("Enter a whole number, for example 12.")
        low, high = field.get("min"), field.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            return None, _(
                "Enter a number from %(min)s to %(max)s.",
                min=format_decimal(low if low is not None else 0),
                max=format_decimal(high) if high is not None else "∞",
            )
        return value, None
    if kind in ("choice", "yesno"):
        if text not in _possible_values(field):
            return None, _("Choose from the list.")
        return text, None
    if len(text) > MAX_TEXT:
        return None, _("At most %(n)s characters.", n=MAX_TEXT)
    return text, None


# -- the estimate --------------------------------------------------------------------------------


def params_of(spec: FormSpec, answers: dict) -> tuple[dict[str, int], dict[str, str]]:
    """The pricing function's parameters from the priced fields (a hidden one leaves the
    parameter at its default), with the pricing bounds checked per field."""
    raw: dict[str, str] = {}
    by_parameter: dict[str, str] = {}
    for field in spec.fields:
        parameter = field.get("pricing")
        if not parameter or field["key"] not in answers:
            continue
        value = answers[field["key"]]
        raw[parameter] = str(len(value) if isinstance(value, list) else value)
        by_parameter[parameter] = field["key"]
    params, errors = pricing.read_params(raw)
    return params, {by_parameter[p]: message for p, message in errors.items()}


@cache.cache_on_arguments()
def _plan_values(code: str) -> dict | None:
    plan = db.session.scalar(db.select(Plan).where(Plan.code == code))
    if plan is None:
        return None
    return {
        "code": plan.code,
        "name": plan.name,
        "on_request": plan.on_request,
        "base_cents": plan.base_cents,
        "prices": plan.prices,
        "yearly_discount_bp": plan.yearly_discount_bp,
    }


def pricing_plan(code: str) -> Plan | None:
    """A detached copy of the plan the estimate uses (cached: the live price reads it on every
    keystroke); `pricing.quote` only reads its price columns."""
    values = _plan_values(code)
    return None if values is None else Plan(**values)


def estimate(spec: FormSpec, answers: dict) -> tuple[pricing.Quote | None, dict[str, str]]:
    plan = pricing_plan(spec.plan_code)
    params, errors = params_of(spec, answers)
    if plan is None or errors:
        return None, errors
    return pricing.quote(plan, params), {}
