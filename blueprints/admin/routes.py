from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from app.core import audit as audit_service
from app.core import storage
from app.core.errors import Conflict, ValidationFailed
from app.core.validators import parse_id
from app.extensions import db, talisman
from app.models import Email, User
from app.security import can_read_outbox, require
from app.services import accounts
from app.services.accounts import users as users_service
from app.services.admin import approvals as approvals_service
from app.services.admin import dashboards
from app.services.analytics import cache as analytics_cache
from app.services.analytics import dashboard as analytics_dashboard
from app.services.analytics import reports as analytics_reports
from app.services.analytics.figures import Filters
from app.services.dossiers import documents
from app.services.marketplace import reviews as reviews_service
from app.services.notifications import emails, preferences
from app.services.notifications import push as push_service
from app.web import hx
from app.web.forms import apply_errors, read_period
from app.web.security import admin_required
from blueprints.admin import bp
from blueprints.admin.forms import ApproveForm, RejectForm


@bp.app_context_processor
def _pending():
    def pending_approvals() -> int:
        if current_user.is_authenticated and current_user.is_admin:
            return approvals_service.pending_counts()["total"]
        return 0

    return {"pending_approvals": pending_approvals}


def _kpi_filters() -> Filters:
    start, end = read_period(request.args, days=30)
    return Filters(start, end, product_id=parse_id(request.args.get("product") or ""))


@bp.get("/")
@admin_required
def dashboard():
    f = _kpi_filters()
    # the KPI block is the same for every admin reading this period: rendered once per change
    # of the facts, the experts or the alerts (and at most every 30 s: "at risk" moves with time)
    kpis = Markup(
        analytics_cache.cached(
            "sla",
            f"kpis-html:{get_locale()}:{f.key()}",
            lambda: render_template("admin/_kpis.html", **analytics_dashboard.context(f)),
            depends=("facts", "experts"),
        )
    )
    if hx.wants_fragment(target="admin-kpis"):
        return kpis
    overview = dashboards.admin_overview()
    if hx.wants_fragment(target="admin-overview"):
        return render_template("admin/_overview.html", o=overview)
    return render_template(
        "admin/dashboard.html", o=overview, kpis=kpis, f=f, products=analytics_reports.products()
    )


@bp.get("/approvals/count")
@admin_required
def queue_count():
    if hx.wants_fragment():
        return render_template("admin/_queue_count.html")
    return redirect(url_for("admin.approvals"))


def _queue_context(reject_forms: dict | None = None) -> dict:
    kinds = {}
    for kind in approvals_service.KINDS:
        after = request.args.get(f"{kind}_after", type=parse_id)
        rows, next_after = approvals_service.pending_page(kind, after_id=after)
        kinds[kind] = {"rows": rows, "next_after": next_after}
    return {
        "kinds": kinds,
        "counts": approvals_service.pending_counts(),
        "reject_forms": reject_forms or {},
    }


@bp.get("/approvals")
@admin_required
def approvals():
    ctx = _queue_context()
    if hx.wants_fragment(target="approval-queue"):
        return render_template("admin/_queue.html", **ctx)
    return render_template("admin/approvals.html", **ctx)


def _decided(kind: str, user_id: int, approve: bool, form):
    try:
        user = approvals_service.decide(
            current_user,
            kind,
            user_id,
            approve=approve,
            reason=getattr(form, "reason", None) and form.reason.data,
            ip=request.remote_addr,
        )
    except Conflict as exc:
        flash(exc.message, "warning")
        return _after_decision(status=409)
    if approve:
        flash(_("%(name)s is approved.", name=user.full_name), "success")
    else:
        flash(_("%(name)s is rejected.", name=user.full_name), "info")
    return _after_decision()


def _after_decision(status: int = 200, reject_forms: dict | None = None):
    if hx.wants_fragment():
        body = render_template("admin/_queue.html", **_queue_context(reject_forms))
        return hx.with_trigger(body, "approvals:changed", status=status)
    if status == 200:
        return redirect(url_for("admin.approvals"), 303)
    return render_template("admin/approvals.html", **_queue_context(reject_forms)), status


@bp.post("/approvals/<kind>/<int:user_id>/approve")
@admin_required
def approve(kind: str, user_id: int):
    form = ApproveForm()
    if not form.validate_on_submit():
        return _after_decision(status=400)
    return _decided(kind, user_id, True, form)


@bp.post("/approvals/<kind>/<int:user_id>/reject")
@admin_required
def reject(kind: str, user_id: int):
    form = RejectForm()
    if not form.validate_on_submit():
        return _after_decision(status=422, reject_forms={user_id: form})
    try:
        return _decided(kind, user_id, False, form)
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return _after_decision(status=422, reject_forms={user_id: form})


@bp.get("/users")
@admin_required
def users():
    role = request.args.get("role") or None
    q = (request.args.get("q") or "").strip()
    rows, next_before = users_service.page(
        role=role,
        email_prefix=q or None,
        before_id=request.args.get("before", type=parse_id),
    )
    ctx = {
        "users": rows,
        "next_before": next_before,
        "role": role,
        "q": q,
        "by_role": dashboards.platform_counts()["users_by_role"],
    }
    if hx.wants_fragment(target="user-rows"):
        return render_template("admin/_user_rows.html", **ctx)
    return render_template("admin/users.html", **ctx)


@bp.get("/audit")
@admin_required
def audit():
    action = request.args.get("action") or None
    rows, next_before = audit_service.page(
        before_id=request.args.get("before", type=parse_id), action=action
    )
    return render_template(
        "admin/audit.html",
        entries=rows,
        next_before=next_before,
        action=action,
        actions=audit_service.actions(),
    )


@bp.get("/emails")
@admin_required
def outbox():
    status = request.args.get("status") or None
    rows, next_before = emails.outbox_page(
        before_id=request.args.get("before", type=parse_id), status=status
    )
    return render_template("admin/outbox.html", emails=rows, next_before=next_before, status=status)


@bp.get("/emails/<int:email_id>")
@admin_required
def email(email_id: int):
    message = db.session.get(Email, email_id)
    require(message is not None and can_read_outbox(current_user))
    return render_template("admin/email.html", email=message)


@bp.get("/emails/<int:email_id>/html")
@admin_required
@talisman(content_security_policy="sandbox; default-src 'none'; style-src 'unsafe-inline'")
def email_html(email_id: int):
    """The HTML body as sent, in a sandbox: no script, no form, no request leaves it."""
    message = db.session.get(Email, email_id)
    require(message is not None and can_read_outbox(current_user))
    return message.body_html


@bp.post("/emails/<int:email_id>/resend")
@admin_required
def resend_email(email_id: int):
    message = emails.resend(email_id)
    audit_service.record(current_user, "email.resend", "email", message.id, request.remote_addr)
    db.session.commit()
    flash(_("The email is queued again."), "success")
    return redirect(url_for("admin.email", email_id=email_id), 303)


@bp.get("/pushes")
@admin_required
def pushes():
    """The push half of the outbox: one row per notification and browser."""
    require(can_read_outbox(current_user))
    status = request.args.get("status") or None
    rows, next_before = push_service.outbox_page(
        before_id=request.args.get("before", type=parse_id), status=status
    )
    return render_template("admin/pushes.html", rows=rows, next_before=next_before, status=status)


@bp.post("/pushes/<int:delivery_id>/resend")
@admin_required
def resend_push(delivery_id: int):
    require(can_read_outbox(current_user))
    row = push_service.resend(delivery_id)
    audit_service.record(current_user, "push.resend", "push", row.id, request.remote_addr)
    db.session.commit()
    flash(_("The push is queued again."), "success")
    return redirect(url_for("admin.pushes", status=request.args.get("status")), 303)


@bp.post("/reviews/<int:review_id>/hide")
@admin_required
def hide_review(review_id: int):
    review = reviews_service.hide(review_id, current_user, ip=request.remote_addr)
    flash(_("The review is hidden; the expert's average no longer counts it."), "success")
    return redirect(url_for("marketplace.show", user_id=review.expert_id), 303)


@bp.get("/applications/<int:user_id>/cv")
@admin_required
def application_cv(user_id: int):
    """A referrer's CV, for admins only (every read audited)."""
    profile = accounts.open_cv(current_user, user_id, request.remote_addr)
    return send_file(
        storage.path_of(profile.cv_key),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=documents.download_name(profile.cv_name or "cv", "application/pdf"),
        max_age=0,
    )


@bp.get("/users/<int:user_id>/notifications")
@admin_required
def user_notification_preferences(user_id: int):
    """An admin sees a user's notification settings, read-only (support questions)."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    context = preferences.page(user)
    return render_template("account/notifications.html", **context, errors={}, read_only=True)
