"""cancelled dossiers keep the step they had reached

Revision ID: 9db3c73ed899
Revises: 42173e629256
Create Date: 2026-12-04 21:24:32.546592

"""

from alembic import op
import sqlalchemy as sa
import app.models.base  # custom column types (UTCDateTime)


# revision identifiers, used by Alembic.
revision = "9db3c73ed899"
down_revision = "42173e629256"
branch_labels = None
depends_on = None


def upgrade():
    # a dossier cancelled (or cancelled then archived) before this release: the status it was
    # in is the `before` of its cancelling event
    op.execute(
        "UPDATE dossiers SET held_status = (SELECT e.before FROM dossier_events e "
        "WHERE e.dossier_id = dossiers.id AND e.after = 'cancelled' ORDER BY e.id DESC LIMIT 1) "
        "WHERE status IN ('cancelled', 'archived') AND held_status IS NULL"
    )


def downgrade():
    pass  # the column keeps its meaning for held dossiers; nothing to undo
