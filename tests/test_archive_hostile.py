"""`archive import` on hostile input: records larger than MAX_RECORD, zip bombs, invalid UTF-8,
broken lines. Each is refused with one line naming the file and the record (exit 2), without a
traceback, and leaves the database as it was. The huge inputs are written on the fly, in chunks,
just over the limits (the memory this bounds is measured by `./scripts/bench archive_hostile`)."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.errors import ImportFormatError
from archive.importers import MAX_RECORD, Bounded, own_jsonl, twarc
from archive.importers.detect import detect
from archive.records import PostFilter
from archive.store import count_posts, open_archive
from tests.archive_fixtures import account_js, seed_tweets, write_x_zip, x_archive_files, x_tweet

HUGE = 3 * MAX_RECORD  # just over the limit: enough to prove the check, cheap to write
_CHUNK = "x" * 65536


def _write_huge(out, size: int = HUGE) -> None:
    chunk = _CHUNK if isinstance(out, io.TextIOBase) else _CHUNK.encode()
    for _ in range(size // len(chunk)):
        out.write(chunk)


def _tweets_js(out, huge_at: int, count: int = 4) -> None:
    """A tweets.js whose record huge_at (1-based) has a full_text of HUGE characters, written in pieces."""
    out.write("window.YTD.tweets.part0 = [")
    for number in range(1, count + 1):
        tweet = x_tweet(600 + number, "@@TEXT@@")
        before, after = json.dumps({"tweet": tweet}).split("@@TEXT@@")
        out.write(("," if number > 1 else "") + before)
        if number == huge_at:
            _write_huge(out)
        out.write(after)
    out.write("]")


def _own_line(remote_id: int, text: str = "hallo") -> str:
    return json.dumps({"format": "praatmee-archive/1", "platform": "x", "remote_id": str(remote_id),
                       "account": "teamsaantstuur", "created_at": "2015-01-27T10:00:00+00:00", "text": text}) + "\n"


def _own_jsonl(path, lines: list[str | bytes | None]):
    """An own JSONL export; None is a line of HUGE characters, bytes are written as they are."""
    with open(path, "wb") as out:
        for number, line in enumerate(lines, 1):
            if line is None:
                head, tail = _own_line(number, "@@").split("@@")
                out.write(head.encode())
                _write_huge(out)
                out.write(tail.encode())
            else:
                out.write(line if isinstance(line, bytes) else line.encode())
    return path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def archive_with_two(tmp_path, database_url):
    """A database holding two posts, to show that a refused file changes nothing."""
    good = write_x_zip(tmp_path / "good.zip", x_archive_files(seed_tweets()[:2]))
    assert run("import", good, "--db", database_url).exit_code == 0
    return database_url


def assert_refused(path, database_url, expected: str, *options):
    result = run("import", path, *options, "--db", database_url)
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0 and "Traceback" not in result.output, result.output
    assert expected in result.output, result.output
    database = open_archive(database_url)
    try:
        assert count_posts(database, PostFilter(include_deleted=True)) == 2
    finally:
        database.engine.dispose()


# -- records larger than MAX_RECORD --------------------------------------------------------------

def test_a_huge_full_text_in_tweets_js(tmp_path, archive_with_two):
    path = tmp_path / "tweets.js"
    with open(path, "w", encoding="utf-8") as out:
        _tweets_js(out, huge_at=3)
    assert_refused(path, archive_with_two, f"{path}: record 3: is larger than 1 MB", "--account", "teamsaantstuur")


def test_a_huge_string_inside_a_zipped_archive(tmp_path, archive_with_two):
    path = tmp_path / "twitter.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:  # stored: no ratio to refuse it by
        archive.writestr("data/account.js", account_js())
        with archive.open("data/tweets.js", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8") as out:
            _tweets_js(out, huge_at=2)
    assert_refused(path, archive_with_two, f"{path}:data/tweets.js: record 2: is larger than 1 MB")


def test_a_huge_status_in_a_mastodon_outbox(tmp_path, archive_with_two):
    path = tmp_path / "outbox.json"
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"type": "OrderedCollection", "orderedItems": [{"type": "Create"}, {"type": "Create", '
                  '"object": {"content": "')
        _write_huge(out)
        out.write('"}}]}')
    assert_refused(path, archive_with_two, f"{path}: record 2: is larger than 1 MB")


def test_a_huge_line_in_our_own_jsonl(tmp_path, archive_with_two):
    path = _own_jsonl(tmp_path / "export.jsonl", [_own_line(1), None, _own_line(3)])
    assert_refused(path, archive_with_two, f"{path}: record 2: is larger than 1 MB")


def test_a_huge_first_line_is_detected_as_json_lines_and_refused(tmp_path, archive_with_two):
    path = tmp_path / "big.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"data": [{"id": "1", "text": "')
        _write_huge(out, 5 * MAX_RECORD)  # over the twarc2 page limit too
        out.write('"}]}\n')
    assert_refused(path, archive_with_two, f"{path}: record 1: is larger than 4 MB")


def test_twarc_pages_may_be_larger_than_one_record(tmp_path):
    path = tmp_path / "pages.jsonl"
    tweets = [{"id": str(n), "text": "x" * 1000, "created_at": "2015-01-27T10:00:00.000Z", "author_id": "1"}
              for n in range(1, 1200)]  # 1.2 MB: a full page of long tweets with their includes
    path.write_text(json.dumps({"data": tweets, "includes": {"users": [{"id": "1", "username": "t"}]}}) + "\n",
                    encoding="utf-8")
    assert detect(path) is twarc and len(list(twarc.iter_posts(path))) == 1199


# -- zip members ----------------------------------------------------------------------------------

def test_a_zip_bomb_is_refused_before_it_is_read(tmp_path, archive_with_two):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data/account.js", account_js())
        with archive.open("data/tweets.js", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8") as out:
            out.write("window.YTD.tweets.part0 = [")
            _write_huge(out, 12 * MAX_RECORD)  # 12 MB of one letter: about 1000:1
    assert_refused(path, archive_with_two, f"{path}:data/tweets.js: is compressed")


def test_a_zipped_outbox_bomb_is_refused(tmp_path, archive_with_two):
    path = tmp_path / "mastodon.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("outbox.json", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8") as out:
            out.write('{"orderedItems": [')
            _write_huge(out, 12 * MAX_RECORD)
    assert_refused(path, archive_with_two, f"{path}:outbox.json: is compressed")


def test_bounded_counts_what_is_read_whatever_was_declared():
    stream = Bounded(io.BytesIO(b"1," * 100_000), "f.js", limit=20_000, total=50_000)
    with pytest.raises(ImportFormatError, match="f.js: unpacks to more than"):
        while stream.read(10_000):
            stream.mark(stream.records + 1)  # every chunk a record: only the total stops it


# -- detection and numbering of broken JSON lines -------------------------------------------------

def test_invalid_utf8_on_the_first_line_is_reported_not_called_an_unknown_format(tmp_path):
    path = _own_jsonl(tmp_path / "export.jsonl", [_own_line(1).replace("hallo", "hal\udcfflo", 1)
                                                  .encode("utf-8", "surrogateescape"), _own_line(2)])
    with pytest.raises(ImportFormatError, match=r"export.jsonl: record 1: is not valid UTF-8 \(byte 0xff"):
        detect(path)


def test_invalid_utf8_and_broken_json_name_their_own_line(tmp_path, archive_with_two):
    lines = [_own_line(n) for n in range(1, 6)] + ["\n"]  # a blank line counts as a line
    bad_byte = _own_jsonl(tmp_path / "bytes.jsonl", lines + [b'{"format": "\xff"}\n', _own_line(8)])
    assert_refused(bad_byte, archive_with_two, f"{bad_byte}: record 7: is not valid UTF-8 (byte 0xff at byte 13")
    broken = _own_jsonl(tmp_path / "json.jsonl", lines + ['{"format": \n', _own_line(8)])
    assert_refused(broken, archive_with_two, f"{broken}: record 7: is not valid JSON")


def test_a_bom_and_blank_lines_are_fine(tmp_path):
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + _own_line(1).encode() + b"\n\n" + _own_line(2).encode())
    assert detect(path) is own_jsonl
    assert [p.remote_id for p in own_jsonl.iter_posts(path)] == ["1", "2"]
