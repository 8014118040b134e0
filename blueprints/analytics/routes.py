from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

from app.core import storage
from app.core.errors import ValidationFailed
from app.security import analytics_scope, can_use_analytics
from app.services.analytics import cache, exports, reports, schedules
from app.services.analytics.reports import VIEWS
from app.services.sla.alerts import runs_firm
from app.web import hx
from app.web.forms import apply_errors
from blueprints.analytics import bp
from blueprints.analytics.forms import WEEKDAYS, ReportForm, read_filters

RUN_STATUS = {
    "queued": _l("Waiting"),
    "running": _l("Being built"),
    "done": _l("Sent"),
    "failed": _l("Failed (the owner was told)"),
}


def frequency_label(report) -> str:
    hour = f"{report.hour:02d}:00 ({report.tz})"
    if report.frequency.value == "daily":
        return _("Every day at %(hour)s", hour=hour)
    if report.frequency.value == "weekly":
        return _("Every %(day)s at %(hour)s", day=WEEKDAYS[report.weekday or 0], hour=hour)
    return _("On day %(n)s of each month at %(hour)s", n=report.month_day, hour=hour)


@bp.app_context_processor
def _words():
    return {
        "frequency_label": frequency_label,
        "view_title": lambda v: VIEWS.get(v, v),
        "run_status_label": lambda s: RUN_STATUS[getattr(s, "value", s)],
    }


def _scope(view: str) -> dict:
    if view not in VIEWS:
        abort(404)
    scope = analytics_scope(current_user, view, runs_firm(current_user))
    if scope is None:
        abort(404)
    return scope


def _report(view: str):
    scope = _scope(view)
    filters, problems = read_filters(request.args)
    report = reports.build(view, filters.scoped(scope))
    return report, problems, scope


@bp.get("/")
@login_required
def index():
    if not can_use_analytics(current_user):
        abort(404)
    views = [(v, t) for v, t in VIEWS.items() if _allowed(v)]
    return render_template("analytics/index.html", views=views)


def _allowed(view: str) -> bool:
    return analytics_scope(current_user, view, runs_firm(current_user)) is not None


@bp.get("/<view>")
@login_required
def view(view):
    scope = _scope(view)
    filters, problems = read_filters(request.args)
    f = filters.scoped(scope)

    def render(problems=()):
        report = reports.build(view, f)
        return render_template(
            "analytics/_report.html", report=report, problems=problems, args=f.args()
        )

    if problems:  # what was wrong with the URL is said on this page only
        block = Markup(render(problems))
    else:  # the same block for everyone who reads these filters, until the facts move
        block = Markup(
            cache.cached("facts", f"report-html:{view}:{get_locale()}:{f.key()}", render)
        )
    if hx.wants_fragment(target="report"):
        return block
    return render_template(
        "analytics/view.html",
        block=block,
        current_view=view,
        title=VIEWS[view],
        f=f,
        scope=scope,
        views=[(v, t) for v, t in VIEWS.items() if _allowed(v)],
        products=reports.products(),
        args=f.args(),
    )


@bp.get("/<view>.<fmt>")
@login_required
def download(view, fmt):
    if fmt not in exports.BUILDERS:
        abort(404)
    report, _problems, _scope = _report(view)
    data = exports.BUILDERS[fmt](report, exports.filter_labels(report))
    return (
        data,
        200,
        {
            "Content-Type": exports.MIME[fmt],
            "Content-Disposition": f'attachment; filename="{exports.filename(report, fmt)}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


# -- scheduled reports ---------------------------------------------------------------------------


def _report_form(data=None) -> ReportForm:
    form = ReportForm(formdata=data)
    form.view.choices = [(v, str(t)) for v, t in VIEWS.items() if _allowed(v)]
    return form


def _reports_page(form: ReportForm, status: int = 200):
    return (
        render_template(
            "analytics/reports.html",
            form=form,
            saved=schedules.owned_by(current_user),
            views=[(v, t) for v, t in VIEWS.items() if _allowed(v)],
            args={},
        ),
        status,
    )


@bp.get("/reports")
@login_required
def reports_index():
    if not can_use_analytics(current_user):
        abort(404)
    form = _report_form()
    if request.args.get("view") in VIEWS:  # "Schedule this report" from a view keeps its filters
        form.view.data = request.args["view"]
        form.name.data = str(VIEWS[request.args["view"]])
        for name in ("product", "expert", "firm", "region"):
            getattr(form, name).data = request.args.get(name, "")
    if not form.recipients.data:
        form.recipients.data = current_user.email
    return _reports_page(form)


@bp.post("/reports")
@login_required
def save_report():
    if not can_use_analytics(current_user):
        abort(404)
    form = _report_form(request.form)
    if not form.validate():
        return _reports_page(form, 422)
    try:
        report = schedules.save(current_user, form.data_for_service())
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return _reports_page(form, 422)
    flash(
        _(
            "The report is saved. It will first be sent on %(when)s.",
            when=report.next_run_at.strftime("%Y-%m-%d %H:%M UTC"),
        )
    )
    return redirect(url_for("analytics.report", report_id=report.id), 303)


@bp.get("/reports/<int:report_id>")
@login_required
def report(report_id):
    saved = schedules.get(current_user, report_id)
    ctx = {"saved": saved, "runs": schedules.runs_of(saved)}
    if hx.wants_fragment(target="report-runs"):
        return render_template("analytics/_runs.html", **ctx)
    return render_template("analytics/report.html", **ctx)


@bp.post("/reports/<int:report_id>/send")
@login_required
def send_report(report_id):
    schedules.send_now(current_user, report_id)
    flash(_("The report is being built; it will be emailed to its recipients."))
    return redirect(url_for("analytics.report", report_id=report_id), 303)


@bp.post("/reports/<int:report_id>/delete")
@login_required
def delete_report(report_id):
    schedules.delete(current_user, report_id)
    flash(_("The report is deleted."))
    return redirect(url_for("analytics.reports_index"), 303)


@bp.get("/runs/<int:run_id>/file")
@login_required
def run_file(run_id):
    run = schedules.run_file(current_user, run_id)
    fmt = run.filename.rsplit(".", 1)[-1]
    return send_file(
        storage.path_of(run.storage_key),
        mimetype=exports.MIME.get(fmt, "application/octet-stream"),
        as_attachment=True,
        download_name=run.filename,
    )
