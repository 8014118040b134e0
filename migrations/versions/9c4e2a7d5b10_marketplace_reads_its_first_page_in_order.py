"""the marketplace reads its first page in relevance order, and leaves out deactivated
accounts without joining every expert to their user

Revision ID: 9c4e2a7d5b10
Revises: 6b1d3f5a7c92
Create Date: 2026-11-22 04:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "9c4e2a7d5b10"
down_revision = "6b1d3f5a7c92"
branch_labels = None
depends_on = None


# With 10 000 experts, the unfiltered directory scored every listed expert and joined each to
# the 110 000-row users table before it could keep twenty: 40–50 ms on PostgreSQL. The
# expert's share of the score is now a generated column with an index in its order (the first
# page is twenty index entries), and deactivated accounts are a small partial index the query
# reads once.
RELEVANCE_BASE_SQL = (
    "rating_x100"
    " + 20 * (CASE WHEN completed_count >= 20 THEN 20 WHEN completed_count >= 10 THEN 15"
    " WHEN completed_count >= 5 THEN 10 WHEN completed_count >= 1 THEN 5 ELSE 0 END)"
    " + 20 * (CASE WHEN rating_x100 >= 450 THEN 15 WHEN rating_x100 >= 400 THEN 12"
    " WHEN rating_x100 >= 350 THEN 8 WHEN rating_x100 >= 300 THEN 4 ELSE 0 END)"
)
APPROVED = sa.text("approval_status = 'approved'")
INACTIVE = sa.text("NOT active")


def upgrade():
    # SQLite adds only virtual generated columns to an existing table (and indexes them just
    # the same); PostgreSQL 15 has only stored ones
    persisted = op.get_bind().dialect.name != "sqlite"
    op.add_column(
        "expert_profiles",
        sa.Column(
            "relevance_base",
            sa.Integer(),
            sa.Computed(RELEVANCE_BASE_SQL, persisted=persisted),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_expert_profiles_relevance",
        "expert_profiles",
        ["relevance_base", "id"],
        postgresql_where=APPROVED,
        sqlite_where=APPROVED,
    )
    op.create_index(
        "ix_users_inactive", "users", ["id"], postgresql_where=INACTIVE, sqlite_where=INACTIVE
    )


def downgrade():
    op.drop_index("ix_users_inactive", table_name="users")
    op.drop_index("ix_expert_profiles_relevance", table_name="expert_profiles")
    with op.batch_alter_table("expert_profiles") as batch_op:
        batch_op.drop_column("relevance_base")
