"""Reading posts for show, render, export and stats: filtered, ordered, streamed, with the campaign
link (which queue post a post was) joined in at query time."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterator

import orjson
from sqlalchemy import Text, and_, func, select, true, type_coerce

from campaign.queue.db import Database

from .. import search as full_text
from .. import tables as t
from ..records import PUBLIC_VISIBILITIES, ArchivedPost, Link, PostFilter
from .rows import BATCH, record_of_row


def _sent():
    """(remote_id, platform, campaign_id, occurrence key) of every part the campaign queue sent."""
    from campaign.queue.tables import accounts, scheduled_posts, sent_parts

    return (select(sent_parts.c.remote_id.label("remote_id"), accounts.c.platform.label("platform"),
                   scheduled_posts.c.campaign_id.label("campaign_id"), scheduled_posts.c.key.label("occurrence_key"))
            .select_from(sent_parts.join(scheduled_posts, scheduled_posts.c.id == sent_parts.c.post_id)
                         .join(accounts, accounts.c.name == scheduled_posts.c.account))
            .subquery("sent"))


def _where(post_filter: PostFilter, sent, *, search=None, hashtag=None):
    """The filter as one WHERE condition over _joined(sent). The search's condition comes from
    archive.search (given as `search` by a ranked listing, which joins the index itself), and so
    does the hashtag's: its posts looked up in archive_hashtags by the tag's index (`hashtag`: a
    listing's choice of form, see _listing)."""
    posts = t.posts
    conditions = []
    if post_filter.accounts:
        conditions.append(func.lower(posts.c.account).in_([a.lstrip("@").lower() for a in post_filter.accounts]))
    if post_filter.platform:
        conditions.append(posts.c.platform == post_filter.platform)
    if post_filter.since is not None:
        conditions.append(posts.c.created_at >= post_filter.since)
    if post_filter.until is not None:
        conditions.append(posts.c.created_at < post_filter.until)
    if post_filter.hashtag:
        conditions.append(hashtag if hashtag is not None else
                          full_text.condition(full_text.hashtag_query(post_filter.hashtag)))
    if post_filter.kinds:
        conditions.append(posts.c.kind.in_(post_filter.kinds))
    if post_filter.campaign:
        conditions.append(sent.c.campaign_id == post_filter.campaign)
    if post_filter.search:
        conditions.append(search if search is not None else full_text.condition(full_text.parse(post_filter.search)))
    if not post_filter.include_deleted:
        conditions.append(posts.c.deleted_at.is_(None))
    if not post_filter.include_referenced:
        conditions.append(posts.c.referenced.is_(None))
    if not post_filter.include_private:
        conditions.append(posts.c.visibility.in_(PUBLIC_VISIBILITIES))
    return and_(true(), *conditions)


def _joined(sent, source=t.posts):
    """source (the posts, or the posts joined with something) with the campaign link joined in."""
    posts = t.posts
    return source.outerjoin(sent, and_(sent.c.remote_id == posts.c.remote_id, sent.c.platform == posts.c.platform))


def _listing(columns, post_filter: PostFilter, sent, dialect: str, connection=None, offset: int = 0):
    """SELECT columns of the posts post_filter selects on a database (dialect: sqlite, postgresql),
    in a listing's order: with a search that has words or phrases (and filter.ranked), best match
    first (archive.search.listing); else by created_at then remote_id, oldest first unless
    filter.newest_first; the first `offset` of them left out. Given the connection it will run
    on, a page (filter.limit) of a search of common tags, or of a common --hashtag, is found
    checking post by post (archive.search.per_post_is_faster); everything else by the tags' index."""
    posts = t.posts
    order = ((posts.c.created_at.desc(), posts.c.remote_id.desc()) if post_filter.newest_first
             else (posts.c.created_at, posts.c.remote_id))
    query = full_text.parse(post_filter.search) if post_filter.search else None
    ranked = (full_text.listing(query, dialect, then=order)
              if query is not None and post_filter.ranked else None)
    paged = connection is not None and post_filter.limit is not None

    def walked(checked):
        return (full_text.condition(checked, per_post=True) if checked is not None and paged
                and full_text.per_post_is_faster(checked, connection) else None)

    hashtag = walked(full_text.hashtag_query(post_filter.hashtag)) if post_filter.hashtag and ranked is None else None
    if ranked is None:
        statement = (select(*columns).select_from(_joined(sent))
                     .where(_where(post_filter, sent, search=walked(query), hashtag=hashtag)).order_by(*order))
    else:
        statement = (select(*columns).select_from(_joined(sent, ranked.source))
                     .where(_where(post_filter, sent, search=ranked.condition)).order_by(*ranked.order))
    if offset:
        statement = statement.offset(offset)
    return statement.limit(post_filter.limit) if post_filter.limit is not None else statement


def query_posts(database: Database, post_filter: PostFilter = PostFilter(), *,
                batch: int = BATCH, with_raw: bool = True) -> Iterator[ArchivedPost]:
    """The posts matching post_filter, streamed (a server-side cursor on PostgreSQL, `batch` rows
    at a time), ordered by created_at then remote_id, oldest first unless filter.newest_first;
    with a search of words or phrases best match first (archive.search; unless not filter.ranked).
    Deleted posts only with filter.include_deleted. campaign_id/occurrence_key are filled for posts
    the campaign queue sent. The read transaction stays open until the iterator is exhausted or
    closed. with_raw=False leaves raw None (faster when the source JSON is not needed).
    Raises DatabaseError."""
    posts = t.posts
    sent = _sent()
    columns = [c for c in posts.c if with_raw or c.name != "raw"]
    with database.transaction() as connection:
        statement = _listing([*columns, sent.c.campaign_id, sent.c.occurrence_key], post_filter, sent,
                             connection.dialect.name, connection)
        result = connection.execution_options(yield_per=batch).execute(statement)
        names = list(result.keys())
        for row in result:  # plain dicts: record_of_row's lookups (and misses, e.g. raw) cost less than on RowMapping
            yield record_of_row(dict(zip(names, row)))


class FlatPost:
    """The fields of a post that a table row needs (CSV, XLSX), read without building a full
    ArchivedPost: no raw JSON, media or edit history. Attribute names match ArchivedPost."""

    __slots__ = ("platform", "remote_id", "account", "created_at", "text", "kind", "url", "language",
                 "reply_to_id", "metrics", "hashtags", "mentions", "links", "deleted_at", "campaign_id",
                 "occurrence_key", "visibility", "content_warning", "reposted_account", "reposted_url")

    def __init__(self, row: tuple, loads=orjson.loads, fromisoformat=datetime.fromisoformat, utc=timezone.utc):
        (self.platform, self.remote_id, self.account, created_at, self.text, self.kind, self.url,
         self.language, self.reply_to_id, metrics, entities, deleted_at, self.campaign_id,
         self.occurrence_key, self.visibility) = row
        # As the driver returns them untyped (SQLite: text; PostgreSQL: naive datetime), made aware.
        self.created_at = (fromisoformat(created_at) if type(created_at) is str else created_at).replace(tzinfo=utc)
        self.deleted_at = (None if deleted_at is None else
                           (fromisoformat(deleted_at) if type(deleted_at) is str else deleted_at).replace(tzinfo=utc))
        self.metrics = loads(metrics)
        entities = loads(entities)
        self.hashtags = entities.get("hashtags", ())
        self.mentions = entities.get("mentions", ())
        links = entities.get("links")
        self.links = tuple(Link(*link) for link in links) if links else ()
        self.content_warning = entities.get("warning")
        self.reposted_account, self.reposted_url = entities.get("reposted") or (None, None)


def query_flat(database: Database, post_filter: PostFilter = PostFilter(), *,
               batch: int = BATCH, offset: int = 0) -> Iterator[FlatPost]:
    """Like query_posts, for exporters of flat rows: the same posts in the same order, as FlatPost.
    offset: leave out the first that many (a page further on; the database skips them)."""
    sent = _sent()
    c = t.posts.c
    # The times are read untyped and made aware by FlatPost: SQLAlchemy's per-value processing
    # cost more than the rest of reading a row.
    columns = [c.platform, c.remote_id, c.account, type_coerce(c.created_at, Text), c.text, c.kind, c.url,
               c.language, c.reply_to_id, c.metrics, c.entities, type_coerce(c.deleted_at, Text),
               sent.c.campaign_id, sent.c.occurrence_key, c.visibility]
    with database.transaction() as connection:
        statement = _listing(columns, post_filter, sent, connection.dialect.name, connection, offset)
        for row in connection.execution_options(yield_per=batch).execute(statement):
            yield FlatPost(row)


def count_posts(database: Database, post_filter: PostFilter = PostFilter()) -> int:
    """How many posts query_posts would yield (for progress bars). Raises DatabaseError."""
    sent = _sent()
    statement = select(func.count()).select_from(_joined(sent)).where(_where(post_filter, sent))
    with database.transaction() as connection:
        count = connection.execute(statement).scalar_one()
    return min(count, post_filter.limit) if post_filter.limit is not None else count


def get_post(database: Database, platform: str, remote_id: str) -> ArchivedPost | None:
    """One post by its identity (deleted or not), or None. Raises DatabaseError."""
    posts = t.posts
    sent = _sent()
    statement = (select(posts, sent.c.campaign_id, sent.c.occurrence_key).select_from(_joined(sent))
                 .where(posts.c.platform == platform, posts.c.remote_id == remote_id))
    with database.transaction() as connection:
        row = connection.execute(statement).first()
    return record_of_row(row._mapping) if row else None


def post_times(database: Database, platform: str, remote_id: str) -> tuple[datetime, datetime] | None:
    """(first_seen_at, last_seen_at) of a post, or None. Raises DatabaseError."""
    posts = t.posts
    with database.transaction() as connection:
        row = connection.execute(select(posts.c.first_seen_at, posts.c.last_seen_at)
                                 .where(posts.c.platform == platform, posts.c.remote_id == remote_id)).first()
    return (row.first_seen_at, row.last_seen_at) if row else None
