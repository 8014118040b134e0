"""Conversations: the list, a thread (history, send, live updates), support, a dossier's."""

from flask import current_app, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from app.core import storage
from app.core.errors import ValidationFailed
from app.core.validators import parse_id
from app.extensions import limiter
from app.services import messaging
from app.services.dossiers import documents
from app.web import hx
from blueprints.messages import bp


@bp.get("/")
@login_required
def index():
    rows = messaging.threads_for(current_user)
    support = messaging.support_threads_for_admins() if current_user.is_admin else []
    return render_template("messages/index.html", rows=rows, support=support)


@bp.get("/badge")
@login_required
def badge():
    if hx.wants_fragment():
        return render_template("messages/_badge.html")
    return redirect(url_for("messages.index"))


@bp.get("/support")
@login_required
def support():
    thread = messaging.open_support_thread(current_user)
    return redirect(url_for("messages.show", thread_id=thread.id))


@bp.get("/dossier/<int:dossier_id>")
@login_required
def dossier(dossier_id: int):
    thread = messaging.open_dossier_thread(dossier_id, current_user)
    return redirect(url_for("messages.show", thread_id=thread.id))


@bp.get("/referral/<int:user_id>")
@login_required
def referral(user_id: int):
    """A referrer and one of their clients: either opens the thread with the other."""
    thread = messaging.open_referral_thread(current_user, user_id)
    return redirect(url_for("messages.show", thread_id=thread.id))


def _page(thread, status=200, error=None, text="", files_error=None):
    before = request.args.get("before", type=parse_id)
    items, older = messaging.history(thread, before_id=before)
    if not before:  # the latest page is on screen: all of it is read
        messaging.mark_read(thread, current_user, items)
    ctx = {
        "thread": thread,
        "title": messaging.thread_title(thread, current_user),
        "people": messaging.others_with_presence(thread, current_user),
        "items": items,
        "older": older,
        "seen": messaging.seen_by_others(thread, current_user),
        "error": error,
        "files_error": files_error,
        "text": text,
        "last_id": items[-1].id if items else 0,
    }
    if hx.wants_fragment(target="older-messages"):
        return render_template("messages/_older.html", **ctx), status
    return render_template("messages/show.html", **ctx), status


@bp.get("/<int:thread_id>")
@login_required
def show(thread_id: int):
    thread = messaging.get_thread(thread_id, current_user, ip=request.remote_addr)
    return _page(thread)


@bp.post("/<int:thread_id>")
@login_required
@limiter.limit(
    lambda: current_app.config["RATELIMIT_MESSAGES"], key_func=lambda: f"user:{current_user.id}"
)
def send(thread_id: int):
    text = request.form.get("body", "")
    try:
        msg = messaging.post(thread_id, current_user, text, request.files.getlist("files"))
    except ValidationFailed as exc:
        # the text comes back as typed; a refused file is named under the file field
        thread = messaging.get_thread(thread_id, current_user)
        error, files_error = exc.fields.get("body"), exc.fields.get("files")
        if hx.wants_fragment(target="message-form"):
            ctx = {"thread": thread, "error": error, "files_error": files_error, "text": text}
            return render_template("messages/_form.html", **ctx), 422
        return _page(thread, 422, error, text, files_error)
    if hx.wants_fragment(target="message-form"):
        # the form comes back empty and the new message is appended at once (out of band)
        thread = messaging.get_thread(thread_id, current_user)
        after = request.form.get("after", type=parse_id) or 0
        ctx = {
            "thread": thread,
            "error": None,
            "text": "",
            "items": messaging.newer(thread, after),
            "seen": messaging.seen_by_others(thread, current_user),
        }
        # what arrived since the page last looked is on screen with the new message: read
        messaging.mark_read(thread, current_user, ctx["items"])
        return render_template("messages/_sent.html", **ctx)
    return redirect(url_for("messages.show", thread_id=thread_id, _anchor=f"m-{msg.id}"), 303)


@bp.get("/<int:thread_id>/presence")
@login_required
def presence(thread_id: int):
    """Who else is here, fetched on a `thread:presence` signal (or on polling)."""
    thread = messaging.get_thread(thread_id, current_user)
    if not hx.wants_fragment():
        return redirect(url_for("messages.show", thread_id=thread.id))
    people = messaging.others_with_presence(thread, current_user)
    return render_template("messages/_presence.html", thread=thread, people=people)


@bp.get("/<int:thread_id>/new")
@login_required
def new(thread_id: int):
    """Messages after `after`, fetched when a `message:new` signal arrives (or on polling)."""
    thread = messaging.get_thread(thread_id, current_user)
    after = request.args.get("after", type=parse_id) or 0
    items = messaging.newer(thread, after, skip_sender=current_user.id)
    last_id = max([after] + [m.id for m in items])
    ctx = {
        "thread": thread,
        "items": items,
        "last_id": last_id,
        "seen": messaging.seen_by_others(thread, current_user),
    }
    messaging.mark_read(thread, current_user, items)
    return render_template("messages/_new.html", **ctx)


@bp.app_context_processor
def _titles():
    def thread_title(thread) -> str:
        return messaging.thread_title(thread, current_user)

    def people_names(people) -> dict[str, str]:
        return {str(user.id): user.first_name for user, _online, _last in people}

    return {"thread_title": thread_title, "people_names": people_names}


@bp.get("/search")
@login_required
def search():
    query = (request.args.get("q") or "").strip()[:200]
    results, next_id = messaging.search(
        current_user, query, before_id=request.args.get("before", type=parse_id)
    )
    return render_template(
        "messages/search.html",
        q=query,
        results=results,
        next_id=next_id,
        terms=messaging.search_terms(query),
        highlight=messaging.highlight,
    )


@bp.get("/files/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    item = messaging.attachment_for(attachment_id, current_user)
    return send_file(
        storage.path_of(item.storage_key),
        mimetype=item.content_type,
        as_attachment=True,
        download_name=documents.download_name(item.original_name, item.content_type),
        max_age=0,
    )
