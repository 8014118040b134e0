"""Simulator analytics for admins: the funnel of a period and the list of simulations.

Cohorts are the simulations *started* in the period, so each later step is a share of the same
people. Aggregates only: one grouped query per figure, bounded lists with keyset paging.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from app.extensions import db
from app.models import PARIS, FunnelEvent, FunnelStep, Question, Simulation, SimulationStatus, User
from app.services import catalogue


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Whole days in Paris time, end day included."""
    return (
        datetime.combine(start, time.min, PARIS),
        datetime.combine(end + timedelta(days=1), time.min, PARIS),
    )


@dataclass
class FunnelRow:
    label: str
    code: str
    count: int
    share: float  # of started
    stopped_here: int  # drafts whose last answer was the previous step


def funnel(start: date, end: date) -> dict:
    low, high = period_bounds(start, end)
    in_period = db.select(Simulation.id).where(
        Simulation.created_at >= low, Simulation.created_at < high
    )
    counts = {
        (step, code): n
        for step, code, n in db.session.execute(
            db.select(FunnelEvent.step, FunnelEvent.question_code, db.func.count(FunnelEvent.id))
            .where(FunnelEvent.simulation_id.in_(in_period))
            .group_by(FunnelEvent.step, FunnelEvent.question_code)
        )
    }
    # where unfinished simulations stopped: the last question (by position) they answered
    last_position = (
        db.select(
            FunnelEvent.simulation_id.label("sim"),
            db.func.max(Question.position).label("pos"),
        )
        .join(Question, Question.code == FunnelEvent.question_code)
        .join(Simulation, Simulation.id == FunnelEvent.simulation_id)
        .where(
            FunnelEvent.step == FunnelStep.ANSWERED,
            Simulation.status == SimulationStatus.DRAFT,
            Simulation.created_at >= low,
            Simulation.created_at < high,
        )
        .group_by(FunnelEvent.simulation_id)
        .subquery()
    )
    stopped_after = dict(
        db.session.execute(
            db.select(last_position.c.pos, db.func.count()).group_by(last_position.c.pos)
        ).all()
    )
    started = counts.get((FunnelStep.STARTED, ""), 0)
    drafts = db.session.scalar(
        db.select(db.func.count(Simulation.id)).where(
            Simulation.created_at >= low,
            Simulation.created_at < high,
            Simulation.status == SimulationStatus.DRAFT,
        )
    )
    questions = catalogue.questions()
    rows = []
    previous_stop = drafts - sum(stopped_after.values())  # never answered the first question
    for question in questions:
        n = counts.get((FunnelStep.ANSWERED, question.code), 0)
        rows.append(
            FunnelRow(question.text, question.code, n, n / started if started else 0, previous_stop)
        )
        previous_stop = stopped_after.get(question.position, 0)
    completed = counts.get((FunnelStep.COMPLETED, ""), 0)
    accounts = counts.get((FunnelStep.ACCOUNT_CREATED, ""), 0)
    return {
        "started": started,
        "questions": rows,
        "completed": completed,
        "completed_share": completed / started if started else 0,
        "stopped_at_end": previous_stop,
        "accounts": accounts,
        "accounts_share": accounts / completed if completed else 0,
    }


def simulations_page(
    *,
    start: date,
    end: date,
    status: str | None = None,
    owner: str | None = None,
    source: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
):
    """Newest first, keyset on id; filters match the indexes (created_at, user/status)."""
    low, high = period_bounds(start, end)
    query = (
        db.select(Simulation, User.email)
        .outerjoin(User, User.id == Simulation.user_id)
        .where(Simulation.created_at >= low, Simulation.created_at < high)
    )
    if status in {s.value for s in SimulationStatus}:
        query = query.where(Simulation.status == status)
    if owner == "visitor":
        query = query.where(Simulation.user_id.is_(None))
    elif owner == "client":
        query = query.where(Simulation.user_id.is_not(None))
    if source in ("web", "api"):
        query = query.where(Simulation.source == source)
    if before_id:
        query = query.where(Simulation.id < before_id)
    rows = db.session.execute(query.order_by(Simulation.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1][0].id if len(rows) > limit else None)
