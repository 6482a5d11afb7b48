"""Alembic environment: always run on the connection campaign.db hands over."""
from alembic import context

from campaign.queue.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
