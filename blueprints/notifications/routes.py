from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.validators import parse_id
from app.services import messaging, notifications
from app.web import hx
from app.web.security import safe_redirect_target
from blueprints.notifications import bp


@bp.app_context_processor
def _unread():
    """The header's two badges. A page shows both: the first one asked counts both in one
    round trip, and the second reads what the first found (a badge fragment asks for one)."""
    counts: list[tuple[int, int]] = []

    def badges() -> tuple[int, int]:
        if not current_user.is_authenticated:
            return 0, 0
        if not counts:
            counts.append(messaging.badge_counts(current_user))
        return counts[0]

    return {
        "unread_count": lambda: badges()[0],
        "unread_messages": lambda: badges()[1],
    }


@bp.get("/")
@login_required
def index():
    unread_only = request.args.get("filter") == "unread"
    rows, next_before = notifications.page(
        current_user,
        before_id=request.args.get("before", type=parse_id),
        unread_only=unread_only,
    )
    ctx = {
        "notifications": rows,
        "next_before": next_before,
        "unread_only": unread_only,
    }
    if hx.wants_fragment(target="notification-list"):
        return render_template("notifications/_list.html", **ctx)
    return render_template("notifications/index.html", **ctx)


@bp.get("/badge")
@login_required
def badge():
    if hx.wants_fragment():
        return render_template("notifications/_badge.html")
    return redirect(url_for("notifications.index"))


@bp.get("/<int:notification_id>/toast")
@login_required
def toast(notification_id: int):
    notification = notifications.get(current_user, notification_id)
    if hx.wants_fragment():
        return render_template("notifications/_toast.html", n=notification)
    return redirect(url_for("notifications.index"))


@bp.post("/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    notification = notifications.mark_read(current_user, notification_id)
    if request.form.get("open") and notification.link:
        return (
            hx.redirect_to(notification.link)
            if hx.wants_fragment()
            else redirect(notification.link, 303)
        )
    if hx.wants_fragment():
        return render_template("notifications/_item.html", n=notification)
    back = safe_redirect_target(request.form.get("back"))
    return redirect(back or url_for("notifications.index"), 303)


@bp.post("/read-all")
@login_required
def mark_all_read():
    count = notifications.mark_all_read(current_user)
    flash(_("%(n)d notifications marked as read.", n=count), "success")
    return redirect(url_for("notifications.index"), 303)
