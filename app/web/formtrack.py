"""What one visit of a tracked form did so far, kept in the visitor's own signed session cookie
and never stored: when the form was shown, whether it was started, which step is on screen
and since when. The views call these as things happen; each adds its counts to the day's
cells (`app.services.ops.formstats`).

A visit is one showing of the form's page: showing it again starts a new visit. A start is
the visit's first input, told by a beacon when JavaScript runs (`static/js/app.js`), else by
its first send. A step's time runs from its showing to its answer; more than
`MAX_STEP_MS` is someone who left the tab, and counts as an answer without a time.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import after_this_request, g, session

from app.core import clock
from app.models import FormEvent
from app.services import catalogue
from app.services.crm import requestform
from app.services.ops import formstats
from app.web.forms import ContactFields

KEY = "form_visits"
MAX_STEP_MS = 30 * 60 * 1000
MAX_VISIT_MS = 4 * 60 * 60 * 1000


def steps_of(form: str) -> list[tuple[str, str]]:
    """The form's steps in order, (code, label): the simulator's questions; the request form's
    questions as configured now, then the contact block."""
    if form == "simulator":
        return [(q.code, q.text) for q in catalogue.questions()]
    if form == "request":
        contact = ContactFields(formdata=None, meta={"csrf": False})
        questions = [(f["key"], f["label"]) for f in requestform.current().fields]
        names = ("company", "contact_name", "email", "phone", "siren", "message")
        return questions + [(n, str(contact[n].label.text)) for n in names]
    return []


def _count(form: str, cells: list) -> None:
    """Gather the request's cells (an answer and the next step's showing are one request) and
    add them once, after the view's own work."""
    pending = g.get("form_cells")
    if pending is None:
        pending = g.form_cells = {}
        after_this_request(_add_gathered)
    pending.setdefault(form, []).extend(cells)


def _add_gathered(response):
    for form, cells in g.pop("form_cells", {}).items():
        formstats.add(form, cells)
    return response


def _now_ms() -> int:
    return int(clock.now().timestamp() * 1000)


def _visit(form: str) -> dict:
    return dict(session.get(KEY, {}).get(form) or {})


def _keep(form: str, visit: dict | None) -> None:
    visits = dict(session.get(KEY, {}))
    if visit is None:
        visits.pop(form, None)
    else:
        visits[form] = visit
    session[KEY] = visits


def _start(visit: dict, cells: list) -> None:
    if not visit.get("started"):
        visit["started"] = True
        cells.append(("", FormEvent.START, 0))


def viewed(form: str) -> None:
    """The form's page was shown: a new visit."""
    _keep(form, {"shown": _now_ms()})
    _count(form, [("", FormEvent.VIEW, 0)])


def step_shown(form: str, step: str) -> None:
    """A step is on screen (shown again after a refusal, it is the same showing)."""
    visit = _visit(form)
    if visit.get("step") == step:
        return
    visit.update(step=step, since=_now_ms())
    _keep(form, visit)
    _count(form, [(step, FormEvent.VIEW, 0)])


def started(form: str) -> None:
    """The beacon of the visit's first input (a visit never shown is not counted)."""
    visit = _visit(form)
    if not visit or visit.get("started"):
        return
    cells: list = []
    _start(visit, cells)
    _keep(form, visit)
    _count(form, cells)


def answered(form: str, step: str) -> None:
    visit = _visit(form)
    cells: list = []
    _start(visit, cells)
    spent = _now_ms() - visit["since"] if visit.get("step") == step else 0
    cells.append((step, FormEvent.ANSWER, spent if 0 < spent <= MAX_STEP_MS else 0))
    visit.pop("step", None)
    _keep(form, visit)
    _count(form, cells)


def refused(form: str, fields: Iterable[str]) -> None:
    """A send came back with errors: one for the form, one per field named."""
    visit = _visit(form)
    cells: list = []
    _start(visit, cells)
    cells.append(("", FormEvent.ERROR, 0))
    cells += [
        (field, FormEvent.ERROR, 0)
        for field in sorted(set(fields))
        if field and field != "csrf_token"
    ]
    _keep(form, visit)
    _count(form, cells)


def completed(form: str) -> None:
    """The form is done: the visit ends with its time from the showing."""
    visit = _visit(form)
    cells: list = []
    _start(visit, cells)
    spent = _now_ms() - visit["shown"] if visit.get("shown") else 0
    cells.append(("", FormEvent.COMPLETE, spent if 0 < spent <= MAX_VISIT_MS else 0))
    _keep(form, None)
    _count(form, cells)


def abandoned(form: str, step: str) -> None:
    """The beacon of a page left unsent, on the step it was on (counted once per visit, and
    only for a visit that started)."""
    visit = _visit(form)
    if not visit.get("started") or visit.get("left"):
        return
    visit["left"] = True
    _keep(form, visit)
    cells = [("", FormEvent.ABANDON, 0)] + ([(step, FormEvent.ABANDON, 0)] if step else [])
    _count(form, cells)
