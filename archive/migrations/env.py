"""Alembic environment of the archive: runs on the connection archive.store hands over,
with its own version table so it never touches the queue's chain."""
from alembic import context

from archive.tables import metadata

VERSION_TABLE = "archive_alembic_version"

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
