"""The catalogue: its seed (docs/domain.md §2) and the admin's edits, both validated.

The seed is data (`seed.json`), French because the data is: product names, questions and
options are what the administration and the clients read. `seed()` only inserts what is
missing, so it never undoes an admin's edit.
"""

import json
import uuid
from pathlib import Path

from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.core import audit, outbox
from app.core.db import after_commit
from app.core.errors import NotFound, ValidationFailed
from app.core.jobs import redis
from app.extensions import db
from app.models import EligibilityRule, Product, ProductKind, Question, QuestionKind, User
from app.models.profiles import SECTORS
from app.services.simulator import formulas, rules

# the seed, as data (`seed.json`): questions, products with their rules and checklists, and the
# legacy bracket labels a number question still accepts
SEED = json.loads((Path(__file__).parent / "seed.json").read_text(encoding="utf-8"))
PRODUCTS: list[dict] = SEED["products"]
BRACKETS: dict[str, dict[str, int]] = SEED["brackets"]
TURNOVER_BRACKETS = BRACKETS["GENERAL_002"]
OPTION_LISTS = {"sectors": SECTORS}  # lists the models own, named in the data file


def seed() -> dict[str, int]:
    """Insert the missing questions, products and rules; idempotent, never overwrites."""
    added = {"questions": 0, "products": 0}
    have = set(db.session.scalars(db.select(Question.code)))
    for position, spec in enumerate(SEED["questions"], start=1):
        if spec["code"] in have:
            continue
        options = spec.get("options") or list(OPTION_LISTS.get(spec.get("options_from"), []))
        db.session.add(
            Question(
                code=spec["code"],
                position=position * 10,
                section=spec["section"],
                text=spec["text"],
                help=spec.get("help", ""),
                kind=QuestionKind(spec["kind"]),
                options=options,
                brackets=BRACKETS.get(spec["code"], {}),
                unit=spec.get("unit", ""),
                max_value=spec.get("max_value"),
                step=spec.get("step"),
                condition=spec.get("condition"),
            )
        )
        added["questions"] += 1
    have = set(db.session.scalars(db.select(Product.code)))
    for position, spec in enumerate(PRODUCTS, start=1):
        if spec["code"] in have:
            continue
        formula = formulas.latest(spec["formula_code"])
        duration = spec.get("duration", [None, None])
        product = Product(
            code=spec["code"],
            name=spec["name"],
            category=spec["category"],
            kind=ProductKind(spec["kind"]),
            sectors=spec.get("sectors", []),
            active=spec.get("active", True),
            position=position * 10,
            description=spec["description"],
            formula_code=formula.code,
            formula_version=formula.version,
            constants={name: default for name, (default, _label) in formula.constants.items()},
            display_note=spec["display_note"],
            benefits=spec.get("benefits", []),
            duration_min_months=duration[0],
            duration_max_months=duration[1],
            documents={"eligibility": spec["documents"]},
        )
        product.rule = EligibilityRule(condition=spec["rule"])
        db.session.add(product)
        added["products"] += 1
    bump_version()
    db.session.commit()
    return added


# -- reads ---------------------------------------------------------------------------------------
#
# The catalogue is read on every simulator step and API call but changes a few times a year, so
# each process keeps a snapshot: plain detached objects loaded in a session of their own (no
# request's commit can expire them). A random version in Redis, replaced by every edit, tells
# the processes to reload; it is read once per request.

VERSION_KEY = "catalogue:version"
# (version, questions, products), replaced in one assignment so threads never see a mix
_snapshot: tuple = (None, [], [])


def _read_version() -> bytes:
    r = redis()
    version = r.get(VERSION_KEY)
    if version is None:  # first process up (or Redis flushed): any fresh value will do
        r.set(VERSION_KEY, uuid.uuid4().hex, nx=True)
        version = r.get(VERSION_KEY)
    return version


# what a process reads while Redis is away: it keeps its snapshot, and reloads it once Redis
# gives a version again (an edit made meanwhile is then seen everywhere)
OFFLINE = b"redis-unavailable"


def _version_or_offline() -> bytes:
    try:
        return _read_version()
    except outbox.REDIS_ERRORS:
        return OFFLINE


def _current_version() -> bytes:
    if not has_request_context():  # jobs and scripts: always ask
        return _version_or_offline()
    if "catalogue_version" not in g:
        g.catalogue_version = _version_or_offline()
    return g.catalogue_version


@outbox.replays("catalogue_version")
def _new_version(_payload: dict) -> None:
    redis().set(VERSION_KEY, uuid.uuid4().hex)


def bump_version() -> None:
    """After an edit commits, every process reloads its snapshot on its next request (if Redis
    is away, once it is back)."""

    def bump() -> None:
        try:
            _new_version({})
        except outbox.REDIS_ERRORS as exc:
            outbox.record("catalogue_version", {}, exc)

    after_commit(bump)


def _loaded() -> tuple:
    global _snapshot
    version = _current_version()
    if version == OFFLINE and _snapshot[0] is not None:
        _snapshot = (OFFLINE, *_snapshot[1:])  # kept; reloaded when a real version returns
    if _snapshot[0] != version:
        with Session(db.engine, expire_on_commit=False) as session:
            questions_ = list(session.scalars(db.select(Question).order_by(Question.position)))
            products_ = list(
                session.scalars(
                    db.select(Product)
                    .options(db.selectinload(Product.rule))
                    .order_by(Product.position)
                )
            )
        _snapshot = (version, questions_, products_)
    return _snapshot


def questions() -> list[Question]:
    return list(_loaded()[1])


def questions_by_code() -> dict[str, Question]:
    return {q.code: q for q in questions()}


def products(active_only: bool = False) -> list[Product]:
    return [p for p in _loaded()[2] if p.active or not active_only]


# -- admin edits ---------------------------------------------------------------------------------


def get_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound()
    return product


def get_question(question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound()
    return question


def _condition_problems(rule, by_code: dict[str, Question]) -> list[str]:
    return [] if rule is None else rules.problems(rule, by_code)


def references_problems(by_code: dict[str, Question]) -> list[str]:
    """Every product rule and question condition checked against a (changed) question set, so
    removing an option or a question that a rule still uses is refused, not silently broken."""
    found = []
    for product in products():
        if product.rule is None:
            continue
        for problem in rules.problems(product.rule.condition, by_code):
            found.append(_("Rule of %(p)s: %(problem)s", p=product.code, problem=problem))
    for question in by_code.values():
        for problem in _condition_problems(question.condition, by_code):
            found.append(_("Condition of %(q)s: %(problem)s", q=question.code, problem=problem))
    return found


def update_product(product: Product, changes: dict, actor: User, ip: str | None) -> Product:
    """Apply an admin's edit (already parsed by the form): every problem reported per field,
    nothing saved unless all of it is sound."""
    errors: dict[str, str] = {}
    formula = formulas.FORMULAS.get((product.formula_code, changes["formula_version"]))
    if formula is None:
        errors["formula_version"] = _("This formula has no such version.")
    if changes["active"] and product.formula_code == "unavailable":
        errors["active"] = _(
            "This product has no formula yet: the simulator cannot estimate it, so it stays "
            "inactive."
        )
    low, high = changes["duration_min_months"], changes["duration_max_months"]
    if low is not None and high is not None and low > high:
        errors["duration_max_months"] = _("The longest duration cannot be below the shortest.")
    unknown_sectors = [s for s in changes["sectors"] if s not in SECTORS]
    if unknown_sectors:
        errors["sectors"] = _("Unknown sector: %(s)s.", s=", ".join(unknown_sectors))
    if formula is not None:
        missing = [n for n in formula.constants if n not in changes["constants"]]
        if missing:
            errors["constants"] = _("Every constant needs a value: %(n)s.", n=", ".join(missing))
    rule = changes["rule"]
    problems = rules.problems(rule, questions_by_code()) if rule is not None else []
    if problems:
        errors["rule"] = " ".join(problems)
    if errors:
        raise ValidationFailed(_("Some fields need your attention."), **errors)
    before = {"active": product.active, "constants": dict(product.constants)}
    for name in (
        "name",
        "category",
        "description",
        "display_note",
        "benefits",
        "sectors",
        "active",
        "formula_version",
        "duration_min_months",
        "duration_max_months",
    ):
        setattr(product, name, changes[name])
    product.constants = {n: changes["constants"][n] for n in formula.constants}
    product.documents = {**product.documents, "eligibility": changes["documents"]}
    if rule is None:
        product.rule = None
    elif product.rule is None:
        product.rule = EligibilityRule(condition=rule)
    else:
        product.rule.condition = rule
    audit.record(
        actor,
        "product.updated",
        "product",
        product.id,
        ip,
        code=product.code,
        before=before,
        after={"active": product.active, "constants": product.constants},
    )
    bump_version()
    db.session.commit()
    return product


def update_question(question: Question, changes: dict, actor: User, ip: str | None) -> Question:
    errors: dict[str, str] = {}
    kind = question.kind
    options = changes["options"]
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        if len(options) < 2:
            errors["options"] = _("A choice question needs at least two options.")
        elif len(set(options)) != len(options):
            errors["options"] = _("Each option must appear once.")
    elif options:
        errors["options"] = _("A number question has no options.")
    condition = changes["condition"]
    earlier = {q.code: q for q in questions() if q.position < question.position}
    if condition is not None:
        problems = rules.problems(condition, earlier)
        if problems:
            errors["condition"] = (
                " ".join(problems)
                + " "
                + _("A condition may only use questions asked before this one.")
            )
    if not errors and kind != QuestionKind.NUMBER:
        # the new options must still satisfy every rule and condition that names them
        draft = Question(code=question.code, kind=kind, options=options, position=question.position)
        by_code = {q.code: (draft if q.id == question.id else q) for q in questions()}
        broken = references_problems(by_code)
        if broken:
            errors["options"] = " ".join(broken)
    if errors:
        raise ValidationFailed(_("Some fields need your attention."), **errors)
    question.text = changes["text"]
    question.help = changes["help"]
    question.options = options
    question.required = changes["required"]
    question.condition = condition
    audit.record(actor, "question.updated", "question", question.id, ip, code=question.code)
    bump_version()
    db.session.commit()
    return question
