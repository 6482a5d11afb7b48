"""Full-text search over the archive: the query language (one parser) and its two back ends,
SQLite FTS5 and PostgreSQL tsvector (the index itself: archive.tables.SEARCH_DDL).

The language, as `--search` takes it:
    vergadering zelfsturing   every word (any case; diacritics folded both ways: "discussieren"
                              finds "discussiëren" and the other way round)
    zelfstu*                  a word that starts so (a trailing *)
    "teams aan het stuur"     the words next to each other, in this order
    #Utrecht                  the hashtag, any case, diacritics as written (archive_hashtags)
    @GemeenteUtrecht          the mention (archive_mentions); #tag* and @name* start so
    a OR b                    either (OR in capitals, between two terms; it binds closer than the
                              AND between terms: `x a OR b` is x AND (a OR b); AND may be written)
    -word -"a phrase" -#tag   without it
Everything else a user types is text: each word and phrase reaches FTS5 as a quoted string and
PostgreSQL through phraseto_tsquery, so nothing is ever read as their own syntax (NEAR(, ^, :,
column filters); control characters and lone surrogates are spaces. A term with no letter or digit is left out (a lone
`-`, `*` or `"`); a query with nothing left, or with more than MAX_TERMS terms, raises
SearchSyntaxError, which the CLI prints in one line (exit status 2).

SQL: `condition(query)` is the query as one WHERE condition that compiles for either database:
SQLite `archive_posts.rowid IN (SELECT rowid FROM archive_search WHERE archive_search MATCH …)`,
PostgreSQL `search @@ tsquery` with the tsquery of the post's configuration (`dutch` for Dutch
posts, `simple` otherwise; a word only Dutch stop words are made of matches no Dutch post there).
`listing(query, dialect)` is how a listing ranks: best first by FTS5's bm25 or ts_rank, computed
only over the posts the words match. A query without a word or phrase to look for (tags, mentions,
exclusions only) is not ranked: newest first, as without a search.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import and_, case, exists, false, func, literal_column, not_, or_, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FromClause
from sqlalchemy.types import Boolean

from . import tables as t
from .errors import ArchiveError

WORD, PHRASE, TAG, MENTION = "word", "phrase", "tag", "mention"
_TEXT_KINDS = (WORD, PHRASE)
_TRAILING = ".,;:!?)]}'\"…»"  # punctuation that follows a #tag or @mention in prose, not part of it


class SearchSyntaxError(ArchiveError):
    """A search query with nothing to search for."""


@dataclass(frozen=True)
class Term:
    kind: str  # word | phrase | tag | mention
    value: str  # words and phrases as typed (NFC); tags and mentions without # or @, lower-cased
    prefix: bool = False  # a trailing *: the (last) word, tag or handle starts so
    exclude: bool = False  # -term: posts without it


@dataclass(frozen=True)
class Query:
    """Every group must match; a group matches when one of its terms does."""

    groups: tuple[tuple[Term, ...], ...]

    @property
    def ranked(self) -> bool:
        """Whether listings rank by relevance: there is a word or phrase every match contains."""
        return _main(self) is not None


# -- parsing ---------------------------------------------------------------------------------------

_LEXEME = re.compile(r'(-?)"([^"]*)("?\**)|(\S+?)(?=\s|"|$)', re.S)
# Control characters, and lone surrogates (bytes that were not UTF-8 in a command line): spaces.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_OPERATORS = ("OR", "AND")
MAX_TERMS = 50


@lru_cache(maxsize=256)
def parse(text: str) -> Query:
    """The Query of what a user typed. Raises SearchSyntaxError when no term is left, or more
    than MAX_TERMS are given."""
    items: list[Term | str] = []
    for match in _LEXEME.finditer(unicodedata.normalize("NFC", _CONTROL.sub(" ", text))):
        minus, phrase, end, bare = match.groups()
        if bare is None:
            term = _term(PHRASE, phrase, prefix=end.endswith("*"), exclude=bool(minus))
        elif bare in _OPERATORS:
            term = bare
        else:
            exclude = bare.startswith("-") and len(bare) > 1
            term = _bare(bare[1:] if exclude else bare, exclude)
        if term is not None:
            items.append(term)
    groups: list[list[Term]] = []
    joined = False
    for index, item in enumerate(items):
        if item in _OPERATORS:
            between = (0 < index < len(items) - 1 and items[index - 1] not in _OPERATORS
                       and items[index + 1] not in _OPERATORS)
            if between:  # OR joins its neighbours' groups; AND says what a space says
                joined = item == "OR"
                continue
            item = Term(WORD, item)  # not between two terms: the word
        if joined:
            groups[-1].append(item)
        else:
            groups.append([item])
        joined = False
    shown = text if len(text) <= 60 else text[:57] + "…"
    if not groups:
        raise SearchSyntaxError(f"search: nothing to search for in {shown!r} (give words, \"phrases\", "
                                f"#tags or @mentions)")
    if sum(map(len, groups)) > MAX_TERMS:
        raise SearchSyntaxError(f"search: more than {MAX_TERMS} terms in {shown!r}")
    return Query(tuple(tuple(group) for group in groups))


def _bare(text: str, exclude: bool) -> Term | None:
    if text[0] in "#@" and len(text) > 1:
        name = text[1:].rstrip(_TRAILING)
        prefix = name.endswith("*")
        name = name.rstrip("*").rstrip(_TRAILING)
        if not _has_token(name):
            return None
        return Term(TAG if text[0] == "#" else MENTION, name.lower(), prefix=prefix, exclude=exclude)
    core = text.rstrip(_TRAILING)
    return _term(WORD, text, prefix=core.endswith("*"), exclude=exclude)


def _term(kind: str, text: str, *, prefix: bool, exclude: bool) -> Term | None:
    return Term(kind, text, prefix=prefix, exclude=exclude) if _has_token(text) else None


def _has_token(text: str) -> bool:
    """Whether the text holds a letter or digit (FTS5's unicode61 and PostgreSQL's parser make
    tokens of nothing else)."""
    return any(character.isalnum() for character in text)


def _tokens(text: str) -> list[str]:
    """The words of a term as runs of letters and digits (for prefix queries on PostgreSQL)."""
    return re.findall(r"[^\W_]+", text)


# -- the shape of a query in SQL -------------------------------------------------------------------
# A text expression is a Term (word or phrase) or (operator, operands): ("and", [...]), ("or", [...]),
# ("not", positive, negative). Both back ends translate the same expressions.

def _is_text(term: Term) -> bool:
    return term.kind in _TEXT_KINDS


def _main(query: Query):
    """The text expression every match satisfies (the one listings rank by), or None: the groups of
    words and phrases only, AND-ed, minus the excluded words and phrases."""
    positive = [group for group in query.groups if all(_is_text(term) and not term.exclude for term in group)]
    if not positive:
        return None
    expression = ("and", [group[0] if len(group) == 1 else ("or", list(group)) for group in positive])
    excluded = _excluded(query)
    return ("not", expression, ("or", excluded)) if excluded else expression


def _excluded(query: Query) -> list[Term]:
    return [group[0] for group in query.groups if len(group) == 1 and _is_text(group[0]) and group[0].exclude]


def _rest(query: Query) -> list[tuple[Term, ...]]:
    """The groups the main text expression does not cover."""
    main = _main(query) is not None
    return [group for group in query.groups
            if not all(_is_text(term) and not term.exclude for term in group)
            and not (len(group) == 1 and _is_text(group[0]) and group[0].exclude and main)]


def condition(query: Query, posts=t.posts, *, per_post: bool = False) -> ColumnElement:
    """The query as one WHERE condition over archive_posts, for either database. Tags and mentions
    are looked up in their index (`IN (SELECT … WHERE tag = …)`: a count, or a rare tag, reads only
    its posts), or with per_post checked post by post (EXISTS: a listing that walks the posts
    newest first, or from the text index, and stops at a full page; see per_post_is_faster)."""
    main = _main(query)
    conditions = [TextMatch(main)] if main is not None else []
    return and_(*conditions, *(_group_condition(group, posts, per_post) for group in _rest(query)))


def _group_condition(group: tuple[Term, ...], posts, per_post: bool) -> ColumnElement:
    return or_(*(_term_condition(term, posts, per_post) for term in group))


def _term_condition(term: Term, posts, per_post: bool) -> ColumnElement:
    if _is_text(term):
        match = TextMatch(_text_of(term))
    else:
        table, value = _named(term)
        # An exclusion always post by post: SQLite runs `(a, b) NOT IN (SELECT …)` as a scan of the
        # subquery's rows for every post (minutes for a common tag on 1,000,000 posts).
        if per_post or term.exclude:
            match = exists().where(table.c.platform == posts.c.platform, table.c.remote_id == posts.c.remote_id, value)
        else:
            match = tuple_(posts.c.platform, posts.c.remote_id).in_(
                select(table.c.platform, table.c.remote_id).where(value))
    return not_(match) if term.exclude else match


def _named(term: Term):
    """(table, condition on it) of a #tag or @mention term. A prefix is also a range, so that the
    tag's index serves it (SQLite's LIKE is case-insensitive and cannot use it; the values are
    stored lower-cased); LIKE keeps it exact under a collation that does not sort by code point."""
    table, column = (t.hashtags, t.hashtags.c.tag) if term.kind == TAG else (t.mentions, t.mentions.c.handle)
    if not term.prefix:
        return table, column == term.value
    value, following = term.value, ord(term.value[-1]) + 1
    following = 0xE000 if 0xD800 <= following <= 0xDFFF else following  # no lone surrogate: not UTF-8
    after = [column < value[:-1] + chr(following)] if following <= 0x10FFFF else []
    return table, and_(column >= value, *after, column.like(_like_escaped(value) + "%", escape="\\"))


def hashtag_query(tag: str) -> Query:
    """A --hashtag filter as a query: the posts with that hashtag (any case, without '#'), looked up
    in archive_hashtags as `#tag` is."""
    return Query(((Term(TAG, tag.lstrip("#").lower()),),))


def per_post_is_faster(query: Query, connection) -> bool:
    """Whether a listing in time order (no words to rank by) finds its page sooner checking each
    post, newest first, for the query's tags and mentions than starting from the rarest one's
    posts: when every tag or mention the posts must have is on at least sqrt(6 × posts) of them.
    Walking costs ~1.5 µs a post and finds a tag on share p of them within 50 / p posts; starting
    from a tag costs ~12 µs for each of its posts (read, then sorted by time); they break even
    near that count (measured on SQLite, 1,000,000 posts: 2,500). Two small queries; SQLite only
    (PostgreSQL's planner weighs its statistics of the tags itself)."""
    needed = [group[0] for group in query.groups
              if len(group) == 1 and group[0].kind in (TAG, MENTION) and not group[0].exclude]
    if not needed or connection.dialect.name != "sqlite":
        return False
    posts = connection.execute(select(func.max(t.POST_ROWID)).select_from(t.posts)).scalar() or 0
    enough = max(100, int((6 * posts) ** 0.5))
    for term in needed:
        table, value = _named(term)
        found = select(literal_column("1")).select_from(table).where(value).limit(enough).subquery()
        if connection.execute(select(func.count()).select_from(found)).scalar() < enough:
            return False
    return True


def _text_of(term: Term) -> Term:
    """The term as a text expression of its own (its exclusion applied by the caller)."""
    return Term(term.kind, term.value, prefix=term.prefix)


def _like_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class TextMatch(ColumnElement):
    """Posts whose text matches a text expression: compiled per database (below), in parentheses
    (SQLAlchemy puts a NOT before a custom element as it is)."""

    type = Boolean()
    _is_implicitly_boolean = True  # a condition as it is (not `… = 1`, which hides the IN from SQLite's planner)
    inherit_cache = False  # holds the expression as a value; statements with it are not cached

    def __init__(self, expression):
        self.text_expression = expression


@compiles(TextMatch, "sqlite")
def _match_sqlite(element: TextMatch, compiler, **kw) -> str:
    index = t.search_index
    matched = select(index.c.rowid).where(index.c[t.SEARCH_TABLE].match(fts5(element.text_expression)))
    return "(" + compiler.process(t.POST_ROWID.in_(matched), **kw) + ")"


@compiles(TextMatch, "postgresql")
def _match_postgresql(element: TextMatch, compiler, **kw) -> str:
    dutch, simple = (_tsquery(element.text_expression, config) for config in ("dutch", "simple"))
    return "(" + compiler.process(or_(and_(_dutch(), t.post_vector.op("@@")(dutch)),
                                      and_(not_(_dutch()), t.post_vector.op("@@")(simple))), **kw) + ")"


@compiles(TextMatch)
def _match_other(element: TextMatch, compiler, **kw) -> str:
    raise NotImplementedError(f"full-text search is not available on {compiler.dialect.name}")


# -- SQLite: an FTS5 query string ------------------------------------------------------------------

def fts5(expression) -> str:
    """The FTS5 query of a text expression: every word and phrase a quoted string (a " in it
    doubled), so FTS5 reads nothing the user typed as its own syntax."""
    if isinstance(expression, Term):
        return '"' + expression.value.replace('"', '""') + '"' + ("*" if expression.prefix else "")
    operator, *operands = expression
    if operator == "not":
        return f"({fts5(operands[0])}) NOT ({fts5(operands[1])})"
    return f" {operator.upper()} ".join(f"({fts5(operand)})" for operand in operands[0])


# -- PostgreSQL: a tsquery per configuration -------------------------------------------------------

def _dutch() -> ColumnElement:
    """Whether a post is indexed with the `dutch` configuration: tables.DUTCH_SQL, never NULL."""
    return func.coalesce(func.split_part(func.lower(t.posts.c.language), "-", 1) == "nl", false())


def _fold(value) -> ColumnElement:
    """tables.FOLD_SQL: the text with its diacritics removed, as the index folds the posts' text."""
    return func.regexp_replace(func.normalize(value, literal_column("NFD")), "[\\u0300-\\u036f]", "", "g")


_SIMPLE = literal_column("'simple'::regconfig")


def _tsquery(expression, config: str) -> ColumnElement:
    configuration = literal_column(f"'{config}'::regconfig")
    if isinstance(expression, Term):
        if not expression.prefix:
            return func.phraseto_tsquery(configuration, _fold(expression.value))
        # Only letters and digits inside the quotes: the to_tsquery syntax around them is ours.
        words = _fold(" <-> ".join(f"'{word}'" for word in _tokens(expression.value)) + ":*")
        if config == "simple":
            return func.to_tsquery(configuration, words)
        # A Dutch stem starts a word ("zelfsturing*": 'zelfstur':*); the beginning as typed too, as a
        # stop word or a stem's own start ("zelf*": 'zelf':*, which `dutch` drops as a stop word).
        return func.tsquery_or(func.to_tsquery(configuration, words), func.to_tsquery(_SIMPLE, words))
    operator, *operands = expression
    if operator == "not":
        return func.tsquery_and(_tsquery(operands[0], config), func.tsquery_not(_tsquery(operands[1], config)))
    combine = func.tsquery_and if operator == "and" else func.tsquery_or
    result = _tsquery(operands[0][0], config)
    for operand in operands[0][1:]:
        result = combine(result, _tsquery(operand, config))
    return result


# -- ranked listings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Listing:
    """How a ranked listing reads: `source` is what to select the posts from (on SQLite joined with
    the index), `condition` the query's condition in that form, `order` best first."""

    source: FromClause
    condition: ColumnElement
    order: tuple


def listing(query: Query, dialect: str, then: tuple = (), posts=t.posts) -> Listing | None:
    """The ranked form of a query on a database (sqlite, postgresql), or None when it has no word
    or phrase to rank by. Posts ranked equal follow `then` on PostgreSQL. On SQLite the order is
    FTS5's rank alone (equals in the order they were stored): FTS5 then sorts its matches itself
    and the posts are read only until the page is full. Ordered by anything else too, SQLite reads
    every match's post first: 40 ms instead of 15 for a word in 9,000 of 1,000,000 posts."""
    main = _main(query)
    if main is None:
        return None
    rest = [_group_condition(group, posts, per_post=True) for group in _rest(query)]
    if dialect == "sqlite":
        index = t.search_index
        return Listing(source=index.join(posts, t.POST_ROWID == index.c.rowid),
                       condition=and_(index.c[t.SEARCH_TABLE].match(fts5(main)), *rest),
                       order=(index.c.rank,))
    dutch, simple = (_tsquery(main, config) for config in ("dutch", "simple"))
    # Normalisation 1: divided by 1 + the logarithm of the post's length, as bm25 prefers short posts.
    rank = func.ts_rank(t.post_vector, case((_dutch(), dutch), else_=simple), 1)
    return Listing(source=posts, condition=condition(query, posts), order=(rank.desc(), *then))
