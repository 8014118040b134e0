"""Alert rules and the alerts they open (A12).

The monitor calls `evaluate` at every tick with the pulse's values. A rule whose condition has
held for its duration opens one alert, told to its channels once; while that alert is open or
acknowledged nothing more is sent. When the condition stops holding the alert closes itself
(cleared). Staff acknowledge ("someone is on it") and resolve; a resolved alert does not come
back until its condition has cleared once and holds again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core import audit
from app.core.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    ACTIVE_ALERT_STATES,
    AlertRule,
    AlertState,
    Comparison,
    Priority,
    ServiceAlert,
    Severity,
    User,
    utcnow,
)
from app.realtime import notify
from app.security import can_run_alerts, require
from app.services import notifications
from app.services.ops import channels
from app.services.ops.pulse import METRICS

log = logging.getLogger(__name__)

CHANNELS = {
    "inapp": _l("In the app"),
    "email": _l("Email"),
    "slack": _l("Slack"),
    "sms": _l("SMS"),
}
SEVERITIES = {
    Severity.INFO: _l("Information"),
    Severity.WARNING: _l("Warning"),
    Severity.CRITICAL: _l("Critical"),
}
STATES = {
    AlertState.OPEN: _l("Open"),
    AlertState.ACKNOWLEDGED: _l("Acknowledged"),
    AlertState.RESOLVED: _l("Resolved"),
    AlertState.CLEARED: _l("Cleared by itself"),
}

# shipped with the platform (issue 29): key -> rule
DEFAULTS = {
    "queue_age": dict(
        name=_l("A job has waited more than 5 minutes"),
        metric="queue_age_s",
        comparison=Comparison.ABOVE,
        threshold=300,
        duration_s=0,
        severity=Severity.WARNING,
        channels=["inapp", "email"],
    ),
    "error_rate": dict(
        name=_l("More than 2 percent of requests fail"),
        metric="error_rate",
        comparison=Comparison.ABOVE,
        threshold=2,
        duration_s=60,
        severity=Severity.CRITICAL,
        channels=["inapp", "email", "slack"],
    ),
    "smtp": dict(
        name=_l("Emails cannot be sent (SMTP failing)"),
        metric="smtp_down",
        comparison=Comparison.ABOVE,
        threshold=0.5,
        duration_s=60,
        severity=Severity.CRITICAL,
        # not by email: it would not leave
        channels=["inapp", "slack", "sms"],
    ),
    "disk": dict(
        name=_l("The disk is more than 90 percent full"),
        metric="disk_percent",
        comparison=Comparison.ABOVE,
        threshold=90,
        duration_s=0,
        severity=Severity.WARNING,
        channels=["inapp", "email"],
    ),
    "scheduler": dict(
        name=_l("The scheduler has been silent for 3 minutes"),
        metric="scheduler_silent_s",
        comparison=Comparison.ABOVE,
        threshold=180,
        duration_s=0,
        severity=Severity.CRITICAL,
        channels=["inapp", "email", "slack"],
    ),
    "backup": dict(
        name=_l("No verified backup for 26 hours"),
        metric="backup_age_h",
        comparison=Comparison.ABOVE,
        threshold=26,
        duration_s=0,
        severity=Severity.WARNING,
        channels=["inapp", "email"],
    ),
}


def install_defaults() -> None:
    """Top up the shipped rules; a rule staff edited or deleted stays as they left it."""
    present = set(db.session.scalars(db.select(AlertRule.default_key)))
    for key, values in DEFAULTS.items():
        if key not in present:
            with_names = {**values, "name": str(values["name"])}
            db.session.add(AlertRule(default_key=key, **with_names))
    db.session.commit()


# -- rules -----------------------------------------------------------------------------------


def rules() -> list[AlertRule]:
    return db.session.scalars(db.select(AlertRule).order_by(AlertRule.id)).all()


def get_rule(rule_id: int) -> AlertRule:
    rule = db.session.get(AlertRule, rule_id)
    if rule is None:
        raise NotFound()
    return rule


def _validated(data: dict) -> dict:
    errors = {}
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = _("Give the rule a name.")
    if data.get("metric") not in METRICS:
        errors["metric"] = _("Choose a metric from the list.")
    try:
        comparison = Comparison(data.get("comparison"))
    except ValueError:
        errors["comparison"] = _("Choose above or below.")
        comparison = None
    threshold = data.get("threshold")
    if not isinstance(threshold, int | float) or isinstance(threshold, bool):
        errors["threshold"] = _("Enter a number.")
    duration = data.get("duration_s")
    if not isinstance(duration, int) or not 0 <= duration <= 86400:
        errors["duration_s"] = _("Enter a number of seconds between 0 and 86400.")
    try:
        severity = Severity(data.get("severity"))
    except ValueError:
        errors["severity"] = _("Choose a severity.")
        severity = None
    chosen = list(data.get("channels") or [])
    if not chosen or any(c not in CHANNELS for c in chosen):
        errors["channels"] = _("Choose at least one channel.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), **errors)
    return dict(
        name=name[:120],
        metric=data["metric"],
        comparison=comparison,
        threshold=float(threshold),
        duration_s=duration,
        severity=severity,
        channels=chosen,
        enabled=bool(data.get("enabled", True)),
    )


def save_rule(
    actor: User, data: dict, rule_id: int | None = None, ip: str | None = None
) -> AlertRule:
    """Create or change a rule from the fields a rule has, and only those."""
    values = _validated(data)
    rule = get_rule(rule_id) if rule_id is not None else AlertRule()
    for key, value in values.items():
        setattr(rule, key, value)
    rule.breaching_since = None  # a changed condition is watched afresh
    if rule_id is None:
        db.session.add(rule)
    db.session.flush()
    audit.record(actor, "alert_rule.saved", "alert_rule", rule.id, ip, name=rule.name)
    db.session.commit()
    return rule


def delete_rule(actor: User, rule_id: int, ip: str | None = None) -> None:
    rule = get_rule(rule_id)
    audit.record(actor, "alert_rule.deleted", "alert_rule", rule.id, ip, name=rule.name)
    db.session.delete(rule)
    db.session.commit()


# -- evaluation ------------------------------------------------------------------------------


def holds(rule: AlertRule, value: float) -> bool:
    if rule.comparison == Comparison.ABOVE:
        return value > rule.threshold
    return value < rule.threshold


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def evaluate(values: dict, now: datetime | None = None) -> list[int]:
    """One tick: open, keep or clear each rule's alert. Returns the ids of alerts opened (their
    in-app notices are committed with them; the other channels are the caller's to send)."""
    now = now or utcnow()
    active = {
        a.rule_id: a
        for a in db.session.scalars(
            db.select(ServiceAlert).where(ServiceAlert.state.in_(ACTIVE_ALERT_STATES))
        )
    }
    opened, changed = [], False
    for rule in db.session.scalars(db.select(AlertRule).where(AlertRule.enabled.is_(True))):
        value = values.get(rule.metric)
        if value is None:
            continue  # unknown now (Redis away): neither opened nor cleared on a guess
        alert = active.get(rule.id)
        if not holds(rule, value):
            if rule.breaching_since is not None:
                rule.breaching_since = None
                changed = True
            if alert is not None:
                alert.state, alert.closed_at = AlertState.CLEARED, now
                changed = True
            continue
        if rule.breaching_since is None:
            rule.breaching_since = now
            changed = True
        if alert is not None or now - _aware(rule.breaching_since) < timedelta(
            seconds=rule.duration_s
        ):
            continue
        if _resolved_during_this_breach(rule):
            continue
        alert = ServiceAlert(rule=rule, value=value, opened_at=now, deliveries={})
        db.session.add(alert)
        db.session.flush()
        if "inapp" in rule.channels:
            _tell_in_app(alert)
        opened.append(alert.id)
        changed = True
    if changed:
        notify.to_admins("ops:alerts")
        db.session.commit()
    else:
        db.session.rollback()
    return opened


def _resolved_during_this_breach(rule: AlertRule) -> bool:
    return (
        db.session.scalar(
            db.select(ServiceAlert.id)
            .where(
                ServiceAlert.rule_id == rule.id,
                ServiceAlert.state == AlertState.RESOLVED,
                ServiceAlert.opened_at >= rule.breaching_since,
            )
            .limit(1)
        )
        is not None
    )


def describe(alert: ServiceAlert):
    """One sentence on what opened the alert, rendered in the reader's language."""
    rule = alert.rule
    return _l(
        "%(name)s: %(metric)s is %(value)s (rule: %(sign)s %(threshold)s for %(duration)s s).",
        name=rule.name,
        metric=METRICS[rule.metric][0] if rule.metric in METRICS else rule.metric,
        value=f"{alert.value:g}",
        sign=">" if rule.comparison == Comparison.ABOVE else "<",
        threshold=f"{rule.threshold:g}",
        duration=rule.duration_s,
    )


def _alerts_path() -> str:
    """The alerts page's path, also from the monitor process (no request there)."""
    if has_request_context():
        return url_for("ops.alerts")
    with current_app.test_request_context():
        return url_for("ops.alerts")


def _tell_in_app(alert: ServiceAlert) -> None:
    priority = Priority.HIGH if alert.rule.severity == Severity.CRITICAL else Priority.MEDIUM
    for admin in notifications.active_admins():
        notifications.create(
            admin,
            "service_alert",
            _l("Service alert: %(name)s", name=alert.rule.name),
            describe(alert),
            link=_alerts_path(),
            priority=priority,
            object_ref=f"service_alert:{alert.id}",
        )
    alert.deliveries = {**alert.deliveries, "inapp": "sent"}


def deliver(alert_id: int) -> dict:
    """Send an opened alert to its other channels, each once (what each answered is kept)."""
    alert = db.session.get(ServiceAlert, alert_id)
    if alert is None:
        return {}
    done = dict(alert.deliveries or {})
    text = describe(alert)  # emails render it in each admin's language; Slack and SMS in ours
    for channel in alert.rule.channels:
        if channel == "inapp" or done.get(channel) == "sent":
            continue
        try:
            outcome = channels.send(channel, alert, text)
        except Exception as exc:  # one channel failing never stops the others
            log.warning("alert %s: %s failed: %s", alert.id, channel, exc)
            outcome = f"failed: {type(exc).__name__}: {exc}"[:200]
        done[channel] = outcome
    alert.deliveries = done
    db.session.commit()
    return done


# -- staff -----------------------------------------------------------------------------------


def get_alert(alert_id: int) -> ServiceAlert:
    alert = db.session.get(ServiceAlert, alert_id)
    if alert is None:
        raise NotFound()
    return alert


def acknowledge(actor: User, alert_id: int, ip: str | None = None) -> ServiceAlert:
    require(can_run_alerts(actor))
    alert = get_alert(alert_id)
    if alert.state == AlertState.OPEN:
        alert.state = AlertState.ACKNOWLEDGED
        alert.acknowledged_at, alert.acknowledged_by_id = utcnow(), actor.id
        audit.record(actor, "service_alert.acknowledged", "service_alert", alert.id, ip)
        notify.to_admins("ops:alerts")
        db.session.commit()
    return alert


def resolve(actor: User, alert_id: int, ip: str | None = None) -> ServiceAlert:
    require(can_run_alerts(actor))
    alert = get_alert(alert_id)
    if alert.state in ACTIVE_ALERT_STATES:
        alert.state = AlertState.RESOLVED
        alert.closed_at, alert.closed_by_id = utcnow(), actor.id
        audit.record(actor, "service_alert.resolved", "service_alert", alert.id, ip)
        notify.to_admins("ops:alerts")
        db.session.commit()
    return alert


def active_alerts() -> list[ServiceAlert]:
    return db.session.scalars(
        db.select(ServiceAlert)
        .where(ServiceAlert.state.in_(ACTIVE_ALERT_STATES))
        .order_by(ServiceAlert.opened_at.desc())
    ).all()


def history(limit: int = 50) -> list[ServiceAlert]:
    return db.session.scalars(
        db.select(ServiceAlert)
        .where(ServiceAlert.state.not_in(ACTIVE_ALERT_STATES))
        .order_by(ServiceAlert.opened_at.desc())
        .limit(limit)
    ).all()
