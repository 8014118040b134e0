"""The sales team's pages (docs/domain.md A11): the pipeline board, the lead list, a lead's page
with its history and activities, a client's CRM page, and each seller's agenda. Every card
moves with a plain form ("move to"), so the board works with the keyboard, a screen reader and
no JavaScript; dragging is an extra where JavaScript runs (static/js/board.js)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.errors import InvalidTransition, ValidationFailed
from app.core.validators import parse_id
from app.models import LeadSource
from app.security import CRM_ROLES
from app.services.crm import activities, leads
from app.services.crm import figures as crm_figures
from app.services.plans import pricing
from app.web import hx
from app.web.forms import apply_errors, read_period
from app.web.security import role_required, safe_redirect_target
from blueprints.crm import bp
from blueprints.crm.forms import ActivityForm, LeadForm

crm_required = role_required(*CRM_ROLES)


def _owner_filter() -> tuple[str, int | None]:
    """The board's "whose": mine (a seller's default), everyone's, or nobody's."""
    whose = request.args.get("whose") or ("mine" if current_user.role.value == "sales" else "all")
    return whose, {"mine": current_user.id, "nobody": 0}.get(whose)


def _names() -> dict:
    """Every stage and source label translated once for a page of many cards or rows."""
    return {
        "stage_names": {s: str(label) for s, label in leads.STAGE_LABELS.items()},
        "source_names": {s: str(label) for s, label in leads.SOURCE_LABELS.items()},
    }


@bp.get("")
@crm_required
def board():
    whose, owner_id = _owner_filter()
    ctx = {
        "columns": leads.board(current_user, owner_id),
        "whose": whose,
        **_names(),
        "moves_from": {s: leads.moves_from(s) for s in leads.STAGE_LABELS},
        # formatted once, the card's name put in its place (a gettext per card was 1 ms)
        "move_to": _("Move %(lead)s to", lead="\x00"),
    }
    if hx.wants_fragment(target="board"):
        return render_template("crm/_board.html", **ctx)
    return render_template("crm/board.html", **ctx)


@bp.get("/leads")
@crm_required
def lead_list():
    filters = leads.read_filters(request.args)
    offset = request.args.get("offset", type=int) or 0
    rows, more = leads.page(current_user, filters, offset)
    ctx = {
        "rows": rows,
        "more": more,
        "offset": offset,
        "filters": filters,
        "page_size": leads.PAGE,
        "stage_labels": leads.STAGE_LABELS,
        "source_labels": leads.SOURCE_LABELS,
        **_names(),
        "sorts": leads.SORTS,
        "sellers": leads.sellers(),
    }
    if hx.wants_fragment(target="lead-rows"):
        return render_template("crm/_lead_rows.html", **ctx)
    return render_template("crm/leads.html", **ctx)


def _activity_form(formdata=None) -> ActivityForm:
    form = ActivityForm(formdata=formdata)
    form.owner.choices = [("", _("Me"))] + [(str(u.id), u.full_name) for u in leads.sellers()]
    return form


def _lead_page(lead, status=200, activity_form=None, move_error=None, reason=""):
    ctx = {
        "lead": lead,
        "history": leads.history(lead),
        "submissions": leads.submissions(lead),
        "activities": activities.of_lead(lead),
        "activity_form": activity_form or _activity_form(),
        "stage_labels": leads.STAGE_LABELS,
        "source_labels": leads.SOURCE_LABELS,
        "kind_labels": activities.KIND_LABELS,
        "moves": leads.allowed_moves(lead),
        "sellers": leads.sellers(),
        "move_error": move_error,
        "reason": reason,
        "parameters": pricing.PARAMETERS,
    }
    if hx.wants_fragment(target="lead-main"):
        return render_template("crm/_lead_main.html", **ctx), status
    return render_template("crm/lead.html", **ctx), status


@bp.get("/leads/<int:lead_id>")
@crm_required
def lead(lead_id: int):
    return _lead_page(leads.get(current_user, lead_id))


def _back(default: str) -> str:
    return safe_redirect_target(request.form.get("next")) or default


@bp.post("/leads/<int:lead_id>/move")
@crm_required
def move(lead_id: int):
    lead = leads.get(current_user, lead_id)
    reason = request.form.get("reason", "")
    try:
        stage = leads.read_stage(request.form.get("stage"))
        leads.move(current_user, lead, stage, reason)
    except ValidationFailed as exc:
        # lost without its reason (or a stage that does not exist): the lead's page asks,
        # with what was typed
        return _lead_page(lead, 422, move_error=exc.message, reason=reason)
    except InvalidTransition as exc:
        return _lead_page(lead, 409, move_error=exc.message, reason=reason)
    flash(
        _(
            "%(lead)s moved to %(stage)s.",
            lead=lead.display_name,
            stage=leads.STAGE_LABELS[lead.stage],
        ),
        "success",
    )
    return redirect(_back(url_for("crm.lead", lead_id=lead.id)), 303)


@bp.post("/leads/<int:lead_id>/assign")
@crm_required
def assign(lead_id: int):
    lead = leads.get(current_user, lead_id)
    try:
        leads.assign(current_user, lead, parse_id(request.form.get("owner") or "") or None)
    except (ValidationFailed, InvalidTransition) as exc:
        return _lead_page(lead, exc.status, move_error=exc.message)
    flash(_("The lead is handed over."), "success")
    return redirect(url_for("crm.lead", lead_id=lead.id), 303)


def _add_activity(form: ActivityForm, **subject):
    kind = activities.read_kind(form.kind.data)
    return activities.add(
        current_user,
        kind=kind,
        subject=form.subject.data or "",
        body=form.body.data or "",
        due_at=activities.due_from(form.due_on.data, form.due_at.data),
        owner_id=parse_id(form.owner.data or "") or None,
        **subject,
    )


def _post_activity(done_url: str, again, **subject):
    """Log an activity on a lead or a client: 303 back to its activities, or the page again
    (422) with what was typed."""
    form = _activity_form(request.form)
    if form.validate():
        try:
            _add_activity(form, **subject)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash(_("The activity is saved."), "success")
            return redirect(done_url, 303)
    return again(form)


@bp.post("/leads/<int:lead_id>/activities")
@crm_required
def add_lead_activity(lead_id: int):
    lead = leads.get(current_user, lead_id)
    return _post_activity(
        url_for("crm.lead", lead_id=lead.id, _anchor="activities"),
        lambda form: _lead_page(lead, 422, activity_form=form),
        lead=lead,
    )


@bp.post("/activities/<int:activity_id>/done")
@crm_required
def activity_done(activity_id: int):
    activity = activities.get(current_user, activity_id)
    try:
        activities.complete(current_user, activity, request.form.get("done", "1") == "1")
    except ValidationFailed as exc:
        flash(exc.message, "error")
    return redirect(_back(activities.link(activity)), 303)


@bp.get("/agenda")
@crm_required
def agenda():
    return render_template(
        "crm/agenda.html",
        agenda=activities.agenda(current_user),
        kind_labels=activities.KIND_LABELS,
    )


@bp.route("/leads/new", methods=["GET", "POST"])
@crm_required
def new_lead():
    form = LeadForm()
    if request.method == "POST" and form.validate():
        lead = leads.capture(
            LeadSource.MANUAL,
            form.email.data,
            company=form.company.data,
            contact_name=form.contact_name.data,
            phone=form.phone.data or "",
            siren=form.siren.data or None,
            message=form.message.data or "",
            owner=current_user,
            confirm=False,
        )
        flash(_("The lead is saved."), "success")
        return redirect(url_for("crm.lead", lead_id=lead.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("crm/lead_new.html", form=form), status


def _client_page(client, status=200, activity_form=None):
    came_from = leads.of_client(client.id)
    return render_template(
        "crm/client.html",
        client=client,
        leads_of=came_from,
        activities=activities.of_client(client, [lead.id for lead in came_from]),
        activity_form=activity_form or _activity_form(),
        kind_labels=activities.KIND_LABELS,
        stage_labels=leads.STAGE_LABELS,
    ), status


@bp.get("/clients/<int:client_id>")
@crm_required
def client(client_id: int):
    return _client_page(leads.get_client(current_user, client_id))


@bp.post("/clients/<int:client_id>/activities")
@crm_required
def add_client_activity(client_id: int):
    client = leads.get_client(current_user, client_id)
    return _post_activity(
        url_for("crm.client", client_id=client.id, _anchor="activities"),
        lambda form: _client_page(client, 422, activity_form=form),
        client=client,
    )


@bp.get("/home")
@crm_required
def home():
    """A seller's dashboard: what is due, their pipeline in figures, the leads nobody has."""
    return render_template(
        "crm/home.html",
        agenda=activities.agenda(current_user),
        mine=leads.stage_counts(current_user.id),
        unassigned=leads.stage_counts(0),
        stage_labels=leads.STAGE_LABELS,
        kind_labels=activities.KIND_LABELS,
    )


def _figure_labels() -> dict:
    return {
        "stages": {s.value: str(label) for s, label in leads.STAGE_LABELS.items()},
        "sources": {s.value: str(label) for s, label in leads.SOURCE_LABELS.items()},
        "by_stage": _("Leads by stage"),
        "by_source": _("Leads by source"),
        "funnel": _("Conversion by stage"),
        "time": _("Time in stage"),
        "months": _("Won per month"),
        "leaderboard": _("Sellers"),
        "stage": _("Stage"),
        "source": _("Source"),
        "leads": _("Leads"),
        "won": _("Won"),
        "lost": _("Lost"),
        "rate": _("Won rate"),
        "reached": _("Reached"),
        "next": _("Went on to the next stage"),
        "days": _("Average days"),
        "moves": _("Leads that left it"),
        "month": _("Month"),
        "amount": _("Amount won (yearly)"),
        "seller": _("Seller"),
    }


@bp.get("/figures")
@crm_required
def figures():
    start, end = read_period(request.args, days=90)
    return render_template(
        "crm/figures.html",
        r=crm_figures.report(current_user, start, end),
        start=start,
        end=end,
        labels=_figure_labels(),
    )


@bp.get("/figures.xlsx")
@crm_required
def figures_xlsx():
    start, end = read_period(request.args, days=90)
    data = crm_figures.workbook(crm_figures.report(current_user, start, end), _figure_labels())
    name = f"crm-{start.isoformat()}-{end.isoformat()}.xlsx"
    return (
        data,
        200,
        {
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )
