"""Two weeks of form analytics for the demo (/ops/forms), drawn from a fixed seed: each day's
visits of the simulator and the request form thin out question by question, as they do.
Written only when there are none (the seed runs again on every `make run`)."""

import random
from datetime import timedelta

from app.core import clock
from app.extensions import db
from app.models import PARIS, FormEvent, FormStat
from app.services import catalogue
from app.services.crm import requestform


def _day(rows: list, form: str, day, steps: list[str], views: int, rng: random.Random) -> None:
    def cell(step, event, n, ms=0):
        if n:
            rows.append(FormStat(form=form, day=day, step=step, event=event, n=n, total_ms=ms))

    starts = round(views * rng.uniform(0.55, 0.75))
    cell("", FormEvent.VIEW, views)
    cell("", FormEvent.START, starts)
    going, errors = starts, 0
    for step in steps:
        answered = round(going * rng.uniform(0.88, 0.99))
        wrong = round(going * rng.uniform(0.0, 0.08))
        errors += wrong
        if form == "simulator":  # one question at a time: each is shown, answered and timed
            cell(step, FormEvent.VIEW, going)
            cell(step, FormEvent.ANSWER, answered, answered * rng.randint(4_000, 15_000))
        cell(step, FormEvent.ERROR, wrong)
        cell(step, FormEvent.ABANDON, round((going - answered) * 0.6))
        going = answered
    cell("", FormEvent.ERROR, errors)
    cell("", FormEvent.ABANDON, round((starts - going) * 0.6))
    cell("", FormEvent.COMPLETE, going, going * rng.randint(60_000, 180_000))


def build() -> None:
    if db.session.scalar(db.select(FormStat.id).limit(1)) is not None:
        return
    rng = random.Random(29)
    today = clock.today(PARIS)
    simulator = [q.code for q in catalogue.questions()]
    request = [f["key"] for f in requestform.current().fields]
    request += ["company", "contact_name", "email"]
    rows: list[FormStat] = []
    for back in range(14, 0, -1):
        day = today - timedelta(days=back)
        _day(rows, "simulator", day, simulator, rng.randint(30, 60), rng)
        _day(rows, "request", day, request, rng.randint(8, 20), rng)
    db.session.add_all(rows)
    db.session.commit()
