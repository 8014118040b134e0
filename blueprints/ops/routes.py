import hmac
import ipaddress

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.core import metrics
from app.core.errors import ValidationFailed
from app.extensions import limiter
from app.models import Comparison, ErasureStatus, HealthState, Role
from app.services.ops import alerts, formstats, health, privacy, pulse
from app.web import formtrack, hx
from app.web.forms import apply_errors, read_period
from app.web.security import admin_required, role_required
from blueprints.ops import bp
from blueprints.ops.forms import RuleForm

staff_required = role_required(Role.ADMIN, Role.SALES, Role.SUPPORT)
# the forms bring the leads: sellers read their analytics with the admins
forms_required = role_required(Role.ADMIN, Role.SALES)
HEALTH_STATES = {
    HealthState.OK: _l("Healthy"),
    HealthState.DEGRADED: _l("Degraded"),
    HealthState.DOWN: _l("Down"),
    HealthState.SKIPPED: _l("Not configured"),
}
ERASURE_STATES = {
    ErasureStatus.PENDING: _l("Waiting"),
    ErasureStatus.CANCELLED: _l("Withdrawn by the user"),
    ErasureStatus.REFUSED: _l("Refused"),
    ErasureStatus.DONE: _l("Anonymised"),
}
COMPARISONS = {Comparison.ABOVE: _l("above"), Comparison.BELOW: _l("below")}


@bp.app_context_processor
def _words():
    return {
        "health_state_label": lambda s: HEALTH_STATES[HealthState(s)],
        "severity_label": lambda s: alerts.SEVERITIES[s],
        "alert_state_label": lambda s: alerts.STATES[s],
        "channel_label": lambda c: alerts.CHANNELS.get(c, c),
        "comparison_label": lambda c: COMPARISONS[c],
        "metric_label": pulse.metric_label,
        "describe_alert": alerts.describe,
        "erasure_label": lambda s: ERASURE_STATES[s],
    }


# -- /metrics, for a Prometheus server ---------------------------------------------------------


def _may_scrape() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    networks = current_app.config["METRICS_NETWORKS"].split(",")
    return any(address in ipaddress.ip_network(n.strip(), strict=False) for n in networks if n)


@bp.get("/metrics")
def scrape():
    if not current_app.config["METRICS_ENABLED"] or not _may_scrape():
        abort(404)  # a stranger does not learn there is something here
    body, content_type = metrics.exposition()
    return body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"}


# -- the status page ---------------------------------------------------------------------------


@bp.get("/ops/status")
@staff_required
def status():
    ctx = {"lines": health.status(), "alerts": alerts.active_alerts()}
    if hx.wants_fragment(target="ops-status"):
        return render_template("ops/_status.html", **ctx)
    return render_template("ops/status.html", **ctx)


@bp.post("/ops/status/check")
@admin_required
def check_now():
    results = health.run_round()
    down = [health.label(r.component) for r in results if not r.ok]
    if down:
        flash(_("Checked now. Not healthy: %(names)s.", names=", ".join(down)), "error")
    else:
        flash(_("Checked now: every component is healthy."))
    return redirect(url_for("ops.status"), 303)


# -- LivePulse ---------------------------------------------------------------------------------


def _pulse_lines(minutes: int = 60) -> list[dict]:
    samples = pulse.recent(minutes)
    lines = []
    for name in pulse.DRAWN:
        values = [s.values.get(name, 0.0) or 0.0 for s in samples]
        lines.append(
            {
                "name": name,
                "label": pulse.metric_label(name),
                "unit": pulse.METRICS[name][1],
                "points": values,
                "latest": values[-1] if values else None,
                "high": max(values) if values else None,
            }
        )
    return lines


@bp.get("/ops/pulse")
@staff_required
def live_pulse():
    samples_at = pulse.recent(60)
    ctx = {
        "lines": _pulse_lines(),
        "last_at": samples_at[-1].at if samples_at else None,
        "alerts": alerts.active_alerts(),
    }
    if hx.wants_fragment(target="ops-pulse"):
        return render_template("ops/_pulse.html", **ctx)
    return render_template("ops/pulse.html", **ctx)


# -- alerts and rules --------------------------------------------------------------------------


def _alerts_ctx() -> dict:
    return {"active": alerts.active_alerts(), "past": alerts.history(), "rules": alerts.rules()}


@bp.get("/ops/alerts", endpoint="alerts")
@admin_required
def alerts_page():
    ctx = _alerts_ctx()
    if hx.wants_fragment(target="ops-alerts"):
        return render_template("ops/_alerts.html", **ctx)
    return render_template("ops/alerts.html", **ctx)


@bp.post("/ops/alerts/<int:alert_id>/acknowledge")
def acknowledge(alert_id):
    alerts.acknowledge(current_user, alert_id, request.remote_addr)
    flash(_("Acknowledged: the other admins see that someone is on it."))
    return _back_to_alerts()


@bp.post("/ops/alerts/<int:alert_id>/resolve")
def resolve(alert_id):
    alerts.resolve(current_user, alert_id, request.remote_addr)
    flash(_("Resolved. It will open again only if its condition clears and comes back."))
    return _back_to_alerts()


def _back_to_alerts():
    if hx.is_htmx():
        return render_template("ops/_alerts.html", **_alerts_ctx())
    return redirect(url_for("ops.alerts"), 303)


def _rule_page(form: RuleForm, rule=None, status: int = 200):
    return render_template("ops/rule.html", form=form, rule=rule), status


@bp.get("/ops/rules/new")
@admin_required
def new_rule():
    return _rule_page(RuleForm())


@bp.get("/ops/rules/<int:rule_id>")
@admin_required
def edit_rule(rule_id):
    rule = alerts.get_rule(rule_id)
    form = RuleForm(obj=rule)
    form.comparison.data = rule.comparison.value
    form.severity.data = rule.severity.value
    return _rule_page(form, rule)


@bp.post("/ops/rules")
@bp.post("/ops/rules/<int:rule_id>")
@admin_required
def save_rule(rule_id=None):
    rule = alerts.get_rule(rule_id) if rule_id is not None else None
    form = RuleForm(formdata=request.form)
    if not form.validate():
        return _rule_page(form, rule, 422)
    try:
        alerts.save_rule(current_user, form.data_for_service(), rule_id, request.remote_addr)
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return _rule_page(form, rule, 422)
    flash(_("The rule is saved; it is watched from now on."))
    return redirect(url_for("ops.alerts"), 303)


@bp.post("/ops/rules/<int:rule_id>/delete")
@admin_required
def delete_rule(rule_id):
    alerts.delete_rule(current_user, rule_id, request.remote_addr)
    flash(_("The rule is deleted."))
    return redirect(url_for("ops.alerts"), 303)


# -- personal data: erasure requests -----------------------------------------------------------


def _privacy_queue(status: int = 200, problems: dict | None = None):
    pending = privacy.pending_requests()
    return (
        render_template(
            "ops/privacy.html",
            pending=[(r, privacy.open_dossiers(r.user_id)) for r in pending],
            decided=privacy.decided_requests(),
            problems=problems or {},
            notes=request.form if request.method == "POST" else {},
        ),
        status,
    )


@bp.get("/ops/privacy")
@admin_required
def privacy_queue():
    return _privacy_queue()


@bp.post("/ops/privacy/<int:request_id>/confirm")
@admin_required
def confirm_erasure(request_id):
    try:
        privacy.confirm(current_user, request_id, request.remote_addr)
    except ValidationFailed as exc:
        return _privacy_queue(422, {request_id: exc.message})
    flash(_("The account is anonymised; its invoices and payments are kept."))
    return redirect(url_for("ops.privacy_queue"), 303)


@bp.post("/ops/privacy/<int:request_id>/refuse")
@admin_required
def refuse_erasure(request_id):
    try:
        privacy.refuse(current_user, request_id, request.form.get("note", ""), request.remote_addr)
    except ValidationFailed as exc:
        return _privacy_queue(422, {request_id: exc.fields.get("note") or exc.message})
    flash(_("The request is refused; the user is told why."))
    return redirect(url_for("ops.privacy_queue"), 303)


# -- form analytics ----------------------------------------------------------------------------

FORM_NAMES = {"simulator": _l("Simulator"), "request": _l("Request form")}


@bp.post("/forms/<form>/beacon")
@limiter.limit("60/minute")
def form_beacon(form):
    """What a page with JavaScript tells of a visit: its first input (`start`) or that it was
    left unsent (`abandon`, on the step it was on). 204 whatever was counted: a beacon's
    answer is never read."""
    if form not in FORM_NAMES:
        abort(404)
    event = request.form.get("event")
    if event == "start":
        formtrack.started(form)
    elif event == "abandon":
        steps = {code for code, _label in formtrack.steps_of(form)}
        step = request.form.get("step", "")
        formtrack.abandoned(form, step if step in steps else "")
    else:
        abort(400)
    return "", 204


@bp.get("/ops/forms")
@forms_required
def form_analytics():
    start, end = read_period(request.args)
    reports = [
        (name, label, formstats.report(name, start, end, formtrack.steps_of(name)))
        for name, label in FORM_NAMES.items()
    ]
    return render_template("ops/forms.html", reports=reports, start=start, end=end)
