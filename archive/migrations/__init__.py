"""The archive's own Alembic chain (version table archive_alembic_version), applied by archive.store.open_archive."""
