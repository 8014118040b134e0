"""Each expert's punctuality, measured from their clocks over the last 90 days (peers.md §6.5:
the SLA tables are the source of the marketplace's badges): the median business time to a
first response, and the share of their steps done on time. Computed by a nightly job into one
row per expert, so a marketplace page reads twenty rows by key instead of their clocks."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta

from app.extensions import db
from app.models import ClockStatus, ExpertSlaFigures, Party, SlaClock, SlaMetric, utcnow

WINDOW = timedelta(days=90)
SHOWN_FROM = 5  # measured clocks before the figures say anything


def recompute(at: datetime | None = None) -> int:
    """Every expert with a measured clock in the window gets their row rewritten; those
    without one lose theirs. Returns the experts measured."""
    at = at or utcnow()
    since = at - WINDOW
    measured: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    first: dict[int, list[int]] = defaultdict(list)
    # a step counts once it ended satisfied, or once it is late and still open
    rows = db.session.execute(
        db.select(
            SlaClock.responsible_id,
            SlaClock.metric,
            SlaClock.status,
            SlaClock.breached_at,
            SlaClock.worked_seconds,
        ).where(
            SlaClock.party == Party.EXPERT,
            SlaClock.responsible_id.is_not(None),
            SlaClock.metric != SlaMetric.RESOLUTION,
            db.or_(
                db.and_(SlaClock.status == ClockStatus.SATISFIED, SlaClock.ended_at >= since),
                db.and_(
                    SlaClock.status.in_((ClockStatus.RUNNING, ClockStatus.PAUSED)),
                    SlaClock.breached_at >= since,
                ),
            ),
        )
    )
    for expert_id, metric, status, breached_at, worked in rows:
        counts = measured[expert_id]
        counts[0] += 1
        counts[1] += breached_at is None
        if metric == SlaMetric.FIRST_RESPONSE and status == ClockStatus.SATISFIED and worked:
            first[expert_id].append(worked)
    db.session.execute(db.delete(ExpertSlaFigures))
    db.session.add_all(
        ExpertSlaFigures(
            user_id=expert_id,
            measured=n,
            on_time=ok,
            first_response_median_minutes=(
                round(statistics.median(first[expert_id]) / 60) if first[expert_id] else None
            ),
            computed_at=at,
        )
        for expert_id, (n, ok) in measured.items()
    )
    db.session.commit()
    return len(measured)


def for_experts(user_ids) -> dict[int, ExpertSlaFigures]:
    """The figures worth showing (at least five measured clocks), by expert."""
    ids = list(user_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        db.select(ExpertSlaFigures).where(
            ExpertSlaFigures.user_id.in_(ids), ExpertSlaFigures.measured >= SHOWN_FROM
        )
    )
    return {r.user_id: r for r in rows}
