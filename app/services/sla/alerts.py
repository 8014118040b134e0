"""The alert centre: the open alerts people act on, and what they do with them.

Alerts open and climb with their clock (`ladder.py`) and close by themselves when the clock
ends (`clocks.py`); here admins acknowledge, assign, annotate and resolve them, and experts and
firm managers read their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from app.core import audit
from app.core.errors import ValidationFailed
from app.extensions import db
from app.models import (
    Alert,
    AlertNote,
    AlertStatus,
    Dossier,
    FirmMember,
    Level,
    Party,
    Product,
    Role,
    User,
    utcnow,
)
from app.realtime import notify
from app.security import FIRM_RUNNERS, can_handle_alert, can_see_alert, require

PAGE = 50
NOTE_MAX = 2000


@dataclass(frozen=True)
class Filters:
    status: str = "active"  # active (open or acknowledged), open, acknowledged, resolved, all
    level: int | None = None
    party: str | None = None
    mine: bool = False  # assigned to the viewer

    @classmethod
    def from_args(cls, args) -> Filters:
        status = args.get("status", "active")
        if status not in ("active", "open", "acknowledged", "resolved", "all"):
            status = "active"
        level = args.get("level", "")
        level = int(level) if level.isdigit() and int(level) in Level._value2member_map_ else None
        party = args.get("party") or None
        if party not in (None, *(p.value for p in (Party.EXPERT, Party.CLIENT, Party.ADMIN))):
            party = None
        return cls(status, level, party, args.get("mine") == "1")


def runs_firm(user: User) -> int | None:
    """The firm `user` owns or manages, if any."""
    if user.role != Role.EXPERT:
        return None
    return db.session.scalar(
        db.select(FirmMember.firm_id).where(
            FirmMember.user_id == user.id, FirmMember.role.in_(FIRM_RUNNERS)
        )
    )


def _visible(viewer: User):
    if viewer.is_admin:
        return db.true()
    firm = runs_firm(viewer)
    mine = Alert.responsible_id == viewer.id
    return db.or_(mine, Alert.firm_id == firm) if firm is not None else mine


def listing(viewer: User, filters: Filters = Filters(), before_id: int | None = None):
    """A page of alerts, newest first, each with its product's name, in one query: the alert,
    the names of who is responsible and assigned, and nothing else of the dossier (a page of
    fifty full dossiers and users cost more than the page itself)."""
    people = (User.id, User.first_name, User.last_name)
    query = (
        db.select(Alert, Product.name)
        .join(Dossier, Dossier.id == Alert.dossier_id)
        .join(Product, Product.id == Dossier.product_id)
        .options(
            db.joinedload(Alert.responsible).load_only(*people),
            db.joinedload(Alert.assignee).load_only(*people),
        )
        .where(_visible(viewer))
        .order_by(Alert.id.desc())
        .limit(PAGE + 1)
    )
    if filters.status == "active":
        query = query.where(Alert.status != AlertStatus.RESOLVED)
    elif filters.status != "all":
        query = query.where(Alert.status == AlertStatus(filters.status))
    if filters.level is not None:
        query = query.where(Alert.level == filters.level)
    if filters.party:
        query = query.where(Alert.party == Party(filters.party))
    if filters.mine:
        query = query.where(Alert.assignee_id == viewer.id)
    if before_id:
        query = query.where(Alert.id < before_id)
    rows = db.session.execute(query).all()
    return rows[:PAGE], (rows[PAGE - 1][0].id if len(rows) > PAGE else None)


def active_count(viewer: User, at_most: int | None = None) -> int:
    """Alerts nobody has resolved yet (the badge in the admin navigation). `at_most` stops
    counting there: at scale there are a hundred thousand open alerts, and counting them all
    on every admin page cost about 13 ms of the database's time for a badge that says "99+"."""
    found = db.select(Alert.id).where(Alert.status != AlertStatus.RESOLVED, _visible(viewer))
    if at_most is not None:
        found = found.limit(at_most)
    return db.session.scalar(db.select(db.func.count()).select_from(found.subquery()))


def open_count() -> int:
    """Every alert not resolved yet, platform-wide (the admin dashboard)."""
    return db.session.scalar(
        db.select(db.func.count(Alert.id)).where(Alert.status != AlertStatus.RESOLVED)
    )


def get(viewer: User, alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    require(alert is not None and can_see_alert(viewer, alert, runs_firm(viewer)))
    return alert


def _handled(viewer: User, alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    require(alert is not None and can_handle_alert(viewer, alert))
    return alert


def _changed(alert: Alert, actor: User, action: str, ip: str | None, **data) -> None:
    audit.record(actor, f"alert.{action}", "alert", alert.id, ip, **data)
    notify.to_admins("alerts:changed", alert_id=alert.id)
    if alert.responsible_id:
        notify.to_user(alert.responsible_id, "alerts:changed", alert_id=alert.id)


def acknowledge(actor: User, alert_id: int, ip: str | None = None) -> Alert:
    alert = _handled(actor, alert_id)
    if alert.status == AlertStatus.OPEN:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at, alert.acknowledged_by_id = utcnow(), actor.id
        _changed(alert, actor, "acknowledge", ip)
        db.session.commit()
    return alert


def assign(actor: User, alert_id: int, assignee_id, ip: str | None = None) -> Alert:
    alert = _handled(actor, alert_id)
    if assignee_id in (None, ""):
        alert.assignee_id = None
    else:
        try:
            assignee = db.session.get(User, int(assignee_id))
        except (TypeError, ValueError):
            assignee = None
        if assignee is None or not assignee.is_admin or not assignee.active:
            message = _("Choose an admin of the platform.")
            raise ValidationFailed(message, assignee=message)
        alert.assignee_id = assignee.id
    _changed(alert, actor, "assign", ip, assignee_id=alert.assignee_id)
    db.session.commit()
    return alert


def _note_text(body) -> str:
    body = (body or "").strip()
    if not body:
        message = _("Write the note before saving.")
        raise ValidationFailed(message, body=message)
    if len(body) > NOTE_MAX:
        message = _("A note is %(n)d characters at most.", n=NOTE_MAX)
        raise ValidationFailed(message, body=message)
    return body


def add_note(actor: User, alert_id: int, body, ip: str | None = None) -> AlertNote:
    alert = _handled(actor, alert_id)
    note = AlertNote(alert_id=alert.id, author_id=actor.id, body=_note_text(body))
    db.session.add(note)
    alert.updated_at = utcnow()
    _changed(alert, actor, "note", ip)
    db.session.commit()
    return note


def resolve(actor: User, alert_id: int, body="", ip: str | None = None) -> Alert:
    """Resolve by hand; a third-level alert needs a note saying what was decided."""
    alert = _handled(actor, alert_id)
    if alert.status == AlertStatus.RESOLVED:
        return alert
    if alert.level >= Level.THIRD or (body or "").strip():
        try:
            text = _note_text(body)
        except ValidationFailed:
            message = _("A critical alert is resolved with a note saying what was decided.")
            raise ValidationFailed(message, body=message) from None
        db.session.add(AlertNote(alert_id=alert.id, author_id=actor.id, body=text))
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at, alert.resolved_by_id = utcnow(), actor.id
    _changed(alert, actor, "resolve", ip)
    db.session.commit()
    return alert


def age(alert: Alert, now: datetime | None = None):
    return (now or utcnow()) - alert.opened_at
