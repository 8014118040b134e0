"""The public simulator: one question at a time with htmx, one complete form without JS."""

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.core import storage
from app.core.errors import ValidationFailed
from app.extensions import limiter
from app.models import LeadSource
from app.services import catalogue
from app.services.accounts import referrals
from app.services.crm import leads
from app.services.simulator import exports, formulas, reports, simulations
from app.web import formtrack, hx
from app.web.forms import CallMeForm
from blueprints.simulator import bp

FORM = "simulator"  # its name in the form analytics
SESSION_KEY = "simulation_token"
OWNED_KEY = "simulation_tokens"  # every simulation this browser ran, for its results and exports


def _remember(sim) -> None:
    if sim.user_id is None:
        session[SESSION_KEY] = sim.token
        owned = [t for t in session.get(OWNED_KEY, []) if t != sim.token][-9:]
        session[OWNED_KEY] = [*owned, sim.token]


def _user():
    return current_user if current_user.is_authenticated else None


def _draft():
    """The draft this browser or client resumes (one is started if none), and the questions."""
    sim = simulations.start(_user(), session.get(SESSION_KEY))
    _remember(sim)
    return sim, catalogue.questions()


def _raw_answer(question):
    if str(question.kind) == "multiple":
        return request.form.getlist(question.code)
    return request.form.get(question.code, "")


def _step(sim, questions, question, error=None, typed=None, status=200):
    formtrack.step_shown(FORM, question.code)
    context = {
        "sim": sim,
        "question": question,
        "value": typed
        if typed is not None
        else sim.answers.get(
            question.code, simulations.profile_answers(_user()).get(question.code)
        ),
        "error": error,
        "progress": simulations.progress(sim, questions, question),
        "previous": simulations.previous_question(sim, questions, question),
    }
    template = "simulator/_step.html" if hx.wants_fragment() else "simulator/step.html"
    return render_template(template, **context), status


def _to_results(sim):
    formtrack.completed(FORM)
    return hx.redirect_to(url_for("simulator.results", token=sim.token))


@bp.get("")
def start():
    sim, questions = _draft()
    formtrack.viewed(FORM)
    return render_template(
        "simulator/start.html",
        sim=sim,
        questions=questions,
        by_code={q.code: q for q in questions},
        values={**simulations.profile_answers(_user()), **sim.answers},
        errors={},
    )


@bp.get("/step")
def step():
    """The current question (or the one asked for with ?q=, when going back)."""
    sim, questions = _draft()
    shown = simulations.visible_questions(questions, sim.answers)
    wanted = request.args.get("q")
    question = next((q for q in shown if q.code == wanted), None) if wanted else None
    question = question or simulations.next_question(sim, questions)
    if question is None:  # everything answered: compute
        return _to_results(simulations.complete(sim, _user()))
    return _step(sim, questions, question)


@bp.post("/answer")
def answer():
    sim, questions = _draft()
    question = next((q for q in questions if q.code == request.form.get("question")), None)
    if question is None:
        abort(400)
    raw = _raw_answer(question)
    try:
        simulations.save_answer(sim, question, raw)
    except ValidationFailed as exc:
        formtrack.refused(FORM, [question.code])
        message = exc.fields.get(question.code, exc.message)
        return _step(sim, questions, question, error=message, typed=raw, status=422)
    formtrack.answered(FORM, question.code)
    following = simulations.next_question(sim, questions)
    if following is None:  # every shown question has its answer, so this validates
        return _to_results(simulations.complete(sim, _user()))
    return _step(sim, questions, following)


@bp.post("")
def submit():
    """JavaScript off: the whole questionnaire in one form, validated at once."""
    sim, questions = _draft()
    raw = {q.code: _raw_answer(q) for q in questions if q.code in request.form}
    try:
        sim = simulations.complete(sim, _user(), raw_answers=raw)
    except ValidationFailed as exc:
        formtrack.refused(FORM, exc.fields)
        return render_template(
            "simulator/start.html",
            sim=sim,
            questions=questions,
            by_code={q.code: q for q in questions},
            values=raw,
            errors=exc.fields,
        ), 422
    return _to_results(sim)


@bp.post("/restart")
def restart():
    sim = simulations.restart(current_user)
    _remember(sim)
    return hx.redirect_to(url_for("simulator.start"))


@bp.get("/results/<token>")
def results(token: str):
    sim = simulations.get_owned(token, _user(), session.get(OWNED_KEY, []))
    if sim.results is None:
        return hx.redirect_to(url_for("simulator.start"))
    eligible = [r for r in sim.results if r["eligible"]]
    others = [r for r in sim.results if not r["eligible"]]
    products = {p.code: p for p in catalogue.products()}
    questions = catalogue.questions_by_code()
    return render_template(
        "simulator/results.html",
        sim=sim,
        eligible=eligible,
        others=others,
        products=products,
        questions=questions,
        total=(sim.total_cents or 0) / 100,
        formula_label=formulas.label,
        exports=exports.of_simulation(sim),
        call_me=CallMeForm(formdata=None) if sim.user_id is None else None,
    )


@bp.post("/results/<token>/call-me")
@limiter.limit(lambda: current_app.config["RATELIMIT_REQUEST_FORM"])
def call_me(token: str):
    """A visitor who saw their results leaves an email: a lead with what the simulator found
    (docs/domain.md A11)."""
    sim = simulations.get_owned(token, _user(), session.get(OWNED_KEY, []))
    form = CallMeForm()
    if not form.validate():
        flash(_("Please give your name and a valid email."), "error")
        return redirect(url_for("simulator.results", token=token, _anchor="call-me"), 303)
    if not form.is_robot():
        leads.capture(
            LeadSource.SIMULATOR,
            form.email.data,
            **form.contact(),
            simulation=sim,
            referrer=referrals.referrer_by_code(session.get("referral_code")),
            locale=str(get_locale()),
        )
    session["request_sent"] = True
    return redirect(url_for("intake.request_thanks"), 303)


# -- exports: queued from the results page, built by the exports worker -------------------------


@bp.post("/results/<token>/exports")
def export(token: str):
    sim = simulations.get_owned(token, _user(), session.get(OWNED_KEY, []))
    item, created = exports.request_export(sim, request.form.get("format", ""), str(get_locale()))
    if hx.wants_fragment():
        body = render_template("simulator/_export.html", export=item)
        return body if created else hx.retarget(body, 200, f"#export-{item.id}")
    return hx.redirect_to(url_for("simulator.export_status", export_id=item.id))


@bp.get("/exports/<int:export_id>")
def export_status(export_id: int):
    """The progress of one export: a fragment polled by htmx (286 stops the polling once it is
    finished), or a page that refreshes itself without JavaScript."""
    item = exports.get_owned(export_id, _user(), session.get(OWNED_KEY, []))
    if hx.wants_fragment():
        return render_template("simulator/_export.html", export=item), 286 if item.finished else 200
    return render_template("simulator/export.html", export=item)


@bp.get("/exports/<int:export_id>/download")
def export_download(export_id: int):
    item = exports.get_owned(export_id, _user(), session.get(OWNED_KEY, []))
    if item.storage_key is None:
        abort(404)
    return send_file(
        storage.path_of(item.storage_key),
        mimetype=reports.MIME[str(item.format)],
        as_attachment=True,
        download_name=item.filename,
        max_age=0,
    )
