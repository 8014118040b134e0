"""The SLA and reminder defaults as data (`defaults.json`); installing them only adds what is
missing, so an admin's edit is never undone."""

from __future__ import annotations

import json
from pathlib import Path

from app.extensions import db
from app.models import (
    BusinessCalendar,
    CalendarInterval,
    Party,
    Priority,
    ReminderCadence,
    ReminderRule,
    SlaMetric,
    SlaPolicy,
    SlaTarget,
)
from app.services.sla.calendars import minute_of

DEFAULTS = json.loads((Path(__file__).parent / "defaults.json").read_text(encoding="utf-8"))


def _target(t: dict) -> SlaTarget:
    return SlaTarget(
        code=t["code"],
        metric=SlaMetric(t["metric"]),
        party=Party(t["party"]),
        start_status=t.get("start"),
        stop_statuses=t.get("stop", []),
        pause_statuses=t.get("pause", []),
        business_minutes=t["minutes"],
        warn_before_minutes=t.get("warn"),
    )


def install() -> dict[str, int]:
    added = {"calendars": 0, "policies": 0, "targets": 0, "rules": 0, "cadences": 0}
    spec = DEFAULTS["calendar"]
    if db.session.scalar(db.select(BusinessCalendar.id).where(BusinessCalendar.is_default)) is None:
        db.session.add(
            BusinessCalendar(
                name=spec["name"],
                tz=spec["tz"],
                region=spec["region"],
                is_default=True,
                intervals=[
                    CalendarInterval(weekday=d, start_minute=minute_of(a), end_minute=minute_of(b))
                    for d in spec["days"]
                    for a, b in spec["hours"]
                ],
            )
        )
        added["calendars"] += 1
    spec = DEFAULTS["policy"]
    policy = db.session.scalar(db.select(SlaPolicy).where(SlaPolicy.name == spec["name"]))
    if policy is None and db.session.scalar(db.select(db.func.count(SlaPolicy.id))) == 0:
        policy = SlaPolicy(name=spec["name"], rank=spec["rank"])
        db.session.add(policy)
        added["policies"] += 1
    if policy is not None:
        have = {t.code for t in policy.targets}
        for t in spec["targets"]:
            if t["code"] not in have:
                policy.targets.append(_target(t))
                added["targets"] += 1
    have = set(db.session.execute(db.select(ReminderRule.action_type, ReminderRule.days)).tuples())
    for r in DEFAULTS["reminder_rules"]:
        if (r["action_type"], r["days"]) not in have:
            db.session.add(
                ReminderRule(
                    action_type=r["action_type"],
                    statuses=r["statuses"],
                    days=r["days"],
                    level=r["level"],
                    priority=Priority(r["priority"]),
                    recipients=r["recipients"],
                )
            )
            added["rules"] += 1
    have = set(db.session.scalars(db.select(ReminderCadence.code)))
    for c in DEFAULTS["cadences"]:
        if c["code"] not in have:
            db.session.add(
                ReminderCadence(
                    code=c["code"], offsets_days=c["offsets_days"], max_count=c["max_count"]
                )
            )
            added["cadences"] += 1
    db.session.commit()
    return added
