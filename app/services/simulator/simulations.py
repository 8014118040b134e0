"""The simulator: answers validated one by one or all at once, estimates, dossiers (domain.md §2).

`evaluate()` is pure (answers + catalogue in, results out) so the web pages, the JSON API, the
exports and the benchmarks all compute the same figures the same way.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from flask_babel import gettext as _

from app.core import metrics, storage
from app.core.errors import NotFound, ValidationFailed
from app.core.numbers import parse_number
from app.extensions import db
from app.models import (
    ESTIMATE_UPDATABLE,
    Dossier,
    DossierStatus,
    Export,
    FunnelEvent,
    FunnelStep,
    Product,
    Question,
    QuestionKind,
    Simulation,
    SimulationStatus,
    User,
    utcnow,
)
from app.security import can_view_simulation, require
from app.services import catalogue
from app.services.simulator import formulas, rules

# formula input -> the question that feeds it (docs/domain.md §2)
INPUT_SOURCES = {
    "litres_per_month": "TICPE_002",
    "employees": "GENERAL_003",
    "drivers": "DFS_001",
    "property_tax": "FONCIER_001",
    "turnover": "GENERAL_002",
    "unpaid_level": "RECOUVR_001",
    "electricity_per_month": "ENERGIE_ELEC_MONTANT",
    "gas_per_month": "ENERGIE_GAZ_MONTANT",
}
CLIENT_DRAFT_LIFETIME = timedelta(hours=24)
VISITOR_LIFETIME = timedelta(days=7)


# -- answers -------------------------------------------------------------------------------------


def parse_answer(question: Question, raw):
    """One answer, as typed in a form or sent in JSON, to its stored form; ValueError(message)."""
    if question.kind == QuestionKind.NUMBER:
        return _parse_number(question, raw)
    if question.kind == QuestionKind.MULTIPLE:
        values = raw if isinstance(raw, list) else None
        if values is None:
            raise ValueError(_("Choose one or more options from the list."))
        if not values:
            raise ValueError(_("Choose at least one option."))
        for value in values:
            if value not in question.options:
                raise ValueError(_("“%(value)s” is not one of the options.", value=_shown(value)))
        return [o for o in question.options if o in values]  # catalogue order, no duplicates
    if not isinstance(raw, str):
        raise ValueError(_("Choose one option from the list."))
    if raw not in question.options:
        raise ValueError(_("“%(value)s” is not one of the options.", value=_shown(raw)))
    return raw


def _shown(value, at_most: int = 40) -> str:
    """A value quoted back in a message, cut short: an error never echoes a whole upload."""
    text = str(value)
    return text if len(text) <= at_most else text[: at_most - 1] + "…"


def _parse_number(question: Question, raw):
    if isinstance(raw, str):
        text = raw.strip()
        if text in question.brackets:  # a legacy bracket label is kept as given
            return text
        if not text:
            raise ValueError(_("Enter a number."))
        try:
            number = parse_number(text)
        except ValueError:
            raise ValueError(_("Enter a number, for example 12 000 or 1 500,50.")) from None
    else:
        try:
            number = parse_number(raw)
        except ValueError:
            raise ValueError(_("Enter a number.")) from None
    if number < 0:
        raise ValueError(_("Enter a number zero or above."))
    if question.max_value is not None and number > Decimal(str(question.max_value)):
        raise ValueError(
            _("This looks too large: %(max)s at most.", max=f"{question.max_value:,.0f}")
        )
    if question.step == 1 and number != number.to_integral_value():
        raise ValueError(_("Enter a whole number."))
    return int(number) if number == number.to_integral_value() else float(number)


def numbers_of(answers: dict, questions: dict[str, Question]) -> dict:
    """Numeric answers resolved: a bracket label becomes its midpoint (docs/domain.md §2)."""
    out = {}
    for code, value in answers.items():
        q = questions.get(code)
        if q is not None and q.kind == QuestionKind.NUMBER:
            out[code] = q.brackets.get(value, value) if isinstance(value, str) else value
    return out


def visible_questions(questions: list[Question], answers: dict) -> list[Question]:
    """The questions shown for these answers, in order (conditions are checked server-side)."""
    return [q for q in questions if q.condition is None or rules.evaluate(q.condition, answers)]


def visible_answers(questions: list[Question], answers: dict) -> dict:
    """Answers to questions that are still shown (changing TICPE_001 to Non drops TICPE_002)."""
    shown = {q.code for q in visible_questions(questions, answers)}
    return {code: value for code, value in answers.items() if code in shown}


def validate_all(raw: dict, questions: list[Question]) -> dict:
    """A whole questionnaire (no-JS form, JSON API): every problem reported, per question code."""
    by_code = {q.code: q for q in questions}
    errors: dict[str, str] = {}
    if not isinstance(raw, dict):
        raise ValidationFailed(_("Send the answers as an object keyed by question code."))
    if len(raw) > len(questions):
        errors["answers"] = _("At most %(n)d answers.", n=len(questions))
    answers = {}
    for code, value in raw.items():
        question = by_code.get(code)
        if question is None:
            errors[code] = _("Unknown question.")
            continue
        if value is None or value == "" or value == []:
            continue
        try:
            answers[code] = parse_answer(question, value)
        except ValueError as exc:
            errors[code] = str(exc)
    for question in visible_questions(questions, answers):
        if question.required and question.code not in answers and question.code not in errors:
            errors[question.code] = _("This question needs an answer.")
    if errors:
        raise ValidationFailed(_("Some answers need your attention."), **errors)
    return visible_answers(questions, answers)


# -- estimates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductResult:
    code: str
    name: str
    kind: str
    eligible: bool
    amount: Decimal | None
    details: dict
    reason: str | None

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "eligible": self.eligible,
            "estimated_amount": float(self.amount) if self.amount is not None else None,
            "details": self.details,
            "reason": self.reason,
        }


def _reason(product: Product, answers: dict, numbers: dict, questions: dict) -> str:
    failing = rules.failing_leaves(product.rule.condition, answers, numbers) if product.rule else []
    if not failing:
        return _("Your answers give an estimate of 0 €.")
    leaf = failing[0]
    if leaf["operator"] in rules.COMBINERS:
        codes = {x["question"] for x in rules.leaves(leaf)}
        texts = [questions[c].text for c in codes if c in questions]
        return _("Not applicable with your answer to: %(q)s", q=" / ".join(sorted(texts)))
    question = questions.get(leaf["question"])
    label = question.text if question else leaf["question"]
    if leaf["question"] not in answers:
        return _("Not applicable: “%(q)s” does not concern you.", q=label)
    if leaf["operator"] == "greater_than":
        return _("Not applicable: “%(q)s” must be above %(v)s.", q=label, v=leaf["value"])
    if leaf["operator"] == "not_equals":
        return _("Not applicable with your answer “%(a)s” to “%(q)s”.", a=leaf["value"], q=label)
    return _("Reserved to the answer “%(v)s” to “%(q)s”.", v=leaf["value"], q=label)


def evaluate(answers: dict, products: list[Product], questions: dict[str, Question]) -> dict:
    """Every active product with its estimate, eligible ones first by amount (pure)."""
    numbers = numbers_of(answers, questions)
    results = []
    for product in products:
        formula = formulas.get(product.formula_code, product.formula_version)
        inputs = {}
        for name in formula.inputs:
            code = INPUT_SOURCES[name]
            inputs[name] = numbers.get(code, answers.get(code))
        estimate = formula.compute(inputs, product.constants)
        passed = product.rule is None or rules.evaluate(product.rule.condition, answers, numbers)
        qualitative = estimate.amount is None
        eligible = passed and (qualitative or estimate.amount > 0)
        details = {
            "formula": formula.code,
            "version": formula.version,
            "words": str(formula.words),
            "inputs": {k: _plain(v) for k, v in estimate.inputs.items()},
            "answers": {INPUT_SOURCES[k]: answers.get(INPUT_SOURCES[k]) for k in formula.inputs},
            "constants": dict(product.constants),
            "intermediate": {k: _plain(v) for k, v in estimate.intermediate.items()},
        }
        results.append(
            ProductResult(
                code=product.code,
                name=product.name,
                kind=str(product.kind),
                eligible=eligible,
                amount=estimate.amount if passed else (Decimal(0) if not qualitative else None),
                details=details,
                reason=None if eligible else _reason(product, answers, numbers, questions),
            )
        )
    results.sort(key=lambda r: (not r.eligible, r.amount is None, -(r.amount or 0)))
    total = sum((r.amount for r in results if r.eligible and r.amount is not None), Decimal(0))
    return {"products": results, "total": total}


def _plain(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def quick_estimate(raw_answers: dict) -> dict:
    """The JSON API and the benchmarks: validate, then evaluate, storing nothing."""
    questions = catalogue.questions()
    answers = validate_all(raw_answers, questions)
    return evaluate(answers, catalogue.products(active_only=True), {q.code: q for q in questions})


# -- drafts --------------------------------------------------------------------------------------


def _new(user: User | None, source: str = "web") -> Simulation:
    sim = Simulation(
        token=secrets.token_urlsafe(16), user_id=user.id if user else None, source=source
    )
    db.session.add(sim)
    db.session.flush()
    _track(sim, FunnelStep.STARTED)
    return sim


def _track(sim: Simulation, step: FunnelStep, code: str = "") -> None:
    exists = db.session.scalar(
        db.select(FunnelEvent.id).where(
            FunnelEvent.simulation_id == sim.id,
            FunnelEvent.step == step,
            FunnelEvent.question_code == code,
        )
    )
    if exists is None:
        db.session.add(FunnelEvent(simulation_id=sim.id, step=step, question_code=code))


def current_draft(user: User | None, token: str | None) -> Simulation | None:
    """The draft to resume: a visitor's from their session, a client's for 24 hours."""
    if user is not None and user.is_authenticated:
        return db.session.scalar(
            db.select(Simulation)
            .where(
                Simulation.user_id == user.id,
                Simulation.status == SimulationStatus.DRAFT,
                Simulation.updated_at > utcnow() - CLIENT_DRAFT_LIFETIME,
            )
            .order_by(Simulation.updated_at.desc())
            .limit(1)
        )
    if token:
        return db.session.scalar(
            db.select(Simulation).where(
                Simulation.token == token,
                Simulation.status == SimulationStatus.DRAFT,
                Simulation.user_id.is_(None),
            )
        )
    return None


def start(user: User | None, token: str | None) -> Simulation:
    sim = current_draft(user, token)
    if sim is None:
        sim = _new(user if user is not None and user.is_authenticated else None)
        db.session.commit()
    return sim


def restart(user: User | None) -> Simulation:
    sim = _new(user if user is not None and user.is_authenticated else None)
    db.session.commit()
    return sim


def next_question(sim: Simulation, questions: list[Question]) -> Question | None:
    """The first shown question without an answer; None when the questionnaire is complete."""
    for question in visible_questions(questions, sim.answers):
        if question.code not in sim.answers:
            return question
    return None


def progress(sim: Simulation, questions: list[Question], current: Question | None) -> dict:
    shown = visible_questions(questions, sim.answers)
    if current is not None and current not in shown:
        shown.append(current)
    position = shown.index(current) + 1 if current is not None else len(shown)
    return {"position": position, "total": len(shown)}


def previous_question(sim, questions: list[Question], current: Question | None):
    shown = visible_questions(questions, sim.answers)
    if current is None:
        return shown[-1] if shown else None
    before = [q for q in shown if q.position < current.position]
    return before[-1] if before else None


def save_answer(sim: Simulation, question: Question, raw) -> None:
    """Store one answer as it is given (htmx step); later answers that no longer show are
    dropped, so a changed answer never leaves a stale branch behind."""
    if sim.status != SimulationStatus.DRAFT:
        raise ValidationFailed(_("This simulation is finished; start a new one."))
    try:
        value = parse_answer(question, raw)
    except ValueError as exc:
        raise ValidationFailed(str(exc), **{question.code: str(exc)}) from None
    answers = dict(sim.answers)
    answers[question.code] = value
    sim.answers = visible_answers(catalogue.questions(), answers)
    _track(sim, FunnelStep.ANSWERED, question.code)
    db.session.commit()


def complete(sim: Simulation, user: User | None, raw_answers: dict | None = None) -> Simulation:
    """Compute and store the results; a client gets their dossiers at once."""
    questions = catalogue.questions()
    if raw_answers is not None:
        answers = validate_all(raw_answers, questions)
    else:
        answers = validate_all(dict(sim.answers), questions)
    result = evaluate(answers, catalogue.products(active_only=True), {q.code: q for q in questions})
    sim.answers = answers
    sim.results = [r.as_dict() for r in result["products"]]
    sim.total_cents = int(result["total"] * 100)
    sim.status = SimulationStatus.COMPLETED
    sim.completed_at = utcnow()
    _track(sim, FunnelStep.COMPLETED)
    metrics.business("simulation")
    if sim.user_id is not None:
        merge_dossiers(sim)
    db.session.commit()
    return sim


def attach_to_user(token: str | None, user: User) -> Simulation | None:
    """A visitor who signs up from the results: the simulation and its dossiers move to them."""
    if not token:
        return None
    sim = db.session.scalar(
        db.select(Simulation).where(Simulation.token == token, Simulation.user_id.is_(None))
    )
    if sim is None:
        return None
    sim.user_id = user.id
    if sim.status == SimulationStatus.COMPLETED:
        _track(sim, FunnelStep.ACCOUNT_CREATED)
        merge_dossiers(sim)
    db.session.commit()
    return sim


def merge_dossiers(sim: Simulation) -> None:
    """docs/domain.md §2: create the new eligible dossiers; update estimates of dossiers no expert
    holds yet (keeping the previous amount); delete only untouched dossiers no longer eligible;
    never touch a dossier with activity beyond updating its estimate."""
    products = {p.code: p for p in db.session.scalars(db.select(Product))}
    existing = {
        d.product.code: d
        for d in db.session.scalars(db.select(Dossier).where(Dossier.client_id == sim.user_id))
    }
    for result in sim.results or []:
        dossier = existing.get(result["code"])
        cents = (
            round(result["estimated_amount"] * 100)
            if result["estimated_amount"] is not None
            else None
        )
        if result["eligible"]:
            if dossier is None:
                db.session.add(
                    Dossier(
                        client_id=sim.user_id,
                        product_id=products[result["code"]].id,
                        simulation_id=sim.id,
                        status=DossierStatus.PENDING_UPLOAD,
                        estimated_cents=cents,
                        calculation=result["details"],
                    )
                )
            elif dossier.status in ESTIMATE_UPDATABLE:
                if dossier.estimated_cents != cents:
                    dossier.previous_estimated_cents = dossier.estimated_cents
                    dossier.estimated_cents = cents
                dossier.calculation = result["details"]
                dossier.simulation_id = sim.id
        elif dossier is not None and not dossier.has_activity:
            db.session.delete(dossier)


# -- reads ---------------------------------------------------------------------------------------


def get_owned(token: str, user: User | None, session_tokens: list[str]) -> Simulation:

    sim = db.session.scalar(db.select(Simulation).where(Simulation.token == token))
    if sim is None:
        raise NotFound()
    require(can_view_simulation(user, sim, session_tokens))
    return sim


# -- housekeeping --------------------------------------------------------------------------------


def purge_visitor_simulations(batch: int = 500) -> int:
    """Visitor simulations older than 7 days go, with their exports' files (cron sweep);
    a simulation that became a client's is kept with the account."""

    ids = db.session.scalars(
        db.select(Simulation.id)
        .where(Simulation.user_id.is_(None), Simulation.created_at <= utcnow() - VISITOR_LIFETIME)
        .order_by(Simulation.id)
        .limit(batch)
    ).all()
    if not ids:
        return 0
    for key in db.session.scalars(
        db.select(Export.storage_key).where(
            Export.simulation_id.in_(ids), Export.storage_key.is_not(None)
        )
    ):
        storage.delete(key)
    # explicit deletes: SQLite only cascades when foreign keys are on, and bulk is faster anyway
    db.session.execute(db.delete(Export).where(Export.simulation_id.in_(ids)))
    db.session.execute(db.delete(FunnelEvent).where(FunnelEvent.simulation_id.in_(ids)))
    db.session.execute(db.delete(Simulation).where(Simulation.id.in_(ids)))
    db.session.commit()
    return len(ids)


def profile_answers(user: User | None) -> dict:
    """What a client's profile already says (sector, turnover, headcount): offered as the
    default answers so a client does not type them again; saved only once confirmed."""
    profile = user.client_profile if user is not None and user.is_authenticated else None
    if profile is None:
        return {}
    known = {
        "GENERAL_001": profile.sector,
        "GENERAL_002": profile.turnover,
        "GENERAL_003": profile.employees,
    }
    return {code: value for code, value in known.items() if value is not None}
