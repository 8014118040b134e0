"""Leads (docs/domain.md A11): captured from the request form, simulator visitors, referrers and
the contact page, de-duplicated by email and SIREN, handed to the sales team by round robin, moved
along the pipeline, and invited to a client account once won (the lead keeps its history)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.core.errors import InvalidTransition, NotFound, ValidationFailed
from app.core.validators import normalize_email, normalize_siren
from app.extensions import cache, db
from app.models import (
    OPEN_STAGES,
    Lead,
    LeadEvent,
    LeadSource,
    LeadStage,
    LeadSubmission,
    Priority,
    Role,
    RoundRobin,
    User,
    utcnow,
)
from app.realtime import notify
from app.security import can_use_crm, can_view_lead, can_work_lead, require
from app.services import notifications
from app.services.notifications import emails

STAGE_LABELS = {
    LeadStage.NEW: _l("New"),
    LeadStage.CONTACTED: _l("Contacted"),
    LeadStage.QUALIFIED: _l("Qualified"),
    LeadStage.PROPOSAL: _l("Proposal"),
    LeadStage.WON: _l("Won"),
    LeadStage.LOST: _l("Lost"),
}
SOURCE_LABELS = {
    LeadSource.REQUEST_FORM: _l("Request form"),
    LeadSource.SIMULATOR: _l("Simulator"),
    LeadSource.REFERRER: _l("Referrer"),
    LeadSource.CONTACT: _l("Contact page"),
    LeadSource.MANUAL: _l("Entered by a seller"),
}
INVITE_MAX_AGE = 30 * 86400
BOARD_CARDS = 10  # per open column (a phone shows them all): the rest is in the list
CLOSED_CARDS = 5  # won and lost are history, folded to their latest (as Odoo folds them)
MAX_REASON = 300


# -- capture -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    form_version_id: int
    answers: dict
    params: dict
    plan_code: str
    estimate_cents: int | None


def _existing(email: str, siren: str | None) -> Lead | None:
    """The same prospect: the same address, or the same company (SIREN)."""
    condition = Lead.email == email
    if siren:
        condition = condition | (Lead.siren == siren)
    return db.session.scalar(db.select(Lead).where(condition).order_by(Lead.id.desc()).limit(1))


def next_seller(pool: str = "sales") -> User | None:
    """Round robin over the active sellers, in id order; the pointer row is locked so two
    submissions at once go to two people."""
    sellers = db.session.scalars(
        db.select(User).where(User.role == Role.SALES, User.active.is_(True)).order_by(User.id)
    ).all()
    if not sellers:
        return None
    pointer = db.session.scalar(
        db.select(RoundRobin).where(RoundRobin.pool == pool).with_for_update()
    )
    if pointer is None:
        pointer = RoundRobin(pool=pool, last_user_id=0)
        db.session.add(pointer)
    chosen = next((s for s in sellers if s.id > pointer.last_user_id), sellers[0])
    pointer.last_user_id = chosen.id
    return chosen


def capture(
    source: LeadSource,
    email: str,
    *,
    company: str = "",
    contact_name: str = "",
    phone: str = "",
    siren: str | None = None,
    message: str = "",
    referrer: User | None = None,
    simulation=None,
    submission: Submission | None = None,
    locale: str = "fr",
    confirm: bool = True,
    owner: User | None = None,
) -> Lead:
    """A prospect came in. The same email or SIREN adds to the lead already there (a lost one
    is reopened); otherwise a new lead goes to `owner` (a seller typing it in) or to the next
    seller, who is notified."""
    email = normalize_email(email)
    siren = normalize_siren(siren) or None
    lead = _existing(email, siren)
    now = utcnow()
    if lead is None:
        owner = owner or next_seller()
        lead = Lead(
            email=email,
            siren=siren,
            company=company.strip(),
            contact_name=contact_name.strip(),
            phone=phone.strip(),
            message=message.strip(),
            source=source,
            owner_id=owner.id if owner else None,
            referrer_id=referrer.id if referrer else None,
            stage_changed_at=now,
        )
        db.session.add(lead)
        db.session.flush()
        _event(lead, "created", None, detail=source.value)
        if owner is not None and source != LeadSource.MANUAL:
            _event(lead, "assigned", None, detail=owner.full_name)
            _tell_owner(lead, owner, "lead_assigned", _l("A new lead is yours"))
    else:
        _complete(lead, company, contact_name, phone, siren, message, referrer)
        _event(lead, "returned", None, detail=source.value)
        if lead.stage == LeadStage.LOST:
            _set_stage(lead, LeadStage.NEW, None, now)
        if lead.owner is not None:
            _tell_owner(lead, lead.owner, "lead_returned", _l("A lead of yours came back"), now)
    if simulation is not None and simulation.results:
        lead.simulation_id = simulation.id
        lead.simulation_results = simulation.results
        lead.simulation_total_cents = simulation.total_cents
    if submission is not None:
        db.session.add(LeadSubmission(lead_id=lead.id, **submission.__dict__))
        lead.plan_code = submission.plan_code
        lead.estimate_cents = submission.estimate_cents
    if confirm:
        emails.queue_email_to(
            email, locale, "lead_received", name=contact_name or company, source=source.value
        )
    notify.signal("sales", "lead:changed", lead_id=lead.id)
    db.session.commit()
    _forget_counts(lead.owner_id)
    return lead


def _complete(lead, company, contact_name, phone, siren, message, referrer) -> None:
    """What the lead lacked, from the new contact; nothing a seller typed is overwritten."""
    lead.company = lead.company or company.strip()
    lead.contact_name = lead.contact_name or contact_name.strip()
    lead.phone = lead.phone or phone.strip()
    lead.siren = lead.siren or siren
    if message.strip():
        lead.message = (lead.message + "\n\n" + message.strip()).strip()
    if referrer is not None and lead.referrer_id is None:
        lead.referrer_id = referrer.id


def _tell_owner(lead: Lead, owner: User, kind: str, title, now: datetime | None = None) -> None:
    notifications.create(
        owner,
        kind,
        title,
        lead.display_name,
        link=url_for("crm.lead", lead_id=lead.id),
        priority=Priority.HIGH,
        object_ref=f"lead:{lead.id}",
        # a lead coming back again later is news again
        threshold=now.isoformat(timespec="seconds") if now else "",
    )


def _event(lead: Lead, kind: str, actor: User | None, detail: str = "", **stages) -> None:
    db.session.add(
        LeadEvent(
            lead_id=lead.id,
            kind=kind,
            actor_id=actor.id if actor else None,
            detail=detail[:300],
            **stages,
        )
    )


# -- reading -------------------------------------------------------------------------------------


def get(viewer: User, lead_id: int) -> Lead:
    lead = db.session.get(Lead, lead_id)
    require(can_view_lead(viewer, lead))
    return lead


def history(lead: Lead) -> list[LeadEvent]:
    return db.session.scalars(
        db.select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.id.desc())
    ).all()


def submissions(lead: Lead) -> list[LeadSubmission]:
    return db.session.scalars(
        db.select(LeadSubmission)
        .where(LeadSubmission.lead_id == lead.id)
        .order_by(LeadSubmission.id.desc())
        .limit(20)
    ).all()


def sellers() -> list[User]:
    return db.session.scalars(
        db.select(User)
        .where(User.role.in_((Role.SALES, Role.ADMIN)), User.active.is_(True))
        .order_by(User.first_name, User.last_name)
    ).all()


@dataclass(frozen=True)
class Filters:
    stage: LeadStage | None = None
    source: LeadSource | None = None
    owner_id: int | None = None  # 0: nobody's
    q: str = ""
    sort: str = "newest"  # newest | oldest | stage_age


SORTS = {
    "newest": _l("Newest first"),
    "oldest": _l("Oldest first"),
    "stage_age": _l("Longest in their stage"),
}


def read_filters(args) -> Filters:
    def pick(enum_cls, value):
        try:
            return enum_cls(value) if value else None
        except ValueError:
            return None

    owner = args.get("owner") or ""
    return Filters(
        stage=pick(LeadStage, args.get("stage")),
        source=pick(LeadSource, args.get("source")),
        owner_id=int(owner) if owner.isdigit() and len(owner) < 10 else None,
        q=(args.get("q") or "").strip()[:100],
        sort=args.get("sort") if args.get("sort") in SORTS else "newest",
    )


def _filtered(filters: Filters):
    query = db.select(Lead)
    if filters.stage is not None:
        query = query.where(Lead.stage == filters.stage)
    if filters.source is not None:
        query = query.where(Lead.source == filters.source)
    if filters.owner_id == 0:
        query = query.where(Lead.owner_id.is_(None))
    elif filters.owner_id is not None:
        query = query.where(Lead.owner_id == filters.owner_id)
    if filters.q:
        # an address (prefix, on its index), a SIREN, or the start of the company's name
        text = filters.q.lower()
        escaped = text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        if "@" in text:
            query = query.where(Lead.email.like(escaped + "%", escape="\\"))
        elif normalize_siren(text).isdigit() and len(normalize_siren(text)) == 9:
            query = query.where(Lead.siren == normalize_siren(text))
        else:
            query = query.where(db.func.lower(Lead.company).like(escaped + "%", escape="\\"))
    return query


PAGE = 25  # rows a page: what a phone scrolls through; the filters narrow the rest


def page(viewer: User, filters: Filters, offset: int = 0) -> tuple[list[Lead], bool]:
    """One page of the list (and whether there is another). Offset paging: a seller sorts and
    filters, then rarely goes past a few pages; every sort is on an index."""
    require(can_use_crm(viewer))
    order = {
        "newest": (Lead.id.desc(),),
        "oldest": (Lead.id.asc(),),
        "stage_age": (Lead.stage_changed_at.asc(), Lead.id.asc()),
    }[filters.sort]
    offset = max(0, min(offset, 10_000))
    rows = db.session.scalars(
        _filtered(filters)
        .options(db.defer(Lead.simulation_results), db.defer(Lead.message))
        .order_by(*order)
        .offset(offset)
        .limit(PAGE + 1)
    ).all()
    return rows[:PAGE], len(rows) > PAGE


def _owned_by(query, owner_id: int | None):
    if owner_id is None:
        return query
    return query.where(Lead.owner_id == owner_id if owner_id else Lead.owner_id.is_(None))


def stage_counts(owner_id: int | None = None) -> dict[LeadStage, int]:
    """Leads per stage, of one seller (0: of nobody; None: of everyone)."""
    counts = _stage_counts(-1 if owner_id is None else owner_id)
    return {stage: counts.get(stage.value, 0) for stage in LeadStage}


@cache.cache_on_arguments()
def _stage_counts(owner_key: int) -> dict[str, int]:
    """Cached a few seconds, and forgotten when a lead of that seller changes stage or hands:
    everyone's counts are a count over the whole stage index."""
    owner_id = None if owner_key == -1 else owner_key
    query = _owned_by(db.select(Lead.stage, db.func.count()).group_by(Lead.stage), owner_id)
    return {stage.value: n for stage, n in db.session.execute(query).all()}


def _forget_counts(*owner_ids: int | None) -> None:
    for key in {-1, *(0 if o is None else o for o in owner_ids)}:
        _stage_counts.invalidate(key)


@dataclass(frozen=True, slots=True)
class Card:
    """What a board card shows, read as plain columns (the board reads 60 of them)."""

    id: int
    name: str
    source: LeadSource
    estimate_cents: int | None
    stage_changed_at: datetime
    owner_name: str


def board(viewer: User, owner_id: int | None = None) -> list[tuple[LeadStage, int, list[Card]]]:
    """One column per stage: its count and its newest cards, each column one index range
    (stage, or seller and stage). Won and lost count the whole history and show the last."""
    require(can_use_crm(viewer))
    counts = stage_counts(owner_id)
    whose = "all" if owner_id is None else "nobody" if owner_id == 0 else "one"
    params = {"owner": owner_id} if whose == "one" else {}
    rows = db.session.execute(_board_query(whose), params).all()
    names = _names_of({r.owner_id for r in rows if r.owner_id is not None})
    by_stage: dict[LeadStage, list[Card]] = {stage: [] for stage in LeadStage}
    for r in rows:
        by_stage[LeadStage(r.stage)].append(
            Card(
                r.id,
                r.company or r.contact_name or r.email,
                LeadSource(r.source),
                r.estimate_cents,
                r.stage_changed_at,
                names.get(r.owner_id, ""),
            )
        )
    return [
        (stage, counts[stage], sorted(cards, key=lambda c: -c.id))
        for stage, cards in by_stage.items()
    ]


@functools.cache
def _board_query(whose: str):
    """Each column's newest cards, one index range each, in one round trip. Built once per
    kind of board ("one" seller's, "nobody"'s, "all"): composing this union on every request
    cost five times what running it does."""
    columns = (
        Lead.stage,
        Lead.id,
        Lead.company,
        Lead.contact_name,
        Lead.email,
        Lead.source,
        Lead.estimate_cents,
        Lead.stage_changed_at,
        Lead.owner_id,
    )
    parts = []
    for stage in LeadStage:
        part = db.select(*columns).where(Lead.stage == stage)
        if whose == "one":
            part = part.where(Lead.owner_id == db.bindparam("owner"))
        elif whose == "nobody":
            part = part.where(Lead.owner_id.is_(None))
        limit = BOARD_CARDS if stage in OPEN_STAGES else CLOSED_CARDS
        parts.append(part.order_by(Lead.id.desc()).limit(limit).subquery())
    return db.union_all(*(db.select(*part.c) for part in parts))


def _names_of(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = db.session.execute(
        db.select(User.id, User.first_name, User.last_name).where(User.id.in_(user_ids))
    ).all()
    return {r.id: f"{r.first_name} {r.last_name}".strip() for r in rows}


# -- the pipeline --------------------------------------------------------------------------------


def moves_from(stage: LeadStage) -> list[LeadStage]:
    """Between the open stages in any direction, from any open stage to won or lost; a lost
    lead may be reopened; a won one is a client now and stays won."""
    if stage == LeadStage.WON:
        return []
    if stage == LeadStage.LOST:
        return [LeadStage.NEW]
    return [s for s in LeadStage if s != stage]


def allowed_moves(lead: Lead) -> list[LeadStage]:
    return moves_from(lead.stage)


def read_stage(raw: str | None) -> LeadStage:
    try:
        return LeadStage(raw or "")
    except ValueError:
        raise ValidationFailed(
            _("This stage does not exist."), stage=_("Choose a stage.")
        ) from None


def move(
    actor: User, lead: Lead, stage: LeadStage, reason: str = "", won_cents: int | None = None
) -> Lead:
    """Move a lead to `stage`. Lost needs its reason; won invites the company to an account."""
    require(can_view_lead(actor, lead))
    if not can_work_lead(actor, lead):
        raise InvalidTransition(_("This lead is another seller's: ask them or an admin."))
    if stage not in allowed_moves(lead):
        raise InvalidTransition(
            _(
                "A lead cannot go from %(a)s to %(b)s.",
                a=STAGE_LABELS[lead.stage],
                b=STAGE_LABELS[stage],
            )
        )
    reason = (reason or "").strip()
    if stage == LeadStage.LOST and not reason:
        raise ValidationFailed(
            _("Say why the lead is lost."), reason=_("Say why the lead is lost.")
        )
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            _("At most %(n)s characters.", n=MAX_REASON),
            reason=_("At most %(n)s characters.", n=MAX_REASON),
        )
    now = utcnow()
    _set_stage(lead, stage, actor, now, detail=reason)
    lead.lost_reason = reason if stage == LeadStage.LOST else ""
    if lead.owner_id is None and actor.role == Role.SALES:
        lead.owner_id = actor.id  # whoever works an unassigned lead takes it
    if stage == LeadStage.WON:
        lead.won_cents = won_cents if won_cents is not None else _yearly(lead)
        _invite(lead, actor)
    notify.signal("sales", "lead:changed", lead_id=lead.id, stage=stage.value)
    db.session.commit()
    _forget_counts(None, lead.owner_id)  # an unassigned lead moved is its mover's now
    return lead


def _yearly(lead: Lead) -> int | None:
    return lead.estimate_cents * 12 if lead.estimate_cents is not None else None


def _set_stage(lead: Lead, stage: LeadStage, actor, now, detail: str = "") -> None:
    _event(lead, "stage", actor, detail, from_stage=lead.stage.value, to_stage=stage.value)
    lead.stage = stage
    lead.stage_changed_at = now
    lead.closed_at = None if stage in OPEN_STAGES else now


def assign(actor: User, lead: Lead, owner_id: int | None) -> Lead:
    """Hand a lead to a seller (or to nobody): an admin, or the lead's own seller."""
    require(can_view_lead(actor, lead))
    if not can_work_lead(actor, lead):
        raise InvalidTransition(_("This lead is another seller's: ask them or an admin."))
    owner = None
    if owner_id:
        owner = db.session.get(User, owner_id)
        if owner is None or owner.role not in (Role.SALES, Role.ADMIN) or not owner.active:
            raise ValidationFailed(_("Choose someone of the sales team."), owner=_("Choose."))
    previous_owner = lead.owner_id
    lead.owner_id = owner.id if owner else None
    _event(lead, "assigned", actor, detail=owner.full_name if owner else "")
    if owner is not None and owner.id != actor.id:
        _tell_owner(lead, owner, "lead_assigned", _l("A lead was handed to you"), utcnow())
    notify.signal("sales", "lead:changed", lead_id=lead.id)
    db.session.commit()
    _forget_counts(previous_owner, lead.owner_id)
    return lead


# -- from won lead to client ---------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="lead-invitation")


def invitation_token(lead: Lead) -> str:
    return _serializer().dumps({"l": lead.id, "e": lead.email})


def _invite(lead: Lead, actor: User) -> None:
    link = emails.external_url("auth.register", invite=invitation_token(lead))
    emails.queue_email_to(
        lead.email, "fr", "lead_invitation", link=link, company=lead.company, seller=actor
    )
    _event(lead, "invited", actor, detail=lead.email)


def lead_of_invitation(token: str | None) -> Lead | None:
    """The won lead an invitation link names, if the link is genuine, recent and unused."""
    if not token:
        return None
    try:
        data = _serializer().loads(token, max_age=INVITE_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    lead = db.session.get(Lead, data.get("l")) if isinstance(data, dict) else None
    if lead is None or lead.email != data.get("e") or lead.stage != LeadStage.WON:
        return None
    return None if lead.client_id is not None else lead


def attach_client(token: str | None, client: User) -> Lead | None:
    """The company signed up through its invitation: the lead points at the account (its
    activities and history show on the client's page), the referrer who brought it keeps it."""
    lead = lead_of_invitation(token)
    if lead is None or client.role != Role.CLIENT:
        return None
    lead.client_id = client.id
    profile = client.client_profile
    if profile is not None and profile.referrer_id is None and lead.referrer_id:
        profile.referrer_id = lead.referrer_id
    _event(lead, "converted", client, detail=client.email)
    db.session.commit()
    return lead


def of_client(client_id: int) -> list[Lead]:
    return db.session.scalars(
        db.select(Lead).where(Lead.client_id == client_id).order_by(Lead.id.desc())
    ).all()


def get_client(viewer: User, client_id: int) -> User:
    """A client as the CRM sees them (activities, the lead they came from)."""
    require(can_use_crm(viewer))
    client = db.session.get(User, client_id)
    if client is None or client.role != Role.CLIENT:
        raise NotFound()
    return client
