"""The SLA defaults as data (`defaults.json`); installing them only adds what is missing, so an
admin's edit is never undone."""

from __future__ import annotations

import json
from pathlib import Path

from app.extensions import db
from app.models import (
    BusinessCalendar,
    CalendarInterval,
    Party,
    SlaMetric,
    SlaPolicy,
    SlaTarget,
)
from app.services.sla.calendars import minute_of

DEFAULTS = json.loads((Path(__file__).parent / "defaults.json").read_text(encoding="utf-8"))


def install() -> dict[str, int]:
    added = {"calendars": 0, "policies": 0}
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
    if db.session.scalar(db.select(db.func.count(SlaPolicy.id))) == 0:
        db.session.add(
            SlaPolicy(
                name=spec["name"],
                rank=spec["rank"],
                targets=[
                    SlaTarget(
                        code=t["code"],
                        metric=SlaMetric(t["metric"]),
                        party=Party(t["party"]),
                        start_status=t.get("start"),
                        stop_statuses=t.get("stop", []),
                        pause_statuses=t.get("pause", []),
                        business_minutes=t["minutes"],
                        warn_before_minutes=t.get("warn"),
                    )
                    for t in spec["targets"]
                ],
            )
        )
        added["policies"] += 1
    db.session.commit()
    return added
