"""message search index without a pending list

Revision ID: 3d9b6e1f2a4c
Revises: 27f5e4ffaa5d
Create Date: 2026-11-21 20:20:00

"""

from alembic import op


revision = "3d9b6e1f2a4c"
down_revision = "27f5e4ffaa5d"
branch_labels = None
depends_on = None


# PostgreSQL: with fastupdate on (the default) a GIN index queues new entries in a pending list,
# and the insert that finds the list full merges all of it into the index while its sender
# waits: a posted message now and then takes tens of milliseconds. With it off, each message
# pays its own few entries at once, every time the same.


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER INDEX ix_messages_search SET (fastupdate = off)")
    op.execute("SELECT gin_clean_pending_list('ix_messages_search')")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER INDEX ix_messages_search RESET (fastupdate)")
