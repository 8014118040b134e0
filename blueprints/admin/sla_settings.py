"""SLA settings (`/admin/sla`): the platform's calendar and its holidays, the policies and their
targets, the reminder cadences, and "recompute open clocks" with its progress. Plain forms;
a refused one comes back with what was typed and a message per field."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core import clock, jobs
from app.core.errors import ValidationFailed
from app.extensions import db
from app.models import PARIS, BusinessCalendar, Priority, ReminderCadence, SlaPolicy
from app.services import catalogue, sla
from app.services.sla import settings
from app.web import hx
from app.web.security import admin_required
from blueprints.admin import bp


def calendar_form(values) -> settings.CalendarForm:
    return settings.CalendarForm(
        hours={d: values.get(f"day{d}", "") for d in settings.DAYS},
        region=values.get("region", ""),
        closures=values.get("closures", ""),
        name=values.get("name", ""),
    )


def _page(status: int = 200, errors=None, values=None, which: str = ""):
    calendar = settings.default_calendar()
    year = clock.today(PARIS).year
    ctx = {
        "calendar": calendar,
        "hours": settings.hours_text(calendar),
        "closures": settings.closures_text(calendar),
        "holidays": settings.holidays(calendar, year),
        "year": year,
        "policies": db.session.scalars(db.select(SlaPolicy).order_by(SlaPolicy.rank)).all(),
        "cadences": db.session.scalars(
            db.select(ReminderCadence).order_by(ReminderCadence.id)
        ).all(),
        "calendars": db.session.scalars(
            db.select(BusinessCalendar).where(BusinessCalendar.user_id.is_(None))
        ).all(),
        "products": catalogue.products(active_only=False),
        "priorities": list(Priority),
        "labels": sla.labels,
        "recompute": settings.latest_recompute(),
        "errors": errors or {},
        "values": values,
        "which": which,
    }
    return render_template("admin/sla.html", **ctx), status


@bp.get("/sla")
@admin_required
def sla_settings():
    return _page()


@bp.post("/sla/calendar")
@admin_required
def sla_calendar():
    try:
        settings.save_calendar(
            current_user,
            settings.default_calendar(),
            calendar_form(request.form),
            request.remote_addr,
        )
    except ValidationFailed as exc:
        return _page(422, exc.fields, request.form, "calendar")
    flash(
        _("Calendar saved: new clocks count in it; recompute to move the running ones."), "success"
    )
    return hx.redirect_to(url_for("admin.sla_settings"))


@bp.post("/sla/policies/<int:policy_id>")
@admin_required
def sla_policy(policy_id: int):
    policy = db.get_or_404(SlaPolicy, policy_id)
    try:
        settings.save_policy(current_user, policy, request.form.to_dict(), request.remote_addr)
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(422, exc.fields, request.form, f"policy{policy_id}")
    flash(_("Policy saved: it applies to new clocks."), "success")
    return hx.redirect_to(url_for("admin.sla_settings"))


@bp.post("/sla/cadences/<int:cadence_id>")
@admin_required
def sla_cadence(cadence_id: int):
    cadence = db.get_or_404(ReminderCadence, cadence_id)
    f = request.form
    try:
        settings.save_cadence(
            current_user,
            cadence,
            f.get("offsets"),
            f.get("max_count"),
            f.get("active"),
            request.remote_addr,
        )
    except ValidationFailed as exc:
        return _page(422, exc.fields, request.form, f"cadence{cadence_id}")
    flash(_("Reminder cadence saved."), "success")
    return hx.redirect_to(url_for("admin.sla_settings"))


@bp.post("/sla/recompute")
@admin_required
def sla_recompute():
    row = settings.request_recompute(current_user)
    jobs.enqueue(
        "default",
        "app.services.sla.jobs.recompute_open_clocks",
        row.id,
        job_id=f"sla-recompute-{row.id}",
        job_timeout=3600,
    )
    flash(_("Recomputing the open clocks."), "info")
    return hx.redirect_to(url_for("admin.sla_settings") + "#recompute")


@bp.get("/sla/recompute")
@admin_required
def sla_recompute_status():
    if hx.wants_fragment():
        return render_template("admin/_sla_recompute.html", recompute=settings.latest_recompute())
    return redirect(url_for("admin.sla_settings") + "#recompute")
