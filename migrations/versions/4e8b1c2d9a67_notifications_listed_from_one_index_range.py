"""a person's notifications, newest first, read from one index range

Revision ID: 4e8b1c2d9a67
Revises: 9c4e2a7d5b10
Create Date: 2026-11-22 05:25:00

"""

from alembic import op

revision = "4e8b1c2d9a67"
down_revision = "9c4e2a7d5b10"
branch_labels = None
depends_on = None


# The list (`WHERE user_id = ? [AND id < ?] ORDER BY id DESC LIMIT 31`) had only indexes on
# (user_id, created_at) and (user_id, read_at): PostgreSQL fetched every notification of the
# person and sorted them, a cost that grows with their history. No query reads created_at
# through the index, so it becomes (user_id, id) at the same write cost.


def upgrade():
    op.create_index("ix_notifications_user_latest", "notifications", ["user_id", "id"])
    op.drop_index("ix_notifications_user_created", table_name="notifications")


def downgrade():
    op.create_index("ix_notifications_user_created", "notifications", ["user_id", "created_at"])
    op.drop_index("ix_notifications_user_latest", table_name="notifications")
