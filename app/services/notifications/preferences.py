"""Who wants what, where (issue 5 §5): families of notification types (domain.md §8 grouped), three
channels, quiet hours in the user's time zone and a daily digest for message emails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from app.core.errors import ValidationFailed
from app.extensions import db
from app.models import User, utcnow
from app.models.preferences import NotificationPreference, NotificationSettings
from app.services.notifications import push

CHANNELS = {"in_app": _l("In the app"), "email": _l("By email"), "push": _l("Browser push")}


def channels() -> dict:
    """The channels offered: browser push only once the platform has its VAPID keys."""

    return CHANNELS if push.enabled() else {k: v for k, v in CHANNELS.items() if k != "push"}


FAMILIES = {
    "dossiers": _l("My dossiers (steps, documents, deadlines)"),
    "messages": _l("Messages"),
    "money": _l("Invoices and payments"),
    "account": _l("My account and applications"),
    "sales": _l("Leads and sales tasks"),
    "support": _l("Requests for help"),
}
# everything in the app and by email until the user says otherwise; push only when asked for
DEFAULTS = {
    ("dossiers", "in_app"): True,
    ("dossiers", "email"): True,
    ("messages", "in_app"): True,
    ("messages", "email"): True,
    ("money", "in_app"): True,
    ("money", "email"): True,
    ("account", "in_app"): True,
    ("account", "email"): True,
    ("sales", "in_app"): True,
    ("sales", "email"): True,
    ("support", "in_app"): True,
    ("support", "email"): True,
}
PREFIXES = (
    ("dossier_", "dossiers"),
    ("expert_", "dossiers"),
    ("quote_", "dossiers"),
    ("review_", "dossiers"),
    ("message", "messages"),
    ("invoice_", "money"),
    ("payment_", "money"),
    ("plan_", "money"),
    ("payout_", "money"),
    ("application_", "account"),
    ("verify_email", "account"),
    ("lead_", "sales"),
    ("activity_", "sales"),
    ("ticket_", "support"),
)


def family_of(notification_type: str) -> str:
    return next((f for prefix, f in PREFIXES if notification_type.startswith(prefix)), "account")


def matrix(user: User) -> dict[tuple[str, str], bool]:
    chosen = choices(user).changed
    return {
        (family, channel): chosen.get((family, channel), DEFAULTS.get((family, channel), False))
        for family in FAMILIES
        for channel in channels()
    }


@dataclass(frozen=True, slots=True)
class Choices:
    """What one user changed from the defaults, and their quiet hours and digest."""

    changed: dict[tuple[str, str], bool]
    quiet_from: int | None = None
    quiet_to: int | None = None
    daily_digest: bool = False


_CACHE = "notification_choices"


def choices(user: User) -> Choices:
    """A user's choices, read in one statement once per transaction: an announcement asks
    about three channels and the quiet hours of the same person. A commit, a rollback or a
    write to either table forgets them (the listeners below)."""
    cache = db.session.info.setdefault(_CACHE, {})
    found = cache.get(user.id)
    if found is None:
        prefs, quiet = NotificationPreference, NotificationSettings
        rows = db.session.execute(
            db.select(prefs.family, prefs.channel, prefs.enabled)
            .add_columns(quiet.quiet_from, quiet.quiet_to, quiet.daily_digest)
            .select_from(User)
            .outerjoin(prefs, prefs.user_id == User.id)
            .outerjoin(quiet, quiet.user_id == User.id)
            .where(User.id == user.id)
        ).all()
        changed = {(r.family, r.channel): r.enabled for r in rows if r.family is not None}
        found = Choices(changed)
        if rows and rows[0].daily_digest is not None:  # the user has saved settings
            first = rows[0]
            found = Choices(changed, first.quiet_from, first.quiet_to, first.daily_digest)
        cache[user.id] = found
    return found


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_all(session: Session) -> None:
    session.info.pop(_CACHE, None)


def _forget_written(_mapper, _connection, target) -> None:
    session = object_session(target)
    if session is not None:
        session.info.pop(_CACHE, None)


for _model in (NotificationPreference, NotificationSettings):
    for _when in ("after_insert", "after_update", "after_delete"):
        event.listen(_model, _when, _forget_written)


def wants(user: User, notification_type: str, channel: str) -> bool:
    family = family_of(notification_type)
    chosen = choices(user).changed.get((family, channel))
    return DEFAULTS.get((family, channel), False) if chosen is None else chosen


def settings(user: User) -> NotificationSettings:
    """The row the preferences page edits (a new one if the user never saved any)."""
    found = db.session.scalar(
        db.select(NotificationSettings).where(NotificationSettings.user_id == user.id)
    )
    return found or NotificationSettings(user_id=user.id, daily_digest=False)


def in_quiet_hours(user: User, now: datetime | None = None) -> bool:
    s = choices(user)
    if s.quiet_from is None or s.quiet_to is None or s.quiet_from == s.quiet_to:
        return False
    hour = (now or utcnow()).astimezone(user.zone).hour
    if s.quiet_from < s.quiet_to:
        return s.quiet_from <= hour < s.quiet_to
    return hour >= s.quiet_from or hour < s.quiet_to  # across midnight, 22 → 7


def update(user: User, enabled: set[tuple[str, str]], quiet_from, quiet_to, digest: bool) -> None:
    """Replace the user's choices. :raises ValidationFailed: quiet hours half given or out of
    range (nothing is saved)."""

    def hour(value):
        text = str(value or "").strip()
        if not text:
            return None
        return int(text) if text.isdigit() and int(text) < 24 else -1

    start, end = hour(quiet_from), hour(quiet_to)
    if -1 in (start, end) or (start is None) != (end is None):
        message = _("Give both hours of the quiet period (0 to 23), or neither.")
        raise ValidationFailed(message, quiet_from=message)
    existing = {
        (p.family, p.channel): p
        for p in db.session.scalars(
            db.select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    for family in FAMILIES:
        for channel in channels():
            key = (family, channel)
            value = key in enabled
            if value == DEFAULTS.get(key, False):
                if key in existing:
                    db.session.delete(existing[key])
            elif key in existing:
                existing[key].enabled = value
            else:
                db.session.add(
                    NotificationPreference(
                        user_id=user.id, family=family, channel=channel, enabled=value
                    )
                )
    s = settings(user)
    s.quiet_from, s.quiet_to, s.daily_digest = start, end, bool(digest)
    db.session.add(s)
    db.session.commit()


def quiet_end(user: User, now: datetime | None = None) -> datetime | None:
    """When the user's quiet hours end, if they are in them now (else None)."""
    now = now or utcnow()
    if not in_quiet_hours(user, now):
        return None
    local = now.astimezone(user.zone)
    end = local.replace(hour=choices(user).quiet_to, minute=0, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end


def page(user: User, values: dict | None = None) -> dict:
    """What the notification settings page shows: the user's saved choices, or the values they
    just sent when the form comes back with an error. Shared by the account and admin pages."""
    current = settings(user)
    return {
        "user": user,
        "families": FAMILIES,
        "channels": channels(),
        "push_key": push.public_key(),
        "matrix": values["matrix"] if values else matrix(user),
        "quiet_from": values["quiet_from"] if values else current.quiet_from,
        "quiet_to": values["quiet_to"] if values else current.quiet_to,
        "digest": values["digest"] if values else current.daily_digest,
    }
