"""How an archived post is stored: its row's column order, times as UTC text, JSON as compact text,
and the way back from a row to an ArchivedPost. Shared by the write and read sides of the store."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Callable

import orjson

from .. import tables as t
from ..records import ArchivedPost, Link

BATCH = 1000  # rows per round trip, both ways


def _json_encoder() -> Callable[[object], str]:
    """Compact JSON, non-ASCII kept: the same text as json.dumps(ensure_ascii=False, separators=(",", ":")).

    orjson writes it four times as fast as the standard library, which matters for the raw JSON
    of every imported post. What orjson refuses (a lone surrogate, an integer beyond 64 bits, a
    non-string key) goes through the standard library's C encoder, built once rather than per
    call; no circular-reference check: the values are parsed JSON or built from it."""
    from json import encoder

    default = json.JSONEncoder().default  # raises TypeError naming the type, as json.dumps does
    if encoder.c_make_encoder is None:
        standard = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    else:
        iterencode = encoder.c_make_encoder(None, default, encoder.encode_basestring, None, ":", ",", False, False,
                                            True)

        def standard(value):
            return "".join(iterencode(value, 0))

    fast, refused = orjson.dumps, orjson.JSONEncodeError

    def dumps(value) -> str:
        try:
            return fast(value).decode()
        except refused:
            return standard(value)

    return dumps


dumps = _json_encoder()
loads = orjson.loads
POST_COLUMNS = [column.name for column in t.posts.c]


def utc_text(moment: datetime) -> str:
    """An aware datetime as UTC text, the way UTCDateTime stores it in SQLite (SQLAlchemy's form:
    always six fractional digits, so text comparisons order correctly); PostgreSQL reads the
    same text into its timestamp columns. A naive datetime is refused, as UTCDateTime does."""
    if moment.tzinfo is not timezone.utc:
        if moment.tzinfo is None:
            raise ValueError(f"naive datetime {moment.isoformat()} given to the archive; use aware datetimes")
        moment = moment.astimezone(timezone.utc)
    text_form = moment.isoformat(" ")  # "2015-01-27 10:00:00+00:00", or with ".ffffff" before the offset
    return text_form[:19] + ".000000" if len(text_form) == 25 else text_form[:26]


def from_utc_text(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc) if value else None


LARGEST_COUNT = 2_147_483_647  # what an integer column holds on PostgreSQL too


def metric_count(value) -> int | None:
    """A metric as its integer column keeps it (archive.tables.METRIC_COLUMNS): a whole number from 0 to
    LARGEST_COUNT, given as an integer or as a string of at most ten digits; None for anything else
    (absent, true/false, a fraction, a negative or absurd number, text, a list). Migration a0008 fills
    the columns of older posts by the same rule, written in SQL (tested equal)."""
    if type(value) is int:
        count = value
    elif type(value) is str and 0 < len(value) <= 10 and value.isascii() and value.isdigit():
        count = int(value)
    else:
        return None
    return count if 0 <= count <= LARGEST_COUNT else None


def metric_counts(metrics: dict) -> tuple:
    """The values of the metric columns (in archive.tables.METRIC_COLUMNS order) of a post's metrics."""
    values = tuple(map(metrics.get, _METRICS))
    for value in values:  # nearly always absent or a fitting integer already: taken as they are
        if value is not None and (type(value) is not int or not 0 <= value <= LARGEST_COUNT):
            return tuple(map(metric_count, values))
    return values


_METRICS = tuple(t.METRIC_COLUMNS)


def record_of_row(row, *, raw: bool = True) -> ArchivedPost:
    entities = json.loads(row["entities"])
    sources = json.loads(row["raw"]) if raw and row.get("raw") else {}
    links = entities.get("links")
    reposted = entities.get("reposted") or (None, None)
    return ArchivedPost(
        platform=row["platform"], remote_id=row["remote_id"], account=row["account"], created_at=row["created_at"],
        text=row["text"], kind=row["kind"], url=row["url"], language=row["language"],
        reply_to_id=row["reply_to_id"], reply_to_account=row["reply_to_account"],
        conversation_id=row["conversation_id"], quoted_id=row["quoted_id"], reposted_id=row["reposted_id"],
        source_app=row["source_app"], visibility=row["visibility"], content_warning=entities.get("warning"),
        reposted_account=reposted[0], reposted_url=reposted[1], metrics=json.loads(row["metrics"]),
        hashtags=tuple(entities.get("hashtags", ())), mentions=tuple(entities.get("mentions", ())),
        links=tuple(Link(*link) for link in links) if links else (), media=tuple(entities.get("media", ())),
        deleted_at=row["deleted_at"], edit_history=tuple(json.loads(row["edit_history"])),
        # One source: its JSON as it was. Several: {source: JSON}.
        raw=next(iter(sources.values())) if len(sources) == 1 else (sources or None),
        campaign_id=row.get("campaign_id"), occurrence_key=row.get("occurrence_key"),
        quoted_url=row.get("quoted_url"), versions=tuple(json.loads(row["versions"])) if row.get("versions") else (),
        referenced=bool(row.get("referenced")), raw_sources=sources or None)
