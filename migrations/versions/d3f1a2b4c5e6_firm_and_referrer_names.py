"""One word per concept in the schema: firm (not cabinet), referrer (not apporteur).

Tables, columns, indexes and constraints are renamed in place (no copy). The stored values
stay as they are: the role "apporteur" and the audit actions "cabinet.*" are data, written in
the interface's words and read by older log lines.

Revision ID: d3f1a2b4c5e6
Revises: b45582309194
Create Date: 2026-12-06
"""

import re

from alembic import op

revision = "d3f1a2b4c5e6"
down_revision = "b45582309194"
branch_labels = None
depends_on = None

TABLES = [
    ("cabinets", "firms"),
    ("cabinet_members", "firm_members"),
    ("cabinet_invitations", "firm_invitations"),
    ("cabinet_products", "firm_products"),
    ("apporteur_profiles", "referrer_profiles"),
]
COLUMNS = [  # (table after the rename, old column, new column)
    ("firm_members", "cabinet_id", "firm_id"),
    ("firm_invitations", "cabinet_id", "firm_id"),
    ("firm_products", "cabinet_id", "firm_id"),
    ("expert_profiles", "cabinet_id", "firm_id"),
    ("expert_profiles", "cabinet_name", "firm_name"),
    ("client_profiles", "apporteur_id", "referrer_id"),
]
AFFECTED = ["firms", "firm_members", "firm_invitations", "firm_products", "referrer_profiles",
            "expert_profiles", "client_profiles"]  # fmt: skip

FORWARD = [("cabinet", "firm"), ("apporteur", "referrer")]


def _words(name: str, pairs) -> str:
    for old, new in pairs:
        name = name.replace(old, new)
    return name


def _rename(pairs, tables, columns, affected) -> None:
    bind = op.get_bind()
    for old, new in tables:
        op.execute(f"ALTER TABLE {old} RENAME TO {new}")
    for table, old, new in columns:
        op.execute(f"ALTER TABLE {table} RENAME COLUMN {old} TO {new}")
    pattern = "|".join(old for old, _new in pairs)
    if bind.dialect.name == "postgresql":
        rows = bind.exec_driver_sql(
            "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c "
            "WHERE c.conrelid::regclass::text = ANY(%(t)s)",
            {"t": affected},
        ).all()
        for table, name in rows:
            if re.search(pattern, name):
                op.execute(
                    f'ALTER TABLE {table} RENAME CONSTRAINT "{name}" TO "{_words(name, pairs)}"'
                )
        indexes = bind.exec_driver_sql(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%(t)s)", {"t": affected}
        ).scalars()
        for name in list(indexes):
            if re.search(pattern, name):
                op.execute(f'ALTER INDEX "{name}" RENAME TO "{_words(name, pairs)}"')
        return
    # SQLite: an index is its own statement, written again under its new name; the names of
    # constraints live inside each table's CREATE statement and are rewritten there (a name
    # is not part of how SQLite stores or checks the constraint)
    rows = bind.exec_driver_sql(
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE tbl_name IN (%s) AND sql IS NOT NULL" % ",".join(f"'{t}'" for t in affected)
    ).all()
    for kind, name, _table, sql in rows:
        if kind == "index" and re.search(pattern, name):
            op.execute(f'DROP INDEX "{name}"')
            op.execute(_words(sql, pairs))
    tables_sql = [(n, s) for k, n, _t, s in rows if k == "table" and re.search(pattern, s)]
    if tables_sql:
        op.execute("PRAGMA writable_schema=ON")
        for name, sql in tables_sql:
            rewritten = re.sub(
                r'CONSTRAINT\s+("?)(\w+)\1',
                lambda m: f"CONSTRAINT {m.group(1)}{_words(m.group(2), pairs)}{m.group(1)}",
                sql,
            )
            bind.exec_driver_sql(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                (rewritten, name),
            )
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
        op.execute(f"PRAGMA schema_version={version + 1}")
        op.execute("PRAGMA writable_schema=OFF")


def upgrade():
    _rename(FORWARD, TABLES, COLUMNS, AFFECTED)


def downgrade():
    back = [(new, old) for old, new in FORWARD]
    tables = [(new, old) for old, new in TABLES]
    columns = [(_words(t, back), new, old) for t, old, new in COLUMNS]
    affected = [_words(t, back) for t in AFFECTED]
    _rename(back, tables, columns, affected)
