"""Jobs live in their feature's `jobs.py` and are enqueued by dotted name: every name written
in the code must resolve, and jobs that waited in the outbox under the old names still run."""

import pathlib
import re

from flask_migrate import downgrade, upgrade
from rq import cron
from rq.utils import import_attribute

import app.cron  # noqa: F401  (registers the sweeps on import)
from app.core import outbox
from app.extensions import db
from app.models import OutboxEntry

ROOT = pathlib.Path(__file__).resolve().parents[2]
JOB_NAME = re.compile(r"""["'](app\.(?:services\.\w+|core)\.jobs\.\w+)["']""")


def test_every_job_named_in_the_code_exists():
    names = {
        name
        for folder in ("app", "blueprints", "bench")
        for path in (ROOT / folder).rglob("*.py")
        for name in JOB_NAME.findall(path.read_text())
    }
    assert len(names) >= 5  # the enqueues of emails, pushes, exports, announcements, invoices
    for name in sorted(names):
        assert callable(import_attribute(name)), name


def test_the_cron_registers_each_feature_s_sweeps():
    registered = {data["func"].__module__ for data in cron._job_data_registry}
    assert {
        "app.core.jobs",
        "app.services.accounts.jobs",
        "app.services.messaging.jobs",
        "app.services.simulator.jobs",
        "app.services.workflow.jobs",
    } <= registered


def test_a_job_that_waited_in_the_outbox_under_its_old_name_still_runs(app, ctx):
    migrations = str(ROOT / "migrations")
    downgrade(directory=migrations, revision="d3f1a2b4c5e6")
    try:
        ctx.add(OutboxEntry(kind="job", payload=_job("app.tasks.emails.send_email")))
        ctx.add(OutboxEntry(kind="job", payload=_job("app.tasks.push.deliver")))
        ctx.commit()
    finally:
        upgrade(directory=migrations)
    ctx.expire_all()
    funcs = [e.payload["func"] for e in ctx.scalars(db.select(OutboxEntry).order_by("id"))]
    assert funcs == [
        "app.services.notifications.jobs.send_email",
        "app.services.notifications.jobs.deliver_push",
    ]
    assert outbox.flush() == 2  # enqueued under names the workers can import
    queued = app.extensions["rq"]["default"].get_jobs()
    assert sorted(job.func_name for job in queued) == sorted(funcs)


def _job(func: str) -> dict:
    return {"queue": "default", "func": func, "args": [1], "at": None, "retry": None, "options": {}}
