from flask import (
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from app.models import HealthState, Role
from app.services import accounts, sla, workflow
from app.services import dossiers as dossiers_service
from app.services.accounts import referrals
from app.services.ops import health
from app.web import hx
from app.web.security import safe_redirect_target
from blueprints.main import bp


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return render_template("main/index.html")


@bp.get("/help")
def help():
    return render_template("main/help.html")


@bp.get("/dashboard")
@login_required
def dashboard():
    if current_user.is_admin:
        return redirect(url_for("admin.dashboard"))
    if current_user.role == Role.SALES:
        return redirect(url_for("crm.home"))
    if current_user.role == Role.SUPPORT:
        return redirect(url_for("support.queue"))
    ctx = {"dossiers": [], **dossiers_service.for_dashboard(current_user)}
    return render_template(
        f"main/dashboard_{current_user.role.value}.html",
        user=current_user,
        simulator_url=url_for("simulator.start"),
        hours_left=dossiers_service.hours_left,
        progress_of=lambda d: workflow.step_of(d)[1],
        sla_labels=sla.labels.resolved(),
        **ctx,
        **_referral_context(current_user),
    )


def _referral_context(user) -> dict:
    """The referrer's link and clients; the client's referrer."""
    if user.role == Role.REFERRER:
        return {"referral_link": referrals.link_for(user), "referred": referrals.clients_of(user)}
    if user.role == Role.CLIENT and user.client_profile is not None:
        return {"referrer": user.client_profile.referrer}
    return {}


@bp.get("/dashboard/application")
@login_required
def application_status():
    """The applicant's status card, refreshed live when an admin decides."""
    if current_user.role.value not in ("expert", "apporteur"):
        return redirect(url_for("main.dashboard"))
    if hx.wants_fragment():
        return render_template("main/_application_status.html", user=current_user)
    return redirect(url_for("main.dashboard"))


@bp.post("/locale")
def set_locale():
    locale = request.form.get("locale")
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            accounts.update_profile(current_user, locale=locale)
    return redirect(safe_redirect_target(request.form.get("next")) or "/", 303)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready when what this process needs answers (the checks of the status page's local
    components); 503 names what is missing."""
    results = health.check_local()
    words = {HealthState.OK: "ok", HealthState.DEGRADED: "degraded", HealthState.DOWN: "error"}
    checks = {
        r.component: words[r.state]
        if r.state == HealthState.OK
        else f"{words[r.state]}: {r.detail}"
        for r in results
    }
    ready = all(r.state != HealthState.DOWN for r in results)
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503


@bp.get("/sw.js")
def service_worker():
    """The push service worker, served from the root so it may control every page."""
    resp = current_app.send_static_file("js/sw.js")
    resp.headers["Service-Worker-Allowed"] = "/"
    resp.headers["Cache-Control"] = "no-cache"
    return resp
