"""The queue in the database, the single source of truth: tables and migrations, syncing a plan
into it, claiming posts, what a person changes by hand, and what status reports (step two)."""
