"""Jobs moved from app.tasks into their feature packages: jobs waiting in the outbox (Redis was
away when they were enqueued) are renamed, so they still run once Redis is back.

Jobs already in Redis carry the old names too: deploy this release with the queues drained
(docs/architecture.md, "Jobs").

Revision ID: e7a9c1d2f3b4
Revises: d3f1a2b4c5e6
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "e7a9c1d2f3b4"
down_revision = "d3f1a2b4c5e6"
branch_labels = None
depends_on = None

RENAMED = {
    "app.tasks.exports.build_export": "app.services.simulator.jobs.build_export",
    "app.tasks.emails.send_email": "app.services.notifications.jobs.send_email",
    "app.tasks.push.deliver": "app.services.notifications.jobs.deliver_push",
    "app.tasks.dossiers.announce": "app.services.workflow.jobs.announce",
    "app.tasks.invoices.issue_invoice": "app.services.dossiers.jobs.issue_invoice",
}

outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                  sa.column("payload", sa.JSON))  # fmt: skip


def _rename(names: dict[str, str]) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(outbox.c.id, outbox.c.payload).where(outbox.c.kind == "job"))
    for row_id, payload in rows.all():
        if payload.get("func") in names:
            payload = {**payload, "func": names[payload["func"]]}
            bind.execute(outbox.update().where(outbox.c.id == row_id).values(payload=payload))


def upgrade() -> None:
    _rename(RENAMED)


def downgrade() -> None:
    _rename({new: old for old, new in RENAMED.items()})
