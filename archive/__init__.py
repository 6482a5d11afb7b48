"""The archive: each account's timeline in SQL, imported, fetched, rendered and exported."""
