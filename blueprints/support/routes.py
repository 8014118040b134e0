"""Support tickets (docs/domain.md A11): any signed-in user opens one ("Need help?" on every
page, linked to the dossier it was opened from); the team works the queue. Every page works
without JavaScript; the ticket page and the queue refresh on `ticket:changed`."""

from flask import jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core import storage
from app.core.errors import InvalidTransition, ValidationFailed
from app.core.validators import parse_id
from app.models import Priority, TicketCategory, TicketStatus
from app.security import SUPPORT_ROLES, can_handle_tickets, can_rate_ticket
from app.services.dossiers import documents
from app.services.support import tickets
from app.web import hx
from app.web.forms import apply_errors
from app.web.security import role_required, safe_redirect_target
from blueprints.support import bp
from blueprints.support.forms import ReplyForm, TicketForm

agent_required = role_required(*SUPPORT_ROLES)


@bp.get("")
@login_required
def index():
    return render_template(
        "support/index.html",
        rows=tickets.of_requester(current_user),
        status_labels=tickets.STATUS_LABELS,
    )


def _new_page(form, status=200):
    back = safe_redirect_target(request.values.get("from"))
    return render_template("support/new.html", form=form, back=back), status


@bp.get("/new")
@login_required
def new():
    form = TicketForm(formdata=None)
    dossier = parse_id(request.args.get("dossier") or "")
    if dossier:
        form.dossier.data = str(dossier)
        form.category.data = TicketCategory.DOSSIER.value
    return _new_page(form)


@bp.post("/new")
@login_required
def create():
    form = TicketForm()
    if form.validate():
        try:
            ticket = tickets.open_ticket(
                current_user,
                category=form.category.data,
                priority=form.priority.data,
                subject=form.subject.data,
                body=form.body.data,
                files=request.files.getlist("files"),
                dossier_id=parse_id(form.dossier.data or ""),
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            return redirect(url_for("support.ticket", ticket_id=ticket.id, opened=1), 303)
    return _new_page(form, 422)


def _reply_form(formdata=None) -> ReplyForm:
    form = ReplyForm(formdata=formdata)
    form.status.choices = [("", _("Keep its status"))] + [
        (s.value, tickets.TEAM_STATUS_LABELS[s]) for s in tickets.TEAM_MOVES
    ]
    return form


def _ticket_context(ticket, reply_form=None, error=None) -> dict:
    agent = can_handle_tickets(current_user)
    return {
        "ticket": ticket,
        "messages": tickets.messages_for(current_user, ticket),
        "agent": agent,
        "form": reply_form or _reply_form(),
        "status_labels": tickets.TEAM_STATUS_LABELS if agent else tickets.STATUS_LABELS,
        "category_labels": tickets.CATEGORY_LABELS,
        "priority_labels": tickets.PRIORITY_LABELS,
        "agents": tickets.agents() if agent else [],
        "can_rate": can_rate_ticket(current_user, ticket),
        "error": error,
        "moves": tickets.TEAM_MOVES,
    }


def _ticket_page(ticket, status=200, **kw):
    ctx = _ticket_context(ticket, **kw)
    if hx.wants_fragment(target="ticket-thread"):
        return render_template("support/_thread.html", **ctx), status
    return render_template("support/ticket.html", **ctx), status


@bp.get("/tickets/<int:ticket_id>")
@login_required
def ticket(ticket_id: int):
    return _ticket_page(tickets.get(current_user, ticket_id))


@bp.post("/tickets/<int:ticket_id>/reply")
@login_required
def reply(ticket_id: int):
    ticket = tickets.get(current_user, ticket_id)
    form = _reply_form(request.form)
    if form.validate():
        try:
            tickets.reply(
                current_user,
                ticket,
                form.body.data,
                internal=bool(form.internal.data),
                files=request.files.getlist("files"),
                status=form.status.data or None,
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except InvalidTransition as exc:
            return _ticket_page(ticket, 409, reply_form=form, error=exc.message)
        else:
            return redirect(url_for("support.ticket", ticket_id=ticket.id, _anchor="reply"), 303)
    # the text typed comes back in the form
    return _ticket_page(ticket, 422, reply_form=form)


def _act(ticket_id: int, action):
    ticket = tickets.get(current_user, ticket_id)
    try:
        action(ticket)
    except (ValidationFailed, InvalidTransition) as exc:
        return _ticket_page(ticket, exc.status, error=exc.message)
    return redirect(url_for("support.ticket", ticket_id=ticket.id), 303)


@bp.post("/tickets/<int:ticket_id>/status")
@login_required
def status(ticket_id: int):
    return _act(
        ticket_id, lambda t: tickets.change_status(current_user, t, request.form.get("status", ""))
    )


@bp.post("/tickets/<int:ticket_id>/assign")
@login_required
def assign(ticket_id: int):
    who = request.form.get("assignee") or ""
    assignee = current_user.id if who == "me" else parse_id(who)
    return _act(ticket_id, lambda t: tickets.assign(current_user, t, assignee))


@bp.post("/tickets/<int:ticket_id>/priority")
@login_required
def priority(ticket_id: int):
    return _act(
        ticket_id,
        lambda t: tickets.set_priority(current_user, t, request.form.get("priority", "")),
    )


@bp.post("/tickets/<int:ticket_id>/merge")
@login_required
def merge(ticket_id: int):
    target = parse_id((request.form.get("target") or "").lstrip("#"))
    ticket = tickets.get(current_user, ticket_id)
    try:
        merged = tickets.merge(current_user, ticket, target or 0)
    except (ValidationFailed, InvalidTransition) as exc:
        return _ticket_page(ticket, exc.status, error=exc.message)
    return redirect(url_for("support.ticket", ticket_id=merged.id), 303)


@bp.post("/tickets/<int:ticket_id>/rate")
@login_required
def rate(ticket_id: int):
    return _act(
        ticket_id,
        lambda t: tickets.rate(
            current_user, t, request.form.get("score"), request.form.get("comment", "")
        ),
    )


@bp.get("/tickets/<int:ticket_id>.json")
@login_required
def ticket_json(ticket_id: int):
    return jsonify(tickets.as_json(current_user, tickets.get(current_user, ticket_id)))


@bp.get("/tickets/<int:ticket_id>/transcript.txt")
@login_required
def transcript(ticket_id: int):
    ticket = tickets.get(current_user, ticket_id)
    text = render_template(
        "support/transcript.txt",
        ticket=ticket,
        messages=tickets.messages_for(current_user, ticket),
        status_labels=tickets.STATUS_LABELS,
    )
    return (
        text,
        200,
        {
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Disposition": f'attachment; filename="ticket-{ticket.id}.txt"',
        },
    )


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    item = tickets.attachment(current_user, attachment_id)
    return send_file(
        storage.path_of(item.storage_key),
        mimetype=item.content_type,
        as_attachment=True,
        download_name=documents.download_name(item.original_name, item.content_type),
        max_age=0,
    )


@bp.get("/queue")
@agent_required
def queue():
    filters = tickets.read_filters(request.args, current_user)
    rows, next_before = tickets.queue(
        current_user, filters, before_id=parse_id(request.args.get("before") or "")
    )
    ctx = {
        "rows": rows,
        "next_before": next_before,
        "filters": filters,
        "whose": request.args.get("whose") or "",
        "counts": tickets.counts(),
        "status_labels": tickets.TEAM_STATUS_LABELS,
        "category_labels": tickets.CATEGORY_LABELS,
        "priority_labels": tickets.PRIORITY_LABELS,
        "statuses": list(TicketStatus),
        "priorities": list(Priority),
        # translated once for the fifty rows
        "status_names": {k: str(v) for k, v in tickets.TEAM_STATUS_LABELS.items()},
        "priority_names": {k: str(v) for k, v in tickets.PRIORITY_LABELS.items()},
        "category_names": {k: str(v) for k, v in tickets.CATEGORY_LABELS.items()},
    }
    if hx.wants_fragment(target="queue-rows"):
        return render_template("support/_queue_rows.html", **ctx)
    return render_template("support/queue.html", **ctx)
