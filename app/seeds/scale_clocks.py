"""SLA clocks for the scale dataset: one running clock per scale dossier whose status starts a
target of the default policy, started up to 1.6 targets ago (wall time: a week of the default
calendar is 37 h 30, so a business minute is about 4.5 wall minutes), already at the
rung of the ladder it has passed (as the minute sweeps would have left it), with an alert for
each one that is late. A sweep right after seeding has only what comes due next."""

from __future__ import annotations

import random
from datetime import timedelta
from types import SimpleNamespace

import click
from sqlalchemy import insert

from app.extensions import db
from app.models import (
    Alert,
    AlertStatus,
    ClockStatus,
    Dossier,
    DossierStatus,
    Level,
    Party,
    SlaClock,
    SlaMetric,
    utcnow,
)
from app.services import sla
from app.services.sla import clocks, policies


def clocks_for_scale(chunk: int = 5000) -> int:
    sla.install_defaults()
    policy = policies.active_policies()[-1]  # the default policy, ranked last
    starting = {
        t.start_status: t
        for t in policy.targets
        if t.start_status and t.metric != SlaMetric.RESOLUTION
    }
    counted = policies.calendar_by_id(None)
    now = utcnow()
    has_clock = db.select(SlaClock.id).where(SlaClock.dossier_id == Dossier.id).exists()
    last_id, made = 0, 0
    while True:
        rows = db.session.execute(
            db.select(
                Dossier.id,
                Dossier.status,
                Dossier.waiting_since,
                Dossier.client_id,
                Dossier.expert_id,
                Dossier.pending_expert_id,
            )
            .where(
                Dossier.source == "scale",
                Dossier.id > last_id,
                Dossier.status.in_([DossierStatus(s) for s in starting]),
                ~has_clock,
            )
            .order_by(Dossier.id)
            .limit(chunk)
        ).all()
        if not rows:
            return made
        values = []
        for r in rows:
            last_id = r.id
            target = starting[r.status.value]
            responsible = {
                Party.CLIENT: r.client_id,
                Party.EXPERT: r.pending_expert_id or r.expert_id,
            }.get(target.party)
            c = SimpleNamespace(
                dossier_id=r.id,
                target_id=target.id,
                policy_id=policy.id,
                policy_version=policy.version,
                code=target.code,
                metric=target.metric,
                party=target.party,
                responsible_id=responsible,
                calendar_id=counted.id,
                cycle=1,
                budget_minutes=target.business_minutes,
                warn_before_minutes=clocks.default_warning(target.business_minutes),
                pause_statuses=target.pause_statuses,
                stop_statuses=target.stop_statuses,
                started_at=now
                - timedelta(minutes=random.uniform(0, 1.6) * target.business_minutes * 4.48),
                paused_seconds=0,
                status=ClockStatus.RUNNING,
                level=Level.NONE,
                breached_at=None,
            )
            clocks.schedule(c, counted.calendar)
            while c.next_check_at is not None and c.next_check_at <= now:
                c.level += 1
                if c.level == Level.BREACHED:
                    c.breached_at = c.due_at
                c.next_check_at = clocks.ladder_at(c, counted.calendar, c.level + 1)
            values.append(vars(c))
        ids = db.session.execute(
            insert(SlaClock).returning(
                SlaClock.id,
                SlaClock.dossier_id,
                SlaClock.level,
                SlaClock.party,
                SlaClock.responsible_id,
                SlaClock.code,
                SlaClock.due_at,
            ),
            values,
        ).all()
        late = [
            {
                "clock_id": i.id,
                "dossier_id": i.dossier_id,
                "level": i.level,
                "party": i.party,
                "responsible_id": i.responsible_id,
                "code": i.code,
                "status": AlertStatus.OPEN,
                "opened_at": i.due_at,
                "updated_at": i.due_at,
            }
            for i in ids
            if i.level >= Level.BREACHED
        ]
        if late:
            db.session.execute(insert(Alert), late)
        db.session.commit()
        made += len(values)
        click.echo(f"clocks: {made}")
