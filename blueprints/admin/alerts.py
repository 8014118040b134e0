"""The alert centre (`/admin/alerts`): late clocks for admins to act on. Every action is a plain
form post (it works without JavaScript); htmx swaps the one alert it changed."""

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import format_number
from flask_babel import gettext as _
from flask_login import current_user

from app.core import jobs
from app.core.errors import ValidationFailed
from app.core.validators import parse_id
from app.services import notifications, sla
from app.services.sla import alerts as alerts_service
from app.web import hx
from app.web.forms import apply_errors
from app.web.security import admin_required
from blueprints.admin import bp
from blueprints.admin.forms import AlertActionForm, AlertAssignForm, AlertNoteForm

BADGE_CAP = 100  # from here the badge reads "99+"


def _active_count() -> int:
    """The badge's figure, counted once per request (the alert centre shows it twice), up to
    BADGE_CAP."""
    if "active_alerts" not in g:
        g.active_alerts = alerts_service.active_count(current_user, at_most=BADGE_CAP)
    return g.active_alerts


@bp.app_context_processor
def _alert_badge():
    def open_alerts() -> int:
        if current_user.is_authenticated and current_user.is_admin:
            return _active_count()
        return 0

    def badge_figure(n: int) -> str:
        return "99+" if n >= BADGE_CAP else format_number(n)

    return {"open_alerts": open_alerts, "badge_figure": badge_figure}


def _forms(alert, note_form=None):
    assign = AlertAssignForm(assignee_id=alert.assignee_id or "")
    assign.assignee_id.choices = [("", _("Nobody"))] + [
        (a.id, a.full_name) for a in notifications.active_admins()
    ]
    return {
        "ack": AlertActionForm(),
        "note": note_form or AlertNoteForm(),
        "assign": assign,
    }


@bp.get("/alerts")
@admin_required
def alerts():
    filters = alerts_service.Filters.from_args(request.args)
    rows, next_before = alerts_service.listing(
        current_user, filters, before_id=request.args.get("before", type=parse_id)
    )
    ctx = {
        "rows": rows,
        "filters": filters,
        "next_before": next_before,
        "labels": sla.labels.resolved(),
        "count": _active_count(),
    }
    if hx.wants_fragment(target="alert-list"):
        return render_template("admin/_alerts.html", **ctx)
    return render_template("admin/alerts.html", **ctx)


@bp.get("/alerts/count")
@admin_required
def alert_count():
    if hx.wants_fragment():
        return render_template("admin/_alert_count.html")
    return redirect(url_for("admin.alerts"))


@bp.get("/alerts/<int:alert_id>")
@admin_required
def alert(alert_id: int, note_form=None, status: int = 200):
    found = alerts_service.get(current_user, alert_id)
    return render_template(
        "admin/alert.html", alert=found, labels=sla.labels, **_forms(found, note_form)
    ), status


def _done(alert_id: int, message: str):
    flash(message, "success")
    return hx.redirect_to(url_for("admin.alert", alert_id=alert_id))


@bp.post("/alerts/remind-overdue")
@admin_required
def remind_overdue():
    """Every client late on something is reminded, by a worker (there may be thousands)."""
    if not AlertActionForm().validate_on_submit():
        return redirect(url_for("admin.alerts"), 303)
    jobs.enqueue("default", "app.services.sla.jobs.remind_overdue", job_timeout=1800)
    flash(_("Reminders are on their way to every client who is late."), "success")
    return hx.redirect_to(url_for("admin.alerts"))


@bp.post("/alerts/<int:alert_id>/acknowledge")
@admin_required
def alert_acknowledge(alert_id: int):
    if not AlertActionForm().validate_on_submit():
        return alert(alert_id, status=400)
    alerts_service.acknowledge(current_user, alert_id, ip=request.remote_addr)
    return _done(alert_id, _("Alert acknowledged."))


@bp.post("/alerts/<int:alert_id>/assign")
@admin_required
def alert_assign(alert_id: int):
    form = AlertAssignForm()
    if not form.validate_on_submit():
        return alert(alert_id, status=400)
    try:
        alerts_service.assign(current_user, alert_id, form.assignee_id.data, ip=request.remote_addr)
    except ValidationFailed as exc:
        flash(exc.message, "error")
        return alert(alert_id, status=422)
    return _done(alert_id, _("Alert assigned."))


def _with_note(alert_id: int, action):
    form = AlertNoteForm()
    if not form.validate_on_submit():
        return alert(alert_id, note_form=form, status=422)
    try:
        action(form.body.data)
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return alert(alert_id, note_form=form, status=422)
    return None


@bp.post("/alerts/<int:alert_id>/note")
@admin_required
def alert_note(alert_id: int):
    def save(body):
        alerts_service.add_note(current_user, alert_id, body, ip=request.remote_addr)

    return _with_note(alert_id, save) or _done(alert_id, _("Note added."))


@bp.post("/alerts/<int:alert_id>/resolve")
@admin_required
def alert_resolve(alert_id: int):
    def save(body):
        alerts_service.resolve(current_user, alert_id, body, ip=request.remote_addr)

    return _with_note(alert_id, save) or _done(alert_id, _("Alert resolved."))
