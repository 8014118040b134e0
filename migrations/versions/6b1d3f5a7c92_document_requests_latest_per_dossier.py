"""a dossier's latest document request from one index probe

Revision ID: 6b1d3f5a7c92
Revises: 3d9b6e1f2a4c
Create Date: 2026-11-22 02:50:00

"""

from alembic import op


revision = "6b1d3f5a7c92"
down_revision = "3d9b6e1f2a4c"
branch_labels = None
depends_on = None


# The dossier page asks for a dossier's latest request (`WHERE dossier_id = ? ORDER BY id DESC
# LIMIT 1`). With an index on the dossier alone, PostgreSQL prefers to walk the primary key
# backwards until a row matches: for a dossier without any request that is the whole table
# (2 ms at 12 000 rows, and growing with it). On (dossier_id, id) it is one probe.


def upgrade():
    op.create_index(
        "ix_document_requests_dossier_latest", "document_requests", ["dossier_id", "id"]
    )
    op.drop_index("ix_document_requests_dossier_id", table_name="document_requests")


def downgrade():
    op.create_index("ix_document_requests_dossier_id", "document_requests", ["dossier_id"])
    op.drop_index("ix_document_requests_dossier_latest", table_name="document_requests")
