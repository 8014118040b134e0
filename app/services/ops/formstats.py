"""Form analytics (A12) for the simulator and the request form: counts only.

Each cell is (form, Paris day, step, event) with how many and their summed milliseconds; a
visit adds to cells and leaves nothing of its own (no session, answer, address or id is
stored, and no third party is involved). What a visit did so far (shown when, started or not,
on which step) lives in its own signed session cookie (`app/web/formtrack.py`) and is never
written down.

The report reads a period's cells: views, starts, completions and drop-off for the form, and
per step (a simulator question, a request-form field) views, answers, drop-off, the average
time and the errors.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from app.core import clock
from app.extensions import db
from app.models import PARIS, FormEvent, FormStat

log = logging.getLogger(__name__)

FORMS = ("simulator", "request")
Cell = tuple[str, FormEvent, int]  # step ("" for the whole form), event, milliseconds


def add(form: str, cells: Iterable[Cell]) -> None:
    """Add one to each cell of today (and its milliseconds), and commit. Called once a view's
    own work is committed (`formtrack` adds a request's cells after the view), so the commit
    holds only these counts; a failure is logged and the page goes on (a figure missing is
    better than a visitor's page failing)."""
    summed: dict[tuple[str, FormEvent], list[int]] = defaultdict(lambda: [0, 0])
    for step, event, ms in cells:
        cell = summed[step, event]
        cell[0] += 1
        cell[1] += max(0, int(ms))
    if not summed or form not in FORMS:
        return
    day = clock.today(PARIS)
    # in key order: two visits adding to the same cells lock them in the same order
    rows = [
        {"form": form, "day": day, "step": step[:60], "event": event, "n": n, "total_ms": ms}
        for (step, event), (n, ms) in sorted(summed.items())
    ]
    session = db.session()
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    stmt = insert(FormStat)
    stmt = stmt.on_conflict_do_update(
        index_elements=["form", "day", "step", "event"],
        set_={
            "n": FormStat.n + stmt.excluded.n,
            "total_ms": FormStat.total_ms + stmt.excluded.total_ms,
        },
    )
    try:
        session.execute(stmt, rows)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.warning("form analytics: could not count", exc_info=True, extra={"form": form})


@dataclass
class StepRow:
    code: str
    label: str
    views: int
    answers: int
    errors: int
    abandons: int  # left on this step (counted by the page with JavaScript on)
    total_ms: int

    @property
    def dropped(self) -> int:
        """Shown and never answered (a step answered twice, after going back, counts once
        more in both)."""
        return max(0, self.views - self.answers)

    @property
    def dropped_share(self) -> float:
        return self.dropped / self.views if self.views else 0.0

    @property
    def error_share(self) -> float:
        """Of the sends of this step, the share refused."""
        sends = self.answers + self.errors
        return self.errors / sends if sends else 0.0

    @property
    def average_s(self) -> float | None:
        return self.total_ms / self.answers / 1000 if self.answers and self.total_ms else None


@dataclass
class FormReport:
    form: str
    views: int
    starts: int
    completions: int
    errors: int  # sends refused
    abandons: int
    total_ms: int  # from the view to the completion, summed over completions
    steps: list[StepRow]

    @property
    def start_share(self) -> float:
        return self.starts / self.views if self.views else 0.0

    @property
    def completion_share(self) -> float:
        """Of the visits that started, the share that finished."""
        return self.completions / self.starts if self.starts else 0.0

    @property
    def dropped(self) -> int:
        return max(0, self.starts - self.completions)

    @property
    def average_s(self) -> float | None:
        return self.total_ms / self.completions / 1000 if self.completions else None


def report(form: str, start: date, end: date, steps: list[tuple[str, str]]) -> FormReport:
    """The form's figures over whole Paris days, end included. `steps` are the (code, label)
    of its steps in order; a step counted in the period that is no longer in the form (a
    question removed) comes after them, under its code."""
    cells = {
        (step, event): (n, ms)
        for step, event, n, ms in db.session.execute(
            db.select(
                FormStat.step,
                FormStat.event,
                db.func.sum(FormStat.n),
                db.func.sum(FormStat.total_ms),
            )
            .where(FormStat.form == form, FormStat.day >= start, FormStat.day <= end)
            .group_by(FormStat.step, FormStat.event)
        )
    }

    def n(step: str, event: FormEvent) -> int:
        return int(cells.get((step, event), (0, 0))[0] or 0)

    def ms(step: str, event: FormEvent) -> int:
        return int(cells.get((step, event), (0, 0))[1] or 0)

    known = dict(steps)
    counted = sorted({step for step, _e in cells if step and step not in known})
    rows = [
        StepRow(
            code=code,
            label=known.get(code, code),
            views=n(code, FormEvent.VIEW),
            answers=n(code, FormEvent.ANSWER),
            errors=n(code, FormEvent.ERROR),
            abandons=n(code, FormEvent.ABANDON),
            total_ms=ms(code, FormEvent.ANSWER),
        )
        for code in [c for c, _l in steps] + counted
    ]
    return FormReport(
        form=form,
        views=n("", FormEvent.VIEW),
        starts=n("", FormEvent.START),
        completions=n("", FormEvent.COMPLETE),
        errors=n("", FormEvent.ERROR),
        abandons=n("", FormEvent.ABANDON),
        total_ms=ms("", FormEvent.COMPLETE),
        steps=rows,
    )
