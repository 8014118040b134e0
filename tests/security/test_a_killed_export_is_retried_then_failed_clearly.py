"""Defect: an export whose work horse was killed was never retried and stayed at 10 % for
ever. A killed build is now tried again a limited number of times, then shown as failed with
a button that asks for it again."""

import os
import re
from datetime import timedelta

from app.extensions import db
from app.models import Export, ExportStatus
from app.services.simulator import exports, reports
from app.worker import ForkingWorker
from tests.factories import post
from tests.reports.test_exports import _results


def _work(app, queues=("exports",)):
    with app.app_context():
        worker = ForkingWorker(
            [app.extensions["rq"][q] for q in queues], connection=app.extensions["redis"]
        )
        worker.work(burst=True, with_scheduler=True)


def test_a_killed_build_is_retried_then_failed_and_can_be_asked_again(
    app, client, monkeypatch, run_jobs
):
    token = _results(client)

    def killed(ctx):  # the work horse dies mid-build, as under the OOM killer
        os.kill(os.getpid(), 9)

    monkeypatch.setitem(reports.BUILDERS, "xlsx", killed)
    resp = post(client, f"/simulator/results/{token}/exports", {"format": "xlsx"})
    assert resp.status_code in (200, 303)
    retries = len(app.config["EXPORT_RETRY_INTERVALS"])
    for _ in range(retries + 1):  # the first try, then each retry the scheduler brings back
        _work(app)
    with app.app_context():
        job = exports.Job.fetch(
            f"export-{db.session.scalar(db.select(Export.id))}", connection=app.extensions["redis"]
        )
        assert job.get_status() == "failed" and job.retries_left == 0  # retried, then given up
        export = db.session.scalar(db.select(Export))
        assert export.status == ExportStatus.RUNNING and export.progress < 100  # stuck so far
        export.created_at -= timedelta(minutes=2)
        db.session.commit()
        assert exports.fail_stalled() == 1  # RQ gave up on its job: the export says so
        export = db.session.scalar(db.select(Export))
        assert export.status == ExportStatus.FAILED and export.error == "abandoned"

    page = client.get(f"/simulator/results/{token}").get_data(as_text=True)
    assert re.search(r'<button[^>]*name="format" value="xlsx"', page.split('id="exports"')[1])
    monkeypatch.undo()
    resp = post(client, f"/simulator/results/{token}/exports", {"format": "xlsx"})
    run_jobs(("exports",))
    with app.app_context():
        statuses = list(db.session.scalars(db.select(Export.status).order_by(Export.id)))
    assert statuses == [ExportStatus.FAILED, ExportStatus.DONE]
