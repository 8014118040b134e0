"""`transition()`, the only way a dossier's status changes: it checks the action is this
person's to take now, applies it, writes the timeline, bumps the dossier's version (two people
acting on the same state: one wins, the other gets a Conflict), keeps the expert's load, and
asks a worker to announce it after commit. Also the 48-hour acceptance expiry the sweep runs."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from app.core import metrics
from app.core.errors import Conflict, InvalidTransition, ValidationFailed
from app.extensions import db
from app.models import (
    Dossier,
    DossierEvent,
    Party,
    Priority,
    User,
    utcnow,
)
from app.security import can_view_dossier, require
from app.services import firms, messaging, sla
from app.services.dossiers import documents
from app.services.workflow.actions import (
    ACTIONS,
    ADMIN,
    CLIENT,
    EXPERT,
    PENDING_EXPERT,
    WAITING_AFTER,
    Action,
    flow_of,
)
from app.services.workflow.announce import request_announcement, request_invoice
from app.services.workflow.experts import shift_load
from app.services.workflow.labels import status_label
from app.services.workflow.notify import notify_party
from app.services.workflow.params import Params
from app.services.workflow.progress import EXPERT_LOAD, S

# A transition's own rows are written as plain statements: through the unit of work, the ORM
# cost more than the writes themselves (about 1 ms of a ~9 ms transition)
_NEW_EVENT = db.insert(DossierEvent.__table__).returning(DossierEvent.__table__.c.id)


def relations(dossier: Dossier, user: User) -> set[str]:
    found = set()
    if user.is_admin:
        found.add(ADMIN)
    if user.id == dossier.client_id:
        found.add(CLIENT)
    if dossier.expert_id is not None and user.id == dossier.expert_id:
        found.add(EXPERT)
    if dossier.pending_expert_id is not None and user.id == dossier.pending_expert_id:
        found.add(PENDING_EXPERT)
    return found


def refusal(dossier: Dossier, action: Action, actor: User) -> str | None:
    """Why `actor` may not take `action` now, as a sentence (None: they may)."""
    if flow_of(dossier) not in action.flows:
        return _("This step does not exist for this product.")
    if not relations(dossier, actor) & action.who:
        return _("This action is not yours to take on this dossier.")
    if dossier.status not in action.sources:
        return _(
            "This action is not possible while the dossier is “%(status)s”.",
            status=status_label(dossier.status),
        )
    for guard in action.guards:
        reason = guard(dossier, actor)
        if reason:
            return reason
    return None


def available(dossier: Dossier, actor: User) -> list[tuple[Action, str | None]]:
    """The actions this person could take in this status, each with the reason it is blocked
    (None when it is not): the dossier page shows them as the next thing to do."""
    mine = relations(dossier, actor)
    flow = flow_of(dossier)
    found = []
    for action in ACTIONS.values():
        if flow in action.flows and mine & action.who and dossier.status in action.sources:
            reason = None
            for guard in action.guards:
                reason = guard(dossier, actor)
                if reason:
                    break
            found.append((action, reason))
    return found


def apply_action(dossier: Dossier, action: Action, actor: User, p: Params) -> int:
    """Change the dossier and write its event; returns the event's id."""
    before = dossier.status
    expert_before = dossier.expert_id if before in EXPERT_LOAD else None
    target = action.apply(dossier, actor, p) if action.apply else None
    dossier.status = target or action.target
    expert_after = dossier.expert_id if dossier.status in EXPERT_LOAD else None
    if expert_before != expert_after:  # an expert took it, or let it go (done, held, cancelled)
        shift_load(expert_before, -1)
        shift_load(expert_after, +1)
    dossier.waiting_on = (
        p.out.get("waiting_on")
        or action.waiting_on
        or WAITING_AFTER.get(dossier.status, Party.ADMIN)
    )
    dossier.waiting_since = utcnow()
    event_id = db.session.execute(
        _NEW_EVENT,
        {
            "dossier_id": dossier.id,
            "actor_id": actor.id,
            "action": action.name,
            "before": before.value,
            "after": dossier.status.value,
            "note": p.out.get("note"),
            "data": p.out.get("data") or {},
            # what the announcement needs, as it was at this moment
            "waiting_on": dossier.waiting_on,
            "expert_id": dossier.expert_id,
            "announced_at": None,  # for the worker (other events are announced as written)
            "created_at": utcnow(),
        },
    ).scalar_one()
    metrics.business("transition")
    sla.on_transition(dossier, before, actor)  # clocks move with the state, in this transaction
    documents._signal(dossier)  # open pages refresh at once, after commit
    return event_id


def transition(
    dossier_id: int,
    action_name: str,
    actor: User,
    version: int | None = None,
    **params,
) -> Dossier:
    """Take `action_name` on a dossier as `actor`.

    :raises NotFound: a dossier the actor may not see (a stranger learns nothing).
    :raises InvalidTransition: not this actor's action, wrong status or a precondition unmet
        (409, with the sentence saying why and what to do).
    :raises Conflict: `version` is not the current one: someone acted first.
    :raises ValidationFailed: a field of the action is missing or wrong (422, per field).
    """
    dossier = db.session.get(Dossier, dossier_id)
    require(
        dossier is not None and can_view_dossier(actor, dossier, firms.sight_for(actor, dossier))
    )
    action = ACTIONS.get(action_name)
    if action is None:
        raise InvalidTransition(_("This action does not exist."))
    stale = Conflict(_("Someone else updated this dossier meanwhile; here is its current state."))
    if version not in (None, "") and str(version) != str(dossier.version):
        raise stale
    reason = refusal(dossier, action, actor)
    if reason:
        raise InvalidTransition(reason)
    p = Params({name: params[name] for name in action.fields if name in params})
    try:
        event_id = apply_action(dossier, action, actor, p)
        db.session.commit()
    except StaleDataError:  # the version changed between our read and our write (any flush)
        db.session.rollback()
        raise stale from None
    except ValidationFailed:  # nothing half-applied survives, nor shows on the page again
        db.session.rollback()
        raise
    # the thread, notifications and emails are a worker's job: the actor does not wait for them
    request_announcement(event_id)
    if p.out.get("after_commit_invoice"):
        request_invoice(dossier.id)
    return dossier


def expire_acceptances(limit: int = 500) -> int:
    """The 48 hours are up: the dossier goes back to the client, who chooses again (both
    parties told). Run by the cron sweep; a dossier answered meanwhile is left alone."""
    due = db.session.scalars(
        db.select(Dossier)
        .where(
            Dossier.status == S.EXPERT_PENDING_ACCEPTANCE,
            Dossier.expert_deadline_at < utcnow(),
        )
        .order_by(Dossier.expert_deadline_at)
        .limit(limit)
    ).all()
    done = 0
    for dossier in due:
        expert = dossier.pending_expert
        dossier.status = S.ADMIN_VALIDATED
        dossier.pending_expert_id = dossier.expert_deadline_at = dossier.expert_selected_at = None
        dossier.waiting_on, dossier.waiting_since = Party.CLIENT, utcnow()
        db.session.add(
            DossierEvent(
                dossier_id=dossier.id,
                action="acceptance_expired",
                before=S.EXPERT_PENDING_ACCEPTANCE.value,
                after=S.ADMIN_VALIDATED.value,
                data={"expert_id": expert.id if expert else None},
            )
        )
        sla.on_transition(dossier, S.EXPERT_PENDING_ACCEPTANCE, None)
        messaging.system_message(dossier, "acceptance_expired")
        notify_party(
            dossier.client,
            dossier,
            "expert_acceptance_expired",
            _l("The expert did not answer in time"),
            _l("Choose another expert for your dossier."),
            Priority.HIGH,
        )
        notify_party(
            expert,
            dossier,
            "expert_acceptance_expired",
            _l("A dossier you did not answer has gone back to the client"),
            _l("Answer within 48 hours to keep the dossiers you are offered."),
            Priority.MEDIUM,
        )
        try:
            db.session.commit()
            done += 1
        except StaleDataError:  # the expert answered at the last second: their answer stands
            db.session.rollback()
    return done
