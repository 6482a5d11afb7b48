"""The archive store: every post of every account, in the queue's database.

This package is the contract the rest of the archive relies on (import, fetch, export, stats,
show, render). All SQL about archived posts lives here; callers get and give plain
`archive.records` values. By concern:
  schema       open_archive, migrate: which database, tables at HEAD_REVISION
  write        upsert_posts (and prepare/upsert_prepared, the bulk path of an import), merge
  read         query_posts, query_flat, count_posts, get_post, post_times
  fetch_state  get_fetch_state, set_fetch_state: where the last fetch stopped
  known        StoredDigests: what an import's reading process asks of the archive (its own connection;
               a database it cannot read is taken for one that holds nothing: the writer reports it)
  rows         the stored form of a post, shared by write and read

Errors: every function raises campaign.errors.DatabaseError (via campaign.queue.db.Database) when
the database cannot be opened, read or written; nothing else from the driver escapes. An
exception raised by the caller's iterable (e.g. an importer's ImportFormatError) rolls the
whole call back and propagates unchanged.

Campaign link: posts the campaign queue sent are recognised *at query time*, by joining the
queue's `sent_parts` (remote id of each accepted part) through `scheduled_posts` (campaign,
occurrence key) and `accounts` (platform). A post sent after it was imported is therefore
linked without re-importing, and nothing is stored twice.
"""
from __future__ import annotations

from .fetch_state import get_fetch_state, set_fetch_state
from .read import FlatPost, _sent, _where, count_posts, get_post, post_times, query_flat, query_posts
from .rows import BATCH
from .schema import HEAD_REVISION, MIGRATIONS, VERSION_TABLE, _upgrade, migrate, open_archive
from .write import UpsertSummary, merge, prepare, upsert_posts, upsert_prepared

__all__ = ["BATCH", "HEAD_REVISION", "MIGRATIONS", "VERSION_TABLE", "FlatPost", "UpsertSummary", "count_posts",
           "get_fetch_state", "get_post", "merge", "migrate", "open_archive", "post_times", "prepare",
           "query_flat", "query_posts", "set_fetch_state", "upsert_posts", "upsert_prepared"]
