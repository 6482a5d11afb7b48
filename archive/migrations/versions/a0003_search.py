"""Full-text search: on SQLite an FTS5 table over the posts' text with triggers that keep it in
step, on PostgreSQL a generated tsvector column with a GIN index (archive.tables.SEARCH_DDL; the
statements are copied here as they were, so that later changes there cannot alter this step).
The posts already stored are indexed here: FTS5's 'rebuild' reads them all, PostgreSQL computes
the column for every row while it adds it.

Revision ID: a0003
Revises: a0002
"""
from alembic import op

revision = "a0003"
down_revision = "a0002"
branch_labels = None
depends_on = None

SQLITE = [
    "CREATE VIRTUAL TABLE archive_search USING fts5(text, content='archive_posts', content_rowid='rowid', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER archive_search_insert AFTER INSERT ON archive_posts BEGIN "
    "INSERT INTO archive_search(rowid, text) VALUES (new.rowid, new.text); END",
    "CREATE TRIGGER archive_search_update AFTER UPDATE OF text ON archive_posts WHEN old.text IS NOT new.text BEGIN "
    "INSERT INTO archive_search(archive_search, rowid, text) VALUES ('delete', old.rowid, old.text); "
    "INSERT INTO archive_search(rowid, text) VALUES (new.rowid, new.text); END",
    "CREATE TRIGGER archive_search_delete AFTER DELETE ON archive_posts BEGIN "
    "INSERT INTO archive_search(archive_search, rowid, text) VALUES ('delete', old.rowid, old.text); END",
    "INSERT INTO archive_search(archive_search) VALUES ('rebuild')",
]
POSTGRESQL = [
    "ALTER TABLE archive_posts ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector("
    "CASE WHEN split_part(lower(language), '-', 1) = 'nl' THEN 'dutch'::regconfig ELSE 'simple'::regconfig END, "
    "CASE WHEN octet_length(text) = char_length(text) THEN text "
    "ELSE regexp_replace(normalize(text, NFD), '[\\u0300-\\u036f]', '', 'g') END)) STORED",
    "CREATE INDEX ix_archive_posts_search ON archive_posts USING gin (search)",
]


def upgrade() -> None:
    connection = op.get_bind()
    statements = {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(connection.dialect.name)
    if statements is None:
        raise NotImplementedError(f"full-text search is not available on {connection.dialect.name}")
    for statement in statements:
        connection.exec_driver_sql(statement)


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        for name in ("insert", "update", "delete"):
            connection.exec_driver_sql(f"DROP TRIGGER archive_search_{name}")
        connection.exec_driver_sql("DROP TABLE archive_search")
    else:
        connection.exec_driver_sql("DROP INDEX ix_archive_posts_search")
        connection.exec_driver_sql("ALTER TABLE archive_posts DROP COLUMN search")
