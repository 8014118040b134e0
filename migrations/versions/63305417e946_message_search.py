"""message search

Revision ID: 63305417e946
Revises: 19bec332aaa6
Create Date: 2026-11-21 17:17:36.855296

"""

from alembic import op
import sqlalchemy as sa
import app.models.base  # custom column types (UTCDateTime)


# revision identifiers, used by Alembic.
revision = "63305417e946"
down_revision = "19bec332aaa6"
branch_labels = None
depends_on = None


# Full-text search over messages (issue 5): PostgreSQL with the French configuration on
# unaccented text (`remboursé` finds `rembourse`), SQLite with an FTS5 table whose tokenizer
# drops diacritics, kept in step by triggers. Neither is visible to the ORM models.

PG_INDEX = "ix_messages_search"


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        # unaccent() is STABLE; an index needs an IMMUTABLE wrapper naming its dictionary
        op.execute(
            "CREATE OR REPLACE FUNCTION ft_unaccent(text) RETURNS text "
            "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
            "AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$"
        )
        op.execute(
            f"CREATE INDEX {PG_INDEX} ON messages "
            "USING gin (to_tsvector('french', ft_unaccent(body)))"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE messages_fts USING fts5("
            "body, content='messages', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute("INSERT INTO messages_fts(rowid, body) SELECT id, body FROM messages")
        op.execute(
            "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
            "INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
            "INSERT INTO messages_fts(messages_fts, rowid, body) "
            "VALUES ('delete', old.id, old.body); END"
        )
        op.execute(
            "CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN "
            "INSERT INTO messages_fts(messages_fts, rowid, body) "
            "VALUES ('delete', old.id, old.body); "
            "INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END"
        )


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
        op.execute("DROP FUNCTION IF EXISTS ft_unaccent(text)")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS messages_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
